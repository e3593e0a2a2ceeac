//! Where a note's lines start, and which lines are plain ASCII: enough to place a range of a
//! closed note in line and column without keeping (or reading) its text.

use super::TextRange;

/// Line starts of a text. Lines end at `\n`, `\r\n` or a lone `\r`, as LSP counts them.
///
/// Everything is in one allocation (a closed note's map is read when its ranges are placed,
/// one cache miss rather than four; and a vault holds one map per note): the line starts, then
/// a bit per line for "holds a non-ASCII character" (its UTF-16 columns differ from bytes),
/// then a bit per line for "charted", then the columns' offsets, then their values (see
/// [`LineMap::remember_utf16_columns`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineMap {
    data: Box<[u32]>,
    len: u32,
    lines: u32,
    /// Words of bits per kind: 0 when no line holds a non-ASCII character.
    words: u32,
    columns: u32,
}

thread_local! {
    /// The growing parts of a map being made, kept between notes: a map is packed into one
    /// allocation of its exact size at the end, and a vault makes one per note.
    static SCRATCH: std::cell::RefCell<Scratch> = Default::default();
}

#[derive(Default)]
struct Scratch {
    starts: Vec<u32>,
    non_ascii: Vec<u32>,
    columns: Vec<(u32, u32)>,
    chart: Vec<(u32, u32)>,
    charted: Vec<u32>,
}

/// A thread keeps its scratch up to this many entries a part (a note of a million lines would
/// otherwise leave megabytes on the thread that read it).
const SCRATCH_KEPT: usize = 1 << 14;

impl Scratch {
    fn let_go_if_big(&mut self) {
        if self.starts.capacity() > SCRATCH_KEPT
            || self.non_ascii.capacity() > SCRATCH_KEPT
            || self.columns.capacity() > SCRATCH_KEPT
            || self.chart.capacity() > SCRATCH_KEPT
            || self.charted.capacity() > SCRATCH_KEPT
        {
            *self = Scratch::default();
        }
    }
}

impl Default for LineMap {
    fn default() -> LineMap {
        LineMap::new("")
    }
}

