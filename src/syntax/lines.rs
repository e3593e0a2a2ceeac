//! Where a note's lines start, and which lines are plain ASCII: enough to place a range of a
//! closed note in line and column without keeping (or reading) its text.

use super::TextRange;

/// Line starts of a text. Lines end at `\n`, `\r\n` or a lone `\r`, as LSP counts them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineMap {
    starts: Vec<u32>,
    /// Bit `i` set: line `i` holds a non-ASCII character (its UTF-16 columns differ from bytes).
    non_ascii: Vec<u64>,
    len: u32,
    /// `(offset, UTF-16 column)` of the places on non-ASCII lines that a closed note's ranges
    /// start or end at (see [`LineMap::remember_utf16_columns`]), sorted by offset.
    columns: Vec<(u32, u32)>,
}

impl LineMap {
    pub fn new(text: &str) -> LineMap {
        let bytes = text.as_bytes();
        let mut map = LineMap {
            starts: vec![0],
            non_ascii: Vec::new(),
            len: bytes.len() as u32,
            columns: Vec::new(),
        };
        // Line by line with a fast search for the breaks and a fast ASCII test of each line:
        // every note of the vault goes through here.
        let mut start = 0;
        while let Some(i) = memchr::memchr2(b'\n', b'\r', &bytes[start..]) {
            let at = start + i;
            map.mark(bytes[start..at].is_ascii());
            let next = if bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n') {
                at + 2
            } else {
                at + 1
            };
            map.starts.push(next as u32);
            start = next;
        }
        map.mark(bytes[start..].is_ascii());
        map.starts.shrink_to_fit();
        map.non_ascii.shrink_to_fit();
        map
    }

    /// The heap bytes this map holds: line starts, the non-ASCII bits, remembered columns.
    pub fn heap_bytes(&self) -> usize {
        self.starts.capacity() * 4 + self.non_ascii.capacity() * 8 + self.columns.capacity() * 8
    }

    /// The heap bytes of the remembered UTF-16 columns alone.
    pub fn column_bytes(&self) -> usize {
        self.columns.capacity() * 8
    }

    fn mark(&mut self, ascii: bool) {
        let line = self.starts.len() - 1;
        if !ascii {
            if self.non_ascii.len() <= line / 64 {
                self.non_ascii.resize(line / 64 + 1, 0);
            }
            self.non_ascii[line / 64] |= 1 << (line % 64);
        }
    }

    /// The zero-based line of `offset` and the byte offset where that line starts.
    pub fn line_of(&self, offset: u32) -> (u32, u32) {
        let offset = offset.min(self.len);
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        (line as u32, self.starts[line])
    }

    /// Whether every character of the line is ASCII (then columns in bytes and in UTF-16 code
    /// units agree).
    pub fn is_ascii_line(&self, line: u32) -> bool {
        let line = line as usize;
        self.non_ascii
            .get(line / 64)
            .is_none_or(|w| w & (1 << (line % 64)) == 0)
    }

    /// Remembers the UTF-16 column of each of `offsets` that lies on a non-ASCII line, so that
    /// [`LineMap::utf16_range`] can place ranges ending there without the text. One walk over
    /// each such line, however many offsets it holds.
    pub fn remember_utf16_columns(&mut self, text: &str, mut offsets: Vec<u32>) {
        if self.non_ascii.iter().all(|&w| w == 0) {
            return;
        }
        offsets.sort_unstable();
        offsets.dedup();
        let bytes = text.as_bytes();
        let mut columns = Vec::with_capacity(offsets.len());
        // Lines are found moving forward with the offsets, not searched for each.
        let mut line = 0usize;
        let (mut at, mut column) = (0u32, 0u32);
        let mut line_seen = usize::MAX;
        for offset in offsets {
            if offset > self.len || offset as usize > bytes.len() {
                break;
            }
            while line + 1 < self.starts.len() && self.starts[line + 1] <= offset {
                line += 1;
            }
            if !self.is_ascii_line(line as u32) {
                if line != line_seen {
                    (line_seen, at, column) = (line, self.starts[line], 0);
                }
                // Offsets off a character boundary cannot be placed; the caller reads the text.
                if !text.is_char_boundary(offset as usize) {
                    continue;
                }
                column += utf16_len(&bytes[at as usize..offset as usize]);
                at = offset;
                columns.push((offset, column));
            }
        }
        columns.shrink_to_fit();
        self.columns = columns;
    }

    /// `(line, column)` of both ends of `range` with UTF-16 columns, when the map can tell them
    /// without the text: both ends on ASCII lines or remembered.
    pub fn utf16_range(&self, range: TextRange) -> Option<((u32, u32), (u32, u32))> {
        Some((
            self.utf16_position(range.start)?,
            self.utf16_position(range.end)?,
        ))
    }

    fn utf16_position(&self, offset: u32) -> Option<(u32, u32)> {
        let (line, start) = self.line_of(offset);
        if self.is_ascii_line(line) {
            return Some((line, offset.min(self.len) - start));
        }
        let i = self.columns.binary_search_by_key(&offset, |c| c.0).ok()?;
        Some((line, self.columns[i].1))
    }

    /// Like [`LineMap::utf16_range`] but columns in bytes whatever the line holds (for clients
    /// that count UTF-8).
    pub fn byte_range(&self, range: TextRange) -> ((u32, u32), (u32, u32)) {
        let (l1, s1) = self.line_of(range.start);
        let (l2, s2) = self.line_of(range.end);
        (
            (l1, range.start.min(self.len) - s1),
            (l2, range.end.min(self.len) - s2),
        )
    }
}

