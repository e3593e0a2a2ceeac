//! The YAML frontmatter block at the top of a note: where it starts and ends, the three keys the
//! server reads (`title`, `videoId`, `aliases`), where the title is written, and why a block is
//! bad when it is.
//!
//! The YAML is read with yaml-rust2's event parser rather than `YamlLoader`: only three top-level
//! keys matter, and building the whole tree would let an alias bomb (`&a [*b, *b, …]`) blow up
//! memory and a deeply nested list overflow the stack when dropped. Duplicate top-level keys are
//! refused as `YamlLoader` would.

use std::collections::HashSet;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;

use crate::syntax::{Frontmatter, Problem, ProblemKind, TextRange};

/// What the top of a note holds.
pub(super) struct Top {
    pub(super) frontmatter: Option<Frontmatter>,
    /// Where the body starts: after the closing line, or at `start` when there is no block.
    pub(super) body_start: usize,
    pub(super) problem: Option<Problem>,
}

/// Reads the frontmatter block that opens at `start` (the first byte after any BOM), if any.
pub(super) fn read(text: &str, start: usize) -> Top {
    let none = Top {
        frontmatter: None,
        body_start: start,
        problem: None,
    };
    let (open_end, mut pos) = line_at(text, start);
    if text[start..open_end].trim_end() != "---" {
        return none;
    }
    let open_line = TextRange::new(start, open_end);
    let yaml_start = pos;
    let (close_start, block_end) = loop {
        if pos >= text.len() {
            return Top {
                problem: Some(bad(
                    open_line,
                    "bad frontmatter: \"---\" is never closed".to_string(),
                )),
                ..none
            };
        }
        let (end, next) = line_at(text, pos);
        let line = text[pos..end].trim_end();
        if line == "---" || line == "..." {
            break (pos, next);
        }
        pos = next;
    };
    let mut frontmatter = Frontmatter {
        range: TextRange::new(start, block_end),
        ..Default::default()
    };
    let src = &text[yaml_start..close_start];
    // yaml-rust2 is not known to panic, but a note must never take the server down.
    // Most blocks are a few `key: value` lines, read without the YAML parser (a tenth of the
    // time of indexing a vault went into it); anything else goes to the parser.
    let read = match read_simple(src) {
        Some(fields) => Ok(fields),
        None => std::panic::catch_unwind(|| read_yaml(src)).unwrap_or_else(|_| {
            Err(YamlError {
                message: "unreadable yaml".to_string(),
                line: 0,
            })
        }),
    };
    let problem = match read {
        Ok(fields) if fields.not_a_mapping => Some(bad(
            open_line,
            "bad frontmatter: expected \"key: value\" lines, not a single value or list"
                .to_string(),
        )),
        Ok(fields) => {
            frontmatter.title_range = fields
                .title
                .as_deref()
                .and_then(|t| title_range(text, yaml_start, close_start, t));
            frontmatter.title = fields.title;
            frontmatter.video_id = fields.video_id;
            frontmatter.aliases = fields.aliases;
            None
        }
        Err(e) => {
            let range = nth_line(text, yaml_start, close_start, e.line).unwrap_or(open_line);
            Some(bad(range, format!("bad frontmatter: {}", e.message)))
        }
    };
    Top {
        frontmatter: Some(frontmatter),
        body_start: block_end,
        problem,
    }
}

fn bad(range: TextRange, message: String) -> Problem {
    Problem {
        kind: ProblemKind::BadFrontmatter,
        range,
        message,
    }
}

/// The end of the line at `pos` (before its `\n`, `\r\n` or lone `\r`, the line breaks of
/// CommonMark, YAML and LSP alike) and the start of the next line.
pub(super) fn line_at(text: &str, pos: usize) -> (usize, usize) {
    let bytes = text.as_bytes();
    match memchr::memchr2(b'\n', b'\r', &bytes[pos..]) {
        Some(k) => {
            let end = pos + k;
            let crlf = bytes[end] == b'\r' && bytes.get(end + 1) == Some(&b'\n');
            (end, end + 1 + crlf as usize)
        }
        None => (text.len(), text.len()),
    }
}

/// The range of the 1-based `line` of the YAML in `start..end`.
fn nth_line(text: &str, start: usize, end: usize, line: usize) -> Option<TextRange> {
    let mut pos = start;
    for _ in 1..line {
        let (_, next) = line_at(text, pos);
        if next >= end {
            return None;
        }
        pos = next;
    }
    (line > 0 && pos < end).then(|| TextRange::new(pos, line_at(text, pos).0.min(end)))
}

