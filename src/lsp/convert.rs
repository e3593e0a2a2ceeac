//! The one place where byte offsets become LSP positions and back. LSP columns count UTF-16
//! code units unless the client agreed to UTF-8; lines end at `\n`, `\r\n` or a lone `\r`.
//! Positions out of range are clamped (to the end of their line, or of the text), never fatal.

use tower_lsp_server::ls_types::{Position, PositionEncodingKind, Range};

use crate::syntax::TextRange;

/// The position encoding agreed with the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    Utf8,
    #[default]
    Utf16,
}

impl Encoding {
    /// UTF-8 when the client offers it (no conversion needed), else UTF-16, the protocol's
    /// default.
    pub fn negotiate(offered: Option<&[PositionEncodingKind]>) -> Encoding {
        match offered {
            Some(kinds) if kinds.contains(&PositionEncodingKind::UTF8) => Encoding::Utf8,
            _ => Encoding::Utf16,
        }
    }

    pub fn kind(self) -> PositionEncodingKind {
        match self {
            Encoding::Utf8 => PositionEncodingKind::UTF8,
            Encoding::Utf16 => PositionEncodingKind::UTF16,
        }
    }

    /// Width of `c` in this encoding's code units.
    pub fn width(self, c: char) -> u32 {
        match self {
            Encoding::Utf8 => c.len_utf8() as u32,
            Encoding::Utf16 => c.len_utf16() as u32,
        }
    }
}

/// Where each line of a text starts, and what it takes to count columns in it: nothing on a
/// line of ASCII (columns are bytes), marks every [`MARK_EVERY`] bytes on a long line that is
/// not ([`MARKED_LINE`]), so that no position costs more than a short walk. (Without them, 10,000 links on one
/// line took 10,000 walks along it.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIndex {
    starts: Vec<u32>,
    len: u32,
    /// Bit `i` set: line `i` holds a character that is not ASCII.
    non_ascii: Vec<u64>,
    /// On long lines that are not ASCII: `(byte offset, UTF-16 column)` at char boundaries
    /// about every [`MARK_EVERY`] bytes, sorted by offset.
    marks: Vec<(u32, u32)>,
}

/// How far apart the column marks of a long non-ASCII line are, in bytes.
const MARK_EVERY: usize = 256;

