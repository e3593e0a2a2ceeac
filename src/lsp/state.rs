//! The server's state: the one writer (the vault and the open documents, behind a short lock)
//! and the snapshots it publishes, which readers use without waiting.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use ropey::Rope;
use tower_lsp_server::ls_types::{Location, Position, Range, TextDocumentContentChangeEvent, Uri};

use super::convert::{Encoding, LineIndex, rope_char};
use crate::config::Config;
use crate::ide::{self, NoteRange};
use crate::syntax;
use crate::vault::{
    LOSSY_MESSAGE, Note, NoteId, ReadError, ScanError, ScanProblem, Vault, is_config_ignored,
    is_git_ignored, is_hidden_below, list_notes, read_note, read_note_file,
};

/// An open document as the editor has it.
struct Document {
    rope: Rope,
    /// The version of the rope's content (the last change applied).
    version: i32,
    /// The sequence number ([`State::changes`]) of the last change applied to the rope.
    seq: u64,
    /// The text and line index of the rope's content when last published, and the sequence
    /// number it reflects. When `seq` is newer, the view and the note in the vault are made
    /// again before anyone reads them ([`State::snapshot`]): once for any number of changes.
    view: DocView,
    view_seq: u64,
}

impl Document {
    fn new(path: PathBuf, version: i32, text: Arc<str>) -> Document {
        Document {
            rope: Rope::from_str(&text),
            version,
            seq: 0,
            view_seq: 0,
            view: DocView {
                path,
                version,
                lines: Arc::new(LineIndex::new(&text)),
                text,
            },
        }
    }
}

/// What readers see of an open document.
#[derive(Debug, Clone)]
pub struct DocView {
    pub path: PathBuf,
    pub version: i32,
    pub text: Arc<str>,
    pub lines: Arc<LineIndex>,
}

/// A consistent view of the vault and the open documents at one moment.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Whether the vault holds every note of the workspace folders yet (until then a link may
    /// look broken only because its note was not read yet).
    pub indexed: bool,
    /// Grows with every published change (the vault's own counter restarts when it is
    /// rebuilt).
    pub revision: u64,
    pub vault: Arc<Vault>,
    pub docs: Arc<HashMap<Uri, DocView>>,
    pub encoding: Encoding,
}

/// The open documents at one moment (see [`State::capture`]).
pub struct Capture {
    /// The published snapshot then.
    base: Arc<Snapshot>,
    /// The documents changed since it was made, as they were then.
    pending: Vec<PendingDoc>,
    /// The sequence number of the last change then.
    upto: u64,
}

struct PendingDoc {
    uri: Uri,
    rope: Rope,
    version: i32,
    seq: u64,
    path: PathBuf,
}

/// A document's view made from its rope: `(uri, sequence number, view, parse)`.
type MadeView = (Uri, u64, DocView, syntax::ParsedNote);

/// The views of pending documents (the costly part: text, line index, parse).
fn make_views(pending: Vec<PendingDoc>) -> Vec<MadeView> {
    pending
        .into_iter()
        .map(|d| {
            let text: Arc<str> = Arc::from(d.rope.to_string());
            let parsed = syntax::parse_note(&text);
            let view = DocView {
                path: d.path,
                version: d.version,
                lines: Arc::new(LineIndex::new(&text)),
                text,
            };
            (d.uri, d.seq, view, parsed)
        })
        .collect()
}

/// A note's text with its line index, for converting positions.
pub struct FileView {
    pub id: NoteId,
    pub text: Arc<str>,
    pub lines: Arc<LineIndex>,
}

/// A request's view of its note: the text its positions refer to, and a vault in which that
/// note is fully parsed.
pub struct RequestView {
    pub file: FileView,
    pub vault: Arc<Vault>,
}

impl Snapshot {
    /// The note behind `uri`, with the text its positions refer to: the editor's for an open
    /// document, else the file on disk. `None` for URIs that name no note of the vault.
    pub fn file(&self, uri: &Uri) -> Option<RequestView> {
        if let Some(doc) = self.docs.get(uri) {
            let id = self.vault.note_by_path(&doc.path)?;
            let file = FileView {
                id,
                text: doc.text.clone(),
                lines: doc.lines.clone(),
            };
            return Some(RequestView {
                file,
                vault: self.vault.clone(),
            });
        }
        // A note the editor has not opened: the index keeps only part of a closed note, so
        // this request gets a vault (a cheap copy) in which the note is parsed in full.
        let path = uri_to_path(uri)?;
        let id = self.vault.note_by_path(&path)?;
        let file = self.view_of(id)?;
        let mut vault = (*self.vault).clone();
        let id = vault.update(
            &path,
            syntax::parse_note(&file.text),
            Some(file.text.clone()),
        );
        Some(RequestView {
            file: FileView { id, ..file },
            vault: Arc::new(vault),
        })
    }

