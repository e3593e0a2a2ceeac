//! Finding and reading the notes of a workspace folder: a parallel walk that skips hidden and
//! git-ignored folders, then reading and parsing on all cores. Bad files are reported, never
//! fatal.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use crate::config::Config;
use crate::syntax::{self, ParsedNote};

/// A note read from disk and parsed.
#[derive(Debug)]
pub struct ScannedNote {
    pub path: PathBuf,
    pub parsed: ParsedNote,
}

/// A file or folder that could not be read as a note (or was read with losses), and why.
#[derive(Debug, Clone)]
pub struct ScanError {
    pub path: PathBuf,
    pub message: String,
    pub kind: ScanProblem,
}

/// What went wrong with a file of the vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanProblem {
    /// Not read: unreadable, binary, a symlink loop, a folder that cannot be listed.
    Skipped,
    /// Read, but its bytes are not all UTF-8: the bad ones became U+FFFD.
    Lossy,
    /// Listed, then gone before it was read (deleted or moved meanwhile): not a problem of
    /// the vault.
    Vanished,
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

/// Why a note file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// There is no such file (any more).
    NotFound,
    /// Anything else, said in a sentence.
    Other(String),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotFound => write!(f, "no such file"),
            ReadError::Other(why) => write!(f, "{why}"),
        }
    }
}

/// The message of a note read with U+FFFD in place of bytes that are not UTF-8.
pub const LOSSY_MESSAGE: &str =
    "not valid UTF-8: read with U+FFFD in place of the bad bytes (save it as UTF-8)";

/// Test hooks, in debug builds only: code run just before a scan reads each file, so that the
/// races of a live file system (a file deleted between listing and reading) happen on cue.
#[cfg(debug_assertions)]
pub mod hooks {
    use std::path::{Path, PathBuf};
    use std::sync::{Arc, Mutex};

    type Hook = Arc<dyn Fn(&Path) + Send + Sync>;

    static BEFORE_READ: Mutex<Vec<(u64, PathBuf, Hook)>> = Mutex::new(Vec::new());
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

    /// Runs `hook` before a scan reads any file under `folder`, until the guard drops.
    pub fn before_read(folder: &Path, hook: impl Fn(&Path) + Send + Sync + 'static) -> Guard {
        let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        BEFORE_READ
            .lock()
            .unwrap()
            .push((id, folder.to_path_buf(), Arc::new(hook)));
        Guard(id)
    }

    pub struct Guard(u64);

    impl Drop for Guard {
        fn drop(&mut self) {
            BEFORE_READ.lock().unwrap().retain(|h| h.0 != self.0);
        }
    }

    pub(super) fn run_before_read(path: &Path) {
        let hooks: Vec<Hook> = BEFORE_READ
            .lock()
            .unwrap()
            .iter()
            .filter(|h| path.starts_with(&h.1))
            .map(|h| h.2.clone())
            .collect();
        for hook in hooks {
            hook(path);
        }
    }
}

/// Whether a path names a note: it ends in `.md` or `.markdown`, in any case.
pub fn is_note_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("md") || e.eq_ignore_ascii_case("markdown"))
}

/// Whether a path lies in a hidden folder (or is a hidden file) below `root`.
pub fn is_hidden_below(root: &Path, path: &Path) -> bool {
    // On bytes when `path` is `root`, a separator, then names joined by single separators (as
    // the walk makes them): every note of the vault is asked about. Anything else (`.` or `..`
    // components, doubled separators) goes through the components.
    let (r, p) = (
        root.as_os_str().as_encoded_bytes(),
        path.as_os_str().as_encoded_bytes(),
    );
    let sep = |b: &u8| std::path::is_separator(*b as char);
    if let Some(rel) = p.strip_prefix(r)
        && !r.last().is_some_and(sep)
        && let Some((first, rel)) = rel.split_first()
        && sep(first)
        && rel.first().is_some_and(|&b| b != b'.')
        && !rel
            .windows(2)
            .any(|w| sep(&w[0]) && (sep(&w[1]) || w[1] == b'.'))
        && !rel.last().is_some_and(sep)
    {
        // No name starts with `.`.
        return false;
    }
    path.strip_prefix(root).is_ok_and(|rel| {
        rel.components()
            .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
    })
}

