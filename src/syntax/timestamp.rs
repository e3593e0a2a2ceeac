//! Video timestamps inside one line of a note: the `<a class="yt-timestamp" data-t="…">[…]</a>`
//! anchor, the plain `[HH:MM:SS]` form, and the problems an anchor can have.
//!
//! The inline scanner in `parse` calls in here when it meets `<` or `[`; everything is bounded by
//! the line, and the searches that could run to the end of the line are memoised per line so a
//! line of ten thousand broken anchors still costs one pass.

use super::{Problem, ProblemKind, TextRange, Timestamp, TimestampKind};

/// A clock time as written, `H:MM:SS` or `M:SS`, before any range check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Clock {
    /// 2 or 3.
    parts: u8,
    hours: u32,
    minutes: u32,
    seconds: u32,
    /// Digit counts of the minutes and seconds parts.
    minute_digits: u8,
    second_digits: u8,
}

/// More hour digits than this is not a clock: it could not fit in a `u32` of seconds anyway.
const MAX_HOUR_DIGITS: usize = 5;

impl Clock {
    /// Reads `H:MM:SS` or `M:SS` (each part ASCII digits; minutes and seconds one or two of
    /// them). Anything else, including a fourth part, is not a clock.
    pub(super) fn read(s: &str) -> Option<Clock> {
        let mut parts = [0u32; 3];
        let mut digits = [0u8; 3];
        let mut n = 0usize;
        // Split by bytes: a `str` split sets up a searcher, and notes hold millions of these.
        for part in s.as_bytes().split(|&b| b == b':') {
            if n == 3 || part.is_empty() || !part.iter().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // Minutes and seconds are the last two parts; only the first of three may be long.
            let max = if n == 0 { MAX_HOUR_DIGITS } else { 2 };
            if part.len() > max {
                return None;
            }
            parts[n] = part
                .iter()
                .fold(0, |acc, &b| acc * 10 + u32::from(b - b'0'));
            digits[n] = part.len() as u8;
            n += 1;
        }
        match n {
            2 if digits[0] <= 2 => Some(Clock {
                parts: 2,
                hours: 0,
                minutes: parts[0],
                seconds: parts[1],
                minute_digits: digits[0],
                second_digits: digits[1],
            }),
            3 => Some(Clock {
                parts: 3,
                hours: parts[0],
                minutes: parts[1],
                seconds: parts[2],
                minute_digits: digits[1],
                second_digits: digits[2],
            }),
            _ => None,
        }
    }

    /// The moment in seconds, unless minutes or seconds are 60 or more.
    pub(super) fn total(self) -> Option<u32> {
        (self.minutes < 60 && self.seconds < 60)
            .then(|| self.hours * 3600 + self.minutes * 60 + self.seconds)
    }

    /// What is out of range, for a message: `minutes 75`.
    fn out_of_range(self) -> Option<String> {
        if self.minutes >= 60 {
            Some(format!("minutes {}", self.minutes))
        } else if self.seconds >= 60 {
            Some(format!("seconds {}", self.seconds))
        } else {
            None
        }
    }

    /// `HH:MM:SS` with two-digit minutes and seconds (hours may have any number of digits).
    fn is_canonical(self) -> bool {
        self.parts == 3 && self.minute_digits == 2 && self.second_digits == 2
    }
}

/// Per-line memo of forward searches. The scanner only moves forward, so the next `>` or `</a>`
/// found from one position answers every later query up to it, and "none" answers all of them.
#[derive(Debug, Default)]
pub(super) struct LineMemo {
    gt: Option<Found>,
    close: Option<Found>,
    /// Set once an `<a ` is found with no end on this line: every later one has no end either.
    dead: bool,
    /// Set once an unterminated timestamp anchor is reported: the rest of the line is inside it,
    /// so a `[00:01:00]` there is its text, not a second timestamp.
    pub(super) in_broken_anchor: bool,
}

#[derive(Debug, Clone, Copy)]
struct Found {
    from: usize,
    at: Option<usize>,
}

impl LineMemo {
    fn next_gt(&mut self, bytes: &[u8], pos: usize, end: usize) -> Option<usize> {
        if let Some(f) = self.gt
            && f.from <= pos
            && f.at.is_none_or(|a| a >= pos)
        {
            return f.at;
        }
        let at = memchr::memchr(b'>', &bytes[pos..end]).map(|k| pos + k);
        self.gt = Some(Found { from: pos, at });
        at
    }

