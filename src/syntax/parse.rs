//! [`parse_note`]: the block structure of a note (frontmatter, fenced and indented code, lists,
//! ATX headings and their sections), handing each line of prose to the inline scanner.
//!
//! One pass over the lines, no allocation per line: a vault parses every note at start-up.

mod frontmatter;
mod inline;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use super::LineMap;
use super::{Heading, Link, ParsedNote, TextRange};

/// Parses a note. Never fails and never panics; every range lies inside `text` on `char`
/// boundaries.
pub fn parse_note(text: &str) -> ParsedNote {
    parse(text, false, None).0
}

/// [`parse_note`] followed by [`ParsedNote::slim`], without ever making what `slim` drops
/// (timestamps, problems, display texts): the index of closed notes parses every note of the
/// vault this way.
pub fn parse_note_slim(text: &str) -> ParsedNote {
    parse_note_for_index(text).0
}

/// [`parse_note_slim`], with each link's [`super::key_hash`] of its
/// [`super::link_key_into`] (0 for an unclosed link or one without a key): the index groups
/// links by it, and the table that shares the names makes it once per name.
pub fn parse_note_for_index(text: &str) -> (ParsedNote, Box<[u32]>) {
    let (mut note, keys) = parse(text, true, None);
    note.slim();
    (note, keys)
}

/// [`parse_note_for_index`] for a scan: the links' targets shared in the scan's table `names`,
/// and each link's number there ([`super::NO_NAME`] for an unclosed link or an empty target)
/// in place of its key hash.
pub fn parse_note_for_scan(text: &str, names: &mut super::ScanNames) -> (ParsedNote, Box<[u32]>) {
    let (mut note, numbers) = parse(text, true, Some(names));
    note.slim();
    (note, numbers)
}

/// How many notes this process has parsed: tests check that a change to one note parses that
/// note alone.
static PARSES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// See [`PARSES`].
pub fn parse_count() -> u64 {
    PARSES.load(std::sync::atomic::Ordering::Relaxed)
}

/// The note, and (slim) each link's key hash, or its number in `names`.
fn parse(text: &str, slim: bool, names: Option<&mut super::ScanNames>) -> (ParsedNote, Box<[u32]>) {
    PARSES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let text = clamp_to_u32(text);
    let mut parser = Parser::new(text);
    parser.slim = slim;
    let mut growing = GROWING.take();
    parser.note.links = std::mem::take(&mut growing.links);
    parser.note.headings = std::mem::take(&mut growing.headings);
    parser.targets = std::mem::take(&mut growing.targets);
    let start = if text.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    let top = frontmatter::read(text, start);
    parser.note.frontmatter = top.frontmatter;
    parser.note.problems.extend(top.problem);
    let lines = LineMap::new(text);
    let line = lines.line_of(top.body_start as u32).0 as usize;
    parser.body(top.body_start, line, lines.starts());
    let mut targets = std::mem::take(&mut parser.targets);
    let mut note = parser.finish();
    let keys = if let (true, Some(names)) = (slim, names) {
        super::names::share_numbered_targets(text, &mut note.links, &targets, names)
    } else if slim {
        super::names::share_targets(text, &mut note.links, &targets)
    } else {
        Box::default()
    };
    // The lists grew in the thread's own vectors: the note gets copies of their exact size
    // (one allocation each, rather than one per doubling and another to shrink).
    let (mut links, mut headings) = (
        std::mem::take(&mut note.links),
        std::mem::take(&mut note.headings),
    );
    note.links = moved_out(&mut links);
    note.headings = moved_out(&mut headings);
    targets.clear();
    if links.capacity() <= GROWING_KEPT && headings.capacity() <= GROWING_KEPT {
        GROWING.set(Growing {
            links,
            headings,
            targets,
        });
    }
    note.lines = lines;
    // Where a closed note's ranges may be asked for without its text: links (references, code
    // lens), headings (symbols), the title (declaration).
    // In order, so the map need not sort them: the title comes first, then links and headings
    // merged (each in order already, and neither overlaps another of its kind).
    let mut ends = Vec::with_capacity(2 + 2 * note.links.len() + 4 * note.headings.len());
    if let Some(r) = note.frontmatter.as_ref().and_then(|f| f.title_range) {
        ends.extend([r.start, r.end]);
    }
    let links = note
        .links
        .iter()
        .flat_map(|l| [l.range().start, l.range().end]);
    let headings = note.headings.iter().flat_map(|h| {
        let (a, b) = (h.range, h.text_range);
        [a.start, b.start, b.end, a.end]
    });
    let (mut links, mut headings) = (links.peekable(), headings.peekable());
    loop {
        let next = match (links.peek(), headings.peek()) {
            (Some(l), Some(h)) if l <= h => links.next(),
            (_, Some(_)) => headings.next(),
            (Some(_), None) => links.next(),
            (None, None) => break,
        };
        ends.extend(next);
    }
    note.lines.remember_utf16_columns(text, ends);
    (note, keys)
}

