//! How a link target finds its note: five levels from exact path to loose key, and the folder
//! rule that settles a level with several candidates. The rules are in docs/format.md.

use std::path::Path;

use super::{NoteId, Vault};
use crate::syntax;
use crate::syntax::{last_segment, strip_note_extension};

/// What a link target resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    Note(NoteId),
    /// Several notes tie; sorted by path.
    Ambiguous(Vec<NoteId>),
    Missing,
}

impl Resolution {
    pub fn note(&self) -> Option<NoteId> {
        match self {
            Resolution::Note(id) => Some(*id),
            _ => None,
        }
    }

    /// Every note the target may mean.
    pub fn candidates(&self) -> Vec<NoteId> {
        match self {
            Resolution::Note(id) => vec![*id],
            Resolution::Ambiguous(ids) => ids.clone(),
            Resolution::Missing => Vec::new(),
        }
    }
}

impl Vault {
    /// Resolves `target` as written in the note at `from` (a path: its folder settles ties).
    pub fn resolve(&self, target: &str, from: &Path) -> Resolution {
        let target = target.trim();
        if target.is_empty() {
            return Resolution::Missing;
        }
        let from_folder = from.parent().unwrap_or(Path::new(""));
        if target.contains('/') {
            let rel = target.trim_matches('/');
            let rel = strip_note_extension(rel).to_lowercase();
            let found = self.lookup(0, &rel);
            if !found.is_empty() {
                return self.settle(&found, from_folder);
            }
            // A path that no longer matches (the note moved) still finds the note by its name.
            return self.resolve_name(last_segment(target), from_folder);
        }
        self.resolve_name(target, from_folder)
    }

    fn resolve_name(&self, target: &str, from_folder: &Path) -> Resolution {
        let target = strip_note_extension(target);
        // Each level's key is made only when the levels before it found nothing: most links
        // name a file stem exactly, and backlinks resolve thousands of them.
        for kind in 1..=4 {
            let key: std::borrow::Cow<str> = match kind {
                1 => target.into(),
                2 => target.to_lowercase().into(),
                3 => syntax::slug(target).into(),
                _ => syntax::loose_key(target).into(),
            };
            if key.is_empty() {
                continue;
            }
            let found = self.lookup(kind, &key);
            if !found.is_empty() {
                return self.settle(&found, from_folder);
            }
        }
        Resolution::Missing
    }

    /// One level found `found`: the note in the linking note's own folder wins, then the one in
    /// the nearest enclosing folder; a tie left after that is ambiguous.
    fn settle(&self, found: &[NoteId], from_folder: &Path) -> Resolution {
        if let [only] = found {
            return Resolution::Note(*only);
        }
        let mut best: Vec<NoteId> = Vec::new();
        let mut best_rank: Option<usize> = None;
        for &id in found {
            let Some(note) = self.note(id) else { continue };
            let folder = note.folder();
            let rank = if folder == from_folder {
                Some(usize::MAX)
            } else if from_folder.starts_with(folder) {
                Some(folder.components().count())
            } else {
                None
            };
            match (rank, best_rank) {
                (Some(r), Some(b)) if r > b => {
                    best_rank = Some(r);
                    best = vec![id];
                }
                (Some(r), Some(b)) if r == b => best.push(id),
                (Some(r), None) => {
                    best_rank = Some(r);
                    best = vec![id];
                }
                _ => {}
            }
        }
        if let [only] = best[..] {
            return Resolution::Note(only);
        }
        let mut all: Vec<NoteId> = if best.is_empty() {
            found.to_vec()
        } else {
            best
        };
        all.sort_by(|a, b| {
            let pa = self.note(*a).map(|n| &n.path);
            let pb = self.note(*b).map(|n| &n.path);
            pa.cmp(&pb)
        });
        Resolution::Ambiguous(all)
    }

    /// The heading of `note` that `[[note#fragment]]` names: the first whose plain text has the
    /// same slug as the fragment.
    pub fn find_heading(&self, note: NoteId, fragment: &str) -> Option<usize> {
        let key = syntax::slug(fragment);
        let note = self.note(note)?;
        note.parsed
            .headings
            .iter()
            .position(|h| syntax::slug(&h.text) == key || h.text.trim() == fragment.trim())
    }
}