/// Lines longer than this (in bytes) get marks; on shorter ones counting from the start is
/// cheap enough, and every closed note placed in a request builds an index.
const MARKED_LINE: usize = 2048;

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let bytes = text.as_bytes();
        let mut starts = vec![0u32];
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => starts.push(i as u32 + 1),
                b'\r' if bytes.get(i + 1) != Some(&b'\n') => starts.push(i as u32 + 1),
                _ => {}
            }
            i += 1;
        }
        let mut index = LineIndex {
            starts,
            len: text.len() as u32,
            non_ascii: Vec::new(),
            marks: Vec::new(),
        };
        for line in 0..index.starts.len() {
            let (start, end) = index.line_range(text, line);
            if text.as_bytes()[start..end].is_ascii() {
                continue;
            }
            if index.non_ascii.len() <= line / 64 {
                index.non_ascii.resize(line / 64 + 1, 0);
            }
            index.non_ascii[line / 64] |= 1 << (line % 64);
            if end - start > MARKED_LINE {
                let mut col = 0u32;
                let mut next = start + MARK_EVERY;
                for (i, c) in text[start..end].char_indices() {
                    if start + i >= next {
                        index.marks.push(((start + i) as u32, col));
                        next = start + i + MARK_EVERY;
                    }
                    col += c.len_utf16() as u32;
                }
            }
        }
        index
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// The byte range of line `line`, without its line break.
    fn line_range(&self, text: &str, line: usize) -> (usize, usize) {
        let start = self.starts[line] as usize;
        let mut end = self
            .starts
            .get(line + 1)
            .map_or(self.len as usize, |&s| s as usize);
        let bytes = text.as_bytes();
        if end > start && bytes.get(end - 1) == Some(&b'\n') {
            end -= 1;
        }
        if end > start && bytes.get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        (start, end)
    }

    fn is_ascii_line(&self, line: usize) -> bool {
        self.non_ascii
            .get(line / 64)
            .is_none_or(|w| w & (1 << (line % 64)) == 0)
    }

    /// The marks of the line `start..end`.
    fn marks_in(&self, start: usize, end: usize) -> &[(u32, u32)] {
        let from = self.marks.partition_point(|m| (m.0 as usize) < start);
        let to = self.marks.partition_point(|m| (m.0 as usize) <= end);
        &self.marks[from..to]
    }

    /// The position of a byte offset (clamped into the text, moved back onto a char boundary).
    pub fn position(&self, text: &str, offset: u32, enc: Encoding) -> Position {
        let mut offset = (offset.min(self.len)) as usize;
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s as usize <= offset) - 1;
        let (start, end) = self.line_range(text, line);
        let offset = offset.min(end);
        let col = match enc {
            Encoding::Utf8 => (offset - start) as u32,
            Encoding::Utf16 if self.is_ascii_line(line) => (offset - start) as u32,
            Encoding::Utf16 => {
                // From the last mark at or before the offset, else from the line's start.
                let marks = self.marks_in(start, end);
                let (from, col) = match marks.partition_point(|m| m.0 as usize <= offset) {
                    0 => (start, 0),
                    k => (marks[k - 1].0 as usize, marks[k - 1].1),
                };
                col + text[from..offset]
                    .chars()
                    .map(|c| c.len_utf16() as u32)
                    .sum::<u32>()
            }
        };
        Position {
            line: line as u32,
            character: col,
        }
    }

    pub fn range(&self, text: &str, range: TextRange, enc: Encoding) -> Range {
        Range {
            start: self.position(text, range.start, enc),
            end: self.position(text, range.end, enc),
        }
    }

    /// The byte offset of a position. A line past the end means the end of the text; a column
    /// past the end of its line means the end of the line; a column inside a character (half a
    /// surrogate pair, the middle of a UTF-8 sequence) means the start of that character.
    pub fn offset(&self, text: &str, pos: Position, enc: Encoding) -> u32 {
        let line = pos.line as usize;
        if line >= self.starts.len() {
            return self.len;
        }
        let (start, end) = self.line_range(text, line);
        if enc == Encoding::Utf8 || self.is_ascii_line(line) {
            let mut at = start.saturating_add(pos.character as usize).min(end);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            return at as u32;
        }
        let marks = self.marks_in(start, end);
        let (from, mut units) = match marks.partition_point(|m| m.1 <= pos.character) {
            0 => (start, 0),
            k => (marks[k - 1].0 as usize, marks[k - 1].1),
        };
        for (i, c) in text[from..end].char_indices() {
            let w = enc.width(c);
            if units + w > pos.character {
                return (from + i) as u32;
            }
            units += w;
        }
        end as u32
    }
}

