//! One note's text to its parsed form: frontmatter, headings, links, timestamps and the
//! problems found on the way. Pure functions over `&str` with byte offsets; no LSP types, no I/O.
//!
//! Parsing never fails: whatever the input, [`parse_note`] returns a [`ParsedNote`] whose
//! ranges all lie inside the text and on `char` boundaries, plus the [`Problem`]s it saw.

mod lines;
mod names;
mod parse;
mod slug;
mod timestamp;

pub use lines::LineMap;
pub use names::{NO_NAME, NumberedName, ScanNames, forget_shared_names};
pub use parse::{
    parse_count, parse_note, parse_note_for_index, parse_note_for_scan, parse_note_slim,
};
pub use slug::{
    key_hash, last_segment, link_key_into, loose_key, loose_key_into, slug, slug_into,
    strip_note_extension,
};

/// A link's target or heading as written. Cheap to clone, one pointer wide: the index shares one
/// copy between all the links of a scan that spell a name alike (a vault links to a few thousand
/// topics hundreds of times each), which is most of the index's memory otherwise.
pub type Name = arcstr::ArcStr;

/// Asks the processor to start loading the cache line at `ptr` into its caches, and goes on: a
/// hint, with no effect on what the program computes (and none on other processors).
///
/// A hub's references and rename read a few lines of each of thousands of notes spread all over
/// memory, one pointer leading to the next (note slot, note, its parse, its links and line map);
/// a scan looks up each link's target among a hundred thousand names. Each waits on memory in
/// turn; fetching a few ahead lets those waits overlap. One of the crate's few `unsafe` blocks
/// (ARCHITECTURE.md lists them).
#[inline(always)]
pub fn prefetch<T>(ptr: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults, whatever the address (null included), and writes nothing.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(ptr.cast::<i8>())
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = ptr;
}

/// A half-open byte range `start..end` into a note's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct TextRange {
    pub start: u32,
    pub end: u32,
}

impl TextRange {
    pub fn new(start: usize, end: usize) -> TextRange {
        TextRange {
            start: start as u32,
            end: end as u32,
        }
    }
    pub fn len(self) -> u32 {
        self.end - self.start
    }
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
    /// Whether `offset` lies inside, counting the end too (a cursor just after the text is "on" it).
    pub fn touches(self, offset: u32) -> bool {
        self.start <= offset && offset <= self.end
    }
    pub fn as_usize(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// The parsed form of one note.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedNote {
    pub frontmatter: Option<Frontmatter>,
    /// Every ATX heading (`#` to `######`) outside code, in order.
    pub headings: Vec<Heading>,
    /// Every wiki-link outside code, in order, closed or not.
    pub links: Vec<Link>,
    /// The heading parts of the links that have a `#`, in order of their links (see
    /// [`ParsedNote::link_heading`]). Few links name a heading: kept here rather than in every
    /// [`Link`], which is 8 bytes smaller for it (the index holds millions).
    pub link_headings: Vec<LinkHeading>,
    /// Every timestamp (anchor or plain) outside code, in order.
    pub timestamps: Vec<Timestamp>,
    /// Problems the parser saw, in order of position.
    pub problems: Vec<Problem>,
    /// Where code is, in order: fenced blocks (from the opening fence line through the closing
    /// one), indented code lines and inline code spans (with their backticks).
    pub code: Vec<TextRange>,
    /// Where the lines start (kept for closed notes, whose text is not).
    pub lines: LineMap,
}

impl ParsedNote {
    /// The note's title: frontmatter `title`, else the first `# ` heading's plain text.
    /// (The caller falls back to the file stem.)
    pub fn title(&self) -> Option<&str> {
        self.frontmatter
            .as_ref()
            .and_then(|f| f.title.as_deref())
            .filter(|t| !t.trim().is_empty())
            .or_else(|| {
                self.headings
                    .iter()
                    .find(|h| h.level == 1)
                    .map(|h| h.text.as_str())
                    .filter(|t| !t.trim().is_empty())
            })
    }

    pub fn video_id(&self) -> Option<&str> {
        self.frontmatter
            .as_ref()
            .and_then(|f| f.video_id.as_deref())
    }

    pub fn aliases(&self) -> &[String] {
        self.frontmatter
            .as_ref()
            .map(|f| f.aliases.as_slice())
            .unwrap_or(&[])
    }

    /// The heading part of `link` (one of [`ParsedNote::links`]): the text after `#`, trimmed,
    /// and where it is written; `None` when the link has no `#`.
    pub fn link_heading(&self, link: &Link) -> Option<(&Name, TextRange)> {
        if !link.has_heading() {
            return None;
        }
        let i = self
            .link_headings
            .binary_search_by_key(&link.start, |h| h.link_start)
            .ok()?;
        let name = &self.link_headings[i].name;
        let start = link.start + link.heading_at as u32;
        Some((
            name,
            TextRange {
                start,
                end: start + name.len() as u32,
            },
        ))
    }