thread_local! {
    /// The lists a parse grows, kept empty between the notes a thread parses (see [`parse`]).
    static GROWING: std::cell::Cell<Growing> = Default::default();
}

#[derive(Default)]
struct Growing {
    links: Vec<Link>,
    headings: Vec<Heading>,
    targets: Vec<(u32, u32)>,
}

/// The elements of `v` in a vector of their exact size; `v` is left empty with its capacity.
fn moved_out<T>(v: &mut Vec<T>) -> Vec<T> {
    let mut out = Vec::with_capacity(v.len());
    out.append(v);
    out
}

/// A thread keeps the lists of its last parse up to this many entries: editors parse open
/// notes on many short-lived threads, and a note of a hundred thousand links would otherwise
/// leave megabytes on one of them.
const GROWING_KEPT: usize = 4096;

/// Offsets are `u32`: of a text beyond 4 GiB only the first 4 GiB is read.
fn clamp_to_u32(text: &str) -> &str {
    let mut end = text.len().min(u32::MAX as usize);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// What the last non-blank line belonged to; decides whether an indented line is code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    /// Nothing yet in the body.
    Start,
    Paragraph,
    /// A list item or its continuation (including nested items indented four spaces).
    List,
    /// An indented code block.
    Code,
    /// A heading, fence or thematic break.
    Other,
}

#[derive(Debug, Clone, Copy)]
struct Fence {
    ch: u8,
    len: usize,
    indent: usize,
    /// Opened inside a list item, so the list goes on after it.
    in_list: bool,
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    note: ParsedNote,
    /// Backtick runs `(start, len)` of the current line, built when the line has one.
    runs: Vec<(u32, u32)>,
    /// For each run, the index of the next run of the same length (`u32::MAX`: none).
    next_same: Vec<u32>,
    /// Last run seen per length, for runs too long for the small table.
    long_runs: HashMap<u32, u32>,
    /// Parsing for the index: what [`ParsedNote::slim`] drops is not made at all.
    slim: bool,
    /// When `slim`, each link's target range, in order: the links get their shared names all
    /// at once when the note is done ([`super::names::share_targets`]).
    targets: Vec<(u32, u32)>,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Parser<'a> {
        Parser {
            text,
            bytes: text.as_bytes(),
            note: ParsedNote::default(),
            runs: Vec::new(),
            next_same: Vec::new(),
            long_runs: HashMap::new(),
            slim: false,
            targets: Vec::new(),
        }
    }

    /// The body from `pos`, on line `line`; `starts` are where the note's lines start (found
    /// once for the note's line map, not searched again here).
    fn body(&mut self, mut pos: usize, mut line: usize, starts: &[u32]) {
        let bytes = self.bytes;
        let len = bytes.len();
        let mut last = Block::Start;
        let mut blank_before = false;
        let mut fence: Option<Fence> = None;
        let mut fence_start = 0;
        while pos < len {
            let next = starts.get(line + 1).map_or(len, |&s| s as usize);
            let end = line_content_end(bytes, pos, next);
            let (indent, first) = indentation(bytes, pos, end);
            let (line_start, this_line) = (pos, line);
            pos = next;
            line += 1;
            if let Some(f) = fence {
                if first < end && indent <= f.indent + 3 && closes(bytes, first, end, f) {
                    fence = None;
                    self.note.code.push(TextRange::new(fence_start, end));
                    last = if f.in_list { Block::List } else { Block::Other };
                    blank_before = false;
                }
                continue;
            }
            if first == end {
                blank_before = true;
                continue;
            }
            let after_blank = std::mem::replace(&mut blank_before, false);
            let b0 = bytes[first];
            if indent >= 4 {
                let code = match last {
                    Block::Code | Block::Start => true,
                    Block::List => false,
                    Block::Paragraph | Block::Other => after_blank,
                };
                if code {
                    self.note.code.push(TextRange::new(line_start, end));
                    last = Block::Code;
                    continue;
                }
                if last == Block::List {
                    // Fences nested in list items sit at the item's indent.
                    if let Some(f) = opens_fence(bytes, first, end, indent, true) {
                        fence = Some(f);
                        fence_start = line_start;
                        continue;
                    }
                } else {
                    last = Block::Paragraph;
                }
                self.inline(first, end);
                continue;
            }
            if matches!(b0, b'`' | b'~')
                && let Some(f) = opens_fence(bytes, first, end, indent, last == Block::List)
            {
                fence = Some(f);
                fence_start = line_start;
                last = Block::Other;
                continue;
            }
            if b0 == b'#'
                && let Some(level) = atx_level(bytes, first, end)
            {
                self.heading(this_line, line_start, first, level, end);
                last = Block::Other;
                continue;
            }
            if matches!(b0, b'*' | b'-' | b'_') && is_thematic_break(bytes, first, end) {
                last = Block::Other;
                continue;
            }
            if is_list_item(bytes, first, end) {
                last = Block::List;
            } else if last != Block::List || after_blank {
                // Not a lazy continuation of a list item.
                last = Block::Paragraph;
            }
            self.inline(first, end);
        }
        if fence.is_some() {
            // A fence that never closes runs to the end of the note.
            self.note.code.push(TextRange::new(fence_start, len));
        }
    }

    fn heading(&mut self, line: usize, line_start: usize, first: usize, level: u8, end: usize) {
        let bytes = self.bytes;
        let content = first + level as usize;
        let (a, mut b) = trim(self.text, content, end);
        // An optional closing run of `#`, which must follow a space unless it is all there is.
        let mut k = b;
        while k > a && bytes[k - 1] == b'#' {
            k -= 1;
        }
        if k < b && (k == a || matches!(bytes[k - 1], b' ' | b'\t')) {
            b = trim(self.text, a, k).1;
        }
        let links_before = self.note.links.len();
        self.inline(content, end);
        // A slim parse gives links their targets when the note is done: read them here.
        let targets = self.targets.get(links_before..).unwrap_or_default();
        let text = plain_heading_text(self.text, a, b, &self.note, links_before, targets);
        self.note.headings.push(Heading {
            level,
            text,
            range: TextRange::new(line_start, end),
            text_range: TextRange::new(a, b),
            line: line as u32,
            section_end: 0,
        });
    }

    fn finish(mut self) -> ParsedNote {
        // Each heading's section ends where the next heading of its level or higher starts.
        let headings = &mut self.note.headings;
        let mut open: Vec<usize> = Vec::new();
        for i in 0..headings.len() {
            let (level, start) = (headings[i].level, headings[i].range.start);
            while let Some(&j) = open.last() {
                if headings[j].level < level {
                    break;
                }
                headings[j].section_end = start;
                open.pop();
            }
            open.push(i);
        }
        let len = self.text.len() as u32;
        for j in open {
            headings[j].section_end = len;
        }
        self.note.problems.sort_by_key(|p| p.range.start);
        self.note.code.sort_by_key(|r| r.start);
        self.note
    }
}

