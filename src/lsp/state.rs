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
use crate::ide::NoteRange;
use crate::syntax;
use crate::vault::{
    Note, NoteId, Vault, is_config_ignored, is_git_ignored, is_hidden_below, list_notes,
    read_note_file,
};

/// An open document as the editor has it.
struct Document {
    rope: Rope,
    /// The text and line index of the rope's current content, made once per change.
    view: DocView,
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
        if let Some(doc) = self.docs.values().find(|d| d.path == note.path) {
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
        let note = self.vault.note(target.note)?;
        let uri = path_to_uri(&note.path)?;
        let range = if target.range == syntax::TextRange::default() {
            Default::default()
        } else if let Some(range) = self.placed_without_text(note, target.range) {
            range
        } else {
            let view = self.view_of(target.note)?;
            view.lines.range(&view.text, target.range, self.encoding)
        };
        Some(Location { uri, range })
    }

    /// Many ranges at once (references, code lens): each note's URI is made once and its text
    /// read at most once, for ranges its line map cannot place.
    pub fn locations(&self, targets: &[NoteRange]) -> Vec<Location> {
        let mut out = Vec::with_capacity(targets.len());
        let mut current: Option<(NoteId, Uri, Option<FileView>)> = None;
        for target in targets {
            if current.as_ref().is_none_or(|c| c.0 != target.note) {
                let Some(uri) = self
                    .vault
                    .note(target.note)
                    .and_then(|n| path_to_uri(&n.path))
                else {
                    continue;
                };
                current = Some((target.note, uri, None));
            }
            let Some((_, uri, view)) = current.as_mut() else {
                continue;
            };
            let Some(note) = self.vault.note(target.note) else {
                continue;
            };
            let range = if target.range == syntax::TextRange::default() {
                Default::default()
            } else if let Some(range) = self.placed_without_text(note, target.range) {
                range
            } else {
                if view.is_none() {
                    *view = self.view_of(target.note);
                }
                let Some(view) = view.as_ref() else {
                    continue;
                };
                view.lines.range(&view.text, target.range, self.encoding)
            };
            out.push(Location {
                uri: uri.clone(),
                range,
            });
        }
        out
    }

    /// A range of a closed note placed from its line map alone: always for UTF-8 clients, and
    /// on ASCII lines for UTF-16 ones (reading a file per link made references to a note with
    /// a thousand backlinks slow).
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

pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    if uri.scheme().as_str() != "file" {
        return None;
    }
    uri.to_file_path().map(|p| p.into_owned())
}

/// The URI of a note's path. Made once per path: a list of a thousand references would
/// otherwise spend most of its time encoding and parsing URIs.
pub fn path_to_uri(path: &Path) -> Option<Uri> {
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
}

impl Default for State {
    fn default() -> Self {
        State {
            writer: Mutex::new(Writer {
                vault: Vault::default(),
                docs: HashMap::new(),
            }),
            snapshot: ArcSwap::from_pointee(Snapshot::default()),
            encoding: Mutex::new(Encoding::default()),
            revision: Default::default(),
            indexed: Default::default(),
            config: Mutex::default(),
            index_hold: tokio::sync::watch::Sender::new(false),
        }
    }
}

/// What a disk change did.
#[derive(Debug, Default)]
pub struct DiskChanges {
    pub updated: usize,
    pub removed: usize,
}