    /// The next `</a>` (either case).
    fn next_close(&mut self, bytes: &[u8], pos: usize, end: usize) -> Option<usize> {
        if let Some(f) = self.close
            && f.from <= pos
            && f.at.is_none_or(|a| a >= pos)
        {
            return f.at;
        }
        let mut at = None;
        let mut k = pos;
        // From `<` to `<`: timestamps close a line's anchors, and every note has dozens.
        while k + 4 <= end {
            let Some(lt) = memchr::memchr(b'<', &bytes[k..end - 3]) else {
                break;
            };
            k += lt;
            if bytes[k + 1] == b'/' && (bytes[k + 2] | 0x20) == b'a' && bytes[k + 3] == b'>' {
                at = Some(k);
                break;
            }
            k += 1;
        }
        self.close = Some(Found { from: pos, at });
        at
    }
}

/// What the scanner should do after meeting `<` at some position.
#[derive(Debug)]
pub(super) enum AnchorScan {
    /// Not an `<a ` tag: go on after the `<`.
    NotAnchor,
    /// An HTML tag that is no timestamp: go on at `resume` (after its `>`).
    Skip { resume: usize },
    /// A timestamp anchor (well formed or not); go on at `resume`.
    Found {
        timestamp: Timestamp,
        problem: Option<Problem>,
        resume: usize,
    },
}

/// Looks for an anchor starting at `start` (a `<`), within the line ending at `end`.
///
/// The open tag ends at the first `>`, quoted or not: real timestamp anchors never put `>` in a
/// value, and when a quote is left open (`data-t="00:08:33>`) that is exactly the `>` the writer
/// meant; the open quote then shows up as a broken attribute.
pub(super) fn scan_anchor(text: &str, start: usize, end: usize, memo: &mut LineMemo) -> AnchorScan {
    let bytes = text.as_bytes();
    if start + 2 >= end
        || (bytes[start + 1] | 0x20) != b'a'
        || !matches!(bytes[start + 2], b' ' | b'\t')
        || memo.dead
    {
        return AnchorScan::NotAnchor;
    }
    let Some(gt) = memo.next_gt(bytes, start + 2, end) else {
        // No `>` anywhere after: nothing later on the line can be a whole anchor either.
        memo.dead = true;
        let rest = &text[start..end];
        if !has_yt_class(rest) {
            return AnchorScan::NotAnchor;
        }
        memo.in_broken_anchor = true;
        let attrs = read_attributes(text, start + 2, end);
        return unterminated(text, start, end, end, &attrs, start + 2);
    };
    let tag = &text[start..gt];
    if !has_yt_class(tag) && !tag.contains("data-t") {
        return AnchorScan::Skip { resume: gt + 1 };
    }
    let attrs = read_attributes(text, start + 2, gt);
    let Some(close) = memo.next_close(bytes, gt + 1, end) else {
        memo.dead = true;
        // A `data-t` on some other tag with no `</a>` is not worth a warning; only an anchor
        // that says it is a timestamp is.
        if !has_yt_class(tag) {
            return AnchorScan::Skip { resume: gt + 1 };
        }
        memo.in_broken_anchor = true;
        return unterminated(text, start, gt + 1, end, &attrs, gt + 1);
    };
    let text_range = TextRange::new(gt + 1, close);
    let range = TextRange::new(start, close + 4);
    let shown = &text[gt + 1..close];
    let (data_t, data_t_range) = match attrs.data_t {
        Some((a, b)) => (Some(text[a..b].to_string()), Some(TextRange::new(a, b))),
        None => (None, None),
    };
    let (seconds, problem) = judge(&attrs, data_t.as_deref(), shown, range, text_range);
    AnchorScan::Found {
        timestamp: Timestamp {
            range,
            seconds,
            kind: TimestampKind::Anchor {
                data_t,
                data_t_range,
                text: shown.to_string(),
                text_range,
            },
        },
        problem,
        resume: close + 4,
    }
}

