//! Incremental `didChange` edits applied to a document the way the server applies them
//! (`wikilsp::lsp::apply_change` on a rope), with positions in UTF-16 or UTF-8 that may lie
//! past the end of their line or of the text, inside a character, or end before they start.
//!
//! Checks: no panic; the rope's text is valid UTF-8 and equals the text a simple reference
//! (a `String`, lines split by hand) gets from the same edits; the rope's own view of the text
//! (lines, length) agrees with it; and the parse of the final text equals a parse from scratch.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use ropey::Rope;
use tower_lsp_server::ls_types::{Position, Range, TextDocumentContentChangeEvent};
use wikilsp::lsp::apply_change;
use wikilsp::lsp::convert::{Encoding, LineIndex};
use wikilsp::syntax::parse_note;

#[derive(Debug, Arbitrary)]
struct Input {
    utf8: bool,
    initial: Text,
    edits: Vec<Edit>,
}

#[derive(Debug, Arbitrary)]
struct Edit {
    /// `None`: a full replacement.
    range: Option<(Pos, Pos)>,
    text: Text,
}

#[derive(Debug, Arbitrary)]
struct Pos {
    line: Num,
    character: Num,
}

/// Mostly small numbers (inside the text), sometimes huge ones.
#[derive(Debug, Arbitrary)]
enum Num {
    Small(u8),
    Any(u32),
}

impl Num {
    fn get(&self) -> u32 {
        match *self {
            Num::Small(n) => u32::from(n % 24),
            Num::Any(n) => n,
        }
    }
}

/// Text built from pieces that stress the conversions: every kind of line break, characters
/// of one to four UTF-8 bytes and one or two UTF-16 units, combining marks, a BOM, and the
/// syntax of links, headings and frontmatter.
#[derive(Debug, Arbitrary)]
struct Text(Vec<Piece>);

#[derive(Debug, Arbitrary)]
enum Piece {
    Char(char),
    Str(String),
    Known(u8),
}

const KNOWN: &[&str] = &[
    "\n",
    "\r\n",
    "\r",
    "a",
    " ",
    "é",
    "e\u{301}",
    "Ж",
    "中",
    "🎬",
    "\u{feff}",
    "[[",
    "]]",
    "|",
    "#",
    "# ",
    "---\n",
    "`",
    "```\n",
    "[00:01:02]",
    "<a class=\"yt-timestamp\" data-t=\"00:00:01\">",
    "</a>",
    "title: x\n",
];

impl Text {
    fn build(&self) -> String {
        let mut s = String::new();
        for p in &self.0 {
            match p {
                Piece::Char(c) => s.push(*c),
                Piece::Str(t) => s.push_str(t),
                Piece::Known(k) => s.push_str(KNOWN[*k as usize % KNOWN.len()]),
            }
        }
        s
    }
}

fuzz_target!(|input: Input| {
    if input.edits.len() > 64 {
        return;
    }
    let enc = if input.utf8 {
        Encoding::Utf8
    } else {
        Encoding::Utf16
    };
    let initial = input.initial.build();
    let mut rope = Rope::from_str(&initial);
    let mut reference = initial;
    for edit in &input.edits {
        let change = TextDocumentContentChangeEvent {
            range: edit.range.as_ref().map(|(a, b)| Range {
                start: Position {
                    line: a.line.get(),
                    character: a.character.get(),
                },
                end: Position {
                    line: b.line.get(),
                    character: b.character.get(),
                },
            }),
            range_length: None,
            text: edit.text.build(),
        };
        // The line index agrees with the reference on where a position is.
        if let Some(r) = change.range {
            let idx = LineIndex::new(&reference);
            for p in [r.start, r.end] {
                assert_eq!(
                    idx.offset(&reference, p, enc) as usize,
                    reference_offset(&reference, p, enc),
                    "{p:?} in {reference:?}"
                );
            }
        }
        let _ = apply_change(&mut rope, &change, enc);
        reference_apply(&mut reference, &change, enc);
        let text = rope.to_string();
        assert_eq!(text, reference, "after {change:?}");
        assert_eq!(rope.len_bytes(), reference.len());
        assert_eq!(rope.len_lines(), reference_lines(&reference).len());
    }
    let text = rope.to_string();
    assert!(std::str::from_utf8(text.as_bytes()).is_ok());
    assert_eq!(parse_note(&text), parse_note(&reference));
});

/// Each line's byte range without its break; lines end at `\n`, `\r\n` or a lone `\r`.
fn reference_lines(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\n' {
            lines.push((start, i));
            start = i + 1;
        } else if b[i] == b'\r' {
            lines.push((start, i));
            start = if b.get(i + 1) == Some(&b'\n') {
                i + 2
            } else {
                i + 1
            };
            i = start;
            continue;
        }
        i += 1;
    }
    lines.push((start, b.len()));
    lines
}

/// The byte offset of an LSP position: a line past the last is the end of the text; a column
/// past its line's end is the line's end; a column inside a character is that character's
/// start.
fn reference_offset(text: &str, pos: Position, enc: Encoding) -> usize {
    let lines = reference_lines(text);
    let Some(&(start, end)) = lines.get(pos.line as usize) else {
        return text.len();
    };
    let mut units = 0u64;
    for (i, c) in text[start..end].char_indices() {
        let w = match enc {
            Encoding::Utf8 => c.len_utf8(),
            Encoding::Utf16 => c.len_utf16(),
        } as u64;
        if units + w > u64::from(pos.character) {
            return start + i;
        }
        units += w;
    }
    end
}

fn reference_apply(text: &mut String, change: &TextDocumentContentChangeEvent, enc: Encoding) {
    match change.range {
        None => *text = change.text.clone(),
        Some(r) => {
            let a = reference_offset(text, r.start, enc);
            let b = reference_offset(text, r.end, enc);
            text.replace_range(a.min(b)..a.max(b), &change.text);
        }
    }
}
