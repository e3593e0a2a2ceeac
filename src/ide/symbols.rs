//! Symbols: the outline of a note (its title and heading tree) and the notes and headings of
//! the whole vault, matched fuzzily.

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

use super::NoteRange;
use super::references::title_range;
use crate::syntax::TextRange;
use crate::vault::{NoteId, Vault};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolKind {
    Note,
    Heading,
}

/// One entry of a note's outline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentSymbol {
    pub name: String,
    pub kind: SymbolKind,
    /// What the symbol covers (a heading: its whole section).
    pub range: TextRange,
    /// What to highlight (a heading: its line).
    pub selection: TextRange,
    pub children: Vec<DocumentSymbol>,
}

/// The outline of a note: one symbol for the note (its title), holding the heading tree. A
/// first `# ` heading that gives the note its title is the note symbol itself.
pub fn document_symbols(vault: &Vault, id: NoteId, text_len: u32) -> Vec<DocumentSymbol> {
    let Some(note) = vault.note(id) else {
        return Vec::new();
    };
    let parsed = &note.parsed;
    let title_from_h1 = parsed
        .frontmatter
        .as_ref()
        .and_then(|f| f.title.as_ref())
        .is_none();
    let selection = title_range(vault, id);
    // The heading that gives the note its title is the note symbol itself.
    let skip = if title_from_h1 {
        parsed.headings.iter().position(|h| h.level == 1)
    } else {
        None
    };
    // Build the tree with a stack of open sections.
    let mut roots: Vec<DocumentSymbol> = Vec::new();
    let mut stack: Vec<(u8, DocumentSymbol)> = Vec::new();
    let close =
        |stack: &mut Vec<(u8, DocumentSymbol)>, roots: &mut Vec<DocumentSymbol>, level: u8| {
            while stack.last().is_some_and(|(l, _)| *l >= level) {
                let (_, done) = stack.pop().unwrap();
                match stack.last_mut() {
                    Some((_, parent)) => parent.children.push(done),
                    None => roots.push(done),
                }
            }
        };
    for (i, h) in parsed.headings.iter().enumerate() {
        if Some(i) == skip {
            continue;
        }
        close(&mut stack, &mut roots, h.level);
        stack.push((
            h.level,
            DocumentSymbol {
                name: if h.text.is_empty() {
                    "(empty heading)".to_owned()
                } else {
                    h.text.clone()
                },
                kind: SymbolKind::Heading,
                range: TextRange {
                    start: h.range.start,
                    end: h.section_end.max(h.range.end),
                },
                selection: h.range,
                children: Vec::new(),
            },
        ));
    }
    close(&mut stack, &mut roots, 0);
    vec![DocumentSymbol {
        name: note.title().to_owned(),
        kind: SymbolKind::Note,
        range: TextRange {
            start: 0,
            end: text_len,
        },
        selection,
        children: roots,
    }]
}

/// A vault-wide symbol: a note (by title, slug or alias) or a heading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceSymbol {
    pub name: String,
    pub kind: SymbolKind,
    /// The note's path for a note; the note's title for a heading.
    pub container: String,
    pub location: NoteRange,
}

/// Notes and headings matching `query` fuzzily, best `limit` first.
pub fn workspace_symbols(vault: &Vault, query: &str, limit: usize) -> Vec<WorkspaceSymbol> {
    let pattern = Pattern::parse(query, CaseMatching::Ignore, Normalization::Smart);
    let mut matcher = Matcher::new(Config::DEFAULT);
    let mut buf = Vec::new();
    let mut score = |hay: &str| -> Option<u32> {
        if query.is_empty() {
            Some(0)
        } else {
            pattern.score(Utf32Str::new(hay, &mut buf), &mut matcher)
        }
    };
    // (score, is heading, note, heading index)
    let mut found: Vec<(u32, bool, NoteId, usize)> = Vec::new();
    for (id, note) in vault.notes() {
        if note.root().is_none() {
            continue;
        }
        if let Some(s) = note.names().filter_map(&mut score).max() {
            found.push((s, false, id, 0));
        }
        for (i, h) in note.parsed.headings.iter().enumerate() {
            if h.level > 1
                && !h.text.is_empty()
                && let Some(s) = score(&h.text)
            {
                found.push((s, true, id, i));
            }
        }
    }
    found.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(a.1.cmp(&b.1))
            .then(a.2.cmp(&b.2))
            .then(a.3.cmp(&b.3))
    });
    found.truncate(limit);
    found
        .into_iter()
        .filter_map(|(_, heading, id, i)| {
            let note = vault.note(id)?;
            Some(if heading {
                let h = note.parsed.headings.get(i)?;
                WorkspaceSymbol {
                    name: h.text.clone(),
                    kind: SymbolKind::Heading,
                    container: note.title().to_owned(),
                    location: NoteRange {
                        note: id,
                        range: h.range,
                    },
                }
            } else {
                WorkspaceSymbol {
                    name: note.title().to_owned(),
                    kind: SymbolKind::Note,
                    container: note.link_path().to_owned(),
                    location: NoteRange {
                        note: id,
                        range: TextRange::default(),
                    },
                }
            })
        })
        .collect()
}
