//! Hover: the preview of the note a link leads to, or the moment a timestamp marks.

use super::preview::note_preview;
use super::{FilePosition, format_moment, link_at, timestamp_at};
use crate::syntax::TextRange;
use crate::vault::{Resolution, Vault, link_key};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hover {
    /// Markdown.
    pub contents: String,
    /// The link or timestamp hovered.
    pub range: TextRange,
    /// A link whose target no note of the vault answers to (the caller may know that the vault
    /// is not complete yet).
    pub target_missing: bool,
}

pub fn hover(vault: &Vault, pos: FilePosition) -> Option<Hover> {
    let note = vault.note(pos.note)?;
    if let Some(link) = link_at(&note.parsed.links, pos.offset) {
        if !link.closed() {
            return None;
        }
        let resolution = if link.target.is_empty() {
            link.has_heading().then_some(())?;
            Resolution::Note(pos.note)
        } else {
            vault.resolve(&link.target, note.path())
        };
        let target_missing = resolution == Resolution::Missing;
        let contents = match resolution {
            Resolution::Note(id) => {
                note_preview(vault, id, note.parsed.link_heading(link).map(|h| &**h.0))?
            }
            Resolution::Ambiguous(ids) => {
                let mut s = format!("`{}` could mean any of these notes:\n\n", link.target);
                for id in ids {
                    if let Some(n) = vault.note(id) {
                        s.push_str(&format!("- `{}`: {}\n", n.rel_path(), n.title()));
                    }
                }
                s
            }
            Resolution::Missing => {
                // Every spelling counts (`Anagama Kiln`, `anagama_kiln`): they all wait for
                // the same note.
                let uses = vault
                    .links_with_key(&link_key(&link.target))
                    .map_or(0, |k| k.total());
                let uses = match uses {
                    0 | 1 => "This is the only link that uses it.".to_owned(),
                    n => format!("{n} links use this target."),
                };
                format!("No note `{}` exists yet.\n\n{uses}", link.target)
            }
        };
        return Some(Hover {
            contents,
            range: link.range(),
            target_missing,
        });
    }
    let t = timestamp_at(&note.parsed.timestamps, pos.offset)?;
    let video = note
        .parsed
        .video_id()
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let contents = match (t.seconds, video) {
        (Some(s), Some(v)) => format!(
            "**{}**, {s} s into the video\n\n▶ [Open the video at {}]({})",
            format_moment(s),
            format_moment(s),
            vault.config().timestamp_url(v, s)
        ),
        (Some(s), None) => format!(
            "**{}**, {s} s into the video\n\nThis note has no `videoId` in its frontmatter, so the moment links nowhere.",
            format_moment(s)
        ),
        (None, _) => "This timestamp cannot be read as a moment.".to_owned(),
    };
    Some(Hover {
        contents,
        range: t.range,
        target_missing: false,
    })
}