    /// The version of the open document at `path`, if the editor has it open.
    pub fn version_of(&self, path: &Path) -> Option<i32> {
        self.docs
            .values()
            .find(|d| d.path == path)
            .map(|d| d.version)
    }

    /// A note's current text (the editor's while open, else the disk's) with its line index.
    pub fn view_of(&self, id: NoteId) -> Option<FileView> {
        let note = self.vault.note(id)?;
        if let Some(doc) = self.docs.values().find(|d| d.path == note.path()) {
            return Some(FileView {
                id,
                text: doc.text.clone(),
                lines: doc.lines.clone(),
            });
        }
        let text = self.vault.text(id)?;
        let lines = Arc::new(LineIndex::new(&text));
        Some(FileView { id, text, lines })
    }

    pub fn location(&self, target: NoteRange) -> Option<Location> {
        self.place(&self.vault, target, &mut None)
    }

    /// The locations of many ranges of notes of `vault` (the snapshot's vault, or the vault of
    /// a request, in which the request's note may be parsed afresh), in their order (those that
    /// cannot be placed left out). A note's text, when its ranges need it, is read and indexed
    /// once for all of them, and notes are placed on all cores.
    pub fn locations(&self, vault: &Vault, targets: &[NoteRange]) -> Vec<Location> {
        use rayon::prelude::*;
        let mut order: Vec<usize> = (0..targets.len()).collect();
        order.sort_by_key(|&i| targets[i].note);
        let groups: Vec<&[usize]> = order
            .chunk_by(|&a, &b| targets[a].note == targets[b].note)
            .collect();
        let mut placed: Vec<(usize, Location)> = groups
            .par_iter()
            .flat_map_iter(|group| {
                let mut view = None;
                group
                    .iter()
                    .filter_map(|&i| Some((i, self.place(vault, targets[i], &mut view)?)))
                    .collect::<Vec<_>>()
            })
            .collect();
        placed.sort_by_key(|p| p.0);
        placed.into_iter().map(|p| p.1).collect()
    }

    /// The locations of `found` written as a JSON array at once, for answers too big for
    /// tower-lsp's way (see `lsp::raw`): each link is placed and written as it is found, while
    /// its note is at hand (a hub's linking notes lie all over memory), each note's URI is
    /// written once for its run of links, and no `Location` is made. The array comes in
    /// pieces, to be written out one after the other (a hub's is megabytes: joining them cost
    /// a copy and fresh pages); with how many locations it holds.
    pub fn references_json(&self, vault: &Vault, found: &ide::References) -> (Vec<Vec<u8>>, usize) {
        let mut opening = JsonShare::new(self, b"[".to_vec());
        if let Some(declaration) = found.declaration
            && let Some(note) = vault.note(declaration.note)
        {
            opening.push(declaration.note, note, declaration.range);
        }
        let shares = found.fold_links(
            vault,
            || JsonShare::new(self, Vec::with_capacity(16 << 10)),
            |share, id, note, range| share.push(id, note, range),
        );
        let mut count = opening.count;
        let mut pieces = vec![opening.out];
        for share in shares {
            count += share.count;
            pieces.push(share.out);
        }
        // Each location is followed by a comma: the last one's goes.
        if let Some(last) = pieces.iter_mut().rev().find(|p| p.last() == Some(&b',')) {
            last.pop();
        }
        pieces.push(b"]".to_vec());
        (pieces, count)
    }

    /// The location of one range; `view` keeps the note's text once read, for the next range
    /// of the same note.
    fn place(
        &self,
        vault: &Vault,
        target: NoteRange,
        view: &mut Option<Option<FileView>>,
    ) -> Option<Location> {
        let note = vault.note(target.note)?;
        let uri = path_to_uri(note.path())?;
        let range = self.range_in(vault, target.note, target.range, view)?;
        Some(Location { uri, range })
    }

    /// `range` of note `id` of `vault` in the client's positions: from the index's line map
    /// when it can tell, else from the text (read once into `view`, for the next range of the
    /// same note). The line map must be the one of the parse the range came from: a request's
    /// vault may hold a newer parse of its note than the snapshot's.
    pub fn range_in(
        &self,
        vault: &Vault,
        id: NoteId,
        range: syntax::TextRange,
        view: &mut Option<Option<FileView>>,
    ) -> Option<Range> {
        self.range_in_note(id, vault.note(id)?, range, view)
    }

    /// [`Snapshot::range_in`] with the note at hand.
    fn range_in_note(
        &self,
        id: NoteId,
        note: &Note,
        range: syntax::TextRange,
        view: &mut Option<Option<FileView>>,
    ) -> Option<Range> {
        if range == syntax::TextRange::default() {
            return Some(Range::default());
        }
        if let Some(range) = self.placed_without_text(note, range) {
            return Some(range);
        }
        let view = view.get_or_insert_with(|| self.view_of(id)).as_ref()?;
        Some(view.lines.range(&view.text, range, self.encoding))
    }