/// Where scanning goes on after the `<` at `start`, exactly as [`scan_anchor`] decides it, but
/// without reading the anchor: the index of a closed note keeps no timestamps.
pub(super) fn anchor_resume(text: &str, start: usize, end: usize, memo: &mut LineMemo) -> usize {
    let bytes = text.as_bytes();
    if let Some(resume) = plain_anchor_end(&bytes[start..end]) {
        return start + resume;
    }
    if start + 2 >= end
        || (bytes[start + 1] | 0x20) != b'a'
        || !matches!(bytes[start + 2], b' ' | b'\t')
        || memo.dead
    {
        return start + 1;
    }
    let Some(gt) = memo.next_gt(bytes, start + 2, end) else {
        memo.dead = true;
        if !has_yt_class(&text[start..end]) {
            return start + 1;
        }
        memo.in_broken_anchor = true;
        return start + 2;
    };
    let tag = &text[start..gt];
    if !has_yt_class(tag) && !tag.contains("data-t") {
        return gt + 1;
    }
    let Some(close) = memo.next_close(bytes, gt + 1, end) else {
        memo.dead = true;
        if has_yt_class(tag) {
            memo.in_broken_anchor = true;
        }
        return gt + 1;
    };
    close + 4
}

/// The end of an anchor written exactly as the format writes them,
/// `<a class="yt-timestamp" data-t="00:08:33">[00:08:33]</a>`, at the start of `line` (digits
/// and colons inside, any number of them): a vault holds millions. Its first `>` and its first
/// `</a>` are the ones this shape shows, so [`scan_anchor`] would go on at the same place.
/// `None` for anything else, which goes the general way.
fn plain_anchor_end(line: &[u8]) -> Option<usize> {
    const OPEN: &[u8] = b"<a class=\"yt-timestamp\" data-t=\"";
    let clock = |from: usize| {
        from + line[from..]
            .iter()
            .take_while(|b| matches!(b, b'0'..=b'9' | b':'))
            .count()
    };
    if !line.starts_with(OPEN) {
        return None;
    }
    let k = clock(OPEN.len());
    if !line[k..].starts_with(b"\">[") {
        return None;
    }
    let j = clock(k + 3);
    line[j..].starts_with(b"]</a>").then_some(j + 5)
}

/// Whether `text` holds `yt-timestamp`, with a searcher made once (`str::contains` makes one
/// for each of the vault's hundreds of thousands of anchors).
fn has_yt_class(text: &str) -> bool {
    // How the format writes them, told without a search (a vault has millions of anchors).
    if text.as_bytes().starts_with(b"<a class=\"yt-timestamp\"") {
        return true;
    }
    static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new("yt-timestamp"));
    FINDER.find(text.as_bytes()).is_some()
}

/// An anchor with no `</a>` on its line: it runs to the end of the line.
fn unterminated(
    text: &str,
    start: usize,
    text_start: usize,
    end: usize,
    attrs: &Attributes,
    resume: usize,
) -> AnchorScan {
    let range = TextRange::new(start, end);
    let (data_t, data_t_range, seconds) = match attrs.data_t {
        Some((a, b)) => (
            Some(text[a..b].to_string()),
            Some(TextRange::new(a, b)),
            Clock::read(&text[a..b]).and_then(Clock::total),
        ),
        None => (None, None, None),
    };
    AnchorScan::Found {
        timestamp: Timestamp {
            range,
            seconds,
            kind: TimestampKind::Anchor {
                data_t,
                data_t_range,
                text: text[text_start..end].to_string(),
                text_range: TextRange::new(text_start, end),
            },
        },
        problem: Some(problem(
            ProblemKind::MalformedTimestamp,
            range,
            "malformed timestamp: \"<a\" has no \"</a>\" on this line".to_string(),
        )),
        // The rest of the line may still hold links.
        resume,
    }
}

