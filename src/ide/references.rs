//! References: the links that lead to a note (its backlinks), or that wait for the same
//! missing note.

use super::{FilePosition, NoteRange, link_at};
use crate::syntax::{Link, TextRange};
use crate::vault::{NoteId, Resolution, Vault, link_key};

/// On a link: every link in the vault that resolves where it does (for a link to a missing or
/// ambiguous target, every link written with the same target). Elsewhere in a note: every link
/// to that note. With `include_declaration`, the target note's title line comes first.
pub fn references(vault: &Vault, pos: FilePosition, include_declaration: bool) -> Vec<NoteRange> {
    let Some(note) = vault.note(pos.note) else {
        return Vec::new();
    };
    let link = link_at(&note.parsed.links, pos.offset).filter(|l| l.closed());
    // Each link's range is taken while the link is at hand (a hub has thousands).
    let at = |note, _, link: &Link| NoteRange {
        note,
        range: link.range(),
    };
    let (target, links) = match link {
        Some(link) if !link.target.is_empty() => {
            let resolution = vault.resolve(&link.target, note.path());
            match resolution {
                Resolution::Note(id) => (Some(id), vault.backlinks_with(id, at)),
                other => (
                    None,
                    vault.links_using_key_with(&link_key(&link.target), |r| *r == other, at),
                ),
            }
        }
        // `[[#Heading]]` or plain text: the note itself.
        _ => (Some(pos.note), vault.backlinks_with(pos.note, at)),
    };
    match target {
        Some(id) if include_declaration => {
            let mut out = Vec::with_capacity(links.len() + 1);
            out.push(NoteRange {
                note: id,
                range: title_range(vault, id),
            });
            out.extend(links);
            out
        }
        _ => links,
    }
}

/// Where a note states its title: the frontmatter `title` value, else its first `# ` heading,
/// else its very start.
pub fn title_range(vault: &Vault, id: NoteId) -> TextRange {
    let Some(note) = vault.note(id) else {
        return TextRange::default();
    };
    let parsed = &note.parsed;
    if let Some(r) = parsed.frontmatter.as_ref().and_then(|f| f.title_range) {
        return r;
    }
    parsed
        .headings
        .iter()
        .find(|h| h.level == 1)
        .map(|h| h.text_range)
        .unwrap_or_default()
}

/// The code lens of a note: on its title, how many links lead to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BacklinksLens {
    pub range: TextRange,
    pub title: String,
    /// Where the links are.
    pub links: Vec<NoteRange>,
}

pub fn backlinks_lens(vault: &Vault, id: NoteId) -> Option<BacklinksLens> {
    vault.note(id)?;
    let links = vault.backlinks_with(id, |note, _, link| NoteRange {
        note,
        range: link.range(),
    });
    let title = match links.len() {
        0 => "no backlinks".to_owned(),
        1 => "1 backlink".to_owned(),
        n => format!("{n} backlinks"),
    };
    Some(BacklinksLens {
        range: title_range(vault, id),
        title,
        links,
    })
}