    fn placed_without_text(&self, note: &Note, range: syntax::TextRange) -> Option<Range> {
        if note.open_text.is_some() {
            return None;
        }
        let lines = &note.parsed.lines;
        let ((l1, c1), (l2, c2)) = match self.encoding {
            Encoding::Utf8 => lines.byte_range(range),
            Encoding::Utf16 => lines.utf16_range(range)?,
        };
        Some(Range {
            start: Position {
                line: l1,
                character: c1,
            },
            end: Position {
                line: l2,
                character: c2,
            },
        })
    }
}

impl Snapshot {
    /// For the tests (`wikilsp/debugState`): what the server holds.
    pub fn debug_state(&self, uri: Option<&Uri>) -> serde_json::Value {
        use serde_json::json;
        let kept_text_bytes: usize = self
            .vault
            .notes()
            .filter_map(|(_, n)| n.open_text.as_ref().map(|t| t.len()))
            .sum();
        let mut open: Vec<serde_json::Value> = self
            .docs
            .iter()
            .map(|(u, d)| json!({ "uri": u.as_str(), "version": d.version }))
            .collect();
        open.sort_by_key(|v| v["uri"].as_str().map(str::to_owned));
        let document = uri
            .and_then(|u| self.docs.get(u))
            .map(|d| json!({ "version": d.version, "text": &*d.text }));
        let note = uri
            .and_then(uri_to_path)
            .and_then(|p| self.vault.note_by_path(&p))
            .and_then(|id| self.vault.note(id))
            .map(|n| {
                json!({
                    "keptTextBytes": n.open_text.as_ref().map_or(0, |t| t.len()),
                    "links": n.parsed.links.len(),
                    "headings": n.parsed.headings.len(),
                })
            });
        json!({
            "notes": self.vault.len(),
            "indexed": self.indexed,
            "openDocuments": open,
            "keptTextBytes": kept_text_bytes,
            "rssBytes": rss_bytes(),
            "document": document,
            "note": note,
        })
    }
}

/// The resident memory of this process, where the system tells it (Linux).
fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    if uri.scheme().as_str() != "file" {
        return None;
    }
    #[cfg(unix)]
    {
        // A path is bytes on Unix: a file name that is not UTF-8 arrives percent-encoded, and
        // decoding it lossily (as `to_file_path` does) would name another file.
        let bytes = uri.path().decode().to_bytes();
        if std::str::from_utf8(&bytes).is_err() {
            use std::os::unix::ffi::OsStringExt;
            return Some(PathBuf::from(std::ffi::OsString::from_vec(
                bytes.into_owned(),
            )));
        }
    }
    uri.to_file_path().map(|p| p.into_owned())
}

/// Locations written as JSON one after the other, each followed by a comma (see
/// [`Snapshot::references_json`]).
struct JsonShare<'a> {
    snap: &'a Snapshot,
    out: Vec<u8>,
    count: usize,
    /// The note of the last location, with where its URI is in `out`, and its text once read.
    note: Option<(NoteId, std::ops::Range<usize>)>,
    view: Option<Option<FileView>>,
    number: itoa::Buffer,
}

impl<'a> JsonShare<'a> {
    fn new(snap: &'a Snapshot, out: Vec<u8>) -> Self {
        JsonShare {
            snap,
            out,
            count: 0,
            note: None,
            view: None,
            number: itoa::Buffer::new(),
        }
    }

    /// Writes the location of `range` in note `id`, unless it cannot be placed.
    fn push(&mut self, id: NoteId, note: &Note, range: syntax::TextRange) {
        if self.note.as_ref().is_none_or(|n| n.0 != id) {
            self.note = None;
            self.view = None;
        }
        let Some(r) = self.snap.range_in_note(id, note, range, &mut self.view) else {
            return;
        };
        let start = self.out.len();
        self.out.extend_from_slice(b"{\"uri\":");
        match &self.note {
            Some((_, uri)) => self.out.extend_from_within(uri.clone()),
            None => {
                let uri_at = self.out.len();
                if !write_uri_json(note.path(), &mut self.out) {
                    self.out.truncate(start);
                    return;
                }
                self.note = Some((id, uri_at..self.out.len()));
            }
        }
        self.out.extend_from_slice(b",\"range\":");
        write_range_json(&mut self.out, r, &mut self.number);
        self.out.extend_from_slice(b"},");
        self.count += 1;
    }
}

/// `range` as LSP JSON, by hand rather than with `write!` or serde: a hub's references and
/// rename hold thousands.
pub fn write_range_json(out: &mut Vec<u8>, range: Range, number: &mut itoa::Buffer) {
    out.extend_from_slice(b"{\"start\":{\"line\":");
    out.extend_from_slice(number.format(range.start.line).as_bytes());
    out.extend_from_slice(b",\"character\":");
    out.extend_from_slice(number.format(range.start.character).as_bytes());
    out.extend_from_slice(b"},\"end\":{\"line\":");
    out.extend_from_slice(number.format(range.end.line).as_bytes());
    out.extend_from_slice(b",\"character\":");
    out.extend_from_slice(number.format(range.end.character).as_bytes());
    out.extend_from_slice(b"}}");
}

