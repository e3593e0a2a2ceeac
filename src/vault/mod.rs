//! The index of every note of a workspace: which notes exist, how a link resolves, which notes
//! link where. A [`Vault`] is a value: cloning it is O(1) (persistent maps), so the one writer
//! edits its own copy and publishes snapshots that readers use without ever waiting.

mod mentions;
mod resolve;
mod scan;
mod shared_map;
mod shared_vec;

use rustc_hash::FxHashMap as HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// The maps of the index, shared by snapshots (see [`SharedMap`]).
type PMap<K, V> = SharedMap<K, V>;
type PSet<K> = SharedMap<K, ()>;

use crate::config::Config;
use crate::syntax::{
    self, Name, NumberedName, ParsedNote, key_hash, last_segment, link_key_into,
    strip_note_extension,
};
use shared_map::SharedMap;
use shared_vec::SharedVec;

pub use mentions::{MIN_MENTION_CHARS, MentionMatcher, NameMatch, fold_case, is_word_char};
pub use resolve::Resolution;
#[cfg(debug_assertions)]
pub use scan::hooks;
pub use scan::{
    Detail, LOSSY_MESSAGE, ReadError, ScanError, ScanProblem, ScannedNote, is_config_ignored,
    is_git_ignored, is_hidden_below, is_note_path, list_notes, read_note, read_note_file,
    scan_folder, scan_folders,
};

/// A note's handle inside one vault (stable while the note exists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NoteId(pub u32);

/// One note as the index knows it: where it is, its names, and its parsed structure. The text
/// of a closed note is not kept (a preview reads the file when asked).
///
/// A vault holds one per note (100,000 and more), so a note keeps what it cannot derive only:
/// its relative path and stem are read from its path, its title from its parse, and its keys
/// share one allocation. Fields that must agree with each other are private.
#[derive(Clone)]
pub struct Note {
    path: Box<Path>,
    pub parsed: Arc<ParsedNote>,
    /// The editor's text while the note is open (it wins over the disk).
    pub open_text: Option<Arc<str>>,
    /// For each link of `parsed.links`, the [`key_hash`] of its link key (0: a link that no
    /// backlink can use). Backlinks compare these integers instead of recomputing keys.
    pub link_keys: Box<[u32]>,
    /// The slugs, then the loose keys, of its names (stem, title, aliases): each kind sorted,
    /// deduplicated and joined by [`KEY_SEPARATOR`], the kinds parted by [`KINDS_SEPARATOR`]
    /// (empty when there are none). Keys hold letters, digits and `_` only.
    keys: Box<str>,
    /// The relative path and stem when they are not slices of `path` as [`Note::new`] would
    /// compute them (a path that is not UTF-8, a long one, another separator): rare, so boxed.
    spilled: Option<Box<SpilledNames>>,
    /// The workspace folder's index, or [`NO_ROOT`].
    root: u32,
    /// Where the relative path starts in `path`'s bytes (unless `spilled`).
    rel_start: u16,
    /// The file stem is the slug of the title (as this format names its files).
    pub stem_is_title_slug: bool,
}

/// A note's relative path and stem, kept when they are not slices of its path.
#[derive(Debug, Clone)]
struct SpilledNames {
    rel_path: Box<str>,
    stem: Box<str>,
}

/// [`Note::root`] of a note outside every workspace folder.
const NO_ROOT: u32 = u32::MAX;

/// Parts the keys of one kind in a note's `keys`: neither [`syntax::slug`] nor
/// [`syntax::loose_key`] keeps a character that is not a letter, a digit or `_`.
const KEY_SEPARATOR: char = '\n';
/// Parts the slugs from the loose keys in a note's `keys`.
const KINDS_SEPARATOR: char = '\0';

impl std::fmt::Debug for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Note")
            .field("path", &self.path)
            .field("root", &self.root())
            .field("rel_path", &self.rel_path())
            .field("stem", &self.stem())
            .field("title", &self.title())
            .field("parsed", &self.parsed)
            .field("open_text", &self.open_text)
            .field("slugs", &self.slugs().collect::<Vec<_>>())
            .field("loose_keys", &self.loose_keys().collect::<Vec<_>>())
            .field("stem_is_title_slug", &self.stem_is_title_slug)
            .field("link_keys", &self.link_keys)
            .finish()
    }
}

/// A path's folder and file name, split at its last `/` by bytes, for the paths a scan makes
/// (a folder, `/`, a name): `Path::parent` and `Path::file_name` parse every component, and
/// each note asked them several times (a twentieth of making a note). `None` for anything
/// else (no `/`, or a name that is empty, `.` or `..`), which `Path`'s own methods read.
pub(crate) fn split_file_name(path: &Path) -> Option<(&Path, &std::ffi::OsStr)> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let bytes = path.as_os_str().as_bytes();
        let slash = memchr::memrchr(b'/', bytes)?;
        let (folder, name) = (&bytes[..slash], &bytes[slash + 1..]);
        if folder.is_empty() || matches!(name, b"" | b"." | b"..") {
            return None;
        }
        let os = std::ffi::OsStr::from_bytes;
        Some((Path::new(os(folder)), os(name)))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// `path` below `root` (the part after it), by bytes when `path` is `root`, `/`, then a name
/// that starts with neither `/` nor `.` (how a scan makes paths); else as
/// `Path::strip_prefix` reads components.
fn below_root<'a>(path: &'a Path, root: &Path) -> Option<&'a Path> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let (p, r) = (path.as_os_str().as_bytes(), root.as_os_str().as_bytes());
        if !r.is_empty()
            && r.last() != Some(&b'/')
            && let Some(rest) = p.strip_prefix(r)
            && let [b'/', first, ..] = rest
            && !matches!(first, b'/' | b'.')
        {
            return Some(Path::new(std::ffi::OsStr::from_bytes(&rest[1..])));
        }
    }
    path.strip_prefix(root).ok()
}

/// [`Path::file_stem`] (lossy), by bytes for the paths a scan makes (see [`split_file_name`]).
fn file_stem(path: &Path) -> std::borrow::Cow<'_, str> {
    match split_file_name(path) {
        Some((_, name)) => String::from_utf8_lossy(stem_bytes(name.as_encoded_bytes())),
        None => path
            .file_stem()
            .map(|s| s.to_string_lossy())
            .unwrap_or_default(),
    }
}

/// The stem of the last `/`-separated segment of `path`, as `Path::file_stem` reads a file name
/// (a leading dot starts no extension). [`Note::new`] checks that it agrees before relying on it.
fn stem_bytes(path: &[u8]) -> &[u8] {
    let name = match memchr::memrchr(b'/', path) {
        Some(slash) => &path[slash + 1..],
        None => path,
    };
    match memchr::memrchr(b'.', name) {
        Some(dot) if dot > 0 => &name[..dot],
        _ => name,
    }
}

/// Where `rel_path` starts in `path`, when [`Note::rel_path`] and [`Note::stem`] read from there
/// give exactly `rel_path` and `stem`; `None` when they would not (the note then keeps both).
fn slice_start(path: &Path, rel_path: &str, stem: &str) -> Option<u16> {
    // Where `/` is not the separator, the relative path (joined with `/`) is no slice of the
    // path; the check below would find that too, this says it outright.
    if std::path::MAIN_SEPARATOR != '/' {
        return None;
    }
    let text = path.to_str()?.as_bytes();
    let start = text.len().checked_sub(rel_path.len())?;
    let same = text[start..] == *rel_path.as_bytes() && stem_bytes(text) == stem.as_bytes();
    same.then(|| u16::try_from(start).ok()).flatten()
}

thread_local! {
    /// What [`Note::new`] builds a note's keys and relative path in: notes are made by the
    /// hundred thousand at start-up, and these took a dozen small allocations each.
    static NOTE_SCRATCH: std::cell::RefCell<NoteScratch> = Default::default();
}

#[derive(Default)]
struct NoteScratch {
    /// The keys of one kind, one after another, with their ranges.
    found: String,
    ranges: Vec<(u32, u32)>,
    /// One key.
    one: String,
    /// The keys of both kinds, joined.
    joined: String,
    rel_path: String,
}