/// Where the title's value is written, when it is a one-line scalar on a top-level `title:`
/// line whose text (inside any quotes) is exactly the title read from the YAML. Anything
/// cleverer (escapes, folded lines, block scalars) gets no range rather than a wrong one.
fn title_range(text: &str, start: usize, end: usize, title: &str) -> Option<TextRange> {
    let bytes = text.as_bytes();
    let mut pos = start;
    while pos < end {
        let (line_end, next) = line_at(text, pos);
        let line_end = line_end.min(end);
        if text[pos..line_end].starts_with("title:") {
            let mut v = pos + "title:".len();
            if v < line_end && !matches!(bytes[v], b' ' | b'\t') {
                return None;
            }
            while v < line_end && matches!(bytes[v], b' ' | b'\t') {
                v += 1;
            }
            let (a, b) = match bytes.get(v) {
                Some(&q @ (b'"' | b'\'')) if v < line_end => {
                    let k = text[v + 1..line_end].find(q as char)?;
                    (v + 1, v + 1 + k)
                }
                _ => {
                    let value = &text[v..line_end];
                    let value = match value.find(" #").or_else(|| value.find("\t#")) {
                        Some(k) => &value[..k],
                        None => value,
                    };
                    (v, v + value.trim_end().len())
                }
            };
            return (text[a..b] == *title).then(|| TextRange::new(a, b));
        }
        pos = next;
    }
    None
}

struct YamlError {
    message: String,
    /// 1-based line in the YAML, 0 when unknown.
    line: usize,
}

#[derive(Default)]
struct Fields {
    title: Option<String>,
    video_id: Option<String>,
    aliases: Vec<String>,
    not_a_mapping: bool,
}

/// Reads a block made only of the plainest YAML, exactly as [`read_yaml`] would: top-level
/// `key: value` lines whose value is a plain one-line scalar (or nothing), list items `- value`
/// under a key without a value, blank lines and comment lines. `None` for anything else (quotes,
/// flow lists, multi-line scalars, tabs, anchors, indicators, duplicate keys...): the parser
/// decides those.
fn read_simple(src: &str) -> Option<Fields> {
    let mut fields = Fields::default();
    let mut seen: Vec<&str> = Vec::new();
    // The key whose value is a list being read, with its items' indentation.
    let mut list: Option<(Key, Option<usize>)> = None;
    let mut any_key = false;
    for line in src.split('\n') {
        if !plain_line(line) {
            return None;
        }
        let body = line.trim_start_matches(' ');
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let indent = line.len() - body.len();
        if let Some(item) = body.strip_prefix("- ").or((body == "-").then_some("")) {
            let (key, item_indent) = list.as_mut()?;
            if *item_indent.get_or_insert(indent) != indent {
                return None;
            }
            let value = simple_scalar(item)?;
            if *key == Key::Aliases {
                fields.add_alias(value.map(str::to_owned));
            }
            continue;
        }
        if indent > 0 {
            return None;
        }
        let colon = body.find(':')?;
        let name = &body[..colon];
        let rest = &body[colon + 1..];
        if name.is_empty()
            || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            || !(rest.is_empty() || rest.starts_with(' '))
            || seen.contains(&name)
        {
            return None;
        }
        seen.push(name);
        any_key = true;
        let key = Key::of(name);
        let value = simple_scalar(rest)?;
        // A key with nothing after it may own the list items that follow (not one written
        // `null`: items after that are an error the parser reports).
        list = rest.trim_matches(' ').is_empty().then_some((key, None));
        fields.set(key, value.map(str::to_owned));
    }
    // A block of blank and comment lines holds no mapping; the parser tells that case.
    any_key.then_some(fields)
}

/// Whether a frontmatter line holds nothing the plain reader leaves to the parser: line breaks
/// other than `\n`, tabs, byte-order marks, control characters.
fn plain_line(line: &str) -> bool {
    if line.is_ascii() {
        // Of ASCII, the controls (tab and carriage return among them) are the ones to refuse.
        return !line.bytes().any(|b| b < 0x20 || b == 0x7f);
    }
    !(line.contains(['\r', '\t', '\u{2028}', '\u{2029}', '\u{feff}'])
        || line.chars().any(char::is_control))
}