/// The `file:` URI of `path` as a JSON string, written to `out`; `false` when the path has no
/// URI. A path of only unreserved characters (most notes' paths) is its own URI after
/// `file://`: written straight, without the memo of [`path_to_uri`] (a hub's references name a
/// thousand notes, and looking each up cost more than the rest of the answer).
pub fn write_uri_json(path: &Path, out: &mut Vec<u8>) -> bool {
    let bytes = path.as_os_str().as_encoded_bytes();
    let plain = |b: &u8| b.is_ascii_alphanumeric() || b"/-._~".contains(b);
    if cfg!(unix) && bytes.first() == Some(&b'/') && bytes.iter().all(plain) {
        out.extend_from_slice(b"\"file://");
        out.extend_from_slice(bytes);
        out.push(b'"');
        return true;
    }
    match path_to_uri(path) {
        Some(uri) => serde_json::to_writer(out, uri.as_str()).is_ok(),
        None => false,
    }
}

/// The URI of a note's path. Made once per path: a list of a thousand references would
/// otherwise spend most of its time encoding and parsing URIs.
pub fn path_to_uri(path: &Path) -> Option<Uri> {
    #[cfg(unix)]
    if path.to_str().is_none() {
        // Every byte of a name that is not UTF-8 percent-encoded (`from_file_path` would put
        // U+FFFD in their place, naming a file that does not exist).
        use std::fmt::Write as _;
        use std::os::unix::ffi::OsStrExt;
        let mut uri = String::from("file://");
        for &b in path.as_os_str().as_bytes() {
            if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
                uri.push(b as char);
            } else {
                let _ = write!(uri, "%{b:02X}");
            }
        }
        return uri.parse().ok();
    }
    type Memo = dashmap::DashMap<Box<[u8]>, Uri, rustc_hash::FxBuildHasher>;
    static MEMO: std::sync::LazyLock<Memo> = std::sync::LazyLock::new(Memo::default);
    /// Bounds the memo's memory (it starts over when full).
    const LIMIT: usize = 1 << 18;
    let key = path.as_os_str().as_encoded_bytes();
    if let Some(uri) = MEMO.get(key) {
        return Some(uri.clone());
    }
    let uri = Uri::from_file_path(path)?;
    if MEMO.len() >= LIMIT {
        MEMO.clear();
    }
    MEMO.insert(key.into(), uri.clone());
    Some(uri)
}

struct Writer {
    vault: Vault,
    docs: HashMap<Uri, Document>,
    /// Files the editor was told to move (by a rename, or asked about in `willRenameFiles`),
    /// newest last: an open document at an old path follows its file when the editor speaks of
    /// the new one without closing the old (Neovim before 0.11 renames a buffer that way).
    moves: Vec<(PathBuf, PathBuf)>,
}

/// How many expected moves are remembered.
const MOVES_KEPT: usize = 64;

/// What became of a `didChange`.
#[derive(Debug, PartialEq, Eq)]
pub enum Changed {
    /// Applied to the open document.
    Applied,
    /// The document was not open, but its file was: opened from the disk's text, then changed.
    OpenedFromDisk,
    /// The document was not open, but an open one at `from` had been moved here: it follows
    /// its file (text and version), then the change applies to it.
    Moved { from: Uri },
    /// Not open and no such note: nothing changed.
    Ignored,
}

/// A `didChange` applied, and what was odd about it.
#[derive(Debug)]
pub struct ChangeReport {
    pub changed: Changed,
    /// The version went down (or stayed): `(old, new)`.
    pub version_backwards: Option<(i32, i32)>,
    /// How many ranges ended before they started (applied to the text between the two).
    pub reversed_ranges: usize,
}

/// The writer and its published snapshot.
pub struct State {
    writer: Mutex<Writer>,
    snapshot: ArcSwap<Snapshot>,
    encoding: Mutex<Encoding>,
    revision: std::sync::atomic::AtomicU64,
    indexed: std::sync::atomic::AtomicBool,
    config: Mutex<Arc<Config>>,
    /// Holds a finished index back from being installed while set (tests use it to ask things
    /// while indexing is still under way).
    pub index_hold: tokio::sync::watch::Sender<bool>,
    /// While a scan runs: the paths that changed on disk meanwhile. The scan may have read
    /// them before they changed (or listed the folder before they came), and its index
    /// replaces the vault they were applied to, so they are read again once it is installed.
    changed_while_scanning: Mutex<Option<Vec<PathBuf>>>,
    /// How many changes open documents received (the sequence number of the last one), and
    /// up to which one the published snapshot reflects them all.
    changes: std::sync::atomic::AtomicU64,
    installed: std::sync::atomic::AtomicU64,
}

