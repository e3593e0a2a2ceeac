//! Completion inside a wiki-link: notes (and targets that links use but no note has yet) after
//! `[[`, headings after `[[note#`, the title and aliases after `[[note |`. Ranked on the server
//! with fuzzy matching, so the best of 100,000 notes arrive first.

use std::path::PathBuf;

use nucleo_matcher::pattern::{AtomKind, CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use rayon::prelude::*;

use super::FilePosition;
use crate::config::CompletionStyle;
use crate::syntax::{Link, TextRange};
use crate::vault::{Note, NoteId, Resolution, Vault, link_key};

thread_local! {
    static SCORER: std::cell::RefCell<(Matcher, Vec<char>)> =
        std::cell::RefCell::new((Matcher::new(Config::DEFAULT), Vec::new()));
}

/// The bits of [`crate::vault::letters_mask`] for the ASCII letters and digits of `query`
/// alone: a non-ASCII letter of a query may match in ways the mask does not follow.
fn ascii_letters_mask(query: &str) -> u64 {
    let ascii: String = query.chars().filter(char::is_ascii).collect();
    crate::vault::letters_mask(&ascii)
}

/// `hay` as the fuzzy matcher reads it; `letters` (its [`crate::vault::SearchEntry::letters`])
/// tells an ASCII text, which is read as it is, without scanning it to learn that.
fn utf32<'a>(hay: &'a str, letters: u64, buf: &'a mut Vec<char>) -> Utf32Str<'a> {
    if letters & crate::vault::NOT_ASCII == 0 {
        debug_assert!(hay.is_ascii());
        Utf32Str::Ascii(hay.as_bytes())
    } else {
        Utf32Str::new(hay, buf)
    }
}

/// How many candidates get the full fuzzy score when the greedy one was taken first: ten times
/// the answer, so the best 200 by the full score are, in practice, among them.
const SHORTLIST: usize = 2000;

/// What the client can do with completion items.
#[derive(Debug, Clone, Copy)]
pub struct CompletionContext {
    /// The client expands snippets (`${1:placeholder}`).
    pub snippets: bool,
    /// How many items to return at most.
    pub limit: usize,
}

impl Default for CompletionContext {
    fn default() -> Self {
        CompletionContext {
            snippets: true,
            limit: 200,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionItemKind {
    Note,
    /// A target that links use but no note has yet.
    MissingTarget,
    Heading,
    /// A title or alias offered as display text.
    Display,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionItem {
    pub label: String,
    pub kind: CompletionItemKind,
    /// The note's path relative to its folder; or, for a missing target, how many links use it.
    pub detail: String,
    /// The text the client filters on: what the user typed, since the server already ranked.
    pub filter_text: String,
    /// What replaces `edit_range`; a snippet when `is_snippet`.
    pub insert_text: String,
    pub is_snippet: bool,
    pub edit_range: TextRange,
    /// The note to preview when the client asks to resolve the item.
    pub note_path: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompletionList {
    /// Best first.
    pub items: Vec<CompletionItem>,
    /// More candidates matched than were returned: the client should ask again as the user types.
    pub incomplete: bool,
}

/// The link the cursor is typing in: after its `[[` and before its `]]`.
fn link_typed_in(links: &[Link], offset: u32) -> Option<&Link> {
    let i = links.partition_point(|l| l.range().end < offset);
    links[i..]
        .iter()
        .take_while(|l| l.range().start < offset)
        .find(|l| {
            let open = l.range().start + if l.embed() { 3 } else { 2 };
            let close = if l.closed() {
                l.range().end - 2
            } else {
                l.range().end
            };
            open <= offset && offset <= close
        })
}

pub fn completion(
    vault: &Vault,
    pos: FilePosition,
    ctx: CompletionContext,
) -> Option<CompletionList> {
    let note = vault.note(pos.note)?;
    let text = vault.text(pos.note)?;
    let link = link_typed_in(&note.parsed.links, pos.offset)?;
    let offset = pos.offset as usize;
    let inner_start = link.range().start as usize + if link.embed() { 3 } else { 2 };
    if offset > text.len() || !text.is_char_boundary(offset) {
        return None;
    }
    let typed = &text[inner_start..offset];

    if let Some(bar) = typed.find('|') {
        let target = typed[..bar].split('#').next().unwrap_or("").trim();
        let start = inner_start + bar + 1;
        let start = start + (text[start..offset].len() - text[start..offset].trim_start().len());
        let end = match link.display_range() {
            Some(r) if link.closed() => (r.end as usize).max(offset),
            _ => offset,
        };
        let list = display_items(
            vault,
            note.path(),
            target,
            &text[start..offset],
            TextRange::new(start, end),
        );
        return Some(closing(list, link.closed()));
    }
    if let Some(hash) = typed.find('#') {
        let target = typed[..hash].trim();
        let start = inner_start + hash + 1;
        let start = start + (text[start..offset].len() - text[start..offset].trim_start().len());
        let end = match note.parsed.link_heading(link).map(|h| h.1) {
            Some(r) if link.closed() => (r.end as usize).max(offset),
            _ => offset,
        };
        let id = if target.is_empty() {
            Some(pos.note)
        } else {
            vault.resolve(target, note.path()).note()
        };
        let list = heading_items(vault, id?, &text[start..offset], TextRange::new(start, end));
        return Some(closing(list, link.closed()));
    }

    let start = inner_start + (typed.len() - typed.trim_start().len());
    let end = if link.closed() {
        (link.target_range().end as usize).max(offset)
    } else {
        offset
    };
    let query = &text[start..offset];
    let has_more = link.closed() && (link.display_range().is_some() || link.has_heading());
    Some(note_items(
        vault,
        pos,
        query,
        TextRange::new(start, end),
        link,
        has_more,
        ctx,
    ))
}

/// An unclosed link gets its `]]` with the completion.
fn closing(mut list: CompletionList, closed: bool) -> CompletionList {
    if !closed {
        for item in &mut list.items {
            item.insert_text.push_str("]]");
        }
    }
    list
}

fn note_items(
    vault: &Vault,
    pos: FilePosition,
    query: &str,
    range: TextRange,
    link: &Link,
    has_more: bool,
    ctx: CompletionContext,
) -> CompletionList {
    let closed = link.closed();
    // The link being typed counts among the vault's links; it must not offer itself.
    let typing_key = if closed {
        link_key(&link.target)
    } else {
        String::new()
    };
    let from = vault
        .note(pos.note)
        .map(|n| n.path().to_path_buf())
        .unwrap_or_default();
    // File names write spaces as `_`: `lena_voss` must find the title "Lena Voss" (whose stem,
    // being its slug, is not matched separately).
    let words = query.replace('_', " ");
    let pattern = Pattern::parse(&words, CaseMatching::Ignore, Normalization::Smart);
    // Scoring every candidate is the cost of completion: spread it over all cores, each
    // worker thread keeping its own matcher (making one allocates its scoring matrices).
    // The pattern's syntax (`!` negates, `^` and `$` anchor, `'` and `\` quote) can make a
    // text match without a letter of the query: then every text is scored.
    let needs = if query.contains(['!', '^', '$', '\'', '\\']) {
        0
    } else {
        ascii_letters_mask(query)
    };
    let score = |hay: &str, letters: u64| -> Option<u32> {
        if query.is_empty() {
            return Some(0);
        }
        if letters & needs != needs {
            return None;
        }
        SCORER.with_borrow_mut(|(matcher, buf)| pattern.score(utf32(hay, letters, buf), matcher))
    };
    // With many candidates, each is first scored by the greedy matcher (several times faster)
    // and only the best `SHORTLIST` by that score get the optimal score that ranks them: at
    // 100,000 notes a two-letter query matches most of them. Only plain fuzzy words can be
    // scored that way.
    let greedy = !query.is_empty()
        && needs != 0
        && pattern
            .atoms
            .iter()
            .all(|a| a.kind == AtomKind::Fuzzy && !a.negative);
    let normalizes: Vec<bool> = pattern
        .atoms
        .iter()
        .map(|a| {
            a.needle_text()
                .chars()
                .all(|c| nucleo_matcher::chars::normalize(c) == c)
        })
        .collect();
    let quick = |hay: &str, letters: u64| -> Option<u32> {
        if !greedy {
            return score(hay, letters);
        }
        if letters & needs != needs {
            return None;
        }
        SCORER.with_borrow_mut(|(matcher, buf)| {
            let hay = utf32(hay, letters, buf);
            let mut total = 0u32;
            for (atom, &normalize) in pattern.atoms.iter().zip(&normalizes) {
                // What `Atom::score` sets for an atom parsed with `CaseMatching::Ignore`.
                matcher.config.ignore_case = true;
                matcher.config.normalize = normalize;
                total += u32::from(matcher.fuzzy_match_greedy(hay, atom.needle_text())?);
            }
            Some(total)
        })
    };
    // The best `SHORTLIST` of `found` by their quick score, scored again in full.
    fn shortlist<'t>(
        mut found: Vec<(u32, u32, usize)>,
        greedy: bool,
        entry: impl Fn(usize) -> (&'t str, u64) + Sync,
        score: impl Fn(&str, u64) -> Option<u32> + Sync,
    ) -> Vec<(u32, u32, usize)> {
        if !greedy {
            return found;
        }
        if found.len() > SHORTLIST {
            // Those tied with the last one in stay: ties are broken later, on more than the
            // score (links, length).
            found.select_nth_unstable_by_key(SHORTLIST - 1, |f| std::cmp::Reverse(f.0));
            let cut = found[SHORTLIST - 1].0;
            found.retain(|f| f.0 >= cut);
        }
        // Each full score costs a microsecond or two: on all cores too.
        found
            .into_par_iter()
            .with_min_len(256)
            .filter_map(|(_, extra, i)| {
                let (hay, letters) = entry(i);
                Some((score(hay, letters)?, extra, i))
            })
            .collect()
    }
    let names = vault.name_table();
    let entries = names.entries();
    let found: Vec<(u32, u32, usize)> = entries
        .par_iter()
        .enumerate()
        .with_min_len(1024)
        .filter_map(|(i, e)| {
            if NoteId(e.value) == pos.note {
                return None;
            }
            quick(names.text(e), e.letters).map(|s| (s, 0, i))
        })
        .collect();
    let names_found = found.len();
    let mut ranked: Vec<(u32, u32, NoteId)> = shortlist(
        found,
        greedy,
        |i| (names.text(&entries[i]), entries[i].letters),
        score,
    )
    .into_iter()
    .map(|(s, extra, i)| (s, extra, NoteId(entries[i].value)))
    .collect();
    // A note may match by title and by alias: keep its best.
    ranked.sort_unstable_by_key(|r| (r.2, std::cmp::Reverse(r.0)));
    ranked.dedup_by_key(|r| r.2);
    let targets = vault.missing_table();
    let target_entries = targets.entries();
    let found: Vec<(u32, u32, usize)> = target_entries
        .par_iter()
        .enumerate()
        .with_min_len(1024)
        .filter_map(|(i, e)| {
            let count = e.value - u32::from(targets.key(e) == typing_key);
            if count == 0 {
                return None;
            }
            quick(targets.text(e), e.letters).map(|s| (s, count, i))
        })
        .collect();
    let missing_found = found.len();
    let mut missing: Vec<(u32, u32, &str)> = shortlist(
        found,
        greedy,
        |i| (targets.text(&target_entries[i]), target_entries[i].letters),
        score,
    )
    .into_iter()
    .map(|(s, count, i)| (s, count, targets.text(&target_entries[i])))
    .collect();

    // Every match counts, shortlisted or not (a note matching by title and alias counts twice,
    // which only decides whether the list is complete when there are more than enough).
    let total = names_found + missing_found;
    // Rank by score first; the link count only breaks ties, so compute it for the few notes
    // that can still make the cut.
    ranked.sort_unstable_by_key(|r| std::cmp::Reverse(r.0));
    let cut_score = ranked.get(ctx.limit.saturating_sub(1)).map_or(0, |r| r.0);
    ranked.retain(|r| r.0 >= cut_score);
    // A two-letter query at 100,000 notes leaves thousands tied at the cut: their link counts
    // are kept by the vault, one read each.
    ranked
        .iter_mut()
        .for_each(|r| r.1 = vault.link_count_of(r.2));
    // Only the candidates that score, link count and kind can still place among the best
    // `limit` need their titles read (the last tie-breakers): any other has `limit` better.
    let coarse = |score: u32, links: u32, note_first: u8| {
        (
            std::cmp::Reverse(score),
            std::cmp::Reverse(links),
            note_first,
        )
    };
    let mut keys: Vec<_> = ranked
        .iter()
        .map(|r| coarse(r.0, r.1, 0))
        .chain(missing.iter().map(|m| coarse(m.0, m.1, 1)))
        .collect();
    if ctx.limit > 0 && keys.len() > ctx.limit {
        let cut = *keys.select_nth_unstable(ctx.limit - 1).1;
        ranked.retain(|r| coarse(r.0, r.1, 0) <= cut);
        missing.retain(|m| coarse(m.0, m.1, 1) <= cut);
    }

    // Rank light candidates; build items only for those returned.
    enum Which<'a> {
        Note(&'a Note),
        Missing(&'a str),
    }
    let mut all: Vec<Ranked> = Vec::with_capacity(ranked.len() + missing.len());
    // Thousands of notes tied at the cut, each read for its title: fetched ahead.
    vault.for_each_note_ahead(
        &ranked,
        |r| r.2,
        |&(score, links, _), n| {
            all.push(Ranked {
                score,
                note_first: 0,
                links,
                label: n.title(),
                which: Which::Note(n),
            });
        },
    );
    for (score, links, spelling) in missing {
        all.push(Ranked {
            score,
            note_first: 1,
            links,
            label: spelling,
            which: Which::Missing(spelling),
        });
    }
    struct Ranked<'a> {
        score: u32,
        /// At equal score and link count, a note before a missing target.
        note_first: u8,
        links: u32,
        label: &'a str,
        which: Which<'a>,
    }
    let order = |a: &Ranked, b: &Ranked| {
        b.score
            .cmp(&a.score)
            .then(b.links.cmp(&a.links))
            .then(a.note_first.cmp(&b.note_first))
            .then(a.label.len().cmp(&b.label.len()))
            .then(a.label.cmp(b.label))
    };
    if all.len() > ctx.limit {
        all.select_nth_unstable_by(ctx.limit, order);
        all.truncate(ctx.limit);
    }
    all.sort_by(order);

    let close = if closed { "" } else { "]]" };
    let items = all
        .into_iter()
        .map(|r| match r.which {
            Which::Note(n) => {
                let target = link_text_for(vault, n, &from);
                let placeholder = !has_more
                    && ctx.snippets
                    && vault.config().completion == CompletionStyle::SlugAndTitle
                    && n.title() != n.stem()
                    && !n.title().is_empty();
                let insert_text = if placeholder {
                    format!(
                        "{} | ${{1:{}}}{close}",
                        escape_snippet(&target),
                        escape_snippet(n.title())
                    )
                } else {
                    format!("{target}{close}")
                };
                CompletionItem {
                    label: n.title().to_owned(),
                    kind: CompletionItemKind::Note,
                    detail: n.link_path().to_owned(),
                    filter_text: filter_text(query, &n.names().collect::<Vec<_>>()),
                    insert_text,
                    is_snippet: placeholder,
                    edit_range: range,
                    note_path: Some(n.path().to_path_buf()),
                }
            }
            Which::Missing(spelling) => CompletionItem {
                label: spelling.to_owned(),
                kind: CompletionItemKind::MissingTarget,
                detail: match r.links {
                    1 => "no note yet · 1 link".to_owned(),
                    n => format!("no note yet · {n} links"),
                },
                filter_text: filter_text(query, &[spelling]),
                insert_text: format!("{spelling}{close}"),
                is_snippet: false,
                edit_range: range,
                note_path: None,
            },
        })
        .collect();
    CompletionList {
        incomplete: total > ctx.limit,
        items,
    }
}

/// What to write in a link to reach `id` from the note at `from`: the file stem, or the path
/// when the stem alone would lead elsewhere (the same stem in two folders).
fn link_text_for(vault: &Vault, n: &Note, from: &std::path::Path) -> String {
    match vault.resolve(n.stem(), from) {
        Resolution::Note(found) if vault.note(found).is_some_and(|f| f.path() == n.path()) => {
            n.stem().to_owned()
        }
        _ => n.link_path().to_owned(),
    }
}

fn heading_items(vault: &Vault, id: NoteId, query: &str, range: TextRange) -> CompletionList {
    let Some(note) = vault.note(id) else {
        return CompletionList::default();
    };
    let pattern = Pattern::parse(query, CaseMatching::Ignore, Normalization::Smart);
    let mut matcher = Matcher::new(Config::DEFAULT);
    let mut buf = Vec::new();
    let mut scored: Vec<(u32, usize)> = note
        .parsed
        .headings
        .iter()
        .enumerate()
        .filter_map(|(i, h)| {
            let s = if query.is_empty() {
                Some(0)
            } else {
                pattern.score(Utf32Str::new(&h.text, &mut buf), &mut matcher)
            };
            s.map(|s| (s, i))
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let items = scored
        .into_iter()
        .map(|(_, i)| {
            let h = &note.parsed.headings[i];
            CompletionItem {
                label: h.text.clone(),
                kind: CompletionItemKind::Heading,
                detail: format!("{} {}", "#".repeat(h.level as usize), note.rel_path()),
                filter_text: filter_text(query, &[&h.text]),
                insert_text: h.text.clone(),
                is_snippet: false,
                edit_range: range,
                note_path: Some(note.path().to_path_buf()),
            }
        })
        .collect();
    CompletionList {
        items,
        incomplete: false,
    }
}

fn display_items(
    vault: &Vault,
    from: &std::path::Path,
    target: &str,
    query: &str,
    range: TextRange,
) -> CompletionList {
    let Some(id) = vault.resolve(target, from).note() else {
        return CompletionList::default();
    };
    let Some(note) = vault.note(id) else {
        return CompletionList::default();
    };
    let mut names: Vec<&str> = vec![note.title()];
    names.extend(note.parsed.aliases().iter().map(String::as_str));
    names.dedup();
    let items = names
        .into_iter()
        .filter(|n| !n.is_empty())
        .map(|name| CompletionItem {
            label: name.to_owned(),
            kind: CompletionItemKind::Display,
            detail: if name == note.title() {
                "title".to_owned()
            } else {
                "alias".to_owned()
            },
            filter_text: filter_text(query, &[name]),
            insert_text: name.to_owned(),
            is_snippet: false,
            edit_range: range,
            note_path: Some(note.path().to_path_buf()),
        })
        .collect();
    CompletionList {
        items,
        incomplete: false,
    }
}

/// Clients filter and rank items again by the text typed in the edit range. The server has
/// already matched fuzzily and ranked, so every filter text starts with what was typed: all
/// items match it equally well and the client keeps the server's order. The names follow, so
/// that when the list is complete and the user types on, the client can still narrow it.
fn filter_text(query: &str, names: &[&str]) -> String {
    let mut out = String::from(query);
    for name in names {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(name);
    }
    out
}

fn escape_snippet(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '$' | '}' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
