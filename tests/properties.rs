//! Property tests over the public API: a note edited through many incremental `didChange`
//! edits, applied as the server applies them, ends with the same text as a plain reference
//! edit of a `String`, the same parse as its final text parsed from scratch, and the same
//! index as a vault scanned from the final texts (names, link groups, backlinks, resolution,
//! targets with no note yet, completion tables).
//!
//! Deterministic (fixed seed) and bounded (fixed case count), so CI time stays fixed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use ropey::Rope;
use tower_lsp_server::ls_types::{Position, Range, TextDocumentContentChangeEvent};
use wikilsp::lsp::apply_change;
use wikilsp::lsp::convert::{Encoding, LineIndex};
use wikilsp::syntax::parse_note;
use wikilsp::vault::{NoteId, ScannedNote, Vault, link_key};

fn root() -> PathBuf {
    PathBuf::from("/vault")
}

/// The notes around the edited one: they link to it by stem, title and heading, and it may
/// come to link to them by any of their names.
const OTHERS: &[(&str, &str)] = &[
    (
        "alpha.md",
        "# Alpha\n\nSee [[edited]] and [[beta]], [[Gamma Ray]].\n",
    ),
    (
        "beta.md",
        "---\ntitle: Beta\naliases: [Bee, Zed]\n---\n[[Alpha]] [[edited#Part]] [[nowhere]]\n",
    ),
    ("sub/edited.md", "# Other edited\n[[edited]] [[../alpha]]\n"),
    (
        "sub/delta.md",
        "[[Edited Note | it]] [[zed]] [[missing_one]]\n",
    ),
];

const EDITED: &str = "edited.md";

/// Pieces of the edited note: whole links to the other notes by each of their names (and to
/// targets with no note, in two spellings), frontmatter that names the note, headings, code,
/// the halves of links, and characters of every width and every line break.
const PIECES: &[&str] = &[
    "[[alpha]]",
    "[[Alpha]]",
    "[[beta]]",
    "[[Bee | b]]",
    "[[zed]]",
    "[[nowhere]]",
    "[[Nowhere]]",
    "[[missing_one]]",
    "[[Missing One]]",
    "[[edited]]",
    "[[#Part]]",
    "[[beta#Part]]",
    "[[sub/edited]]",
    "[[Gamma Ray]]",
    "[[Edited Note]]",
    "![[alpha]]",
    "---\ntitle: Edited Note\n---\n",
    "---\naliases: [Gamma Ray, Zed]\n---\n",
    "# Part\n",
    "## Other\n",
    "[[",
    "]]",
    "|",
    "#",
    "\n",
    "\r\n",
    "\r",
    " ",
    "a",
    "alpha",
    "Bee",
    "title: ",
    "`",
    "```\n",
    "é",
    "e\u{301}",
    "Ж",
    "中",
    "🎬",
    "\u{feff}",
];

fn piece_text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(PIECES), 0..max).prop_map(|p| p.concat())
}

fn position() -> impl Strategy<Value = Position> {
    // Mostly inside the text, sometimes far past it.
    let n = prop_oneof![8 => 0u32..12, 1 => Just(u32::MAX), 1 => 12u32..1000];
    (n.clone(), n).prop_map(|(line, character)| Position { line, character })
}

fn change() -> impl Strategy<Value = TextDocumentContentChangeEvent> {
    let range = prop_oneof![
        19 => (position(), position()).prop_map(|(start, end)| Some(Range { start, end })),
        1 => Just(None),
    ];
    (range, piece_text(6)).prop_map(|(range, text)| TextDocumentContentChangeEvent {
        range,
        range_length: None,
        text,
    })
}

fn config() -> Config {
    Config {
        cases: 256,
        rng_seed: RngSeed::Fixed(0x1d3a),
        failure_persistence: None,
        ..Config::default()
    }
}

/// The plain meaning of a change: positions found by walking lines split at `\n`, `\r\n` and
/// lone `\r`, clamped to the line's end or the text's end, moved back to a character's start;
/// a range written backwards means the text between its ends.
fn reference_apply(text: &mut String, change: &TextDocumentContentChangeEvent, enc: Encoding) {
    let Some(r) = change.range else {
        *text = change.text.clone();
        return;
    };
    let offset = |p: Position| -> usize {
        let mut lines = Vec::new();
        let (b, mut start, mut i) = (text.as_bytes(), 0, 0);
        while i < b.len() {
            if b[i] == b'\n' || b[i] == b'\r' {
                lines.push((start, i));
                i += if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                start = i;
            } else {
                i += 1;
            }
        }
        lines.push((start, b.len()));
        let Some(&(start, end)) = lines.get(p.line as usize) else {
            return text.len();
        };
        let mut units = 0u64;
        for (i, c) in text[start..end].char_indices() {
            units += enc.width(c) as u64;
            if units > u64::from(p.character) {
                return start + i;
            }
        }
        end
    };
    let (a, b) = (offset(r.start), offset(r.end));
    text.replace_range(a.min(b)..a.max(b), &change.text);
}

/// A note as the index knows it: path, title, slugs, loose keys, backlinks.
type NoteView = (
    String,
    String,
    Vec<String>,
    Vec<String>,
    Vec<(NoteId, usize)>,
);
/// The links of one key: sources and spellings with their counts.
type GroupView = (Vec<NoteId>, Vec<(String, u32)>);