impl NoteScratch {
    /// A note's `keys` (see [`Note`]) from its names (stem, title, aliases), and whether the
    /// stem is the title's slug.
    fn keys(&mut self, stem: &str, title: &str, aliases: &[String]) -> (Box<str>, bool) {
        let NoteScratch {
            found,
            ranges,
            one,
            joined,
            ..
        } = self;
        joined.clear();
        let mut stem_is_title_slug = false;
        for kind in [KeyKind::Slug, KeyKind::Loose] {
            found.clear();
            ranges.clear();
            let names = [stem, title]
                .into_iter()
                .chain(aliases.iter().map(String::as_str));
            for (n, name) in names.enumerate() {
                match kind {
                    KeyKind::Slug => syntax::slug_into(name, one),
                    KeyKind::Loose => syntax::loose_key_into(name, one),
                }
                if kind == KeyKind::Slug && n == 1 {
                    stem_is_title_slug = one == stem;
                }
                if !one.is_empty() {
                    let a = found.len() as u32;
                    found.push_str(one);
                    ranges.push((a, found.len() as u32));
                }
            }
            let at = |r: &(u32, u32)| &found[r.0 as usize..r.1 as usize];
            ranges.sort_unstable_by(|x, y| at(x).cmp(at(y)));
            ranges.dedup_by(|x, y| at(x) == at(y));
            if kind == KeyKind::Loose {
                joined.push(KINDS_SEPARATOR);
            }
            for (k, r) in ranges.iter().enumerate() {
                if k > 0 {
                    joined.push(KEY_SEPARATOR);
                }
                joined.push_str(at(r));
            }
        }
        // Only the separator of the kinds: the note has no key at all.
        let keys = if joined.len() == KINDS_SEPARATOR.len_utf8() {
            Box::default()
        } else {
            Box::from(joined.as_str())
        };
        (keys, stem_is_title_slug)
    }

    /// `rel`'s components joined by `/`.
    fn rel_path(&mut self, rel: &Path) -> &str {
        self.rel_path.clear();
        // As it is, when that is what joining its components gives (a scan's paths: names
        // joined by single `/`, none of them `.`): parsing components was a hundredth of
        // indexing.
        if std::path::MAIN_SEPARATOR == '/'
            && let Some(text) = rel.to_str()
            && text.split('/').all(|c| !c.is_empty() && c != ".")
        {
            self.rel_path.push_str(text);
            return &self.rel_path;
        }
        for (k, c) in rel.components().enumerate() {
            if k > 0 {
                self.rel_path.push('/');
            }
            self.rel_path.push_str(&c.as_os_str().to_string_lossy());
        }
        &self.rel_path
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Slug,
    Loose,
}

/// Text that [`Note::new`] found to be UTF-8 (its path is private, so it stays so).
fn checked_utf8(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("a note's path was checked to be UTF-8")
}

impl Note {
    /// Builds a note from its path and parsed text. `roots` are the workspace folders.
    pub fn new(path: PathBuf, roots: &[PathBuf], parsed: ParsedNote) -> Note {
        Note::with_link_keys(path, roots, parsed, Box::default())
    }

    /// [`Note::new`] with its links' key hashes made already (by [`syntax::parse_note_for_index`],
    /// one per link); computed here when `link_keys` does not have one per link.
    pub fn with_link_keys(
        path: PathBuf,
        roots: &[PathBuf],
        parsed: ParsedNote,
        link_keys: Box<[u32]>,
    ) -> Note {
        let path = path.into_boxed_path();
        let below = (roots.iter().enumerate()).find_map(|(i, r)| Some((i, below_root(&path, r)?)));
        let root = below.map(|(i, _)| i);
        let rel = match below {
            Some((_, rel)) => rel,
            None => path.file_name().map(Path::new).unwrap_or(&path),
        };
        let stem = file_stem(&path);
        let title = parsed.title().unwrap_or(&stem);
        let (keys, stem_is_title_slug, rel_start, spilled) =
            NOTE_SCRATCH.with_borrow_mut(|scratch| {
                let (keys, stem_is_title_slug) = scratch.keys(&stem, title, parsed.aliases());
                let rel_path = scratch.rel_path(rel);
                let rel_start = slice_start(&path, rel_path, &stem);
                let spilled = match rel_start {
                    Some(_) => None,
                    None => Some(Box::new(SpilledNames {
                        rel_path: rel_path.into(),
                        stem: stem.as_ref().into(),
                    })),
                };
                (keys, stem_is_title_slug, rel_start, spilled)
            });
        let root = root.map_or(NO_ROOT, |i| {
            u32::try_from(i)
                .ok()
                .filter(|&i| i != NO_ROOT)
                .expect("fewer than 4 billion workspace folders")
        });
        let link_keys = if link_keys.len() == parsed.links.len() {
            link_keys
        } else {
            link_key_hashes(&parsed)
        };
        Note {
            path,
            parsed: Arc::new(parsed),
            open_text: None,
            link_keys,
            keys,
            spilled,
            root,
            rel_start: rel_start.unwrap_or(0),
            stem_is_title_slug,
        }
    }

    /// The note's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The index of the workspace folder it lies under; `None` for a note opened from outside
    /// every folder, which can link out but is never a link target.
    pub fn root(&self) -> Option<usize> {
        (self.root != NO_ROOT).then_some(self.root as usize)
    }

    /// Path relative to its workspace folder, `/`-separated, with extension (for a note
    /// outside every folder, its file name).
    pub fn rel_path(&self) -> &str {
        match &self.spilled {
            Some(names) => &names.rel_path,
            None => {
                checked_utf8(&self.path.as_os_str().as_encoded_bytes()[self.rel_start as usize..])
            }
        }
    }

    /// The file name without its extension.
    pub fn stem(&self) -> &str {
        match &self.spilled {
            Some(names) => &names.stem,
            None => checked_utf8(stem_bytes(self.path.as_os_str().as_encoded_bytes())),
        }
    }

    /// The title of its frontmatter or its first `# ` heading, else its stem.
    pub fn title(&self) -> &str {
        self.parsed.title().unwrap_or_else(|| self.stem())
    }

    /// The slugs of its names, sorted and deduplicated.
    pub fn slugs(&self) -> impl Iterator<Item = &str> {
        self.keys_part(0)
    }

    /// The loose keys of its names, sorted and deduplicated.
    pub fn loose_keys(&self) -> impl Iterator<Item = &str> {
        self.keys_part(1)
    }

    /// Whether `slug` is one of [`Note::slugs`].
    pub fn has_slug(&self, slug: &str) -> bool {
        self.slugs().any(|k| k == slug)
    }

    /// Whether `key` is one of [`Note::loose_keys`].
    pub fn has_loose_key(&self, key: &str) -> bool {
        self.loose_keys().any(|k| k == key)
    }

    /// The keys of one kind: 0 slugs, 1 loose keys.
    fn keys_part(&self, kind: usize) -> impl Iterator<Item = &str> {
        let part = self
            .keys
            .split(KINDS_SEPARATOR)
            .nth(kind)
            .unwrap_or_default();
        part.split(KEY_SEPARATOR).filter(|k| !k.is_empty())
    }

    /// The heap blocks the note owns alone besides its link keys, by what they hold and their
    /// size in bytes: path, keys, spilled names (its parse and open text may be shared). A
    /// profiling aid.
    pub fn heap_blocks(&self) -> Vec<(&'static str, usize)> {
        let mut blocks = vec![
            ("path", self.path.as_os_str().len()),
            ("keys", self.keys.len()),
        ];
        if let Some(names) = &self.spilled {
            blocks.extend([
                ("spilled names", std::mem::size_of::<SpilledNames>()),
                ("spilled rel_path", names.rel_path.len()),
                ("spilled stem", names.stem.len()),
            ]);
        }
        blocks.retain(|b| b.1 > 0);
        blocks
    }

    /// The names worth matching a query against: title and aliases, and the stem when it is
    /// not simply the title's slug.
    pub fn search_names(&self) -> impl Iterator<Item = &str> {
        let stem_is_title = self.stem_is_title_slug;
        std::iter::once(self.title())
            .chain(self.parsed.aliases().iter().map(String::as_str))
            .chain((!stem_is_title).then_some(self.stem()))
    }

    /// `rel_path` without its extension: the note's path as a `[[folder/topic]]` link writes it.
    pub fn link_path(&self) -> &str {
        let rel_path = self.rel_path();
        match rel_path.rfind('.') {
            Some(dot) if !rel_path[dot..].contains('/') => &rel_path[..dot],
            _ => rel_path,
        }
    }

    /// The names a link may use for this note, besides its path: file stem, title, aliases.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.stem())
            .chain(std::iter::once(self.title()))
            .chain(self.parsed.aliases().iter().map(String::as_str))
    }

    pub fn folder(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new(""))
    }
}

/// The links of the vault that share one loose key, grouped for backlinks and for the
/// completion of targets that have no note yet.
#[derive(Debug, Clone, Default)]
pub struct KeyLinks {
    /// Notes whose links use this key, each once, in order.
    pub sources: Vec<NoteId>,
    /// The target texts written for this key, with how many links use each.
    pub spellings: Vec<(Name, u32)>,
}

impl KeyLinks {
    /// How many links use this key: summed over the few spellings rather than over the
    /// sources (a hub key has thousands, and completion asks this of every tied candidate).
    pub fn total(&self) -> u32 {
        self.spellings.iter().map(|s| s.1).sum()
    }

    /// The spelling most links use; of spellings used equally often, the least in `str` order
    /// (not the first met: the order of `spellings` depends on which notes were edited last,
    /// and the index after edits must answer as a fresh scan would).
    pub fn main_spelling(&self) -> &str {
        let mut best: Option<&(Name, u32)> = None;
        for s in &self.spellings {
            if best.is_none_or(|b| s.1 > b.1 || (s.1 == b.1 && s.0 < b.0)) {
                best = Some(s);
            }
        }
        best.map(|b| &*b.0).unwrap_or("")
    }
}