impl Default for State {
    fn default() -> Self {
        State {
            writer: Mutex::new(Writer {
                vault: Vault::default(),
                docs: HashMap::new(),
                moves: Vec::new(),
            }),
            snapshot: ArcSwap::from_pointee(Snapshot::default()),
            encoding: Mutex::new(Encoding::default()),
            revision: Default::default(),
            indexed: Default::default(),
            config: Mutex::default(),
            index_hold: tokio::sync::watch::Sender::new(false),
            changed_while_scanning: Mutex::default(),
            changes: Default::default(),
            installed: Default::default(),
        }
    }
}

/// What a disk change did.
#[derive(Debug, Default)]
pub struct DiskChanges {
    pub updated: usize,
    pub removed: usize,
    /// Files that could not be read (or only with losses), to tell the user.
    pub problems: Vec<crate::vault::ScanError>,
}

impl State {
    /// The newest snapshot, with every change received so far: documents changed since the
    /// last one are brought up to date first (text, line index, parse), so that a burst of
    /// typing costs one parse per reader rather than one per keystroke.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        let capture = self.capture();
        if !capture.pending.is_empty() {
            let made = make_views(capture.pending);
            let mut w = self.writer.lock().unwrap();
            self.install(&mut w, made, capture.upto);
        }
        self.snapshot.load_full()
    }

    /// How many changes open documents have received so far.
    pub fn change_count(&self) -> u64 {
        self.changes.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The open documents as they are now, taken at no cost (ropes are shared, not copied):
    /// a request takes one when it arrives, and makes its snapshot from it ([`State::resolve`])
    /// off the async threads, where the parsing is.
    pub fn capture(&self) -> Capture {
        use std::sync::atomic::Ordering::Acquire;
        if self.installed.load(Acquire) >= self.changes.load(Acquire) {
            return Capture {
                base: self.snapshot.load_full(),
                pending: Vec::new(),
                upto: 0,
            };
        }
        let w = self.writer.lock().unwrap();
        let pending = w
            .docs
            .iter()
            .filter(|(_, d)| d.seq > d.view_seq)
            .map(|(uri, d)| PendingDoc {
                uri: uri.clone(),
                rope: d.rope.clone(),
                version: d.version,
                seq: d.seq,
                path: d.view.path.clone(),
            })
            .collect();
        // Under the lock no change comes in, and the published snapshot is the documents' views.
        Capture {
            base: self.snapshot.load_full(),
            pending,
            upto: self.changes.load(Acquire),
        }
    }

    /// The snapshot of a capture: its base when no document was pending, else with the
    /// pending documents made (text, line index, parse), which are published for later
    /// readers too. Should changes that came after the capture have been published meanwhile,
    /// the request gets a snapshot of its own, as things were at the capture.
    pub fn resolve(&self, capture: Capture) -> Arc<Snapshot> {
        let Capture {
            base,
            pending,
            upto,
        } = capture;
        if pending.is_empty() {
            return base;
        }
        let made = make_views(pending);
        let mut w = self.writer.lock().unwrap();
        if w.docs.values().all(|d| d.view_seq <= upto) {
            // The common case: what gets published is exactly what the request saw.
            self.install(&mut w, made, upto);
            return self.snapshot.load_full();
        }
        drop(w);
        let mut vault = (*base.vault).clone();
        let mut docs = (*base.docs).clone();
        for (uri, _, view, parsed) in made {
            vault.update(&view.path, parsed, Some(view.text.clone()));
            docs.insert(uri, view);
        }
        Arc::new(Snapshot {
            vault: Arc::new(vault),
            docs: Arc::new(docs),
            ..(*base).clone()
        })
    }

    /// Puts made views into the writer (unless newer ones are there) and publishes.
    fn install(&self, w: &mut Writer, made: Vec<MadeView>, upto: u64) {
        let mut changed = false;
        {
            let Writer { vault, docs, .. } = w;
            for (uri, seq, view, parsed) in made {
                let Some(doc) = docs.get_mut(&uri) else {
                    continue;
                };
                if seq <= doc.view_seq || doc.view.path != view.path {
                    continue;
                }
                vault.update(&view.path, parsed, Some(view.text.clone()));
                doc.view = view;
                doc.view_seq = seq;
                changed = true;
            }
        }
        if changed {
            self.publish_now(w, upto);
        } else {
            self.installed
                .fetch_max(upto, std::sync::atomic::Ordering::AcqRel);
        }
    }

    pub fn set_encoding(&self, enc: Encoding) {
        *self.encoding.lock().unwrap() = enc;
    }

    pub fn set_roots(&self, roots: Vec<PathBuf>) {
        let config = self.config();
        let mut w = self.writer.lock().unwrap();
        // With no folder there is nothing to wait for.
        self.indexed
            .store(roots.is_empty(), std::sync::atomic::Ordering::Relaxed);
        w.vault = Vault::new(roots);
        w.vault.set_config(config);
        reapply_open_documents(&mut w);
        self.publish(&mut w);
    }

    pub fn config(&self) -> Arc<Config> {
        self.config.lock().unwrap().clone()
    }

    /// Installs a new configuration; the caller rescans when what makes a note changed.
    pub fn set_config(&self, config: Arc<Config>) {
        *self.config.lock().unwrap() = config.clone();
        let mut w = self.writer.lock().unwrap();
        w.vault.set_config(config);
        self.publish(&mut w);
    }

    pub fn roots(&self) -> Vec<PathBuf> {
        self.snapshot().vault.roots().to_vec()
    }

    fn publish(&self, w: &mut Writer) {
        flush(w);
        let upto = self.changes.load(std::sync::atomic::Ordering::Acquire);
        self.publish_now(w, upto);
    }

    /// Publishes the writer's state as it is, which reflects every change up to `upto`.
    fn publish_now(&self, w: &Writer, upto: u64) {
        let docs = w
            .docs
            .iter()
            .map(|(uri, d)| (uri.clone(), d.view.clone()))
            .collect();
        let revision = self
            .revision
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        self.snapshot.store(Arc::new(Snapshot {
            indexed: self.indexed.load(std::sync::atomic::Ordering::Relaxed),
            revision,
            vault: Arc::new(w.vault.clone()),
            docs: Arc::new(docs),
            encoding: *self.encoding.lock().unwrap(),
        }));
        self.installed
            .fetch_max(upto, std::sync::atomic::Ordering::AcqRel);
    }

    /// Replaces the whole vault (after indexing), keeping the open documents' text on top.
    pub fn install_vault(&self, mut vault: Vault) {
        vault.set_config(self.config());
        let mut w = self.writer.lock().unwrap();
        w.vault = vault;
        self.indexed
            .store(true, std::sync::atomic::Ordering::Relaxed);
        reapply_open_documents(&mut w);
        self.publish(&mut w);
    }

    /// A scan starts: changes on disk are remembered until [`State::end_scan`].
    pub fn begin_scan(&self) {
        *self.changed_while_scanning.lock().unwrap() = Some(Vec::new());
    }

    /// The scan's index is installed (or it failed): the paths that changed meanwhile, to
    /// read again.
    pub fn end_scan(&self) -> Vec<PathBuf> {
        let mut paths = self
            .changed_while_scanning
            .lock()
            .unwrap()
            .take()
            .unwrap_or_default();
        paths.sort();
        paths.dedup();
        paths
    }

    /// Indexing failed: judge links against the notes there are rather than never.
    pub fn mark_indexed(&self) {
        let mut w = self.writer.lock().unwrap();
        self.indexed
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.publish(&mut w);
    }

    pub fn open(&self, uri: Uri, version: i32, text: String) -> bool {
        let Some(path) = uri_to_path(&uri) else {
            return false;
        };
        let mut w = self.writer.lock().unwrap();
        for ghost in Self::close_ghosts_of(&mut w, &uri) {
            tracing::info!(
                old = ghost.as_str(),
                new = uri.as_str(),
                "an open document moved; its old URI is closed"
            );
        }
        let text: Arc<str> = Arc::from(text);
        w.vault
            .update(&path, syntax::parse_note(&text), Some(text.clone()));
        w.docs.insert(uri, Document::new(path, version, text));
        self.publish(&mut w);
        true
    }

    /// Applies the editor's changes to a document. A document that is not open is opened
    /// first: moved from its old URI when the editor was told to move its file here and has
    /// the old one open, else read from disk; with no such file the change is ignored.
    pub fn change(
        &self,
        uri: &Uri,
        version: i32,
        changes: Vec<TextDocumentContentChangeEvent>,
    ) -> ChangeReport {
        let enc = *self.encoding.lock().unwrap();
        let mut w = self.writer.lock().unwrap();
        let mut report = ChangeReport {
            changed: Changed::Applied,
            version_backwards: None,
            reversed_ranges: 0,
        };
        if !w.docs.contains_key(uri) {
            report.changed = match adopt(&mut w, uri, version) {
                Some(how) => how,
                None => {
                    report.changed = Changed::Ignored;
                    return report;
                }
            };
        }
        let doc = w.docs.get_mut(uri).expect("opened above");
        if report.changed == Changed::Applied && version <= doc.version {
            report.version_backwards = Some((doc.version, version));
        }
        for change in &changes {
            if apply_change(&mut doc.rope, change, enc) {
                report.reversed_ranges += 1;
            }
        }
        doc.version = version;
        // Published by the next reader (`snapshot`), not here.
        doc.seq = self
            .changes
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel)
            + 1;
        report
    }

    /// The editor was told to move these files or folders (`old`, `new`).
    pub fn expect_moves(&self, moves: impl IntoIterator<Item = (PathBuf, PathBuf)>) {
        let mut w = self.writer.lock().unwrap();
        w.moves.extend(moves);
        let extra = w.moves.len().saturating_sub(MOVES_KEPT);
        w.moves.drain(..extra);
    }

    /// A document opened at `uri`: an open document that was moved here and whose file is
    /// gone is a ghost of it, and closes. Returns the ghosts' URIs.
    fn close_ghosts_of(w: &mut Writer, uri: &Uri) -> Vec<Uri> {
        let Some(path) = uri_to_path(uri) else {
            return Vec::new();
        };
        let Some(old) = moved_from(&w.moves, &path) else {
            return Vec::new();
        };
        let ghosts: Vec<Uri> = w
            .docs
            .iter()
            .filter(|(u, d)| *u != uri && d.view.path == old && !old.exists())
            .map(|(u, _)| u.clone())
            .collect();
        for ghost in &ghosts {
            if let Some(doc) = w.docs.remove(ghost) {
                w.vault.remove(&doc.view.path);
            }
        }
        ghosts
    }

    /// The editor closed a document: the disk wins again (or the note goes, if it was never
    /// saved).
    pub fn close(&self, uri: &Uri) {
        let mut w = self.writer.lock().unwrap();
        let Some(doc) = w.docs.remove(uri) else {
            return;
        };
        let path = &doc.view.path;
        match read_note_file(path) {
            Ok(text) => {
                w.vault.update(path, parse_closed(&text), None);
            }
            Err(_) => {
                w.vault.remove(path);
            }
        }
        self.publish(&mut w);
    }

    /// Files changed, created or deleted outside the editor. Open documents are left alone:
    /// the editor's text wins until they close.
    pub fn disk_changed(&self, paths: &[PathBuf]) -> DiskChanges {
        if let Some(changed) = self.changed_while_scanning.lock().unwrap().as_mut() {
            changed.extend_from_slice(paths);
        }
        let roots = self.roots();
        let config = self.config();
        let root_of = |p: &Path| roots.iter().find(|r| p.starts_with(r)).cloned();
        // Read and parse outside the lock.
        let mut reads: Vec<(PathBuf, Option<syntax::ParsedNote>)> = Vec::new();
        let mut problems = Vec::new();
        let read = |path: &Path, reads: &mut Vec<_>, problems: &mut Vec<ScanError>| {
            let problem = |kind, message: String| ScanError {
                path: path.to_path_buf(),
                message,
                kind,
            };
            match read_note(path) {
                Ok((text, lossy)) => {
                    if lossy {
                        problems.push(problem(ScanProblem::Lossy, LOSSY_MESSAGE.to_owned()));
                    }
                    reads.push((path.to_path_buf(), Some(parse_closed(&text))));
                }
                Err(e) => {
                    if let ReadError::Other(why) = e {
                        problems.push(problem(ScanProblem::Skipped, why));
                    }
                    reads.push((path.to_path_buf(), None));
                }
            }
        };
        for path in paths {
            let Some(root) = root_of(path) else { continue };
            if !path.exists() {
                // Deleted: a note, or a folder of notes.
                reads.push((path.clone(), None));
                continue;
            }
            if is_hidden_below(&root, path)
                || is_git_ignored(&root, path)
                || is_config_ignored(&root, &config, path)
            {
                continue;
            }
            if path.is_dir() {
                // A new folder may have filled before anyone watched it.
                let errors = std::sync::Mutex::new(Vec::new());
                for note in list_notes(path, &root, &config, &errors) {
                    read(&note, &mut reads, &mut problems);
                }
                problems.extend(errors.into_inner().unwrap());
            } else if config.is_note_path(path) && path.is_file() {
                read(path, &mut reads, &mut problems);
            }
        }
        let mut out = DiskChanges {
            problems,
            ..DiskChanges::default()
        };
        let mut w = self.writer.lock().unwrap();
        for (path, parsed) in reads {
            if w.docs.values().any(|d| d.view.path == path) {
                continue;
            }
            match parsed {
                Some(parsed) => {
                    w.vault.update(&path, parsed, None);
                    out.updated += 1;
                }
                None => {
                    out.removed += w.vault.remove(&path).is_some() as usize;
                    out.removed += w.vault.remove_under(&path).len();
                }
            }
        }
        if out.updated + out.removed > 0 {
            self.publish(&mut w);
        }
        out
    }
}