/// Everything the index answers, in a form that does not depend on the order notes or edits
/// arrived in.
#[derive(Debug)]
struct IndexView {
    notes: Vec<NoteView>,
    link_groups: BTreeMap<String, GroupView>,
    missing: BTreeMap<String, u32>,
    /// (linking note, target, the paths it resolves to)
    resolutions: Vec<(String, String, String)>,
    names: Vec<(String, u32)>,
    missing_table: Vec<(String, String, u32)>,
}

fn view(vault: &Vault) -> IndexView {
    let mut keys: Vec<String> = Vec::new();
    let mut targets: Vec<String> = PIECES.iter().map(|s| s.to_string()).collect();
    let mut notes = Vec::new();
    for (id, note) in vault.notes() {
        keys.extend(note.loose_keys().map(str::to_owned));
        for l in &note.parsed.links {
            keys.push(link_key(&l.target));
            targets.push(l.target.to_string());
        }
        targets.extend(note.names().map(str::to_string));
        notes.push((
            note.rel_path().to_owned(),
            note.title().to_owned(),
            note.slugs().map(str::to_owned).collect(),
            note.loose_keys().map(str::to_owned).collect(),
            vault.backlinks(id),
        ));
    }
    notes.sort_by(|a, b| a.0.cmp(&b.0));
    let mut link_groups = BTreeMap::new();
    for key in keys {
        if let Some(links) = vault.links_with_key(&key) {
            let mut sources = links.sources.clone();
            sources.sort();
            let mut spellings: Vec<(String, u32)> = links
                .spellings
                .iter()
                .map(|(s, n)| (s.to_string(), *n))
                .collect();
            spellings.sort();
            link_groups.insert(key, (sources, spellings));
        }
    }
    let missing = vault
        .missing_targets()
        .map(|(k, l)| (k.to_string(), l.total()))
        .collect();
    targets.sort();
    targets.dedup();
    let mut resolutions = Vec::new();
    for (_, from) in vault.notes() {
        for t in &targets {
            let r = vault.resolve(t, from.path());
            let shown = format!(
                "{:?}",
                r.candidates()
                    .iter()
                    .map(|id| vault.note(*id).unwrap().rel_path())
                    .collect::<Vec<_>>()
            );
            resolutions.push((from.rel_path().to_owned(), t.clone(), shown));
        }
    }
    resolutions.sort();
    let table = vault.name_table();
    let mut names: Vec<(String, u32)> = table
        .entries()
        .iter()
        .map(|e| (table.text(e).to_string(), e.value))
        .collect();
    names.sort();
    let table = vault.missing_table();
    let mut missing_table: Vec<(String, String, u32)> = table
        .entries()
        .iter()
        .map(|e| (table.key(e).to_string(), table.text(e).to_string(), e.value))
        .collect();
    missing_table.sort();
    IndexView {
        notes,
        link_groups,
        missing,
        resolutions,
        names,
        missing_table,
    }
}

fn scanned(notes: &[(&str, &str)]) -> Vault {
    let scanned = notes
        .iter()
        .map(|(p, t)| ScannedNote {
            path: root().join(p),
            parsed: parse_note(t),
        })
        .collect();
    Vault::from_scan(vec![root()], scanned)
}

fn with_edited(text: &str) -> Vec<(&str, &str)> {
    let mut notes = OTHERS.to_vec();
    notes.insert(1, (EDITED, text));
    notes
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn incremental_edits_index_like_a_fresh_scan(
        initial in piece_text(30),
        changes in proptest::collection::vec(change(), 1..32),
        utf8 in any::<bool>(),
    ) {
        let enc = if utf8 { Encoding::Utf8 } else { Encoding::Utf16 };
        let path: &Path = &root().join(EDITED);
        let mut vault = scanned(&with_edited(""));
        // Opened, then edited change by change, as `didOpen` and `didChange` do.
        let mut rope = Rope::from_str(&initial);
        let mut reference = initial.clone();
        vault.update(path, parse_note(&initial), Some(Arc::from(initial.as_str())));
        for change in &changes {
            if let Some(r) = change.range {
                // The line index used for every answer places the range as the edit does.
                let idx = LineIndex::new(&reference);
                let (a, b) = (idx.offset(&reference, r.start, enc), idx.offset(&reference, r.end, enc));
                let mut via_index = reference.clone();
                via_index.replace_range(a.min(b) as usize..a.max(b) as usize, &change.text);
                reference_apply(&mut reference, change, enc);
                prop_assert_eq!(&via_index, &reference);
            } else {
                reference_apply(&mut reference, change, enc);
            }
            let _ = apply_change(&mut rope, change, enc);
            let text: Arc<str> = Arc::from(rope.to_string());
            prop_assert_eq!(&*text, reference.as_str(), "after {:?}", change);
            vault.update(path, parse_note(&text), Some(text));
        }
        let id = vault.note_by_path(path).unwrap();
        prop_assert_eq!(&*vault.note(id).unwrap().parsed, &parse_note(&reference));
        let fresh = scanned(&with_edited(&reference));
        let (got, want) = (view(&vault), view(&fresh));
        prop_assert_eq!(got.notes, want.notes);
        prop_assert_eq!(got.link_groups, want.link_groups);
        prop_assert_eq!(got.missing, want.missing);
        prop_assert_eq!(got.names, want.names);
        prop_assert_eq!(got.missing_table, want.missing_table);
        prop_assert!(got.resolutions == want.resolutions, "resolutions differ");
    }
}