/// The notes a name map gives for one key: nearly always one, kept inline (at 100,000 notes the
/// five maps hold half a million keys, and a shared list each took 32 bytes more).
#[derive(Debug, Clone)]
enum Ids {
    None,
    One(NoteId),
    /// A thin pointer (a shared slice's would be two words, and the enum three).
    Many(Arc<Vec<NoteId>>),
}

impl std::ops::Deref for Ids {
    type Target = [NoteId];
    fn deref(&self) -> &[NoteId] {
        match self {
            Ids::None => &[],
            Ids::One(id) => std::slice::from_ref(id),
            Ids::Many(ids) => ids,
        }
    }
}

impl From<Vec<NoteId>> for Ids {
    fn from(ids: Vec<NoteId>) -> Ids {
        match ids[..] {
            [] => Ids::None,
            [id] => Ids::One(id),
            _ => Ids::Many(Arc::new(ids)),
        }
    }
}

impl FromIterator<NoteId> for Ids {
    fn from_iter<I: IntoIterator<Item = NoteId>>(iter: I) -> Ids {
        iter.into_iter().collect::<Vec<_>>().into()
    }
}

/// Texts to match a query against, laid out in one buffer so a scan over 100,000 of them stays
/// in cache.
#[derive(Debug, Default)]
pub struct SearchTable {
    text: String,
    entries: Vec<SearchEntry>,
}

#[derive(Debug, Clone, Copy)]
pub struct SearchEntry {
    start: u32,
    end: u32,
    /// For names: the note. For missing targets: how many links use the target.
    pub value: u32,
    /// For missing targets: where the target's key is in the buffer.
    key_start: u32,
    key_end: u32,
    /// [`letters_mask`] of the text: a query with a letter the text lacks cannot match it.
    /// With [`NOT_ASCII`] when the text is not all ASCII.
    pub letters: u64,
}

/// The bit of [`SearchEntry::letters`] (never of [`letters_mask`]) that marks a text with a
/// character beyond ASCII: the fuzzy matcher reads an ASCII text as it is, and completion then
/// spares rescanning each of 100,000 names to learn it.
pub const NOT_ASCII: u64 = 1 << 63;

/// Which ASCII letters and digits `text` holds, lower-cased, counting an accented letter also
/// as the letter the fuzzy matcher takes it for (`é` as `e`): one bit each. A fuzzy match
/// needs every letter of the query in the text, so completion skips the texts whose mask
/// lacks one of the query's without scoring them.
pub fn letters_mask(text: &str) -> u64 {
    fn bit(c: char) -> u64 {
        match c {
            'a'..='z' => 1 << (c as u32 - 'a' as u32),
            '0'..='9' => 1 << (26 + c as u32 - '0' as u32),
            _ => 0,
        }
    }
    let mut mask = 0;
    for c in text.chars() {
        if c.is_ascii() {
            mask |= bit(c.to_ascii_lowercase());
        } else {
            let lower = nucleo_matcher::chars::to_lower_case(c);
            mask |= bit(lower)
                | bit(nucleo_matcher::chars::normalize(lower))
                | bit(nucleo_matcher::chars::to_lower_case(
                    nucleo_matcher::chars::normalize(c),
                ));
        }
    }
    mask
}

impl SearchTable {
    pub fn entries(&self) -> &[SearchEntry] {
        &self.entries
    }

    pub fn text(&self, e: &SearchEntry) -> &str {
        &self.text[e.start as usize..e.end as usize]
    }

    pub fn key(&self, e: &SearchEntry) -> &str {
        &self.text[e.key_start as usize..e.key_end as usize]
    }

    fn push(&mut self, text: &str, value: u32, key: &str) {
        let start = self.text.len() as u32;
        self.text.push_str(text);
        let end = self.text.len() as u32;
        self.text.push_str(key);
        self.entries.push(SearchEntry {
            start,
            end,
            value,
            key_start: end,
            key_end: self.text.len() as u32,
            letters: letters_mask(text) | if text.is_ascii() { 0 } else { NOT_ASCII },
        });
    }
}

/// See [`Vault::memory_report`].
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryReport {
    pub notes: usize,
    pub open_notes: usize,
    /// Bytes of note text the index holds (open notes' text; closed notes keep none).
    pub text_bytes: usize,
    pub links: usize,
}

/// Notes by one kind of key, the key given by its 64-bit hash ([`name_hash`]): the keys
/// themselves are not stored, since each note holds its own (a map of 100,000 names took
/// 10-13 MB with its keys as shared strings, 3 MB without). A lookup confirms each note found
/// on the note's own key, so two keys that hash alike never mix.
type NameMap = PMap<u64, Ids>;

/// The hash a [`NameMap`] files a key under.
fn name_hash(key: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(key)
}

/// A path's [`name_hash`].
fn path_hash(path: &Path) -> u64 {
    name_hash(path.as_os_str().as_encoded_bytes())
}

/// `text` lower-cased as `str::to_lowercase` does, into a reused buffer.
fn lower_into(text: &str, out: &mut String) {
    out.clear();
    if text.is_ascii() {
        out.extend(text.bytes().map(|b| b.to_ascii_lowercase() as char));
    } else {
        out.push_str(&text.to_lowercase());
    }
}

/// Whether `text` lower-cased (as `str::to_lowercase` does) is `lower`.
fn lower_is(text: &str, lower: &str) -> bool {
    if text.is_ascii() {
        text.len() == lower.len()
            && text
                .bytes()
                .zip(lower.bytes())
                .all(|(a, b)| a.to_ascii_lowercase() == b)
    } else {
        text.to_lowercase() == lower
    }
}

/// Whether `note` is found under `key` in the name map of `kind` (see [`note_keys_into`]).
fn note_has_key(note: &Note, kind: usize, key: &str) -> bool {
    if note.root().is_none() || key.is_empty() {
        return false;
    }
    match kind {
        0 => lower_is(note.link_path(), key),
        1 => note.stem() == key,
        2 => lower_is(note.stem(), key),
        3 => note.has_slug(key),
        _ => note.has_loose_key(key),
    }
}

/// The index of all notes of a workspace.
#[derive(Debug, Clone, Default)]
pub struct Vault {
    roots: Arc<[PathBuf]>,
    /// The vault's configuration (`.wikilsp.toml` and the client's settings).
    config: Arc<Config>,
    notes: SharedVec<Option<Arc<Note>>>,
    /// The name maps: notes by path, by relative path, stem, lower-case stem, slug and loose
    /// key (see [`NameMap`]).
    by_path: NameMap,
    by_rel: NameMap,
    by_stem: NameMap,
    by_stem_lower: NameMap,
    by_slug: NameMap,
    by_loose: NameMap,
    links_by_key: PMap<Name, Arc<KeyLinks>>,
    /// The link keys no note answers to: targets that links use but no note has yet.
    missing: PSet<Name>,
    /// Contiguous tables of names and missing targets for completion, built on first use and
    /// shared by snapshots until a name or a link changes (typing prose changes neither).
    name_table: Arc<OnceLock<Arc<SearchTable>>>,
    missing_table: Arc<OnceLock<Arc<SearchTable>>>,
    /// The matcher of titles and aliases for unlinked mentions, built on first use and shared
    /// the same way.
    mention_matcher: Arc<OnceLock<Arc<MentionMatcher>>>,
    /// Counts every change, so a reader can tell whether its results are stale.
    generation: u64,
    note_count: usize,
    /// Each note's [`Vault::link_count`], kept exact by every change: completion breaks ties
    /// between thousands of candidates by it (a two-letter query at 100,000 notes leaves
    /// 6,000 tied at the cut), and reading a number beats looking up each one's keys.
    link_counts: SharedVec<u32>,
}

pub use crate::syntax::prefetch;

/// How many notes ahead [`Vault::for_each_note_ahead`] fetches each step of the chain.
const AHEAD: usize = 8;

/// The key under which a link target's backlinks are grouped: the loose key of its last path
/// segment (a `folder/topic` target and a `topic` target both land on `topic`).
pub fn link_key(target: &str) -> String {
    let mut key = String::new();
    link_key_into(target, &mut key);
    key
}

thread_local! {
    /// Link targets repeat across notes (a vault links to a few thousand topics hundreds of
    /// times each): each thread remembers the hashes of the targets it has seen. An index scan
    /// gets them from its parse instead ([`syntax::parse_note_for_index`]); this serves the
    /// notes made one at a time (an open note's parse, a file changed on disk).
    /// Keyed by where the name's text is: the scan shares one copy of each name per thread,
    /// so the key is a number rather than a string to hash and compare (at 100,000 notes this
    /// table is looked up 4.4 million times). The entry holds the name, so its address cannot
    /// be taken by another name while the entry is there.
    static TARGET_HASHES: std::cell::RefCell<HashMap<usize, (Name, u32)>> =
        std::cell::RefCell::new(HashMap::default());
}