impl LineMap {
    pub fn new(text: &str) -> LineMap {
        SCRATCH.with_borrow_mut(|scratch| {
            let Scratch {
                starts, non_ascii, ..
            } = scratch;
            starts.clear();
            non_ascii.clear();
            starts.push(0);
            let bytes = text.as_bytes();
            // Line by line with a fast search for the breaks and a fast ASCII test of each
            // line: every note of the vault goes through here.
            let mut start = 0;
            while let Some(i) = memchr::memchr2(b'\n', b'\r', &bytes[start..]) {
                let at = start + i;
                if !bytes[start..at].is_ascii() {
                    set_bit(non_ascii, starts.len() - 1);
                }
                let next = if bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n') {
                    at + 2
                } else {
                    at + 1
                };
                starts.push(next as u32);
                start = next;
            }
            if !bytes[start..].is_ascii() {
                set_bit(non_ascii, starts.len() - 1);
            }
            let map = LineMap::pack(bytes.len() as u32, starts, non_ascii, &[], &[]);
            scratch.let_go_if_big();
            map
        })
    }

    /// The map of these parts; `non_ascii` and `charted` may be shorter than their words.
    fn pack(
        len: u32,
        starts: &[u32],
        non_ascii: &[u32],
        charted: &[u32],
        columns: &[(u32, u32)],
    ) -> LineMap {
        let words = if non_ascii.iter().any(|&w| w != 0) {
            starts.len().div_ceil(32)
        } else {
            0
        };
        let mut data = Vec::with_capacity(starts.len() + 2 * words + 2 * columns.len());
        data.extend_from_slice(starts);
        for bits in [non_ascii, charted] {
            data.extend((0..words).map(|i| bits.get(i).copied().unwrap_or(0)));
        }
        data.extend(columns.iter().map(|c| c.0));
        data.extend(columns.iter().map(|c| c.1));
        LineMap {
            data: data.into_boxed_slice(),
            len,
            lines: starts.len() as u32,
            words: words as u32,
            columns: columns.len() as u32,
        }
    }

    /// Where each line starts (the first is 0).
    pub(crate) fn starts(&self) -> &[u32] {
        &self.data[..self.lines as usize]
    }

    /// Bit `line` of the `kind`th set of bits (0: non-ASCII, 1: charted).
    fn bit(&self, kind: usize, line: u32) -> bool {
        let (words, line) = (self.words as usize, line as usize);
        if line / 32 >= words {
            return false;
        }
        self.data[self.lines as usize + kind * words + line / 32] & (1 << (line % 32)) != 0
    }

    /// The remembered columns: their offsets, and their values.
    fn columns(&self) -> (&[u32], &[u32]) {
        let at = self.lines as usize + 2 * self.words as usize;
        let n = self.columns as usize;
        (&self.data[at..at + n], &self.data[at + n..at + 2 * n])
    }

    /// The heap bytes this map holds.
    pub fn heap_bytes(&self) -> usize {
        self.data.len() * 4
    }

    /// The heap bytes of the remembered UTF-16 columns alone.
    pub fn column_bytes(&self) -> usize {
        self.columns as usize * 8
    }

    /// The zero-based line of `offset` and the byte offset where that line starts.
    /// The memory a placement reads: the line starts (searched) and the bits and columns after
    /// them. For a prefetch hint by a caller about to place ranges of many notes.
    pub fn data(&self) -> &[u32] {
        &self.data
    }

    pub fn line_of(&self, offset: u32) -> (u32, u32) {
        let offset = offset.min(self.len);
        let starts = self.starts();
        let line = starts.partition_point(|&s| s <= offset) - 1;
        (line as u32, starts[line])
    }

    /// Whether every character of the line is ASCII (then columns in bytes and in UTF-16 code
    /// units agree).
    pub fn is_ascii_line(&self, line: u32) -> bool {
        !self.bit(0, line)
    }

    /// Remembers what places each of `offsets` that lies on a non-ASCII line in UTF-16 columns,
    /// so that [`LineMap::utf16_range`] can place ranges ending there without the text.
    ///
    /// A line is charted (its non-ASCII characters remembered, which places any offset on it)
    /// when it has no more of them than remembered offsets: the common line of mostly English
    /// prose with a name like "Zürich" among its links costs an entry or two instead of one per
    /// link end. A line of Cyrillic keeps one entry per remembered offset instead. One walk over
    /// each such line, however many offsets it holds.
    pub fn remember_utf16_columns(&mut self, text: &str, mut offsets: Vec<u32>) {
        if self.words == 0 {
            return;
        }
        // The parser gives them in order; others may not.
        if !offsets.is_sorted() {
            offsets.sort_unstable();
        }
        offsets.dedup();
        let end = text.len().min(self.len as usize) as u32;
        offsets.retain(|&o| o <= end);
        SCRATCH.with_borrow_mut(|scratch| {
            let Scratch {
                columns,
                chart,
                charted,
                ..
            } = scratch;
            columns.clear();
            chart.clear();
            charted.clear();
            self.chart_offsets(text, &offsets, end, columns, chart, charted);
            if charted.is_empty() && columns.is_empty() && self.columns == 0 {
                // Nothing to remember, and nothing remembered before: the map stays as it is.
                return;
            }
            let words = self.words as usize;
            let lines = self.lines as usize;
            let non_ascii = &self.data[lines..lines + words];
            *self = LineMap::pack(self.len, self.starts(), non_ascii, charted, columns);
            scratch.let_go_if_big();
        });
    }

    /// The columns (and charted lines) that place `offsets`, sorted, each at most `end`.
    fn chart_offsets(
        &self,
        text: &str,
        offsets: &[u32],
        end: u32,
        columns: &mut Vec<(u32, u32)>,
        chart: &mut Vec<(u32, u32)>,
        charted: &mut Vec<u32>,
    ) {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < offsets.len() {
            let (line, start) = self.line_of(offsets[i]);
            // The offsets on this line.
            let next = self.starts().get(line as usize + 1).copied();
            let line_end = next.map_or(end, |s| s.min(end));
            let mut k = i + 1;
            while k < offsets.len() && next.is_none_or(|s| offsets[k] < s) {
                k += 1;
            }
            let on_line = &offsets[i..k];
            i = k;
            if self.is_ascii_line(line) {
                continue;
            }
            if chart_line(
                &bytes[start as usize..line_end as usize],
                start,
                on_line.len(),
                chart,
            ) {
                columns.append(chart);
                set_bit(charted, line as usize);
                continue;
            }
            chart.clear();
            let (mut at, mut column) = (start, 0u32);
            for &offset in on_line {
                // Offsets off a character boundary cannot be placed; the caller reads the text.
                if !text.is_char_boundary(offset as usize) {
                    continue;
                }
                column += utf16_len(&bytes[at as usize..offset as usize]);
                at = offset;
                columns.push((offset, column));
            }
        }
    }

    fn is_charted(&self, line: u32) -> bool {
        self.bit(1, line)
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
        if self.is_charted(line) {
            let offset = offset.min(self.len);
            // The line's runs: entries from `first`, a start and an end each.
            let (at, value) = self.columns();
            let first = at.partition_point(|&c| c < start);
            let i = at.partition_point(|&c| c <= offset);
            let extra = if i <= first {
                0
            } else if (i - 1 - first) % 2 == 1 {
                // After the end of a run.
                value[i - 1]
            } else {
                // Inside a run (or at its start).
                let (a, e0) = (at[i - 1], value[i - 1]);
                let (b, e1) = at.get(i).map_or((a, e0), |&b| (b, value[i]));
                if b == a {
                    e0
                } else {
                    e0 + ((offset - a) as u64 * (e1 - e0) as u64 / (b - a) as u64) as u32
                }
            };
            return Some((line, offset - start - extra));
        }
        let (at, value) = self.columns();
        let i = at.binary_search(&offset).ok()?;
        Some((line, value[i]))
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

fn set_bit(bits: &mut Vec<u32>, i: usize) {
    if bits.len() <= i / 32 {
        bits.resize(i / 32 + 1, 0);
    }
    bits[i / 32] |= 1 << (i % 32);
}

/// Charts a line (`bytes`, starting at offset `start`) into `chart`: each run of non-ASCII
/// characters of one width (a word of Cyrillic, an accented letter, an emoji or two) as two
/// entries, its start and its end, each with the bytes beyond UTF-16 units before it on the
/// line. An offset inside a run is placed by proportion, exact since its characters are of one
/// width. Gives up (`false`) past `most` entries.
fn chart_line(bytes: &[u8], start: u32, most: usize, chart: &mut Vec<(u32, u32)>) -> bool {
    let width = |lead: u8| -> (usize, u32) {
        match lead {
            0xF0.. => (4, 2),
            0xE0.. => (3, 1),
            _ => (2, 1),
        }
    };
    let mut extra = 0;
    let mut at = 0;
    while let Some(i) = first_non_ascii(&bytes[at..]) {
        if chart.len() + 2 > most {
            return false;
        }
        let (len, units) = width(bytes[at + i]);
        chart.push((start + (at + i) as u32, extra));
        at += i;
        // Lossy text has no broken sequences, but a map must never be read out of bounds.
        while at < bytes.len() && bytes[at] >= 0x80 && width(bytes[at]).0 == len {
            at = (at + len).min(bytes.len());
            extra += len as u32 - units;
        }
        chart.push((start + at as u32, extra));
    }
    true
}

/// Where the first byte that is not ASCII is, thirty-two bytes at a time (then eight): charting
/// walks every non-ASCII line of the vault, mostly over ASCII between the accented letters.
fn first_non_ascii(bytes: &[u8]) -> Option<usize> {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let word = |chunk: &[u8]| u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
    let (blocks, _) = bytes.as_chunks::<32>();
    let mut skipped = 0;
    for block in blocks {
        let any =
            (word(&block[..8]) | word(&block[8..16]) | word(&block[16..24]) | word(&block[24..]))
                & HIGH;
        if any != 0 {
            break;
        }
        skipped += 32;
    }
    let (chunks, rest) = bytes[skipped..].as_chunks::<8>();
    for (n, chunk) in chunks.iter().enumerate() {
        let high = u64::from_le_bytes(*chunk) & HIGH;
        if high != 0 {
            return Some(skipped + n * 8 + high.trailing_zeros() as usize / 8);
        }
    }
    rest.iter()
        .position(|&b| b >= 0x80)
        .map(|i| skipped + chunks.len() * 8 + i)
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
    fn the_first_non_ascii_byte_is_found_at_any_place() {
        for len in 0..100 {
            let mut bytes = vec![b'a'; len];
            assert_eq!(first_non_ascii(&bytes), None);
            for at in 0..len {
                bytes[at] = 0xC3;
                assert_eq!(first_non_ascii(&bytes), Some(at), "{len} {at}");
                if at + 1 < len {
                    bytes[at + 1] = 0xA9;
                    assert_eq!(first_non_ascii(&bytes), Some(at));
                }
                bytes.fill(b'a');
            }
        }
    }

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
        // Three runs of non-ASCII characters (six entries) for four remembered offsets: the line
        // is not charted, and a place not remembered is left to the text.
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
    }

    /// The UTF-16 position of every character boundary of `text`, the slow and sure way.
    fn truth(text: &str) -> Vec<(u32, (u32, u32))> {
        let (mut line, mut column) = (0, 0);
        let mut out = Vec::new();
        let mut chars = text.char_indices().peekable();
        loop {
            let Some((i, c)) = chars.next() else {
                out.push((text.len() as u32, (line, column)));
                return out;
            };
            out.push((i as u32, (line, column)));
            if c == '\n' || (c == '\r' && chars.peek().map(|p| p.1) != Some('\n')) {
                (line, column) = (line + 1, 0);
            } else if c != '\r' {
                column += c.len_utf16() as u32;
            }
        }
    }

    #[test]
    fn a_line_with_few_accents_is_charted_and_a_line_of_cyrillic_keeps_its_offsets() {
        let text = "Zürich [[a]] then [[b | Kraków]] and [[c]]\n\
                    Привет [[d]] мир\r\n\
                    plain [[e]]\n\
                    🎬 [[f]]\n\
                    Москва é🎬🎬жж [[g]] [[h | là]] [[i]] [[j]] [[k]]";
        let mut map = LineMap::new(text);
        let ends: Vec<u32> = [
            "[[a]]",
            "[[b | Kraków]]",
            "[[c]]",
            "[[d]]",
            "[[e]]",
            "[[f]]",
            "[[g]]",
            "[[h | là]]",
            "[[i]]",
            "[[j]]",
            "[[k]]",
        ]
        .iter()
        .flat_map(|l| {
            let i = text.find(l).unwrap() as u32;
            [i, i + l.len() as u32]
        })
        .collect();
        map.remember_utf16_columns(text, ends.clone());
        // Two accents (two runs) for six ends; one emoji for two ends; five runs of three
        // widths for ten ends: charted, and every place on them is known (inside "Москва" and
        // "🎬🎬" by proportion). Two words of Cyrillic for two ends: not.
        assert!(map.is_charted(0) && map.is_charted(3) && map.is_charted(4));
        assert!(!map.is_charted(1));
        assert_eq!(
            map.column_bytes(),
            8 * (4 + 2 + 2 + 10),
            "{:?}",
            map.columns()
        );
        for (offset, place) in truth(text) {
            let (line, _) = map.line_of(offset);
            let found = map.utf16_position(offset);
            if ends.contains(&offset) || line != 1 {
                assert_eq!(found, Some(place), "offset {offset}");
            } else {
                // Never a wrong place: either the right one or none (the caller reads the text).
                assert_eq!(found, None, "offset {offset}");
            }
        }
        // A line of no remembered offset keeps nothing.
        let mut map = LineMap::new(text);
        map.remember_utf16_columns(text, vec![ends[8], ends[9]]);
        assert_eq!(map.column_bytes(), 0);
    }
}