    /// The text a reader sees of `link`: the display text, else the target (and heading).
    /// `text` is the note's text.
    pub fn shown_text(&self, link: &Link, text: &str) -> String {
        match (link.display(text), self.link_heading(link)) {
            (Some(d), _) if !d.is_empty() => d.to_string(),
            (_, Some((h, _))) if !link.target.is_empty() => format!("{} > {}", link.target, h),
            (_, Some((h, _))) => h.to_string(),
            _ => link.target.to_string(),
        }
    }

    /// Drops what only an open note needs (problems, timestamps, code, display texts), keeping what
    /// the index of a closed note uses: names, headings, link targets and every range.
    pub fn slim(&mut self) {
        self.problems = Vec::new();
        self.timestamps = Vec::new();
        self.code = Vec::new();
        self.links.shrink_to_fit();
        self.link_headings.shrink_to_fit();
        self.headings.shrink_to_fit();
    }
}

/// YAML frontmatter between `---` lines at the very top of a note.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Frontmatter {
    /// From the opening `---` through the closing `---` line (including its line break).
    pub range: TextRange,
    pub title: Option<String>,
    /// Where the title's value is written (for rename), when it is a plain scalar on one line.
    pub title_range: Option<TextRange>,
    pub video_id: Option<String>,
    /// `aliases:` as a list, or a single string.
    pub aliases: Vec<String>,
}

/// An ATX heading and the section it opens.
#[derive(Debug, Clone, PartialEq)]
pub struct Heading {
    /// 1 for `#`, up to 6.
    pub level: u8,
    /// The heading's plain text: trimmed, closing `#`s removed, wiki-links replaced by their
    /// display text (or target), markdown links by their text.
    pub text: String,
    /// The whole heading line, without its line break.
    pub range: TextRange,
    /// The raw heading text after the `#`s, trimmed (for rename of a heading).
    pub text_range: TextRange,
    /// Zero-based line number of the heading.
    pub line: u32,
    /// End of the section: the start of the next heading of the same or a higher level, or the
    /// end of the text.
    pub section_end: u32,
}

/// The most bytes between a link's `[[` and its `]]` (or the end of an unclosed link): past
/// this the parser stops looking for the `]]`. Real links are a few dozen bytes; the bound lets
/// a [`Link`] keep its ranges as 16-bit offsets from its start (the index holds millions of
/// links), and keeps a `[[` on a megabyte-long line from naming a megabyte-long target.
pub const MAX_LINK_CONTENT: usize = 65_000;

/// A wiki-link `[[target#heading | display]]` or embed `![[...]]`.
///
/// 24 bytes: the index of a 100,000-note vault holds over four million. Its heading part is
/// kept by its note ([`ParsedNote::link_heading`]). The ranges are kept as
/// offsets from the link's start (see [`MAX_LINK_CONTENT`]) and read with the methods.
#[derive(Clone, PartialEq)]
pub struct Link {
    /// The target with surrounding whitespace removed (may be empty): the text at
    /// [`Link::target_range`]. Shared between the links of the index that spell it alike (see
    /// [`Name`]).
    pub target: Name,
    start: u32,
    len: u16,
    target_at: u16,
    heading_at: u16,
    display_at: u16,
    display_len: u16,
    flags: u8,
}

const EMBED: u8 = 1;
const CLOSED: u8 = 2;
const HAS_DISPLAY: u8 = 4;
const HAS_HEADING: u8 = 8;

/// The heading part of a link (see [`ParsedNote::link_headings`]).
#[derive(Debug, Clone, PartialEq)]
pub struct LinkHeading {
    /// Where its link starts (links start at distinct offsets).
    pub link_start: u32,
    /// The part after `#`, trimmed.
    pub name: Name,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("range", &self.range())
            .field("embed", &self.embed())
            .field("closed", &self.closed())
            .field("target", &self.target)
            .field("target_range", &self.target_range())
            .field("has_heading", &self.has_heading())
            .field("display_range", &self.display_range())
            .finish()
    }
}