/// Bounds the memory of [`TARGET_HASHES`] (the cache starts over when full): room for every
/// distinct target of a 100,000-note vault.
const TARGET_CACHE_LIMIT: usize = 1 << 20;

/// Empties the per-thread tables a scan fills (shared names, target hashes) on every thread of
/// the scan's pool, so that they do not keep names the index no longer uses.
fn forget_scan_tables() {
    rayon::broadcast(|_| {
        syntax::forget_shared_names();
        TARGET_HASHES.with(|cache| *cache.borrow_mut() = HashMap::default());
    });
}

/// The [`key_hash`] of each link of a note (0 for unclosed and empty links).
fn link_key_hashes(parsed: &ParsedNote) -> Box<[u32]> {
    TARGET_HASHES.with(|cache| {
        let mut cache = cache.borrow_mut();
        let mut key = String::new();
        parsed
            .links
            .iter()
            .map(|link| {
                if !link.closed() {
                    return 0;
                }
                // The cache first: it is looked up by address, while any look at the name
                // (even its length) reads memory the scan touched long ago.
                let at = link.target.as_ptr() as usize;
                if let Some((_, h)) = cache.get(&at) {
                    return *h;
                }
                if link.target.is_empty() {
                    return 0;
                }
                link_key_into(&link.target, &mut key);
                let h = key_hash(&key);
                if cache.len() >= TARGET_CACHE_LIMIT {
                    cache.clear();
                }
                cache.insert(at, (link.target.clone(), h));
                h
            })
            .collect()
    })
}

/// Whether `target`'s link key is `key`, comparing as it goes: most links of a note differ
/// from the key in their first letters, and backlinks test every link of every linking note.
fn has_link_key(target: &str, key: &str, buf: &mut String) -> bool {
    let name = strip_note_extension(last_segment(target));
    if !name.is_ascii() {
        link_key_into(target, buf);
        return buf == key;
    }
    let mut want = key.bytes();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() && want.next() != Some(b.to_ascii_lowercase()) {
            return false;
        }
    }
    want.next().is_none()
}

/// The bytes of a path's folder (a cheap key: `Path::parent` parses components).
fn folder_bytes(path: &Path) -> &[u8] {
    let bytes = path.as_os_str().as_encoded_bytes();
    match bytes
        .iter()
        .rposition(|&b| std::path::is_separator(b as char))
    {
        Some(i) => &bytes[..i],
        None => &[],
    }
}

