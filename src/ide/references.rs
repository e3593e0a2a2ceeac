//! References: the links that lead to a note (its backlinks), or that wait for the same
//! missing note.

use super::{FilePosition, NoteRange, link_at};
use crate::syntax::TextRange;
use crate::vault::{Note, NoteId, Resolution, Vault, link_key};

/// On a link: every link in the vault that resolves where it does (for a link to a missing or
/// ambiguous target, every link written with the same target). Elsewhere in a note: every link
/// to that note. With `include_declaration`, the target note's title line comes first. Links
/// come in the order of their notes, then of position.
pub fn references(vault: &Vault, pos: FilePosition, include_declaration: bool) -> Vec<NoteRange> {
    references_to(vault, pos, include_declaration).map_or_else(Vec::new, |found| found.all(vault))
}

/// What [`references`] finds, before its links are gathered: a caller that turns a hub's
/// thousands of links into its own answer does so as each is found
/// ([`References::fold_links`]) rather than from a list made first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct References {
    /// The target note's title line, when it was asked for and there is a target note.
    pub declaration: Option<NoteRange>,
    /// The loose keys the links are written with.
    keys: Vec<String>,
    /// Where they must resolve.
    resolution: Resolution,
}

impl References {
    /// The declaration, then every link.
    pub fn all(&self, vault: &Vault) -> Vec<NoteRange> {
        let mut out: Vec<NoteRange> = self.declaration.into_iter().collect();
        let shares = self.fold_links(vault, Vec::new, |share, note, _, range| {
            share.push(NoteRange { note, range })
        });
        for share in shares {
            out.extend(share);
        }
        out
    }

    /// At least as many links as [`References::fold_links`] visits, known at once.
    pub fn links_at_most(&self, vault: &Vault) -> usize {
        vault.links_using_keys_count(&self.key_strs())
    }

    /// Visits the links, as `visit(share, linking note's id, linking note, link's range)`, in
    /// shares folded from `init()` (see [`Vault::fold_links`]), returned in order.
    pub fn fold_links<A: Send>(
        &self,
        vault: &Vault,
        init: impl Fn() -> A + Sync,
        visit: impl Fn(&mut A, NoteId, &Note, TextRange) + Sync,
    ) -> Vec<A> {
        vault.fold_links(
            &self.key_strs(),
            |r| *r == self.resolution,
            init,
            |share, id, note, _, link| visit(share, id, note, link.range()),
        )
    }

    fn key_strs(&self) -> Vec<&str> {
        self.keys.iter().map(String::as_str).collect()
    }
}

/// [`references`] at `pos`, before its links are gathered; `None` for a note the vault does
/// not hold.
pub fn references_to(
    vault: &Vault,
    pos: FilePosition,
    include_declaration: bool,
) -> Option<References> {
    let note = vault.note(pos.note)?;
    let link = link_at(&note.parsed.links, pos.offset).filter(|l| l.closed());
    let (keys, resolution) = match link {
        Some(link) if !link.target.is_empty() => match vault.resolve(&link.target, note.path()) {
            Resolution::Note(id) => (loose_keys(vault, id), Resolution::Note(id)),
            other => (vec![link_key(&link.target)], other),
        },
        // `[[#Heading]]` or plain text: the note itself.
        _ => (loose_keys(vault, pos.note), Resolution::Note(pos.note)),
    };
    let declaration = match resolution {
        Resolution::Note(id) if include_declaration => Some(NoteRange {
            note: id,
            range: title_range(vault, id),
        }),
        _ => None,
    };
    Some(References {
        declaration,
        keys,
        resolution,
    })
}

fn loose_keys(vault: &Vault, id: NoteId) -> Vec<String> {
    vault
        .note(id)
        .map(|n| n.loose_keys().map(str::to_owned).collect())
        .unwrap_or_default()
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