impl Link {
    /// A link at `range` (at most [`MAX_LINK_CONTENT`] plus its brackets long; the parts are
    /// inside it). `target` is the text at its range; `heading` is where the heading part is
    /// written, when there is a `#` (its text goes to [`ParsedNote::link_headings`]).
    pub fn new(
        range: TextRange,
        embed: bool,
        closed: bool,
        target: (Name, TextRange),
        heading: Option<TextRange>,
        display_range: Option<TextRange>,
    ) -> Link {
        debug_assert!(range.len() as usize <= MAX_LINK_CONTENT + 5, "{range:?}");
        debug_assert_eq!(target.0.len(), target.1.len() as usize);
        let at = |r: TextRange| {
            debug_assert!(
                range.start <= r.start && r.end <= range.end,
                "{r:?} in {range:?}"
            );
            r.start.saturating_sub(range.start).min(u16::MAX as u32) as u16
        };
        let display = display_range.unwrap_or_default();
        Link {
            target_at: at(target.1),
            target: target.0,
            start: range.start,
            len: range.len().min(u16::MAX as u32) as u16,
            heading_at: heading.map_or(0, at),
            display_at: display_range.map_or(0, at),
            display_len: display.len().min(u16::MAX as u32) as u16,
            flags: if embed { EMBED } else { 0 }
                | if closed { CLOSED } else { 0 }
                | if display_range.is_some() {
                    HAS_DISPLAY
                } else {
                    0
                }
                | if heading.is_some() { HAS_HEADING } else { 0 },
        }
    }

    /// From `[[` (or the `!` of an embed) through `]]`; for an unclosed link, to the end of its
    /// line (or [`MAX_LINK_CONTENT`] bytes on).
    pub fn range(&self) -> TextRange {
        TextRange {
            start: self.start,
            end: self.start + self.len as u32,
        }
    }

    pub fn embed(&self) -> bool {
        self.flags & EMBED != 0
    }

    /// Whether the link ends with `]]` on its line.
    pub fn closed(&self) -> bool {
        self.flags & CLOSED != 0
    }

    /// Where the trimmed target is written; empty range at the position after `[[` (and
    /// whitespace) when the target is empty.
    pub fn target_range(&self) -> TextRange {
        let start = self.start + self.target_at as u32;
        TextRange {
            start,
            end: start + self.target.len() as u32,
        }
    }

    /// Whether the link has a `#` (its heading part is [`ParsedNote::link_heading`]).
    pub fn has_heading(&self) -> bool {
        self.flags & HAS_HEADING != 0
    }

    /// Where the part after `|` is written, trimmed, when there is a `|` (its text is read from
    /// the note's text with [`Link::display`]: the index keeps no text of closed notes).
    pub fn display_range(&self) -> Option<TextRange> {
        (self.flags & HAS_DISPLAY != 0).then(|| {
            let start = self.start + self.display_at as u32;
            TextRange {
                start,
                end: start + self.display_len as u32,
            }
        })
    }
    /// The display text (the part after `|`, trimmed) read from `text`, the note's text.
    pub fn display<'a>(&self, text: &'a str) -> Option<&'a str> {
        self.display_range().and_then(|r| text.get(r.as_usize()))
    }
}

/// A moment in the note's video.
#[derive(Debug, Clone, PartialEq)]
pub struct Timestamp {
    /// The whole anchor `<a ...>...</a>`, or the bracketed plain text `[00:01:15]`.
    pub range: TextRange,
    /// The moment in seconds; `None` when it cannot be read (malformed or invalid).
    pub seconds: Option<u32>,
    pub kind: TimestampKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TimestampKind {
    /// `<a class="yt-timestamp" data-t="00:08:33">[00:08:33]</a>`
    Anchor {
        /// The `data-t` value, when the attribute could be read.
        data_t: Option<String>,
        data_t_range: Option<TextRange>,
        /// The text between `>` and `</a>`, as written (may be empty or lack brackets).
        text: String,
        text_range: TextRange,
    },
    /// `[HH:MM:SS]` or `[MM:SS]`
    Plain,
}

/// Something wrong in a note's text that the parser alone can see.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub kind: ProblemKind,
    pub range: TextRange,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemKind {
    /// `[[]]` or `[[ | x]]`: no target.
    EmptyLink,
    /// `[[` with no `]]` on its line.
    UnclosedLink,
    /// An anchor whose `data-t` and bracketed text name different moments.
    TimestampMismatch,
    /// Minutes or seconds of 60 or more.
    InvalidTimestamp,
    /// An anchor that does not follow the form.
    MalformedTimestamp,
    /// Frontmatter that is not valid YAML, is not a mapping, or never closes.
    BadFrontmatter,
}

impl ProblemKind {
    /// The stable diagnostic code.
    pub fn code(self) -> &'static str {
        match self {
            ProblemKind::EmptyLink => "empty-link",
            ProblemKind::UnclosedLink => "unclosed-link",
            ProblemKind::TimestampMismatch => "timestamp-mismatch",
            ProblemKind::InvalidTimestamp => "invalid-timestamp",
            ProblemKind::MalformedTimestamp => "malformed-timestamp",
            ProblemKind::BadFrontmatter => "bad-frontmatter",
        }
    }
}