/// The text of a value written after `key:` or `- ` when it is a plain one-line scalar with
/// nothing YAML would read otherwise: `Some(None)` for null (nothing, `~`, `null`), `None` when
/// the parser must decide.
fn simple_scalar(raw: &str) -> Option<Option<&str>> {
    let value = raw.trim_matches(' ');
    let bytes = value.as_bytes();
    let Some(&first) = bytes.first() else {
        return Some(None);
    };
    // An indicator first (a comment, a sequence, a quote, an anchor...), then in one pass: a
    // comment after the value (` #`), a mapping (`: `, or `:` last) or a flow collection.
    if b"-?:,[]{}#&*!|>'\"%@`".contains(&first) {
        return None;
    }
    let mut prev = first;
    for &b in &bytes[1..] {
        match b {
            b'[' | b']' | b'{' | b'}' => return None,
            b'#' if prev == b' ' => return None,
            b' ' if prev == b':' => return None,
            _ => {}
        }
        prev = b;
    }
    if prev == b':' {
        return None;
    }
    if matches!(value, "~" | "null" | "Null" | "NULL") {
        return Some(None);
    }
    Some(Some(value))
}

impl Fields {
    /// The value of a top-level `key` (null is `None`).
    fn set(&mut self, key: Key, value: Option<String>) {
        match key {
            Key::Title => self.title = value,
            Key::VideoId => self.video_id = value,
            Key::Aliases => self.add_alias(value),
            Key::Other => {}
        }
    }

    /// One alias, from `aliases: x` or an item of its list; blank ones are not names.
    fn add_alias(&mut self, value: Option<String>) {
        self.aliases.extend(value.filter(|v| !v.trim().is_empty()));
    }
}

impl Key {
    fn of(name: &str) -> Key {
        match name {
            "title" => Key::Title,
            "videoId" => Key::VideoId,
            "aliases" => Key::Aliases,
            _ => Key::Other,
        }
    }
}

/// The keys read, in the order of [`KEY_NAMES`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    Title,
    VideoId,
    Aliases,
    Other,
}

const KEY_NAMES: [&str; 3] = ["title", "videoId", "aliases"];

/// Walks the YAML events of the first document, keeping only what the three keys hold.
fn read_yaml(src: &str) -> Result<Fields, YamlError> {
    let mut fields = Fields::default();
    let mut parser = Parser::new_from_str(src);
    let mut depth = 0usize;
    let mut root_is_map = false;
    let mut root_done = false;
    let mut expect_key = true;
    let mut key = Key::Other;
    let mut in_alias_list = false;
    let mut seen = [false; 3];
    let mut other_keys: HashSet<String> = HashSet::new();
    loop {
        let (event, mark) = parser.next_token().map_err(|e| YamlError {
            message: e.info().to_lowercase(),
            line: e.marker().line(),
        })?;
        let at_root = depth == 0;
        let in_root_map = depth == 1 && root_is_map && !root_done;
        match event {
            Event::StreamEnd => break,
            Event::Scalar(value, style, ..) => {
                let value = scalar_text(value, style);
                if at_root {
                    if !root_done && value.is_some() {
                        fields.not_a_mapping = true;
                    }
                    root_done = true;
                } else if in_root_map && expect_key {
                    key = value.as_deref().map_or(Key::Other, Key::of);
                    match key {
                        Key::Other => {
                            if let Some(v) = value {
                                if other_keys.contains(&v) {
                                    return Err(duplicate(&v, mark.line()));
                                }
                                other_keys.insert(v);
                            }
                        }
                        k => {
                            if std::mem::replace(&mut seen[k as usize], true) {
                                return Err(duplicate(KEY_NAMES[k as usize], mark.line()));
                            }
                        }
                    }
                    expect_key = false;
                } else if in_root_map {
                    fields.set(key, value);
                    expect_key = true;
                } else if depth == 2 && in_alias_list {
                    fields.add_alias(value);
                }
            }
            Event::Alias(_) => {
                if at_root {
                    root_done = true;
                } else if in_root_map {
                    if expect_key {
                        key = Key::Other;
                    }
                    expect_key = !expect_key;
                }
            }
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if at_root && !root_done {
                    root_is_map = matches!(event, Event::MappingStart(..));
                    fields.not_a_mapping = !root_is_map;
                } else if in_root_map {
                    if expect_key {
                        key = Key::Other;
                    }
                    in_alias_list = !expect_key
                        && key == Key::Aliases
                        && matches!(event, Event::SequenceStart(..));
                }
                depth += 1;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    root_done = true;
                } else if depth == 1 && root_is_map && !root_done {
                    expect_key = !expect_key;
                    in_alias_list = false;
                }
            }
            _ => {}
        }
    }
    if !root_is_map {
        fields.title = None;
        fields.video_id = None;
        fields.aliases.clear();
    }
    Ok(fields)
}

