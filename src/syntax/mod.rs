//! One note's text to its parsed form: frontmatter, headings, links, timestamps and the
//! problems found on the way. Pure functions over `&str` with byte offsets; no LSP types, no I/O.
//!
//! Parsing never fails: whatever the input, [`parse_note`] returns a [`ParsedNote`] whose
//! ranges all lie inside the text and on `char` boundaries, plus the [`Problem`]s it saw.

mod lines;
mod parse;
mod slug;
mod timestamp;

pub use lines::LineMap;
pub use parse::{forget_shared_names, parse_count, parse_note, parse_note_slim};
pub use slug::{loose_key, loose_key_into, slug};

/// A link's target or heading as written. Cheap to clone, one pointer wide: the index shares one
/// copy between all the links of a scan that spell a name alike (a vault links to a few thousand
/// topics hundreds of times each), which is most of the index's memory otherwise.
pub type Name = arcstr::ArcStr;

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

    /// Drops what only an open note needs (problems, timestamps, code, display texts), keeping what
    /// the index of a closed note uses: names, headings, link targets and every range.
    pub fn slim(&mut self) {
        self.problems = Vec::new();
        self.timestamps = Vec::new();
        self.code = Vec::new();
        self.links.shrink_to_fit();
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

/// A wiki-link `[[target#heading | display]]` or embed `![[...]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// From `[[` (or the `!` of an embed) through `]]`; for an unclosed link, to the end of its
    /// line.
    pub range: TextRange,
    pub embed: bool,
    /// Whether the link ends with `]]` on its line.
    pub closed: bool,
    /// The target with surrounding whitespace removed (may be empty). Shared between the links
    /// of the index that spell it alike (see [`Name`]).
    pub target: Name,
    /// Where the trimmed target is written; empty range at the position after `[[` (and
    /// whitespace) when the target is empty.
    pub target_range: TextRange,
    /// The part after `#`, trimmed, when there is a `#`.
    pub heading: Option<Name>,
    pub heading_range: Option<TextRange>,
    /// Where the part after `|` is written, trimmed, when there is a `|` (its text is read from
    /// the note's text with [`Link::display`]: the index keeps no text of closed notes).
    pub display_range: Option<TextRange>,
}

impl Link {
    /// The display text (the part after `|`, trimmed) read from `text`, the note's text.
    pub fn display<'a>(&self, text: &'a str) -> Option<&'a str> {
        self.display_range.and_then(|r| text.get(r.as_usize()))
    }

    /// The text a reader sees: the display text, else the target (and heading).
    pub fn shown_text(&self, text: &str) -> String {
        match (self.display(text), &self.heading) {
            (Some(d), _) if !d.is_empty() => d.to_string(),
            (_, Some(h)) if !self.target.is_empty() => format!("{} > {}", self.target, h),
            (_, Some(h)) => h.to_string(),
            _ => self.target.to_string(),
        }
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