impl State {
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
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
        self.publish(&w);
    }

    pub fn config(&self) -> Arc<Config> {
        self.config.lock().unwrap().clone()
    }

    /// Installs a new configuration; the caller rescans when what makes a note changed.
    pub fn set_config(&self, config: Arc<Config>) {
        *self.config.lock().unwrap() = config.clone();
        let mut w = self.writer.lock().unwrap();
        w.vault.set_config(config);
        self.publish(&w);
    }

    pub fn roots(&self) -> Vec<PathBuf> {
        self.snapshot().vault.roots().to_vec()
    }

    fn publish(&self, w: &Writer) {
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
    }

    /// Replaces the whole vault (after indexing), keeping the open documents' text on top.
    pub fn install_vault(&self, mut vault: Vault) {
        vault.set_config(self.config());
        let mut w = self.writer.lock().unwrap();
        w.vault = vault;
        self.indexed
            .store(true, std::sync::atomic::Ordering::Relaxed);
        reapply_open_documents(&mut w);
        self.publish(&w);
    }

    /// Indexing failed: judge links against the notes there are rather than never.
    pub fn mark_indexed(&self) {
        let w = self.writer.lock().unwrap();
        self.indexed
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.publish(&w);
    }

    pub fn open(&self, uri: Uri, version: i32, text: String) -> bool {
        let Some(path) = uri_to_path(&uri) else {
            return false;
        };
        let mut w = self.writer.lock().unwrap();
        let rope = Rope::from_str(&text);
        let text: Arc<str> = Arc::from(text);
        w.vault
            .update(&path, syntax::parse_note(&text), Some(text.clone()));
        let lines = Arc::new(LineIndex::new(&text));
        w.docs.insert(
            uri,
            Document {
                rope,
                view: DocView {
                    path,
                    version,
                    text,
                    lines,
                },
            },
        );
        self.publish(&w);
        true
    }

    /// Applies the editor's changes to an open document. Returns false (and changes nothing)
    /// for a document that is not open.
    pub fn change(
        &self,
        uri: &Uri,
        version: i32,
        changes: Vec<TextDocumentContentChangeEvent>,
    ) -> bool {
        let enc = *self.encoding.lock().unwrap();
        let mut w = self.writer.lock().unwrap();
        let Some(doc) = w.docs.get_mut(uri) else {
            return false;
        };
        if version <= doc.view.version {
            tracing::warn!(
                uri = uri.as_str(),
                old = doc.view.version,
                new = version,
                "document version went backwards; applying the change anyway"
            );
        }
        for change in &changes {
            apply_change(&mut doc.rope, change, enc);
        }
        let text: Arc<str> = Arc::from(doc.rope.to_string());
        doc.view.version = version;
        doc.view.text = text.clone();
        doc.view.lines = Arc::new(LineIndex::new(&text));
        let path = doc.view.path.clone();
        w.vault.update(&path, syntax::parse_note(&text), Some(text));
        self.publish(&w);
        true
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
        self.publish(&w);
    }

    /// Files changed, created or deleted outside the editor. Open documents are left alone:
    /// the editor's text wins until they close.
    pub fn disk_changed(&self, paths: &[PathBuf]) -> DiskChanges {
        let roots = self.roots();
        let config = self.config();
        let root_of = |p: &Path| roots.iter().find(|r| p.starts_with(r)).cloned();
        // Read and parse outside the lock.
        let mut reads: Vec<(PathBuf, Option<syntax::ParsedNote>)> = Vec::new();
        let read = |path: &Path, reads: &mut Vec<_>| match read_note_file(path) {
            Ok(text) => reads.push((path.to_path_buf(), Some(parse_closed(&text)))),
            Err(e) => {
                tracing::warn!(path = %path.display(), "cannot read note: {e}");
                reads.push((path.to_path_buf(), None));
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
                    read(&note, &mut reads);
                }
            } else if config.is_note_path(path) && path.is_file() {
                read(path, &mut reads);
            }
        }
        let mut out = DiskChanges::default();
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
            self.publish(&w);
        }
        out
    }
}

/// Applies one `textDocument/didChange` content change to a document's text, as the server
/// does: without a range the text is replaced whole; with one, the range's ends are placed as
/// [`rope_char`] places them (clamped: a line past the end is the end of the text, a column past
/// the end of its line is the line's end, half a character is its start), an end before the
/// start counts as the start, and the range's text gives way to the change's.
pub fn apply_change(rope: &mut Rope, change: &TextDocumentContentChangeEvent, enc: Encoding) {
    match change.range {
        None => *rope = Rope::from_str(&change.text),
        Some(range) => {
            let start = rope_char(rope, range.start, enc);
            let end = rope_char(rope, range.end, enc).max(start);
            rope.remove(start..end);
            rope.insert(start, &change.text);
        }
    }
}

/// A closed note keeps only what the index needs.
fn parse_closed(text: &str) -> syntax::ParsedNote {
    syntax::parse_note_slim(text)
}

fn reapply_open_documents(w: &mut Writer) {
    let Writer { vault, docs } = w;
    for doc in docs.values() {
        let text = doc.view.text.clone();
        vault.update(&doc.view.path, syntax::parse_note(&text), Some(text));
    }
}
