//! Document links and folding: what in a note can be clicked (timestamps open their video at
//! that second, wiki-links their note) and what can be folded (frontmatter, sections).

use crate::syntax::TextRange;
use crate::vault::{NoteId, Resolution, Vault};

/// Where a clickable range leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkTarget {
    Url(String),
    /// A note, at one of its headings when the link names one.
    Note {
        note: NoteId,
        heading: Option<TextRange>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentLink {
    pub range: TextRange,
    pub target: LinkTarget,
}

/// Every timestamp with a moment (when the note has a `videoId`) and every wiki-link that
/// resolves to one note.
pub fn document_links(vault: &Vault, id: NoteId) -> Vec<DocumentLink> {
    let Some(note) = vault.note(id) else {
        return Vec::new();
    };
    let parsed = &note.parsed;
    let mut out = Vec::new();
    if let Some(video) = parsed.video_id().map(str::trim).filter(|v| !v.is_empty()) {
        for t in &parsed.timestamps {
            if let Some(s) = t.seconds {
                let range = match &t.kind {
                    crate::syntax::TimestampKind::Anchor { text_range, .. }
                        if !text_range.is_empty() =>
                    {
                        *text_range
                    }
                    _ => t.range,
                };
                out.push(DocumentLink {
                    range,
                    target: LinkTarget::Url(vault.config().timestamp_url(video, s)),
                });
            }
        }
    }
    for link in parsed.links.iter().filter(|l| l.closed()) {
        let target = if link.target.is_empty() {
            if !link.has_heading() {
                continue;
            }
            Resolution::Note(id)
        } else {
            vault.resolve(&link.target, note.path())
        };
        let Resolution::Note(target) = target else {
            continue;
        };
        let heading = parsed
            .link_heading(link)
            .and_then(|(h, _)| vault.find_heading(target, h))
            .and_then(|i| vault.note(target).map(|n| n.parsed.headings[i].range));
        out.push(DocumentLink {
            range: link.range(),
            target: LinkTarget::Note {
                note: target,
                heading,
            },
        });
    }
    out.sort_by_key(|l| l.range.start);
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoldKind {
    Frontmatter,
    Section,
}

/// The foldable ranges of a note: its frontmatter and each section (heading to the end of its
/// section).
pub fn folding_ranges(vault: &Vault, id: NoteId) -> Vec<(TextRange, FoldKind)> {
    let Some(note) = vault.note(id) else {
        return Vec::new();
    };
    let parsed = &note.parsed;
    let mut out = Vec::new();
    if let Some(f) = &parsed.frontmatter {
        out.push((f.range, FoldKind::Frontmatter));
    }
    for h in &parsed.headings {
        if h.section_end > h.range.end {
            out.push((
                TextRange {
                    start: h.range.start,
                    end: h.section_end,
                },
                FoldKind::Section,
            ));
        }
    }
    out
}