/// Applies one `textDocument/didChange` content change to a document's text, as the server
/// does: without a range the text is replaced whole; with one, the range's ends are placed as
/// [`rope_char`] places them (clamped: a line past the end is the end of the text, a column past
/// the end of its line is the line's end, half a character is its start), and the text between
/// them gives way to the change's. A range written backwards (end before start) means the text
/// between its ends; the answer says whether it was.
pub fn apply_change(
    rope: &mut Rope,
    change: &TextDocumentContentChangeEvent,
    enc: Encoding,
) -> bool {
    match change.range {
        None => {
            *rope = Rope::from_str(&change.text);
            false
        }
        Some(range) => {
            let a = rope_char(rope, range.start, enc);
            let b = rope_char(rope, range.end, enc);
            let (start, end) = (a.min(b), a.max(b));
            rope.remove(start..end);
            rope.insert(start, &change.text);
            b < a
        }
    }
}

/// Where the file now at `path` was before an expected move, if one brought it there.
fn moved_from(moves: &[(PathBuf, PathBuf)], path: &Path) -> Option<PathBuf> {
    moves.iter().rev().find_map(|(old, new)| {
        if path == new {
            Some(old.clone())
        } else {
            // A folder moved with the file in it.
            path.strip_prefix(new).ok().map(|rest| old.join(rest))
        }
    })
}

