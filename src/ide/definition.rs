//! Go to definition: from a link to its note, or to the heading its `#` part names.

use super::{FilePosition, NoteRange, link_at};
use crate::syntax::TextRange;
use crate::vault::Vault;

/// Where the link under the cursor leads: the top of its note, or the heading for
/// `[[note#Heading]]`; every candidate of an ambiguous link. Empty when the cursor is on no
/// link or the link leads nowhere.
pub fn definition(vault: &Vault, pos: FilePosition) -> Vec<NoteRange> {
    let Some(note) = vault.note(pos.note) else {
        return Vec::new();
    };
    let Some(link) = link_at(&note.parsed.links, pos.offset) else {
        return Vec::new();
    };
    let targets = if link.target.is_empty() {
        if !link.has_heading() {
            return Vec::new();
        }
        vec![pos.note]
    } else {
        vault.resolve(&link.target, note.path()).candidates()
    };
    targets
        .into_iter()
        .map(|id| {
            let heading = note
                .parsed
                .link_heading(link)
                .and_then(|(h, _)| vault.find_heading(id, h));
            let range = match (heading, vault.note(id)) {
                (Some(i), Some(n)) => n.parsed.headings[i].range,
                _ => TextRange::default(),
            };
            NoteRange { note: id, range }
        })
        .collect()
}