/// The char index in a rope of an LSP position, with the same clamping as
/// [`LineIndex::offset`]. Used to apply incremental edits to open documents.
pub fn rope_char(rope: &ropey::Rope, pos: Position, enc: Encoding) -> usize {
    let line = pos.line as usize;
    if line >= rope.len_lines() {
        return rope.len_chars();
    }
    let start = rope.line_to_char(line);
    let mut units = 0u32;
    for (i, c) in rope.line(line).chars().enumerate() {
        if c == '\n' || c == '\r' || units + enc.width(c) > pos.character {
            return start + i;
        }
        units += enc.width(c);
    }
    start + rope.line(line).len_chars()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: u32, character: u32) -> Position {
        Position { line, character }
    }

    const TEXT: &str = "café [[a]]\r\nПривет [[b]]\n😀😀 [[c]]\rlast";

    #[test]
    fn utf16_columns_count_surrogate_pairs_and_accents() {
        let idx = LineIndex::new(TEXT);
        assert_eq!(idx.line_count(), 4);
        let a = TEXT.find("[[a").unwrap() as u32;
        assert_eq!(idx.position(TEXT, a, Encoding::Utf16), pos(0, 5));
        assert_eq!(idx.position(TEXT, a, Encoding::Utf8), pos(0, 6));
        let b = TEXT.find("[[b").unwrap() as u32;
        assert_eq!(idx.position(TEXT, b, Encoding::Utf16), pos(1, 7));
        assert_eq!(idx.position(TEXT, b, Encoding::Utf8), pos(1, 13));
        let c = TEXT.find("[[c").unwrap() as u32;
        assert_eq!(idx.position(TEXT, c, Encoding::Utf16), pos(2, 5));
        assert_eq!(idx.position(TEXT, c, Encoding::Utf8), pos(2, 9));
        let last = TEXT.find("last").unwrap() as u32;
        assert_eq!(idx.position(TEXT, last, Encoding::Utf16), pos(3, 0));
    }

    #[test]
    fn offset_and_position_round_trip_on_every_char_boundary() {
        let text = "\u{feff}é\u{301} ЖЖ 中文 👩‍👩‍👧 x\r\n\r\nend\n";
        let idx = LineIndex::new(text);
        for enc in [Encoding::Utf8, Encoding::Utf16] {
            for (i, _) in text
                .char_indices()
                .chain(std::iter::once((text.len(), ' ')))
            {
                let p = idx.position(text, i as u32, enc);
                let back = idx.offset(text, p, enc) as usize;
                // Offsets inside a line break map to the end of their line.
                let expected = if text[..i].ends_with('\r') && text[i..].starts_with('\n') {
                    i - 1
                } else {
                    i
                };
                assert_eq!(back, expected, "offset {i} via {p:?} in {enc:?}");
            }
        }
    }

    #[test]
    fn out_of_range_positions_are_clamped() {
        let idx = LineIndex::new(TEXT);
        let eol = TEXT.find("\r\n").unwrap() as u32;
        assert_eq!(idx.offset(TEXT, pos(0, 999), Encoding::Utf16), eol);
        assert_eq!(
            idx.offset(TEXT, pos(99, 0), Encoding::Utf16),
            TEXT.len() as u32
        );
        // Half of a surrogate pair lands on the start of the emoji.
        let emoji = TEXT.find('😀').unwrap() as u32;
        assert_eq!(idx.offset(TEXT, pos(2, 1), Encoding::Utf16), emoji);
        assert_eq!(idx.position(TEXT, 9999, Encoding::Utf16), pos(3, 4));
    }

    #[test]
    fn long_lines_with_marks_agree_with_counting_from_the_start() {
        // Long lines of mixed widths (surrogate pairs, accents, ASCII), one ASCII-only.
        let mut text = String::new();
        for i in 0..1500 {
            text.push_str(["a", "é", "😀", "bc", "Ж"][i % 5]);
        }
        text.push('\n');
        text.push_str(&"x".repeat(3000));
        text.push_str("\r\n😀");
        let idx = LineIndex::new(&text);
        assert!(!idx.marks.is_empty());
        for enc in [Encoding::Utf8, Encoding::Utf16] {
            for (i, _) in text
                .char_indices()
                .chain(std::iter::once((text.len(), ' ')))
            {
                let p = idx.position(&text, i as u32, enc);
                let line_start = text[..i].rfind('\n').map_or(0, |n| n + 1);
                let expected = match enc {
                    Encoding::Utf8 => i - line_start,
                    Encoding::Utf16 => text[line_start..i].encode_utf16().count(),
                };
                let expected = if text[..i].ends_with('\r') {
                    expected - 1
                } else {
                    expected
                };
                assert_eq!(p.character as usize, expected, "offset {i} in {enc:?}");
                let back = idx.offset(&text, p, enc) as usize;
                let want = if text[..i].ends_with('\r') { i - 1 } else { i };
                assert_eq!(back, want, "offset {i} via {p:?} in {enc:?}");
            }
        }
    }

    #[test]
    fn rope_positions_agree_with_the_line_index() {
        let rope = ropey::Rope::from_str(TEXT);
        let idx = LineIndex::new(TEXT);
        for enc in [Encoding::Utf8, Encoding::Utf16] {
            for line in 0..5 {
                for col in 0..20 {
                    let p = pos(line, col);
                    let byte = rope.char_to_byte(rope_char(&rope, p, enc));
                    assert_eq!(byte as u32, idx.offset(TEXT, p, enc), "{p:?} {enc:?}");
                }
            }
        }
    }

    // ---- properties over generated text -------------------------------------------------

    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngSeed};

    /// Pieces that stress the conversions: one to four UTF-8 bytes, one or two UTF-16 units
    /// (🎬 is a surrogate pair), a combining mark, and every kind of line break.
    const PIECES: &[&str] = &[
        "a",
        "Z",
        " ",
        "[[x]]",
        "é",
        "e\u{301}",
        "Ж",
        "Привет",
        "中",
        "文字",
        "🎬",
        "😀😀",
        "\n",
        "\r\n",
        "\r",
        "\r\r\n",
        "\n\r",
    ];

    fn text() -> impl Strategy<Value = String> {
        (
            any::<bool>(),
            proptest::collection::vec(proptest::sample::select(PIECES), 0..40),
        )
            .prop_map(|(bom, pieces)| {
                let mut s = String::from(if bom { "\u{feff}" } else { "" });
                s.extend(pieces);
                s
            })
    }

    fn config() -> Config {
        Config {
            cases: 256,
            rng_seed: RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            ..Config::default()
        }
    }

    /// Each line's byte range without its break, found the plain way.
    fn plain_lines(text: &str) -> Vec<(usize, usize)> {
        let b = text.as_bytes();
        let (mut lines, mut start, mut i) = (Vec::new(), 0, 0);
        while i < b.len() {
            if b[i] == b'\n' || b[i] == b'\r' {
                lines.push((start, i));
                i += if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                start = i;
            } else {
                i += 1;
            }
        }
        lines.push((start, b.len()));
        lines
    }

    fn units(s: &str, enc: Encoding) -> u32 {
        s.chars().map(|c| enc.width(c)).sum()
    }

    fn boundaries(text: &str) -> impl Iterator<Item = usize> + '_ {
        text.char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(text.len()))
    }

    proptest! {
        #![proptest_config(config())]

        /// offset → position → offset is the identity on every char boundary (an offset
        /// between `\r` and `\n` is the end of its line), and the position is the line and
        /// the code units before the offset on it.
        #[test]
        fn offsets_round_trip_through_positions(text in text()) {
            let idx = LineIndex::new(&text);
            let lines = plain_lines(&text);
            prop_assert_eq!(idx.line_count(), lines.len());
            for enc in [Encoding::Utf8, Encoding::Utf16] {
                let mut last = pos(0, 0);
                for i in boundaries(&text) {
                    let p = idx.position(&text, i as u32, enc);
                    let line = lines.iter().rposition(|&(s, _)| s <= i).unwrap();
                    let (start, end) = lines[line];
                    let expected = pos(line as u32, units(&text[start..i.min(end)], enc));
                    prop_assert_eq!(p, expected, "offset {} in {:?} ({:?})", i, text, enc);
                    prop_assert!((p.line, p.character) >= (last.line, last.character));
                    last = p;
                    let back = idx.offset(&text, p, enc) as usize;
                    prop_assert_eq!(back, i.min(end), "offset {} via {:?} ({:?})", i, p, enc);
                }
                // An offset inside a character is placed at that character's start.
                for i in 0..text.len() {
                    if !text.is_char_boundary(i) {
                        let before = (0..i).rev().find(|&k| text.is_char_boundary(k)).unwrap();
                        prop_assert_eq!(
                            idx.position(&text, i as u32, enc),
                            idx.position(&text, before as u32, enc)
                        );
                    }
                }
                let past = idx.position(&text, text.len() as u32 + 7, enc);
                prop_assert_eq!(past, idx.position(&text, text.len() as u32, enc));
            }
        }

        /// position → offset lands on a char boundary for every position, in range or not:
        /// a line past the last is the end of the text, a column past the end of its line is
        /// the line's end (before its break), and a column inside a character (the second half
        /// of a surrogate pair, the middle of a UTF-8 sequence) is that character's start. The
        /// rope used for incremental edits places every position the same way.
        #[test]
        fn positions_clamp_onto_char_boundaries(text in text()) {
            let idx = LineIndex::new(&text);
            let rope = ropey::Rope::from_str(&text);
            let lines = plain_lines(&text);
            prop_assert_eq!(rope.len_lines(), lines.len());
            for enc in [Encoding::Utf8, Encoding::Utf16] {
                for line in 0..lines.len() as u32 + 2 {
                    let width = lines
                        .get(line as usize)
                        .map_or(0, |&(s, e)| units(&text[s..e], enc));
                    for character in (0..width + 3).chain([u32::MAX]) {
                        let p = pos(line, character);
                        let off = idx.offset(&text, p, enc) as usize;
                        prop_assert!(text.is_char_boundary(off));
                        let rope_off = rope.char_to_byte(rope_char(&rope, p, enc));
                        prop_assert_eq!(off, rope_off, "{:?} ({:?}) in {:?}", p, enc, text);
                        let Some(&(start, end)) = lines.get(line as usize) else {
                            prop_assert_eq!(off, text.len());
                            continue;
                        };
                        prop_assert!(start <= off && off <= end);
                        // The last character that starts at or before the column.
                        let before = units(&text[start..off], enc);
                        prop_assert!(before <= character);
                        if off < end {
                            let next = text[off..].chars().next().unwrap();
                            prop_assert!(character < before + enc.width(next));
                        }
                        // And back: the same position when it was on a character's start.
                        let back = idx.position(&text, off as u32, enc);
                        prop_assert_eq!(back, pos(line, before));
                    }
                }
            }
        }
    }
}