/// Opens a document the editor changes without having opened it: moved from its old URI if
/// the editor was told to move it here, else from the disk. `None`: no such note.
fn adopt(w: &mut Writer, uri: &Uri, version: i32) -> Option<Changed> {
    let path = uri_to_path(uri)?;
    flush(w);
    let disk = path.is_file().then(|| read_note_file(&path).ok()).flatten();
    // The open document this file was moved from: one the editor was told to move here, or
    // one whose file is gone and whose text is this file's.
    let moved = moved_from(&w.moves, &path);
    let from = w
        .docs
        .iter()
        .find(|(_, d)| {
            Some(&d.view.path) == moved.as_ref()
                || (disk.as_deref() == Some(&*d.view.text) && !d.view.path.exists())
        })
        .map(|(u, _)| u.clone());
    if let Some(old_uri) = from {
        let mut doc = w.docs.remove(&old_uri).expect("found above");
        let old = doc.view.path.clone();
        match read_note_file(&old) {
            Ok(text) => {
                w.vault.update(&old, parse_closed(&text), None);
            }
            Err(_) => {
                w.vault.remove(&old);
            }
        }
        doc.view.path = path.clone();
        doc.view.version = version;
        doc.version = version;
        let text = doc.view.text.clone();
        w.vault.update(&path, syntax::parse_note(&text), Some(text));
        w.docs.insert(uri.clone(), doc);
        return Some(Changed::Moved { from: old_uri });
    }
    let text: Arc<str> = Arc::from(disk?);
    w.vault
        .update(&path, syntax::parse_note(&text), Some(text.clone()));
    w.docs
        .insert(uri.clone(), Document::new(path, version, text));
    Some(Changed::OpenedFromDisk)
}