fn duplicate(key: &str, line: usize) -> YamlError {
    YamlError {
        message: format!("duplicate key \"{key}\""),
        line,
    }
}

/// A scalar's text, or `None` for YAML null. Plain numbers and booleans keep their text as
/// written (`title: 1984` is the title "1984").
fn scalar_text(value: String, style: TScalarStyle) -> Option<String> {
    let null = style == TScalarStyle::Plain
        && matches!(value.as_str(), "" | "~" | "null" | "Null" | "NULL");
    (!null).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a read gives, comparable.
    fn seen(r: &Fields) -> (Option<&str>, Option<&str>, &[String], bool) {
        (
            r.title.as_deref(),
            r.video_id.as_deref(),
            &r.aliases,
            r.not_a_mapping,
        )
    }

    /// Every block the plain reader takes, it reads as the YAML parser does; blocks made of
    /// pieces chosen to sit on either side of its rules (quotes, comments, colons, lists,
    /// indentation, nulls, duplicates, accents).
    #[test]
    fn the_plain_reader_agrees_with_the_yaml_parser() {
        let keys = [
            "title", "videoId", "aliases", "tags", "date", "title", "x_1", "null",
        ];
        let values = [
            "",
            " ",
            "Ada Lovelace",
            "Zürich 🎬 Жизнь",
            "1984",
            "null",
            "~",
            "NULL",
            "C#",
            "a #b",
            "a: b",
            "C:\\path",
            "-5",
            "'quoted'",
            "\"dq\"",
            "[a, b]",
            "x]",
            "a:",
            "&anchor v",
            "*alias",
            "!!str v",
            "|",
            ">",
            "%x",
            "@x",
            "`x`",
            "it's",
            "a  b   ",
            "#",
            "? q",
            "dQw4w9WgXcQ",
            "_id-1",
        ];
        let items = [
            "- a",
            "  - b",
            "- ",
            "-",
            "- ~",
            "  - c # d",
            "- k: v",
            "    - e",
            "-x",
        ];
        let extra = ["", "# comment", "   ", "  continued", "plain", "\tindented"];
        let mut seed: u64 = 7;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut taken = 0;
        for _ in 0..40_000 {
            let mut src = String::new();
            for _ in 0..1 + next(5) {
                match next(6) {
                    0..=2 => {
                        src.push_str(keys[next(keys.len())]);
                        src.push(':');
                        let v = values[next(values.len())];
                        if !v.is_empty() {
                            src.push(' ');
                        }
                        src.push_str(v);
                    }
                    3..=4 => src.push_str(items[next(items.len())]),
                    _ => src.push_str(extra[next(extra.len())]),
                }
                src.push('\n');
            }
            if let Some(simple) = read_simple(&src) {
                taken += 1;
                match read_yaml(&src) {
                    Ok(full) => assert_eq!(seen(&simple), seen(&full), "{src:?}"),
                    Err(e) => panic!("{src:?}: the parser refuses it ({})", e.message),
                }
            }
        }
        // The plain reader must take a good share, or the comparison says little.
        assert!(taken > 2_000, "{taken}");
    }

    #[test]
    fn typical_blocks_are_read_without_the_parser() {
        let src = "title: Grain exports of 1921\nvideoId: dQw4w9WgXcQ\naliases:\n  - Grain trade\n  - Exports 1921\ndate: 2024-01-05\n";
        let fields = read_simple(src).expect("plain");
        assert_eq!(
            seen(&fields),
            (
                Some("Grain exports of 1921"),
                Some("dQw4w9WgXcQ"),
                &["Grain trade".to_owned(), "Exports 1921".to_owned()][..],
                false
            )
        );
        for other in [
            "title: 'q'\n",
            "aliases: [a, b]\n",
            "title: a\n  b\n",
            "title: a\ntitle: b\n",
        ] {
            assert!(read_simple(other).is_none(), "{other:?}");
        }
    }
}