/// Decides the one problem an anchor gets (the first that applies) and its seconds.
fn judge(
    attrs: &Attributes,
    data_t: Option<&str>,
    shown: &str,
    range: TextRange,
    text_range: TextRange,
) -> (Option<u32>, Option<Problem>) {
    use ProblemKind::*;
    let malformed = |msg: String| Some(problem(MalformedTimestamp, range, msg));
    let data_clock = data_t.and_then(Clock::read);
    let data_seconds = data_clock.and_then(Clock::total);
    if let Some(name) = attrs.broken {
        let msg = format!("malformed timestamp: attribute \"{name}\" has an unclosed quote");
        return (data_seconds, malformed(msg));
    }
    if attrs.unquoted_data_t {
        let msg = "malformed timestamp: the data-t value is not quoted".to_string();
        return (data_seconds, malformed(msg));
    }
    let Some(data_t) = data_t else {
        return (
            None,
            malformed("malformed timestamp: no data-t attribute".to_string()),
        );
    };
    let Some(data_clock) = data_clock else {
        return (
            None,
            malformed(format!(
                "malformed timestamp: data-t \"{data_t}\" is not a time"
            )),
        );
    };
    let bracketed = shown.len() >= 2 && shown.starts_with('[') && shown.ends_with(']');
    let inner = if bracketed {
        &shown[1..shown.len() - 1]
    } else {
        shown
    };
    let shown_clock = Clock::read(inner);
    if let Some(what) = data_clock.out_of_range() {
        let msg = format!("invalid timestamp: {what} in data-t \"{data_t}\" (must be under 60)");
        return (None, Some(problem(InvalidTimestamp, range, msg)));
    }
    if let Some(what) = shown_clock.and_then(Clock::out_of_range) {
        let msg = format!("invalid timestamp: {what} in \"{shown}\" (must be under 60)");
        return (None, Some(problem(InvalidTimestamp, range, msg)));
    }
    if !data_clock.is_canonical() {
        let msg = format!("malformed timestamp: data-t \"{data_t}\" should be HH:MM:SS");
        return (data_seconds, malformed(msg));
    }
    if shown.is_empty() {
        return (
            data_seconds,
            malformed("malformed timestamp: empty text".to_string()),
        );
    }
    if !bracketed && shown_clock.is_some() {
        let msg = format!("malformed timestamp: text \"{shown}\" should be in brackets");
        return (data_seconds, malformed(msg));
    }
    let Some(shown_seconds) = shown_clock.and_then(Clock::total) else {
        let msg = format!("malformed timestamp: text \"{shown}\" is not a time");
        return (data_seconds, malformed(msg));
    };
    if Some(shown_seconds) != data_seconds {
        let msg = format!("timestamp mismatch: text {shown} but data-t \"{data_t}\"");
        return (
            data_seconds,
            Some(problem(TimestampMismatch, text_range, msg)),
        );
    }
    (data_seconds, None)
}

fn problem(kind: ProblemKind, range: TextRange, message: String) -> Problem {
    Problem {
        kind,
        range,
        message,
    }
}

/// The attributes of an open tag that matter here.
#[derive(Debug, Default)]
struct Attributes<'a> {
    /// Byte range of the first readable `data-t` value.
    data_t: Option<(usize, usize)>,
    /// Name of the first attribute whose quoted value never closes.
    broken: Option<&'a str>,
    /// `data-t=00:08:33`: readable, but not the form (`data-t="00:08:33"`).
    unquoted_data_t: bool,
}

/// Reads `name="value"`, `name='value'`, `name=value` and bare `name` attributes from
/// `start..end` (inside an open tag, after `<a`).
fn read_attributes(text: &str, start: usize, end: usize) -> Attributes<'_> {
    let bytes = text.as_bytes();
    let mut out = Attributes::default();
    let mut i = start;
    let is_space = |b: u8| b.is_ascii_whitespace();
    while i < end {
        while i < end && is_space(bytes[i]) {
            i += 1;
        }
        if i >= end {
            break;
        }
        let name_start = i;
        while i < end && !is_space(bytes[i]) && !matches!(bytes[i], b'=' | b'"' | b'\'' | b'/') {
            i += 1;
        }
        let name = &text[name_start..i];
        if name.is_empty() && !matches!(bytes[i], b'"' | b'\'') {
            // A stray `=` or `/`.
            i += 1;
            continue;
        }
        let mut j = i;
        while j < end && is_space(bytes[j]) {
            j += 1;
        }
        let has_value = name.is_empty() || (j < end && bytes[j] == b'=');
        if !has_value {
            continue;
        }
        if !name.is_empty() {
            j += 1;
            while j < end && is_space(bytes[j]) {
                j += 1;
            }
        }
        let (value, next) = if j < end && matches!(bytes[j], b'"' | b'\'') {
            let quote = bytes[j];
            match bytes[j + 1..end].iter().position(|&b| b == quote) {
                Some(k) => ((j + 1, j + 1 + k), j + 2 + k),
                None => {
                    out.broken = Some(if name.is_empty() { "\"" } else { name });
                    return out;
                }
            }
        } else {
            let v = j;
            while j < end && !is_space(bytes[j]) {
                j += 1;
            }
            if name.eq_ignore_ascii_case("data-t") && out.data_t.is_none() {
                out.unquoted_data_t = true;
            }
            ((v, j), j)
        };
        if out.data_t.is_none() && name.eq_ignore_ascii_case("data-t") {
            out.data_t = Some(value);
        }
        i = next;
    }
    out
}