impl Vault {
    pub fn new(roots: Vec<PathBuf>) -> Vault {
        Vault {
            roots: roots.into(),
            ..Vault::default()
        }
    }

    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Replaces the configuration (what notes are and how they are read is decided when they
    /// are scanned: a change of `extensions` or `ignore` needs a new scan).
    pub fn set_config(&mut self, config: Arc<Config>) {
        self.config = config;
        self.generation += 1;
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// How many notes the vault holds (open notes from outside the folders included).
    pub fn len(&self) -> usize {
        self.note_count
    }

    pub fn is_empty(&self) -> bool {
        self.note_count == 0
    }

    pub fn note(&self, id: NoteId) -> Option<&Arc<Note>> {
        self.notes.get(id.0 as usize).and_then(Option::as_ref)
    }

    /// Calls `f` on each item of `items` with its note (items whose note is gone are skipped),
    /// in order, while fetching the notes of the items ahead from memory (see [`prefetch`]):
    /// their slots, then the notes, then what a note points to (path, parse, link keys), then
    /// the parse's links and line map.
    pub fn for_each_note_ahead<'a, I>(
        &'a self,
        items: &[I],
        id: impl Fn(&I) -> NoteId,
        mut f: impl FnMut(&I, &'a Note),
    ) {
        for (j, item) in items.iter().enumerate() {
            if let Some(x) = items.get(j + 4 * AHEAD) {
                prefetch(self.notes.slot_ptr(id(x).0 as usize));
            }
            if let Some(x) = items.get(j + 3 * AHEAD)
                && let Some(n) = self.note(id(x))
            {
                let at = Arc::as_ptr(n).cast::<u8>();
                for line in 0..std::mem::size_of::<Note>().div_ceil(64) {
                    prefetch(at.wrapping_add(64 * line));
                }
            }
            if let Some(x) = items.get(j + 2 * AHEAD)
                && let Some(n) = self.note(id(x))
            {
                let path = n.path.as_os_str().as_encoded_bytes();
                prefetch(path.as_ptr());
                prefetch(path.as_ptr().wrapping_add(path.len().saturating_sub(1)));
                prefetch(n.link_keys.as_ptr());
                let parsed = Arc::as_ptr(&n.parsed).cast::<u8>();
                for line in 0..std::mem::size_of::<ParsedNote>().div_ceil(64) {
                    prefetch(parsed.wrapping_add(64 * line));
                }
            }
            if let Some(x) = items.get(j + AHEAD)
                && let Some(n) = self.note(id(x))
            {
                prefetch(n.parsed.links.as_ptr());
                // Where the title and aliases are read from (completion ranks by them).
                match &n.parsed.frontmatter {
                    Some(fm) => {
                        prefetch(fm.title.as_deref().map_or(std::ptr::null(), str::as_ptr));
                        prefetch(fm.aliases.as_ptr());
                    }
                    None => prefetch(n.parsed.headings.as_ptr()),
                }
                // The line starts a placement searches, up to a few lines of cache.
                let lines = n.parsed.lines.data();
                for at in (0..lines.len().min(128)).step_by(16) {
                    prefetch(lines[at..].as_ptr());
                }
            }
            if let Some(n) = self.note(id(item)) {
                f(item, n);
            }
        }
    }

    /// Calls `f` on each note inside the workspace folders, in order, fetching the notes ahead
    /// from memory meanwhile ([`Vault::for_each_note_ahead`]): a note keeps none of its names
    /// itself, so a walk over all of them (the completion and mention tables) would otherwise
    /// wait on three reads a note, one after the other.
    fn for_each_note_names_ahead<'a>(&'a self, mut f: impl FnMut(NoteId, &'a Note)) {
        let ids: Vec<NoteId> = self
            .notes()
            .filter(|(_, n)| n.root().is_some())
            .map(|(id, _)| id)
            .collect();
        self.for_each_note_ahead(&ids, |&id| id, |&id, note| f(id, note));
    }

    pub fn note_by_path(&self, path: &Path) -> Option<NoteId> {
        let ids = self.by_path.get(&path_hash(path))?;
        ids.iter()
            .copied()
            .find(|&id| self.note(id).is_some_and(|n| *n.path == *path))
    }

    pub fn notes(&self) -> impl Iterator<Item = (NoteId, &Arc<Note>)> {
        self.notes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| n.as_ref().map(|n| (NoteId(i as u32), n)))
    }

    pub fn links_with_key(&self, key: &str) -> Option<&Arc<KeyLinks>> {
        self.links_by_key.get(key)
    }

    /// Every name worth matching a completion query against (see [`Note::search_names`]), with
    /// its note's id as the entry's value.
    pub fn name_table(&self) -> Arc<SearchTable> {
        self.name_table
            .get_or_init(|| {
                let mut table = SearchTable::default();
                self.for_each_note_names_ahead(|id, note| {
                    for name in note.search_names() {
                        table.push(name, id.0, "");
                    }
                });
                Arc::new(table)
            })
            .clone()
    }

    /// A matcher of every note's title and aliases (notes inside the workspace folders), for
    /// finding plain-text mentions of notes. Built once per change of names.
    pub fn mention_matcher(&self) -> Arc<MentionMatcher> {
        self.mention_matcher
            .get_or_init(|| {
                let mut names = Vec::new();
                self.for_each_note_names_ahead(|_, n| {
                    names.push(n.title());
                    names.extend(n.parsed.aliases().iter().map(String::as_str));
                });
                Arc::new(MentionMatcher::new(names))
            })
            .clone()
    }

    /// Every target that links use but no note has yet: its most used spelling, with the number
    /// of links as the entry's value and the loose key as its key.
    pub fn missing_table(&self) -> Arc<SearchTable> {
        self.missing_table
            .get_or_init(|| {
                let mut table = SearchTable::default();
                for (key, links) in self.missing_targets() {
                    table.push(links.main_spelling(), links.total(), key);
                }
                Arc::new(table)
            })
            .clone()
    }

    /// The targets that links use but no note has yet, with those links.
    pub fn missing_targets(&self) -> impl Iterator<Item = (&Name, &Arc<KeyLinks>)> {
        self.missing
            .keys()
            .filter_map(|k| self.links_by_key.get(k).map(|l| (k, l)))
    }

    /// The notes whose file stem is `stem`, ignoring case (in any folder).
    pub fn notes_with_stem_ignoring_case(&self, stem: &str) -> Vec<NoteId> {
        self.lookup(2, &stem.to_lowercase()).to_vec()
    }

    /// Whether any note answers to this loose key (if none does, a link with it is broken).
    pub fn has_loose_key(&self, key: &str) -> bool {
        // The first note that answers will do: `lookup` would check (and copy) them all.
        self.by_loose
            .get(&name_hash(key.as_bytes()))
            .is_some_and(|ids| {
                ids.iter()
                    .any(|&id| self.note(id).is_some_and(|n| note_has_key(n, 4, key)))
            })
    }

    /// How many links in the vault use one of the note's names (a ranking signal, not an exact
    /// backlink count: a link may use the name and still resolve elsewhere); 0 for a note
    /// outside every workspace folder.
    pub fn link_count(&self, note: &Note) -> u32 {
        self.link_count_with(note, |_| {})
    }

    /// [`Vault::link_count`], showing `seen` each link group the note answers to.
    fn link_count_with(&self, note: &Note, mut seen: impl FnMut(&Arc<KeyLinks>)) -> u32 {
        if note.root().is_none() {
            // Outside every workspace folder: no link leads to it.
            return 0;
        }
        note.loose_keys()
            .filter_map(|k| self.links_by_key.get(k))
            .map(|links| {
                seen(links);
                links.total()
            })
            .sum()
    }

    /// [`Vault::link_count`] of note `id`, as kept (0 for a note that is gone).
    pub fn link_count_of(&self, id: NoteId) -> u32 {
        self.link_counts.get(id.0 as usize).copied().unwrap_or(0)
    }

    /// Counts the links of note `id` afresh (its names, or the note, changed).
    fn recount_links(&mut self, id: NoteId) {
        let count = self.note(id).map_or(0, |n| self.link_count(n));
        let i = id.0 as usize;
        while self.link_counts.len() <= i {
            self.link_counts.push_back(0);
        }
        self.link_counts.set(i, count);
    }

    /// The links of loose key `key` went from `before` to `after`: so did the counts of the
    /// notes that answer to it, but `except` (the note being changed, counted afresh after).
    fn shift_link_counts(&mut self, key: &str, before: u32, after: u32, except: NoteId) {
        if before == after {
            return;
        }
        for &m in self.lookup(4, key).iter() {
            let i = m.0 as usize;
            if m != except
                && let Some(&count) = self.link_counts.get(i)
            {
                self.link_counts
                    .set(i, (count + after).saturating_sub(before));
            }
        }
    }

    /// Every link in the vault that resolves to note `target`, as (linking note, index in its
    /// links), in the order of notes and then of position. Only the notes whose links use one
    /// of the target's names are read.
    pub fn backlinks(&self, target: NoteId) -> Vec<(NoteId, usize)> {
        self.backlinks_with(target, |source, i, _| (source, i))
    }

    /// [`Vault::backlinks`], each link given as `pick(linking note, index, link)` makes it (in
    /// the same order): a caller that wants the link's range takes it while the link is at
    /// hand, rather than looking every linking note up again.
    pub fn backlinks_with<T: Send>(
        &self,
        target: NoteId,
        pick: impl Fn(NoteId, usize, &syntax::Link) -> T + Sync,
    ) -> Vec<T> {
        let Some(note) = self.note(target) else {
            return Vec::new();
        };
        let keys: Vec<&str> = note.loose_keys().collect();
        let keep = Resolution::Note(target);
        self.collect_links(&keys, |r| *r == keep, pick)
    }

    /// Every link whose target has loose key `key` and whose resolution satisfies `keep`, as
    /// (linking note, index in its links), in the order of notes and then of position. With
    /// `Resolution::Missing` this finds the links that wait for a note that does not exist yet.
    pub fn links_using_key(
        &self,
        key: &str,
        keep: impl Fn(&Resolution) -> bool + Sync,
    ) -> Vec<(NoteId, usize)> {
        self.collect_links(&[key], keep, |source, i, _| (source, i))
    }

    /// [`Vault::fold_links`] into one list of `pick(linking note, index, link)`.
    fn collect_links<T: Send>(
        &self,
        keys: &[&str],
        keep: impl Fn(&Resolution) -> bool + Sync,
        pick: impl Fn(NoteId, usize, &syntax::Link) -> T + Sync,
    ) -> Vec<T> {
        let mut shares = self.fold_links(keys, keep, Vec::new, |out, source, _, i, link| {
            out.push(pick(source, i, link))
        });
        if shares.len() == 1 {
            return shares.pop().unwrap_or_default();
        }
        shares.into_iter().flatten().collect()
    }

    /// How many links use the loose keys `keys` (whatever they resolve to): at least as many
    /// as [`Vault::fold_links`] visits, known without reading a linking note.
    pub fn links_using_keys_count(&self, keys: &[&str]) -> usize {
        keys.iter()
            .filter_map(|&k| self.links_by_key.get(k))
            .map(|links| links.total() as usize)
            .sum()
    }

    /// Visits every link whose target has one of the loose keys `keys` and whose resolution
    /// satisfies `keep`, in the order of linking notes and then of position, as
    /// `visit(share, linking note's id, linking note, index in its links, link)`. The linking
    /// notes are cut into consecutive shares, each folded from `init()`, on all cores when
    /// there are many (a hub's linking notes lie all over memory, and reading them waits on
    /// it); the shares come back in order.
    ///
    /// A caller that turns each link into its answer here does so while the linking note is
    /// at hand: a hub's 17,000 linking notes are each read once, not once to find the links
    /// and again to place them.
    pub fn fold_links<A: Send>(
        &self,
        keys: &[&str],
        keep: impl Fn(&Resolution) -> bool + Sync,
        init: impl Fn() -> A + Sync,
        visit: impl Fn(&mut A, NoteId, &Note, usize, &syntax::Link) + Sync,
    ) -> Vec<A> {
        use rayon::prelude::*;
        let groups: Vec<(&str, u32, &KeyLinks)> = keys
            .iter()
            .filter_map(|&key| Some((key, key_hash(key), &**self.links_by_key.get(key)?)))
            .collect();
        // A note linking by two of the keys is one linking note: the lists (each sorted) are
        // merged.
        let merged: Vec<NoteId>;
        let sources: &[NoteId] = match groups.as_slice() {
            [] => return Vec::new(),
            [(_, _, links)] => &links.sources,
            _ => {
                let mut all: Vec<NoteId> = groups
                    .iter()
                    .flat_map(|(_, _, links)| links.sources.iter().copied())
                    .collect();
                all.sort_unstable();
                all.dedup();
                merged = all;
                &merged
            }
        };
        let fold = |sources: &[NoteId]| {
            let mut share = init();
            let mut buf = String::new();
            // Links repeat a few spellings from a few folders: each pair is resolved once. A
            // spelling is known by its shared name's address, which spares reading its text
            // (a wait on memory per link of a hub); a spelling shared under two addresses is
            // only resolved twice.
            let mut verdicts: HashMap<(usize, &[u8]), bool> = HashMap::default();
            self.for_each_note_ahead(
                sources,
                |&id| id,
                |&source, from| {
                    for (i, &hash) in from.link_keys.iter().enumerate() {
                        if !groups.iter().any(|g| g.1 == hash) {
                            continue;
                        }
                        let Some(link) = from.parsed.links.get(i) else {
                            continue;
                        };
                        // The hash matched; the spellings of the key confirm it without
                        // recomputing.
                        let mut uses = |&(key, h, links): &(&str, u32, &KeyLinks)| {
                            h == hash
                                && (links
                                    .spellings
                                    .iter()
                                    .any(|s| Name::ptr_eq(&s.0, &link.target))
                                    || links.spellings.iter().any(|s| s.0 == link.target)
                                    || has_link_key(&link.target, key, &mut buf))
                        };
                        if !groups.iter().any(&mut uses) {
                            continue;
                        }
                        let spelling = link.target.as_ptr() as usize;
                        let verdict = *verdicts
                            .entry((spelling, folder_bytes(&from.path)))
                            .or_insert_with(|| keep(&self.resolve(&link.target, &from.path)));
                        if verdict {
                            visit(&mut share, source, from, i, link);
                        }
                    }
                },
            );
            share
        };
        if sources.len() < PARALLEL_SOURCES {
            return vec![fold(sources)];
        }
        sources.par_chunks(PARALLEL_SOURCES / 2).map(fold).collect()
    }

    /// Bytes of each of the index's maps: (name, keys, bytes of tables plus what the keys and
    /// values hold on the heap, counting a shared name once per map). A profiling aid.
    pub fn map_memory(&self) -> Vec<(&'static str, usize, usize)> {
        // A heap block: the allocator's 8-byte header, rounded to 16.
        let block = |n: usize| (n + 8).div_ceil(16) * 16;
        let name = |n: &Name| block(n.len() + 16);
        let ids = |i: &Ids| match i {
            Ids::None | Ids::One(_) => 0,
            Ids::Many(ids) => block(16 + 4 * ids.len()),
        };
        let names = |m: &NameMap| m.table_bytes() + m.iter().map(|(_, v)| ids(v)).sum::<usize>();
        vec![
            ("by_path", self.by_path.iter().count(), names(&self.by_path)),
            ("by_rel", self.by_rel.iter().count(), names(&self.by_rel)),
            ("by_stem", self.by_stem.iter().count(), names(&self.by_stem)),
            (
                "by_stem_lower",
                self.by_stem_lower.iter().count(),
                names(&self.by_stem_lower),
            ),
            ("by_slug", self.by_slug.iter().count(), names(&self.by_slug)),
            (
                "by_loose",
                self.by_loose.iter().count(),
                names(&self.by_loose),
            ),
            (
                "links_by_key",
                self.links_by_key.iter().count(),
                self.links_by_key.table_bytes()
                    + self
                        .links_by_key
                        .iter()
                        .map(|(k, v)| {
                            name(k)
                                + block(16 + std::mem::size_of::<KeyLinks>())
                                + block(4 * v.sources.capacity())
                                + block(16 * v.spellings.capacity())
                        })
                        .sum::<usize>(),
            ),
            (
                "missing",
                self.missing.iter().count(),
                self.missing.table_bytes() + self.missing.keys().map(name).sum::<usize>(),
            ),
        ]
    }

    /// What the index holds, by its own accounting: the text it keeps is the open notes' only.
    pub fn memory_report(&self) -> MemoryReport {
        let mut report = MemoryReport::default();
        for (_, note) in self.notes() {
            report.notes += 1;
            if let Some(text) = &note.open_text {
                report.open_notes += 1;
                report.text_bytes += text.len();
            }
            report.links += note.parsed.links.len();
        }
        report
    }

    /// The text of a note: the editor's while it is open, else read from disk.
    pub fn text(&self, id: NoteId) -> Option<Arc<str>> {
        let note = self.note(id)?;
        if let Some(t) = &note.open_text {
            return Some(t.clone());
        }
        read_note_file(&note.path).ok().map(Arc::from)
    }

    /// Builds the index of many scanned notes at once, aggregating in plain maps first (one
    /// insertion per key into the persistent maps, rather than one per link).
    pub fn from_scan(roots: Vec<PathBuf>, scanned: Vec<ScannedNote>) -> Vault {
        use rayon::prelude::*;
        let mut notes: Vec<Note> = scanned
            .into_par_iter()
            .map(|s| Note::new(s.path, &roots, s.parsed))
            .collect();
        let numbered = number_links(&mut notes);
        Vault::from_notes(roots, notes, numbered)
    }

    /// Scans `roots` for the index ([`Detail::Index`]) and builds it: each note's names and link
    /// keys are made right after its parse, on the core that parsed it.
    pub fn index_folders(
        roots: Vec<PathBuf>,
        config: &Config,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> (Vault, Vec<ScanError>) {
        // The notes hold their links' numbers until the build gives them their key hashes.
        let (notes, errors, numbered) = scan::scan_folders_with(
            &roots,
            config,
            Detail::Index,
            true,
            progress,
            |path, parsed, numbers| Note::with_link_keys(path, &roots, parsed, numbers),
        );
        (Vault::from_notes(roots, notes, numbered), errors)
    }

    /// Builds the index of many notes at once (see [`Vault::from_scan`]). Each note's
    /// `link_keys` hold its links' numbers among `numbered` (see [`syntax::ScanNames`]); they
    /// become the links' key hashes.
    fn from_notes(roots: Vec<PathBuf>, mut notes: Vec<Note>, numbered: Vec<NumberedName>) -> Vault {
        use rayon::prelude::*;
        let mut vault = Vault::new(roots);
        let t = std::time::Instant::now();
        // The links of all notes grouped by key: the biggest merge, so done on all cores.
        let links = group_links(&mut notes, numbered);
        let t_links = t.elapsed();
        forget_scan_tables();
        // The five name maps and the path map are independent: built side by side. Each name
        // map from its (key, note) pairs sorted, one name and one list of notes per key, with
        // the keys borrowed from the notes where they are stored.
        let name_map = |kind: usize| -> NameMap {
            let mut pairs: Vec<(u64, u32)> = Vec::with_capacity(notes.len());
            let mut lower = String::new();
            for (i, note) in notes.iter().enumerate() {
                // Each note's path and keys lie apart in memory: fetched a few notes ahead.
                if let Some(ahead) = notes.get(i + 8) {
                    match kind {
                        3 | 4 => prefetch(ahead.keys.as_ptr()),
                        _ => prefetch(ahead.path.as_os_str().as_encoded_bytes().as_ptr()),
                    }
                }
                match kind {
                    5 => pairs.push((path_hash(&note.path), i as u32)),
                    _ => note_keys_into(note, kind, &mut lower, |k| {
                        pairs.push((name_hash(k.as_bytes()), i as u32))
                    }),
                }
            }
            pairs.sort_unstable();
            pairs.dedup();
            pairs
                .chunk_by(|a, b| a.0 == b.0)
                .map(|group| (group[0].0, group.iter().map(|p| NoteId(p.1)).collect()))
                .collect()
        };
        let maps: Vec<NameMap> = (0..6).into_par_iter().map(name_map).collect();
        let t_keys = t.elapsed();
        let [rel, stem, stem_lower, slug, loose, by_path]: [NameMap; 6] =
            maps.try_into().expect("six maps");
        vault.by_rel = rel;
        vault.by_stem = stem;
        vault.by_stem_lower = stem_lower;
        vault.by_slug = slug;
        vault.by_loose = loose;
        vault.notes = notes.into_iter().map(|n| Some(Arc::new(n))).collect();
        let t_notes = t.elapsed();
        vault.links_by_key = SharedMap::from_vec_par(links);
        let t_by_key = t.elapsed();
        // Each note's link count; on the way, the link groups that some note answers to. The
        // others are the missing targets: found so, a key is never looked up again and
        // checked against the notes (a chain of waits on memory per key).
        const CHUNK: usize = 4096;
        let pieces: Vec<(Vec<u32>, Vec<usize>)> = (0..vault.notes.len().div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let ids = c * CHUNK..((c + 1) * CHUNK).min(vault.notes.len());
                let mut counts = Vec::with_capacity(ids.len());
                let mut answered = Vec::new();
                for i in ids {
                    counts.push(vault.note(NoteId(i as u32)).map_or(0, |n| {
                        vault.link_count_with(n, |links| answered.push(Arc::as_ptr(links) as usize))
                    }));
                }
                (counts, answered)
            })
            .collect();
        let mut counts = Vec::with_capacity(vault.notes.len());
        let mut answered = Vec::new();
        for (c, a) in pieces {
            counts.extend(c);
            answered.extend(a);
        }
        answered.par_sort_unstable();
        answered.dedup();
        vault.missing = vault
            .links_by_key
            .iter()
            .filter(|(_, links)| {
                answered
                    .binary_search(&(Arc::as_ptr(links) as usize))
                    .is_err()
            })
            .map(|(k, _)| (k.clone(), ()))
            .collect();
        let t_missing = t.elapsed();
        vault.link_counts = counts.into_iter().collect();
        vault.by_path = by_path;
        vault.note_count = vault.notes.len();
        vault.generation = 1;
        tracing::debug!(
            ?t_links,
            ?t_keys,
            ?t_notes,
            ?t_by_key,
            ?t_missing,
            done = ?t.elapsed(),
            "index build phases"
        );
        vault
    }

    /// Adds a note or replaces the one at the same path (an open note keeps its editor text).
    /// Costs time in proportion to this note.
    pub fn upsert(&mut self, mut note: Note) -> NoteId {
        if let Some(id) = self.note_by_path(&note.path)
            && let Some(old) = self.note(id).cloned()
        {
            if note.open_text.is_none() && old.open_text.is_some() {
                // Only the editor decides when an open note stops being open.
                note.open_text = old.open_text.clone();
            }
            self.replace(id, &old, note);
            return id;
        }
        self.generation += 1;
        let id = NoteId(self.notes.len() as u32);
        // In place before its names and links are indexed: a link of the note to one of its
        // own names (an alias) finds the note, and is not taken for a missing target.
        let note = Arc::new(note);
        self.notes.push_back(Some(note.clone()));
        self.index(id, &note, true);
        add_id(&mut self.by_path, path_hash(&note.path), id);
        self.recount_links(id);
        self.note_count += 1;
        id
    }

    /// Replaces a note's parsed form and its open text (`None` when it closes and the disk wins
    /// again).
    pub fn update(
        &mut self,
        path: &Path,
        parsed: ParsedNote,
        open_text: Option<Arc<str>>,
    ) -> NoteId {
        let mut note = Note::new(path.to_path_buf(), &self.roots, parsed);
        note.open_text = open_text;
        match self.note_by_path(path) {
            Some(id) => {
                if let Some(old) = self.note(id).cloned() {
                    self.replace(id, &old, note);
                }
                id
            }
            None => self.upsert(note),
        }
    }

    /// Puts `new` in the place of `old`. When its names and links are the same (typing in a
    /// paragraph), the maps are left alone and so are the completion tables.
    fn replace(&mut self, id: NoteId, old: &Note, new: Note) {
        self.generation += 1;
        let same_names = old.root() == new.root()
            && old.rel_path() == new.rel_path()
            && old.title() == new.title()
            && old.parsed.aliases() == new.parsed.aliases();
        let same_links = same_names && link_groups(&old.parsed) == link_groups(&new.parsed);
        let new = Arc::new(new);
        if !same_links {
            self.unindex(id, old, !same_names);
        }
        // In place before it is indexed (see `upsert`).
        self.notes.set(id.0 as usize, Some(new.clone()));
        if !same_links {
            self.index(id, &new, !same_names);
            self.recount_links(id);
        }
    }

    /// Removes the note at `path`, if any.
    pub fn remove(&mut self, path: &Path) -> Option<NoteId> {
        let id = self.note_by_path(path)?;
        remove_id(&mut self.by_path, path_hash(path), id);
        if let Some(old) = self.note(id).cloned() {
            self.unindex(id, &old, true);
        }
        self.notes.set(id.0 as usize, None);
        self.recount_links(id);
        self.note_count -= 1;
        self.generation += 1;
        Some(id)
    }

    /// Removes every note under `folder` (a deleted folder).
    pub fn remove_under(&mut self, folder: &Path) -> Vec<NoteId> {
        let paths: Vec<PathBuf> = self
            .notes()
            .filter(|(_, n)| n.path.starts_with(folder))
            .map(|(_, n)| n.path.to_path_buf())
            .collect();
        paths.iter().filter_map(|p| self.remove(p)).collect()
    }

    fn index(&mut self, id: NoteId, note: &Note, names_changed: bool) {
        self.forget_tables(names_changed);
        for kind in 0..5 {
            for key in note_names(note, kind) {
                add_id(self.key_map(kind), name_hash(key.as_bytes()), id);
                if kind == 4 {
                    self.missing.remove(&*key);
                }
            }
        }
        for (key, target, count) in link_groups(&note.parsed) {
            if !self.links_by_key.contains_key(&key) && !self.has_loose_key(&key) {
                self.missing.insert(key.clone(), ());
            }
            let entry = self.links_by_key.get_or_default(key.clone());
            let links = Arc::make_mut(entry);
            let before = links.total();
            add_source(&mut links.sources, id);
            add_spelling(&mut links.spellings, target, count);
            let after = links.total();
            self.shift_link_counts(&key, before, after, id);
        }
    }

    fn unindex(&mut self, id: NoteId, note: &Note, names_changed: bool) {
        self.forget_tables(names_changed);
        for kind in 0..5 {
            for key in note_names(note, kind) {
                remove_id(self.key_map(kind), name_hash(key.as_bytes()), id);
                // The key is missing once no other note answers to it (and links use it).
                if kind == 4
                    && !self.has_loose_key(&key)
                    && let Some((name, _)) = self.links_by_key.get_key_value(&*key)
                {
                    self.missing.insert(name.clone(), ());
                }
            }
        }
        for (key, target, count) in link_groups(&note.parsed) {
            let Some(entry) = self.links_by_key.get_mut(&key) else {
                continue;
            };
            let links = Arc::make_mut(entry);
            let before = links.total();
            if let Ok(at) = links.sources.binary_search(&id) {
                links.sources.remove(at);
            }
            if let Some(pos) = links.spellings.iter().position(|s| *s.0 == *target) {
                links.spellings[pos].1 = links.spellings[pos].1.saturating_sub(count);
                if links.spellings[pos].1 == 0 {
                    links.spellings.remove(pos);
                }
            }
            let after = if links.sources.is_empty() {
                self.links_by_key.remove(&key);
                self.missing.remove(&key);
                0
            } else {
                links.total()
            };
            self.shift_link_counts(&key, before, after, id);
        }
    }

    /// Always a fresh cell: an older snapshot sharing the old one may still fill it.
    /// Links changed (and names too, when `names_changed`): the tables built from them go.
    fn forget_tables(&mut self, names_changed: bool) {
        self.missing_table = Arc::default();
        if names_changed {
            self.name_table = Arc::default();
            self.mention_matcher = Arc::default();
        }
    }

    fn key_map(&mut self, kind: usize) -> &mut NameMap {
        match kind {
            0 => &mut self.by_rel,
            1 => &mut self.by_stem,
            2 => &mut self.by_stem_lower,
            3 => &mut self.by_slug,
            _ => &mut self.by_loose,
        }
    }

    /// The notes found under `key` in the name map of `kind` (see [`note_keys_into`]).
    fn lookup(&self, kind: usize, key: &str) -> Ids {
        let map = match kind {
            0 => &self.by_rel,
            1 => &self.by_stem,
            2 => &self.by_stem_lower,
            3 => &self.by_slug,
            _ => &self.by_loose,
        };
        let Some(ids) = map.get(&name_hash(key.as_bytes())) else {
            return Ids::None;
        };
        let has = |id: &NoteId| self.note(*id).is_some_and(|n| note_has_key(n, kind, key));
        if ids.iter().all(has) {
            ids.clone()
        } else {
            ids.iter().copied().filter(has).collect()
        }
    }
}

/// The keys of one kind under which a note is found, given one by one to `f`: 0 path, 1 stem,
/// 2 lower stem, 3 slugs, 4 loose keys. The lower-cased ones are made in `lower` (the scan
/// makes 200,000 of them), the others borrowed from the note. Notes from outside the workspace
/// folders are found under none.
fn note_keys_into(note: &Note, kind: usize, lower: &mut String, mut f: impl FnMut(&str)) {
    if note.root().is_none() {
        return;
    }
    match kind {
        0 | 2 => {
            lower_into(
                if kind == 0 {
                    note.link_path()
                } else {
                    note.stem()
                },
                lower,
            );
            if !lower.is_empty() {
                f(lower);
            }
        }
        1 => {
            if !note.stem().is_empty() {
                f(note.stem());
            }
        }
        3 => note.slugs().for_each(f),
        _ => note.loose_keys().for_each(f),
    }
}

/// [`note_keys_into`] collected (an edit's; the scan hashes them as they come).
fn note_names(note: &Note, kind: usize) -> Vec<String> {
    let mut names = Vec::new();
    note_keys_into(note, kind, &mut String::new(), |k| names.push(k.to_owned()));
    names
}

/// Files note `id` under `hash` in `map`.
fn add_id(map: &mut NameMap, hash: u64, id: NoteId) {
    let mut ids: Vec<NoteId> = map.get(&hash).map(|v| v.to_vec()).unwrap_or_default();
    if !ids.contains(&id) {
        ids.push(id);
        map.insert(hash, ids.into());
    }
}

/// Takes note `id` from under `hash` in `map`.
fn remove_id(map: &mut NameMap, hash: u64, id: NoteId) {
    let Some(ids) = map.get(&hash) else { return };
    if !ids.contains(&id) {
        return;
    }
    let left: Vec<NoteId> = ids.iter().copied().filter(|i| *i != id).collect();
    if left.is_empty() {
        map.remove(&hash);
    } else {
        map.insert(hash, left.into());
    }
}

/// From this many linking notes on, backlinks are looked for on all cores.
const PARALLEL_SOURCES: usize = 512;

/// Numbers the links of notes made one by one (their `link_keys` become the numbers, as an
/// index scan leaves them), for [`Vault::from_notes`].
fn number_links(notes: &mut [Note]) -> Vec<NumberedName> {
    use rayon::prelude::*;
    let tables = scan::scan_tables();
    notes.par_iter_mut().for_each(|note| {
        let worker = rayon::current_thread_index().unwrap_or(0) % tables.len();
        let mut names = tables[worker].lock().unwrap_or_else(|e| e.into_inner());
        note.link_keys = (note.parsed.links.iter())
            .map(|l| match l.closed() {
                true => names.number(&l.target),
                false => syntax::NO_NAME,
            })
            .collect();
    });
    scan::numbered_names(tables)
}

/// What a link's number stands for: its group, its spelling (among all groups' spellings, in
/// group order) and its key hash.
#[derive(Clone, Copy)]
struct Numbered {
    group: u32,
    spelling: u32,
    key: u32,
}

/// The links of a vault grouped by key, as the vault's `links_by_key` holds them.
type Groups = Vec<(Name, Arc<KeyLinks>)>;

/// [`Numbered::group`] of a name without a key (a target like `!!`): no group.
const NO_GROUP: u32 = u32::MAX;

/// Groups the links of all notes by key, on all cores, through their numbers (each note's
/// `link_keys`, which become key hashes on the way).
///
/// First the spellings (a few hundred thousand, not millions of links) are grouped by key: the
/// numbered names sorted by key hash and text, a key made once per spelling. Then each link is
/// an index into an array: the notes are counted in chunks on all cores, each chunk's sources
/// go to their places in one array, and each group takes its own part, in note order.
fn group_links(notes: &mut [Note], numbered: Vec<NumberedName>) -> Groups {
    use rayon::prelude::*;
    use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
    // Sorted by key as plain integers (no comparison reads a name), then each run of one key
    // by text: the runs are short (a spelling or two, numbered by each scan worker).
    let mut by_key: Vec<u64> = (numbered.iter().enumerate())
        .filter(|(_, n)| n.key != 0)
        .map(|(i, n)| (u64::from(n.key) << 32) | i as u64)
        .collect();
    by_key.par_sort_unstable();
    let mut order: Vec<&NumberedName> = (by_key.iter())
        .map(|&k| &numbered[(k & u64::from(u32::MAX)) as usize])
        .collect();
    drop(by_key);
    order
        .par_chunk_by_mut(|a, b| a.key == b.key)
        .for_each(|run| run.sort_unstable_by(|a, b| a.name.as_str().cmp(b.name.as_str())));
    type Assigned = Vec<(u32, u32, u32)>;
    let pieces: Vec<(Groups, Assigned, String)> = order
        .par_chunk_by(|a, b| a.key == b.key)
        .fold(
            || (Vec::new(), Vec::new(), String::new()),
            |(mut groups, mut assigned, mut key), run| {
                group_spellings(run, &mut groups, &mut assigned, &mut key);
                (groups, assigned, key)
            },
        )
        .collect();
    drop(order);
    let numbers = numbered.iter().map(|n| n.number as usize + 1).max();
    let mut by_number = vec![
        Numbered {
            group: NO_GROUP,
            spelling: 0,
            key: 0
        };
        numbers.unwrap_or(0)
    ];
    for n in &numbered {
        by_number[n.number as usize].key = n.key;
    }
    drop(numbered);
    let mut groups: Groups = Vec::with_capacity(pieces.iter().map(|p| p.0.len()).sum());
    // Where each group's spellings start among all groups' spellings.
    let mut spelling_starts: Vec<u32> = Vec::with_capacity(groups.capacity() + 1);
    let mut spellings = 0u32;
    for (piece, assigned, _) in pieces {
        let base = groups.len() as u32;
        for (_, links) in &piece {
            spelling_starts.push(spellings);
            spellings += links.spellings.len() as u32;
        }
        groups.extend(piece);
        for (number, group, spelling) in assigned {
            let n = &mut by_number[number as usize];
            n.group = base + group;
            n.spelling = spelling_starts[n.group as usize] + spelling;
        }
    }
    let by_number = &by_number;
    let link = |number: u32| {
        by_number
            .get(number as usize)
            .filter(|n| n.group != NO_GROUP)
    };

    // Each chunk of notes: per group, how many of its notes link with the key; per spelling,
    // how many links.
    let chunk = notes
        .len()
        .div_ceil(rayon::current_num_threads().clamp(1, 8))
        .max(1);
    let group_count = groups.len();
    let mut tallies: Vec<(Vec<u32>, Vec<u32>)> = notes
        .par_chunks(chunk)
        .enumerate()
        .map(|(c, notes)| {
            let mut sources = vec![0u32; group_count];
            let mut last = vec![u32::MAX; group_count];
            let mut uses = vec![0u32; spellings as usize];
            for (k, note) in notes.iter().enumerate() {
                if let Some(ahead) = notes.get(k + 8) {
                    prefetch(ahead.link_keys.as_ptr());
                }
                let i = (c * chunk + k) as u32;
                for n in note.link_keys.iter().filter_map(|&number| link(number)) {
                    uses[n.spelling as usize] += 1;
                    let g = n.group as usize;
                    if last[g] != i {
                        last[g] = i;
                        sources[g] += 1;
                    }
                }
            }
            (sources, uses)
        })
        .collect();
    // Each chunk's count becomes where its sources go: after the earlier chunks' sources of
    // the group, which come after the earlier groups'.
    let mut at = 0u32;
    let mut ends = Vec::with_capacity(group_count);
    for g in 0..group_count {
        for (sources, _) in &mut tallies {
            let count = sources[g];
            sources[g] = at;
            at += count;
        }
        ends.push(at);
    }
    // Four million places at 100,000 notes, 17 MB of fresh pages: made on all cores (one
    // thread took 9-66 ms).
    let all: Vec<AtomicU32> = (0..at).into_par_iter().map(|_| AtomicU32::new(0)).collect();
    notes
        .par_chunks_mut(chunk)
        .zip(tallies.par_iter_mut())
        .enumerate()
        .for_each(|(c, (notes, (next, _)))| {
            let mut last = vec![u32::MAX; group_count];
            for (k, note) in notes.iter_mut().enumerate() {
                let i = (c * chunk + k) as u32;
                for number in note.link_keys.iter_mut() {
                    let Some(n) = by_number.get(*number as usize) else {
                        *number = 0;
                        continue;
                    };
                    *number = n.key;
                    let g = n.group as usize;
                    if n.group != NO_GROUP && last[g] != i {
                        last[g] = i;
                        all[next[g] as usize].store(i, Relaxed);
                        next[g] += 1;
                    }
                }
            }
        });
    let mut uses = vec![0u32; spellings as usize];
    for (_, chunk_uses) in &tallies {
        for (total, u) in uses.iter_mut().zip(chunk_uses) {
            *total += u;
        }
    }
    drop(tallies);
    groups
        .par_iter_mut()
        .enumerate()
        .for_each(|(g, (_, links))| {
            // Made here, never shared yet: changed in place.
            let links = Arc::make_mut(links);
            let start = if g == 0 { 0 } else { ends[g - 1] };
            links.sources = (all[start as usize..ends[g] as usize].iter())
                .map(|i| NoteId(i.load(Relaxed)))
                .collect();
            let first = spelling_starts[g] as usize;
            for (k, s) in links.spellings.iter_mut().enumerate() {
                s.1 = uses[first + k];
            }
            // A spelling only unclosed links wrote.
            links.spellings.retain(|s| s.1 > 0);
            links.spellings.shrink_to_fit();
        });
    groups.retain(|(_, links)| !links.sources.is_empty());
    groups
}

/// Groups the spellings of `run` (numbered names whose keys hash alike, sorted by text) by
/// key: nearly always one key, two when hashes meet. Each gets the group's spellings in text
/// order; `assigned` gets (number, group, spelling), groups counted in `groups`.
///
/// Each group's spellings are made at their exact size: a list grown and shrunk afterwards left
/// a small hole beside each of a hundred thousand groups.
fn group_spellings(
    run: &[&NumberedName],
    groups: &mut Groups,
    assigned: &mut Vec<(u32, u32, u32)>,
    key: &mut String,
) {
    let texts = || run.chunk_by(|a, b| a.name == b.name);
    if texts().nth(1).is_none() {
        // One spelling (the rule).
        link_key_into(&run[0].name, key);
        let g = groups.len() as u32;
        let spellings = vec![(run[0].name.clone(), 0)];
        let links = KeyLinks {
            sources: Vec::new(),
            spellings,
        };
        groups.push((Name::from(key.as_str()), Arc::new(links)));
        assigned.extend(run.iter().map(|n| (n.number, g, 0)));
        return;
    }
    // Each spelling's key, the distinct keys in order of first use.
    let mut keys: Vec<(Name, Vec<(Name, u32)>)> = Vec::new();
    let first = groups.len() as u32;
    for copies in texts() {
        link_key_into(&copies[0].name, key);
        let k = match keys.iter().position(|(k, _)| k.as_str() == key) {
            Some(k) => k,
            None => {
                keys.push((Name::from(key.as_str()), Vec::new()));
                keys.len() - 1
            }
        };
        let spellings = &mut keys[k].1;
        let spelling = spellings.len() as u32;
        spellings.push((copies[0].name.clone(), 0));
        assigned.extend(
            copies
                .iter()
                .map(|n| (n.number, first + k as u32, spelling)),
        );
    }
    for (name, spellings) in keys {
        let links = KeyLinks {
            sources: Vec::new(),
            spellings: spellings.into_boxed_slice().into_vec(),
        };
        groups.push((name, Arc::new(links)));
    }
}

/// A note's links grouped by key and spelling: (key, target as written, count).
fn link_groups(parsed: &ParsedNote) -> Vec<(Name, Name, u32)> {
    let mut counts: HashMap<&Name, u32> = HashMap::default();
    // An unclosed link's "target" is the rest of its line: not a name anyone links to.
    for link in &parsed.links {
        if !link.target.is_empty() && link.closed() {
            *counts.entry(&link.target).or_default() += 1;
        }
    }
    let mut groups: Vec<(Name, Name, u32)> = counts
        .into_iter()
        .map(|(target, count)| (Name::from(link_key(target)), target.clone(), count))
        .filter(|g| !g.0.is_empty())
        .collect();
    // A stable order keeps the index the same whatever the hash seed.
    groups.sort();
    groups
}

/// Records that note `id` links with a key. A note's links of one key arrive together (in note order in a scan, one group per note in
/// an edit), so a note already there is the last one.
/// Keeps `sources` sorted and each once: [`Vault::fold_links`] merges such lists.
fn add_source(sources: &mut Vec<NoteId>, id: NoteId) {
    if let Err(at) = sources.binary_search(&id) {
        sources.insert(at, id);
    }
}

fn add_spelling(spellings: &mut Vec<(Name, u32)>, target: Name, count: u32) {
    match spellings.iter_mut().find(|s| s.0 == target) {
        Some(s) => s.1 += count,
        None => spellings.push((target, count)),
    }
}

#[cfg(test)]
mod tests;