/// Whether a `.gitignore` between `root` and `path` ignores `path` (for single files reported
/// by a watcher; the folder walk applies the same rules itself).
pub fn is_git_ignored(root: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(root) else {
        return false;
    };
    let is_dir = path.is_dir();
    let mut dir = root.to_path_buf();
    let mut verdict = false;
    let mut parts: Vec<_> = rel.components().collect();
    parts.pop();
    // Outer files first, so a deeper .gitignore can override them.
    for part in std::iter::once(None).chain(parts.into_iter().map(Some)) {
        if let Some(part) = part {
            dir.push(part);
        }
        let file = dir.join(".gitignore");
        if !file.is_file() {
            continue;
        }
        let mut builder = ignore::gitignore::GitignoreBuilder::new(&dir);
        builder.add(&file);
        let Ok(matcher) = builder.build() else {
            continue;
        };
        match matcher.matched_path_or_any_parents(path, is_dir) {
            ignore::Match::Ignore(_) => verdict = true,
            ignore::Match::Whitelist(_) => verdict = false,
            ignore::Match::None => {}
        }
    }
    verdict
}

/// Reads a note file as text. Invalid UTF-8 is replaced (the note stays usable); a file that
/// looks binary (a NUL byte near its start) is refused.
pub fn read_note_file(path: &Path) -> Result<String, String> {
    read_note(path)
        .map(|(text, _)| text)
        .map_err(|e| e.to_string())
}

/// [`read_note_file`], telling apart a file that is not there, and whether the text had to be
/// repaired (`true`: bytes that are not UTF-8 became U+FFFD).
pub fn read_note(path: &Path) -> Result<(String, bool), ReadError> {
    let bytes = std::fs::read(path).map_err(read_error)?;
    refuse_binary(&bytes)?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok((text, false)),
        Err(e) => Ok((String::from_utf8_lossy(e.as_bytes()).into_owned(), true)),
    }
}

fn read_error(e: std::io::Error) -> ReadError {
    match e.kind() {
        std::io::ErrorKind::NotFound => ReadError::NotFound,
        _ => ReadError::Other(format!("cannot read it: {e}")),
    }
}

fn refuse_binary(bytes: &[u8]) -> Result<(), ReadError> {
    if memchr::memchr(0, &bytes[..bytes.len().min(8192)]).is_some() {
        return Err(ReadError::Other(
            "looks like a binary file (it holds NUL bytes)".to_owned(),
        ));
    }
    Ok(())
}