/// Where the line `pos..next` ends before its break (`\n`, `\r\n` or a lone `\r`; none on the
/// last line), `next` being the next line's start (or the text's end).
fn line_content_end(bytes: &[u8], pos: usize, next: usize) -> usize {
    let mut end = next;
    if end > pos && bytes[end - 1] == b'\n' {
        end -= 1;
    }
    if end > pos && bytes[end - 1] == b'\r' && (end == next || end + 1 == next) {
        end -= 1;
    }
    end
}

/// The indentation of the line `pos..end` in columns (tabs to the next multiple of 4) and the
/// position of its first byte that is neither space nor tab (`end` for a blank line).
fn indentation(bytes: &[u8], pos: usize, end: usize) -> (usize, usize) {
    let mut col = 0;
    let mut k = pos;
    while k < end {
        match bytes[k] {
            b' ' => col += 1,
            b'\t' => col = (col / 4 + 1) * 4,
            _ => break,
        }
        k += 1;
    }
    (col, k)
}

fn run_len(bytes: &[u8], from: usize, end: usize, ch: u8) -> usize {
    bytes[from..end].iter().take_while(|&&b| b == ch).count()
}

/// A code fence: three or more backticks or tildes. A backtick fence's info string may not
/// hold a backtick (` ```a``` ` is inline code).
fn opens_fence(
    bytes: &[u8],
    first: usize,
    end: usize,
    indent: usize,
    in_list: bool,
) -> Option<Fence> {
    let ch = bytes[first];
    if !matches!(ch, b'`' | b'~') {
        return None;
    }
    let len = run_len(bytes, first, end, ch);
    if len < 3 || (ch == b'`' && bytes[first + len..end].contains(&b'`')) {
        return None;
    }
    Some(Fence {
        ch,
        len,
        indent,
        in_list,
    })
}

fn closes(bytes: &[u8], first: usize, end: usize, f: Fence) -> bool {
    let len = run_len(bytes, first, end, f.ch);
    len >= f.len
        && bytes[first + len..end]
            .iter()
            .all(|&b| matches!(b, b' ' | b'\t'))
}

/// `#` to `######` followed by a space, a tab or the end of the line.
fn atx_level(bytes: &[u8], first: usize, end: usize) -> Option<u8> {
    let n = run_len(bytes, first, end, b'#');
    ((1..=6).contains(&n) && (first + n == end || matches!(bytes[first + n], b' ' | b'\t')))
        .then_some(n as u8)
}