/// A closed note keeps only what the index needs.
fn parse_closed(text: &str) -> syntax::ParsedNote {
    syntax::parse_note_slim(text)
}

/// Brings the views of changed documents, and their notes in the vault, up to date.
fn flush(w: &mut Writer) {
    let Writer { vault, docs, .. } = w;
    for doc in docs.values_mut().filter(|d| d.seq > d.view_seq) {
        let text: Arc<str> = Arc::from(doc.rope.to_string());
        doc.view_seq = doc.seq;
        doc.view.version = doc.version;
        doc.view.lines = Arc::new(LineIndex::new(&text));
        doc.view.text = text.clone();
        vault.update(&doc.view.path, syntax::parse_note(&text), Some(text));
    }
}

fn reapply_open_documents(w: &mut Writer) {
    flush(w);
    let Writer { vault, docs, .. } = w;
    for doc in docs.values() {
        let text = doc.view.text.clone();
        vault.update(&doc.view.path, syntax::parse_note(&text), Some(text));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_path_that_is_not_utf8_round_trips_through_its_uri() {
        use std::os::unix::ffi::OsStrExt;
        let path = PathBuf::from(std::ffi::OsStr::from_bytes(b"/vault/caf\xe9 n#1.md"));
        let uri = path_to_uri(&path).unwrap();
        assert_eq!(uri.as_str(), "file:///vault/caf%E9%20n%231.md");
        assert_eq!(uri_to_path(&uri), Some(path));
        // UTF-8 names keep the library's form.
        let plain = Path::new("/vault/café.md");
        let uri = path_to_uri(plain).unwrap();
        assert_eq!(uri_to_path(&uri).as_deref(), Some(plain));
    }

    #[test]
    fn uris_written_as_json_are_the_uris_of_the_paths() {
        for path in [
            "/vault/topic.md",
            "/vault/deep/dir_1/a-b.c~d.md",
            "/vault/café.md",
            "/vault/with space.md",
            "/vault/hash#and?query.md",
            "/vault/100%.md",
            "/vault/\"quoted\".md",
            "/vault/Москва/🎬.md",
        ] {
            let mut out = Vec::new();
            assert!(write_uri_json(Path::new(path), &mut out), "{path}");
            let expected = path_to_uri(Path::new(path)).unwrap();
            let written: String = serde_json::from_slice(&out).unwrap();
            assert_eq!(written, expected.as_str(), "{path}");
        }
    }
}