/// A plain `[HH:MM:SS]` or `[MM:SS]` at `start` (a `[`), unless it is the text of a markdown
/// link (`[00:01:15](url)`). Minutes and seconds must have two digits; hours one or more.
pub(super) fn scan_plain(
    text: &str,
    start: usize,
    end: usize,
) -> Option<(Timestamp, Option<Problem>)> {
    let bytes = text.as_bytes();
    // Longest accepted: `[` + 5 hour digits + `:MM:SS` + `]`.
    let limit = end.min(start + 2 + MAX_HOUR_DIGITS + 6);
    let mut close = start + 1;
    while close < limit && (bytes[close].is_ascii_digit() || bytes[close] == b':') {
        close += 1;
    }
    if close >= end || bytes[close] != b']' {
        return None;
    }
    if close + 1 < end && bytes[close + 1] == b'(' {
        return None;
    }
    let inner = &text[start + 1..close];
    let clock = Clock::read(inner)?;
    if clock.minute_digits != 2 || clock.second_digits != 2 {
        return None;
    }
    let range = TextRange::new(start, close + 1);
    let seconds = clock.total();
    let problem = clock.out_of_range().map(|what| Problem {
        kind: ProblemKind::InvalidTimestamp,
        range,
        message: format!("invalid timestamp: {what} in [{inner}] (must be under 60)"),
    });
    Some((
        Timestamp {
            range,
            seconds,
            kind: TimestampKind::Plain,
        },
        problem,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_reads_hours_minutes_seconds() {
        let c = Clock::read("01:02:03").unwrap();
        assert_eq!(c.total(), Some(3723));
        assert!(c.is_canonical());
        assert_eq!(
            Clock::read("123:00:01").unwrap().total(),
            Some(123 * 3600 + 1)
        );
    }

    #[test]
    fn clock_reads_minutes_and_seconds() {
        let c = Clock::read("08:33").unwrap();
        assert_eq!(c.total(), Some(513));
        assert!(!c.is_canonical());
    }

    #[test]
    fn clock_rejects_other_shapes() {
        for s in [
            "",
            "1",
            "00:08:33:12",
            "aa:bb:cc",
            "00::33",
            "00:8:333",
            "123:45",
            "1:2:3x",
            "999999:00:00",
        ] {
            assert_eq!(Clock::read(s), None, "{s}");
        }
    }

    #[test]
    fn clock_out_of_range_has_no_total() {
        let c = Clock::read("00:61:05").unwrap();
        assert_eq!(c.total(), None);
        assert_eq!(c.out_of_range().as_deref(), Some("minutes 61"));
        assert_eq!(
            Clock::read("00:01:75").unwrap().out_of_range().as_deref(),
            Some("seconds 75")
        );
    }

    #[test]
    fn largest_clock_fits_in_seconds() {
        assert_eq!(
            Clock::read("99999:59:59").unwrap().total(),
            Some(99999 * 3600 + 3599)
        );
    }

    #[test]
    fn attributes_in_any_order_and_quote_style() {
        let tag = "<a data-t='00:00:07' class=\"yt-timestamp\"";
        let attrs = read_attributes(tag, 2, tag.len());
        let (a, b) = attrs.data_t.unwrap();
        assert_eq!(&tag[a..b], "00:00:07");
        assert!(attrs.broken.is_none());
    }

    #[test]
    fn unclosed_quote_is_a_broken_attribute() {
        let tag = "<a class=\"yt-timestamp\" data-t=\"00:00:07";
        let attrs = read_attributes(tag, 2, tag.len());
        assert_eq!(attrs.broken, Some("data-t"));
        assert_eq!(attrs.data_t, None);
    }
}
