//! The markdown preview of a note (or one of its sections) shown by hover and completion:
//! title, video, speaker, first paragraph, then each section with its first moment.

use std::sync::Arc;

use super::format_moment;
use crate::syntax::{self, Link, ParsedNote, TextRange, TimestampKind};
use crate::vault::{NoteId, Vault};

/// About how long a preview may be; editors show long hovers badly.
const BUDGET: usize = 1500;
const PARAGRAPH_BUDGET: usize = 600;

/// The preview of note `id`, or of its section `heading` when given and found.
pub fn note_preview(vault: &Vault, id: NoteId, heading: Option<&str>) -> Option<String> {
    let note = vault.note(id)?;
    let text = vault.text(id)?;
    // The index's parse of a closed note may predate the file we just read.
    let parsed: Arc<ParsedNote> = if note.open_text.is_some() {
        note.parsed.clone()
    } else {
        Arc::new(syntax::parse_note(&text))
    };
    let video = parsed.video_id().map(str::trim).filter(|v| !v.is_empty());
    let ctx = Context {
        text: &text,
        parsed: &parsed,
        vault,
        from: note.path(),
    };
    let title = parsed.title().unwrap_or(note.stem()).trim().to_owned();
    let mut out = String::new();

    let section = heading.and_then(|h| {
        let key = syntax::slug(h);
        parsed
            .headings
            .iter()
            .find(|x| syntax::slug(&x.text) == key)
    });
    if let Some(section) = section {
        out.push_str(&format!("### {title} › {}\n\n", section.text));
        let body = TextRange {
            start: section.range.end,
            end: section.section_end,
        };
        let rendered = render(&text, body, &ctx, video);
        out.push_str(&truncate(rendered.trim(), BUDGET.saturating_sub(out.len())));
        return Some(out);
    }

    out.push_str(&format!("### {title}\n\n"));
    if let Some(v) = video {
        out.push_str(&format!(
            "▶ [Watch the video](https://www.youtube.com/watch?v={v})\n\n"
        ));
    }
    let body_start = parsed.frontmatter.as_ref().map_or(0, |f| f.range.end) as usize;
    let body_start = body_start.min(text.len());
    let mut paragraph: Option<TextRange> = None;
    let mut offset = body_start;
    for line in text[body_start..].split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim();
        let in_heading = parsed
            .headings
            .iter()
            .any(|h| h.range.start as usize == start);
        if trimmed.starts_with("From:") && paragraph.is_none() {
            let range = TextRange::new(start, start + line.trim_end().len());
            let from = render(&text, range, &ctx, video);
            out.push_str(from.trim());
            out.push_str("\n\n");
            continue;
        }
        match (&mut paragraph, trimmed.is_empty() || in_heading) {
            (None, false) => paragraph = Some(TextRange::new(start, start + line.len())),
            (Some(p), false) => p.end = (start + line.len()) as u32,
            (Some(_), true) => break,
            (None, true) => {}
        }
    }
    if let Some(p) = paragraph {
        let rendered = render(&text, p, &ctx, video);
        out.push_str(&truncate(rendered.trim(), PARAGRAPH_BUDGET));
        out.push_str("\n\n");
    }

    let mut sections = String::new();
    for h in parsed.headings.iter().filter(|h| h.level > 1) {
        let moment = parsed
            .timestamps
            .iter()
            .find(|t| t.range.start >= h.range.end && t.range.start < h.section_end)
            .and_then(|t| t.seconds);
        let line = match (moment, video) {
            (Some(s), Some(v)) => {
                format!(
                    "- **{}** · [{}]({})\n",
                    h.text,
                    format_moment(s),
                    vault.config().timestamp_url(v, s)
                )
            }
            (Some(s), None) => format!("- **{}** · {}\n", h.text, format_moment(s)),
            _ => format!("- **{}**\n", h.text),
        };
        if out.len() + sections.len() + line.len() > BUDGET {
            sections.push_str("- …\n");
            break;
        }
        sections.push_str(&line);
    }
    if !sections.is_empty() {
        out.push_str(&sections);
    }
    Some(out.trim_end().to_owned())
}

/// What rendering needs besides the text: the parse, and the vault to name linked notes.
struct Context<'a> {
    text: &'a str,
    parsed: &'a ParsedNote,
    vault: &'a Vault,
    from: &'a std::path::Path,
}

impl Context<'_> {
    /// A link as a reader sees it: its display text, else the title of the note it leads to
    /// (`From: [[ada_lovelace]]` reads "From: Ada Lovelace"), else its target.
    fn shown(&self, link: &Link) -> String {
        if link.display(self.text).is_some_and(|d| !d.is_empty()) || link.target.is_empty() {
            return self.parsed.shown_text(link, self.text);
        }
        match self
            .vault
            .resolve(&link.target, self.from)
            .note()
            .and_then(|id| self.vault.note(id))
        {
            Some(n) => n.title().to_owned(),
            None => self.parsed.shown_text(link, self.text),
        }
    }
}

/// The text of `range` as a reader sees it: anchors become markdown links to their moment,
/// wiki-links their display text, `<br/>` and other tags vanish.
fn render(text: &str, range: TextRange, ctx: &Context, video: Option<&str>) -> String {
    let parsed = ctx.parsed;
    let mut pieces: Vec<(TextRange, String)> = Vec::new();
    for link in parsed.links.iter().filter(|l| inside(l.range(), range)) {
        pieces.push((link.range(), ctx.shown(link)));
    }
    for t in parsed.timestamps.iter().filter(|t| inside(t.range, range)) {
        let shown = match t.seconds {
            Some(s) => match video {
                Some(v) => format!(
                    "[{}]({})",
                    format_moment(s),
                    ctx.vault.config().timestamp_url(v, s)
                ),
                None => format!("[{}]", format_moment(s)),
            },
            None => match &t.kind {
                TimestampKind::Anchor { text: inner, .. } => inner.clone(),
                TimestampKind::Plain => text[t.range.as_usize()].to_owned(),
            },
        };
        pieces.push((t.range, shown));
    }
    pieces.sort_by_key(|p| p.0.start);
    let mut out = String::new();
    let mut at = range.start as usize;
    for (r, shown) in pieces {
        if (r.start as usize) < at {
            continue;
        }
        out.push_str(&strip_tags(&text[at..r.start as usize]));
        out.push_str(&shown);
        at = r.end as usize;
    }
    out.push_str(&strip_tags(&text[at..range.end as usize]));
    out
}

fn inside(r: TextRange, outer: TextRange) -> bool {
    r.start >= outer.start && r.end <= outer.end
}

/// Drops simple HTML tags such as `<br/>` (notes use them for layout).
fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let tag_end = after.find('>').filter(|&e| {
            let inner = &after[1..e];
            let name = inner.trim_start_matches('/');
            name.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && !inner.contains('<')
        });
        match tag_end {
            Some(e) => rest = &after[e + 1..],
            None => {
                out.push('<');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out.replace("\r\n", "\n")
}

/// Cuts `s` to about `max` bytes at a word boundary, marking the cut.
fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let cut = s[..end]
        .rfind(char::is_whitespace)
        .filter(|&i| i > max / 2)
        .unwrap_or(end);
    format!("{} …", s[..cut].trim_end())
}