/// `***`, `- - -`, `___`: three or more of one of them and nothing else but spaces.
fn is_thematic_break(bytes: &[u8], first: usize, end: usize) -> bool {
    let ch = bytes[first];
    let mut count = 0;
    for &b in &bytes[first..end] {
        if b == ch {
            count += 1;
        } else if !matches!(b, b' ' | b'\t') {
            return false;
        }
    }
    count >= 3
}

/// `*`, `-` or `+`, or up to nine digits and `.` or `)`, then a space, a tab or the line end.
fn is_list_item(bytes: &[u8], first: usize, end: usize) -> bool {
    let mut k = first;
    match bytes[first] {
        b'*' | b'-' | b'+' => k += 1,
        b'0'..=b'9' => {
            let digits = run_digits(bytes, first, end);
            if digits > 9 || first + digits >= end || !matches!(bytes[first + digits], b'.' | b')')
            {
                return false;
            }
            k += digits + 1;
        }
        _ => return false,
    }
    k == end || matches!(bytes[k], b' ' | b'\t')
}

fn run_digits(bytes: &[u8], from: usize, end: usize) -> usize {
    bytes[from..end]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count()
}

/// `a..b` without surrounding whitespace (Unicode whitespace, like `str::trim`).
fn trim(text: &str, a: usize, b: usize) -> (usize, usize) {
    let s = &text[a..b];
    let t = s.trim_start();
    let start = a + (s.len() - t.len());
    (start, start + t.trim_end().len())
}

/// The heading's text as a reader sees it: wiki-links by their display text (else target, else
/// heading part), markdown links `[text](url)` by their text.
fn plain_heading_text(
    text: &str,
    a: usize,
    b: usize,
    note: &ParsedNote,
    links_before: usize,
    targets: &[(u32, u32)],
) -> String {
    let links = &note.links[links_before..];
    // The target of the `k`th of `links`: its own, or (slim parse) the text at its range.
    let target = |k: usize| match targets.get(k) {
        Some(&(a, b)) => &text[a as usize..b as usize],
        None => links[k].target.as_str(),
    };
    let raw = &text[a..b];
    if !raw.contains('[') {
        return raw.to_string();
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut links = links
        .iter()
        .enumerate()
        .filter(|(_, l)| l.closed() && l.range().start as usize >= a)
        .peekable();
    let mut i = a;
    while i < b {
        while links
            .peek()
            .is_some_and(|(_, l)| (l.range().start as usize) < i)
        {
            links.next();
        }
        if let Some(&(k, l)) = links
            .peek()
            .filter(|(_, l)| l.range().start as usize == i && l.range().end as usize <= b)
        {
            out.push_str(link_text(text, note, l, target(k)));
            i = l.range().end as usize;
            links.next();
            continue;
        }
        if bytes[i] == b'[' {
            if let Some((inner, after)) = markdown_link(bytes, i, b) {
                out.push_str(&text[inner.0..inner.1]);
                i = after;
                continue;
            }
            out.push('[');
            i += 1;
            continue;
        }
        let stop = links
            .peek()
            .map_or(b, |(_, l)| (l.range().start as usize).min(b));
        let chunk_end = bytes[i..stop]
            .iter()
            .position(|&c| c == b'[')
            .map_or(stop, |k| i + k);
        let chunk_end = chunk_end.max(i + 1);
        // `i` and `chunk_end` sit at ASCII bytes or at `b`, except when a link starts inside a
        // multi-byte char, which cannot happen: links start at `[` or `!`.
        out.push_str(&text[i..chunk_end]);
        i = chunk_end;
    }
    out.trim().to_string()
}

/// Display, target or heading, whichever a reader sees.
fn link_text<'t>(text: &'t str, note: &'t ParsedNote, l: &'t Link, target: &'t str) -> &'t str {
    let display = l.display_range().map(|r| &text[r.as_usize()]);
    match (display, note.link_heading(l)) {
        (Some(d), _) if !d.is_empty() => d,
        _ if !target.is_empty() => target,
        (_, Some((h, _))) => h,
        _ => "",
    }
}

/// `[text](url)` at `i`: the text's range and the position after `)`.
fn markdown_link(bytes: &[u8], i: usize, end: usize) -> Option<((usize, usize), usize)> {
    let close = i + 1 + bytes[i + 1..end].iter().position(|&c| c == b']')?;
    if close + 1 >= end || bytes[close + 1] != b'(' {
        return None;
    }
    let paren = close + 2 + bytes[close + 2..end].iter().position(|&c| c == b')')?;
    Some(((i + 1, close), paren + 1))
}