thread_local! {
    /// The scan's read buffer, one per thread: a file's text lives only while it is parsed, and
    /// allocating it afresh for each of 100,000 notes leaves the heap in pieces between the
    /// parses that stay (tens of MB of peak memory on a 10,000-note vault).
    static READ_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A buffer that grew past this for a big note is given back after it.
const READ_BUFFER_KEEP: usize = 1 << 20;

/// [`read_note`] for a text that is only looked at (the scan's): `f` gets the text and whether
/// it was repaired, read into this thread's reused buffer from the file `open` opens.
fn with_note_text<R>(
    path: &Path,
    open: impl FnOnce(&Path) -> std::io::Result<std::fs::File>,
    f: impl FnOnce(&str, bool) -> R,
) -> Result<R, ReadError> {
    READ_BUFFER.with(|buffer| {
        let mut buffer = buffer.borrow_mut();
        let read = open(path).and_then(|mut file| read_whole(&mut file, &mut buffer));
        let result = read.map_err(read_error).and_then(|len| {
            let bytes = &buffer[..len];
            refuse_binary(bytes)?;
            // Checked with SIMD: every byte of the vault goes through here.
            Ok(match simdutf8::basic::from_utf8(bytes) {
                Ok(text) => f(text, false),
                Err(_) => f(&String::from_utf8_lossy(bytes), true),
            })
        });
        if buffer.len() > READ_BUFFER_KEEP {
            *buffer = Vec::new();
        }
        result
    })
}

/// The folder of the last note a scan's worker opened, kept open while that worker reads the
/// folder's notes: each is opened by its name in it. Opening by the whole path walked every
/// folder from the root again for each note (`path_openat` was a twentieth of the scan's
/// samples at 100,000 notes). Kept for one stretch of one scan only, so that a folder
/// replaced meanwhile is never read through an old handle for long.
#[derive(Default)]
struct OpenFolder {
    #[cfg(target_os = "linux")]
    folder: Option<(PathBuf, rustix::fd::OwnedFd)>,
}

impl OpenFolder {
    fn open(&mut self, path: &Path) -> std::io::Result<std::fs::File> {
        #[cfg(target_os = "linux")]
        if let Some((parent, name)) = super::split_file_name(path) {
            use rustix::fs::{Mode, OFlags};
            let same = |p: &PathBuf| p.as_os_str() == parent.as_os_str();
            if !self.folder.as_ref().is_some_and(|(p, _)| same(p)) {
                let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
                self.folder = rustix::fs::open(parent, flags, Mode::empty())
                    .ok()
                    .map(|fd| (parent.to_path_buf(), fd));
            }
            if let Some((_, dir)) = &self.folder {
                let flags = OFlags::RDONLY | OFlags::CLOEXEC;
                return rustix::fs::openat(dir, name, flags, Mode::empty())
                    .map(std::fs::File::from)
                    .map_err(std::io::Error::from);
            }
        }
        std::fs::File::open(path)
    }
}

/// The first read of a file asks for this much (a note is a few kilobytes).
const READ_CHUNK: usize = 64 * 1024;

/// Reads `file` to its end into `buffer` (zeroed once and reused, so that reading into it needs
/// no `unsafe`), returning its length. Unlike `read_to_end`, asks nothing about the file first:
/// `File::read_to_end` checks its size and position, two system calls per note more.
fn read_whole(file: &mut std::fs::File, buffer: &mut Vec<u8>) -> std::io::Result<usize> {
    use std::io::Read;
    if buffer.len() < READ_CHUNK {
        buffer.resize(READ_CHUNK, 0);
    }
    let mut len = 0;
    loop {
        if len == buffer.len() {
            buffer.resize(len * 2, 0);
        }
        match file.read(&mut buffer[len..]) {
            Ok(0) => return Ok(len),
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// The configuration's `ignore` folders as a matcher (gitignore rules, relative to the vault).
fn ignore_matcher(vault_root: &Path, config: &Config) -> Option<ignore::gitignore::Gitignore> {
    if config.ignore.is_empty() {
        return None;
    }
    let mut builder = ignore::gitignore::GitignoreBuilder::new(vault_root);
    for pattern in &config.ignore {
        if let Err(e) = builder.add_line(None, pattern) {
            tracing::warn!("ignore pattern {pattern:?}: {e}");
        }
    }
    builder.build().ok()
}

/// Whether the configuration's `ignore` folders hold `path` (`vault_root` is its folder).
pub fn is_config_ignored(vault_root: &Path, config: &Config, path: &Path) -> bool {
    ignore_matcher(vault_root, config).is_some_and(|m| {
        m.matched_path_or_any_parents(path, path.is_dir())
            .is_ignore()
    })
}

/// Lists the note files under `root` (a folder of the vault at `vault_root`), skipping hidden
/// folders, what `.gitignore` ignores and the configuration's `ignore` folders.
///
/// Symbolic links are followed when they lead out of the vault. A link to a folder inside the
/// vault is not (its notes are read at their own paths, not twice), nor one to a folder that
/// holds the vault (`.`, `..`, `/`: a loop, reported), and a link to a note of the vault is no
/// second note.
pub fn list_notes(
    root: &Path,
    vault_root: &Path,
    config: &Config,
    errors: &Mutex<Vec<ScanError>>,
) -> Vec<PathBuf> {
    let found = Mutex::new(Vec::new());
    // Links to notes of the vault: (the link, the note's path in the vault).
    let aliases = Mutex::new(Vec::new());
    let loops: Arc<Mutex<Vec<ScanError>>> = Arc::default();
    let vault_real = vault_root
        .canonicalize()
        .unwrap_or_else(|_| vault_root.to_path_buf());
    let mut builder = ignore::WalkBuilder::new(root);
    {
        let matcher = ignore_matcher(vault_root, config);
        let loops = loops.clone();
        let vault_real = vault_real.clone();
        builder.filter_entry(move |e| {
            let is_dir = e.file_type().is_some_and(|t| t.is_dir());
            if matcher
                .as_ref()
                .is_some_and(|m| m.matched_path_or_any_parents(e.path(), is_dir).is_ignore())
            {
                return false;
            }
            if e.depth() > 0
                && is_dir
                && e.path_is_symlink()
                && let Ok(real) = e.path().canonicalize()
            {
                if vault_real.starts_with(&real) {
                    loops.lock().unwrap().push(ScanError {
                        path: e.path().to_path_buf(),
                        message: format!(
                            "a symbolic link to {}, which holds the vault (a loop); not followed",
                            real.display()
                        ),
                        kind: ScanProblem::Skipped,
                    });
                    return false;
                }
                if real.starts_with(&vault_real) {
                    // Read where it really is.
                    return false;
                }
            }
            true
        });
    }
    let walker = builder
        .hidden(true)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(true)
        .require_git(false)
        .follow_links(true)
        .build_parallel();
    walker.run(|| {
        let (aliases, vault_real) = (&aliases, &vault_real);
        // Each walking thread keeps its own list, added to the others' when it is done: not
        // a lock per note.
        let mut mine = Found {
            paths: Vec::new(),
            all: &found,
        };
        Box::new(move |entry| {
            match entry {
                Ok(entry) => {
                    let is_file = entry.file_type().is_some_and(|t| t.is_file());
                    if is_file
                        && config.is_note_path(entry.path())
                        && !is_hidden_below(root, entry.path())
                    {
                        if entry.path_is_symlink()
                            && let Ok(real) = entry.path().canonicalize()
                            && let Ok(rel) = real.strip_prefix(vault_real)
                        {
                            let target = vault_root.join(rel);
                            aliases.lock().unwrap().push((entry.into_path(), target));
                        } else {
                            // Cut to size here, by the thread that made it: the allocator
                            // would otherwise do it when the note is made, on a scan worker,
                            // locking this thread's arena against the other worker each time.
                            let path = entry.into_path().into_boxed_path();
                            mine.paths.push(path.into_path_buf());
                        }
                    }
                }
                Err(err) => {
                    let path = error_path(&err).unwrap_or_else(|| root.to_path_buf());
                    errors.lock().unwrap().push(ScanError {
                        path,
                        message: walk_message(&err),
                        kind: ScanProblem::Skipped,
                    });
                }
            }
            ignore::WalkState::Continue
        })
    });
    errors
        .lock()
        .unwrap()
        .extend(std::mem::take(&mut *loops.lock().unwrap()));
    let mut found = found.into_inner().unwrap();
    // A link to a note of the vault is no second note, unless the note is hidden or ignored:
    // then the link stands for it.
    for (link, target) in aliases.into_inner().unwrap() {
        if is_hidden_below(vault_root, &target)
            || is_git_ignored(vault_root, &target)
            || is_config_ignored(vault_root, config, &target)
        {
            found.push(link);
        }
    }
    found.par_sort_unstable_by(|a, b| path_order(a, b));
    // The walk makes each path once, always the same way: alike in bytes is alike.
    found.dedup_by(|a, b| a.as_os_str() == b.as_os_str());
    found
}

/// The notes one walking thread found, added to `all` when the thread is done.
struct Found<'a> {
    paths: Vec<PathBuf>,
    all: &'a Mutex<Vec<PathBuf>>,
}

impl Drop for Found<'_> {
    fn drop(&mut self) {
        let mut all = self.all.lock().unwrap_or_else(|e| e.into_inner());
        all.append(&mut self.paths);
    }
}

/// A walk error in a sentence, without the path (which the report names first).
fn walk_message(err: &ignore::Error) -> String {
    match err {
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => walk_message(err),
        ignore::Error::Loop { ancestor, .. } => format!(
            "a symbolic link that loops back to {}; not followed",
            ancestor.display()
        ),
        ignore::Error::Io(e) => format!("cannot read it: {e}"),
        other => other.to_string(),
    }
}

fn error_path(err: &ignore::Error) -> Option<PathBuf> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}

/// How much of each note a scan keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Everything, for checking every note.
    Full,
    /// What the index of closed notes needs ([`ParsedNote::slim`]); a server re-parses a note
    /// when it opens.
    Index,
}