/// UTF-16 code units of valid UTF-8 bytes: one per character (every byte but continuation
/// bytes starts one), two for those of four bytes. Eight bytes at a time: most of a vault's
/// text goes through here.
fn utf16_len(bytes: &[u8]) -> u32 {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let (chunks, rest) = bytes.as_chunks::<8>();
    let mut units = 0usize;
    for chunk in chunks {
        let x = u64::from_le_bytes(*chunk);
        // Bit 7 of each byte: set for a continuation byte (10xxxxxx) and for a lead byte of
        // four (11110xxx); shifting left brings bits 6..4 of the same byte to bit 7.
        let continuation = x & !(x << 1) & HIGH;
        let four = x & (x << 1) & (x << 2) & (x << 3) & HIGH;
        units += 8 - continuation.count_ones() as usize + four.count_ones() as usize;
    }
    for &b in rest {
        units += usize::from(b & 0xC0 != 0x80) + usize::from(b >= 0xF0);
    }
    units as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_ascii_flags() {
        let text = "ab [[x]]\r\nЖ [[y]]\rlast [[z]]";
        let map = LineMap::new(text);
        let at = |s: &str| {
            let i = text.find(s).unwrap();
            TextRange::new(i, i + s.len())
        };
        assert_eq!(map.utf16_range(at("[[x]]")), Some(((0, 3), (0, 8))));
        assert_eq!(map.utf16_range(at("[[y]]")), None);
        assert_eq!(map.byte_range(at("[[y]]")), ((1, 3), (1, 8)));
        assert_eq!(map.utf16_range(at("[[z]]")), Some(((2, 5), (2, 10))));
        assert!(!map.is_ascii_line(1));
        assert!(map.is_ascii_line(2));
        let many: String = (0..200)
            .map(|i| if i == 130 { "é\n" } else { "a\n" })
            .collect();
        let map = LineMap::new(&many);
        assert!(!map.is_ascii_line(130));
        assert!(map.is_ascii_line(129) && map.is_ascii_line(131));
    }

    #[test]
    fn remembered_utf16_columns_place_ranges_on_non_ascii_lines() {
        let text = "ab [[x]]\nЖé 🎬 [[y]] и [[z]]\r\nend";
        let mut map = LineMap::new(text);
        let at = |s: &str| {
            let i = text.find(s).unwrap();
            TextRange::new(i, i + s.len())
        };
        assert_eq!(map.utf16_range(at("[[y]]")), None);
        let (y, z) = (at("[[y]]"), at("[[z]]"));
        map.remember_utf16_columns(text, vec![z.end, y.start, y.end, z.start, 3]);
        // Ж, é: one unit each; 🎬: a surrogate pair.
        assert_eq!(map.utf16_range(y), Some(((1, 6), (1, 11))));
        assert_eq!(map.utf16_range(z), Some(((1, 14), (1, 19))));
        assert_eq!(map.utf16_range(at("[[x]]")), Some(((0, 3), (0, 8))));
        assert_eq!(map.utf16_range(at("end")), Some(((2, 0), (2, 3))));
        // Not remembered: only the text can tell.
        assert_eq!(map.utf16_range(at("и")), None);
        for sample in [
            "",
            "abc",
            "Жé 🎬 [[y]] и",
            "ascii only, longer than eight bytes",
            "🎬🎬🎬🎬🎬 é",
        ] {
            let expected = sample.encode_utf16().count() as u32;
            assert_eq!(utf16_len(sample.as_bytes()), expected, "{sample:?}");
        }
        assert_eq!(map.utf16_range(at("и")), None);
    }
}