/// Reads and parses every note under `root` on all cores. `progress(done, total)` is called
/// from worker threads as files complete.
pub fn scan_folder(
    root: &Path,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> (Vec<ScannedNote>, Vec<ScanError>) {
    scan_folders(
        &[root.to_path_buf()],
        &Config::default(),
        Detail::Full,
        progress,
    )
}

/// Reads and parses every note under each of `roots` (a folder inside another is read once).
pub fn scan_folders(
    roots: &[PathBuf],
    config: &Config,
    detail: Detail,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> (Vec<ScannedNote>, Vec<ScanError>) {
    let (notes, errors, _) =
        scan_folders_with(roots, config, detail, false, progress, |path, parsed, _| {
            ScannedNote { path, parsed }
        });
    (notes, errors)
}

/// [`scan_folders`], each note handed to `make` on the thread that parsed it, while its parse
/// is still in that core's cache (the index makes its [`super::Note`] there), with its links'
/// key hashes for [`Detail::Index`] (empty for [`Detail::Full`]).
///
/// With `number`, an index scan shares the link targets in tables of its own (one per worker,
/// see [`syntax::ScanNames`]), hands `make` each link's number instead of its key hash, and
/// returns the names numbered.
pub(super) fn scan_folders_with<T: Send>(
    roots: &[PathBuf],
    config: &Config,
    detail: Detail,
    number: bool,
    progress: &(dyn Fn(usize, usize) + Sync),
    make: impl Fn(PathBuf, ParsedNote, Box<[u32]>) -> T + Sync,
) -> (Vec<T>, Vec<ScanError>, Vec<syntax::NumberedName>) {
    let errors = Mutex::new(Vec::new());
    let mut paths: Vec<PathBuf> = roots
        .iter()
        .flat_map(|r| list_notes(r, r, config, &errors))
        .collect();
    if roots.len() > 1 {
        // Each folder's list is sorted; together they may not be (nor free of repeats, when
        // one folder holds another).
        paths.par_sort_unstable_by(|a, b| path_order(a, b));
        paths.dedup();
    }
    let total = paths.len();
    let done = AtomicUsize::new(0);
    // Made after the walk, which runs on threads of its own: the pool's workers, started here
    // if not before, then take over the allocator arenas the walk's threads leave. Started
    // before the walk, they made the walk's threads take two arenas more, left holding only
    // the notes' paths (12 MB of arenas in one measurement at 100,000 notes).
    let tables = match (detail, number) {
        (Detail::Index, true) => scan_tables(),
        _ => Vec::new(),
    };
    let names = &tables[..];
    let bulk = BulkGrowth::start();
    let notes: Vec<T> = paths
        .into_par_iter()
        .map_init(OpenFolder::default, |folder, path| {
            #[cfg(debug_assertions)]
            hooks::run_before_read(&path);
            let open = |path: &Path| folder.open(path);
            let result = with_note_text(&path, open, |text, lossy| {
                let parsed = match detail {
                    Detail::Full => (syntax::parse_note(text), Box::default()),
                    Detail::Index if names.is_empty() => syntax::parse_note_for_index(text),
                    Detail::Index => {
                        // This worker's own table: never waited for.
                        let worker = rayon::current_thread_index().unwrap_or(0) % names.len();
                        let mut names = names[worker].lock().unwrap_or_else(|e| e.into_inner());
                        syntax::parse_note_for_scan(text, &mut names)
                    }
                };
                (parsed, lossy)
            });
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
            let problem = |kind, message: String| ScanError {
                path: path.clone(),
                message,
                kind,
            };
            match result {
                Ok(((parsed, keys), lossy)) => {
                    if lossy {
                        let p = problem(ScanProblem::Lossy, LOSSY_MESSAGE.to_owned());
                        errors.lock().unwrap().push(p);
                    }
                    Some(make(path, parsed, keys))
                }
                Err(ReadError::NotFound) => {
                    let p = problem(
                        ScanProblem::Vanished,
                        "gone before it could be read".to_owned(),
                    );
                    errors.lock().unwrap().push(p);
                    None
                }
                Err(ReadError::Other(message)) => {
                    errors
                        .lock()
                        .unwrap()
                        .push(problem(ScanProblem::Skipped, message));
                    None
                }
            }
        })
        .flatten_iter()
        .collect();
    drop(bulk);
    (notes, errors.into_inner().unwrap(), numbered_names(tables))
}

/// While a scan reads and parses, glibc's allocator grows the heaps of its threads' arenas 64
/// MiB at a time (`M_TOP_PAD`) instead of a page at a time.
///
/// Why: a thread's arena (every scan worker has one) makes each page it grows by usable with an
/// `mprotect` call, which takes the process's memory-map lock for writing and so also stalls
/// the other worker's page faults. At 100,000 notes that was 66,000 calls; with the padding (and
/// the workers' first heaps grown at the start, [`BulkGrowth::grow_this_threads_arena`]), about
/// 100, and in calm runs 0.66 s of system time instead of 0.78. Growing only maps address
/// space: pages still cost memory only once written. The padding is put back when the scan
/// ends: it also keeps that much of freed memory at the top of each heap instead of giving it
/// back (the server peaked 16 MB higher with it left on from startup; 2-3 MB so). Elsewhere
/// (another allocator or platform) this does nothing.
struct BulkGrowth;

/// Scans under way (the padding is put back when the last one ends).
static BULK_SCANS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl BulkGrowth {
    /// glibc's own padding (`M_TOP_PAD`'s documented default).
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    const DEFAULT_PAD: libc::c_int = 128 << 10;

    /// The padding while growing in bulk: a whole heap of a thread's arena (glibc's maximum).
    const BULK_PAD: i32 = 64 << 20;

    /// Pads, and grows the heaps of the current pool's workers (the scan's).
    fn start() -> BulkGrowth {
        if BULK_SCANS.fetch_add(1, Ordering::SeqCst) == 0 {
            Self::pad(Self::BULK_PAD);
        }
        rayon::broadcast(|_| Self::grow_this_threads_arena());
        BulkGrowth
    }

    /// Makes the heap of the calling thread's arena usable to its end at once, by taking and
    /// freeing blocks that fill it: the padding only applies to heaps made after it was set,
    /// and a scan's workers usually have theirs already (made a page at a time, 16,000 calls
    /// for a heap of 64 MiB). Only the blocks' first pages are written; freed, they stay the
    /// arena's, unwritten, for the scan to use.
    fn grow_this_threads_arena() {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        {
            // Below `tune_allocator`'s threshold for a mapping of its own: from the arena.
            const BLOCK: usize = 3 << 20;
            let blocks: Vec<Vec<u8>> = (0..(BulkGrowth::BULK_PAD as usize / BLOCK))
                .map(|_| Vec::with_capacity(BLOCK))
                .collect();
            // Taken for real, not optimized away as unused.
            drop(std::hint::black_box(blocks));
        }
    }

    fn pad(_bytes: i32) {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: `mallopt` only sets a parameter of glibc's allocator, under its own lock.
        unsafe {
            libc::mallopt(libc::M_TOP_PAD, _bytes);
        }
    }
}

impl Drop for BulkGrowth {
    fn drop(&mut self) {
        if BULK_SCANS.fetch_sub(1, Ordering::SeqCst) == 1 {
            #[cfg(all(target_os = "linux", target_env = "gnu"))]
            Self::pad(Self::DEFAULT_PAD);
        }
    }
}

/// One table of numbered names per worker of the current pool, numbers drawn from one counter.
pub(super) fn scan_tables() -> Vec<Mutex<syntax::ScanNames>> {
    let counter = Arc::new(std::sync::atomic::AtomicU32::new(0));
    (0..rayon::current_num_threads().max(1))
        .map(|_| Mutex::new(syntax::ScanNames::new(counter.clone())))
        .collect()
}

/// Every name the tables numbered; the tables are gone.
pub(super) fn numbered_names(tables: Vec<Mutex<syntax::ScanNames>>) -> Vec<syntax::NumberedName> {
    let tables: Vec<syntax::ScanNames> = tables
        .into_iter()
        .map(|t| t.into_inner().unwrap_or_else(|e| e.into_inner()))
        .collect();
    let mut all = Vec::with_capacity(tables.iter().map(syntax::ScanNames::len).sum());
    for table in tables {
        table.numbered_into(&mut all);
    }
    all
}

/// The order of paths component by component (`a/b` before `a-b`, as `Path`'s own `Ord`),
/// compared on bytes: `Path::cmp` parses components and sorting 100,000 paths with it was a
/// tenth of indexing.
pub fn path_order(a: &Path, b: &Path) -> std::cmp::Ordering {
    let (a, b) = (
        a.as_os_str().as_encoded_bytes(),
        b.as_os_str().as_encoded_bytes(),
    );
    let rank = |c: u8| {
        if std::path::is_separator(c as char) {
            0
        } else {
            c as u16 + 1
        }
    };
    // Eight bytes at a time over the common start (a vault's paths share their folders').
    let (wa, wb) = (a.as_chunks::<8>().0, b.as_chunks::<8>().0);
    let same = wa.iter().zip(wb).take_while(|(x, y)| x == y).count() * 8;
    let common = (a[same..].iter().zip(&b[same..]))
        .position(|(x, y)| x != y)
        .map(|i| same + i);
    match common {
        Some(i) => rank(a[i]).cmp(&rank(b[i])),
        None => a.len().cmp(&b.len()),
    }
}
