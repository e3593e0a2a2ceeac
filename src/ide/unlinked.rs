//! Unlinked mentions: plain text of a note that is the title or an alias of another note, and
//! could be a link to it.
//!
//! Rules (docs/format.md, "Unlinked mentions"):
//! - names are matched ignoring case ([`fold_case`]), at word boundaries: the characters
//!   around the mention are not letters, digits or `_`;
//! - names of fewer than three characters, or without a letter, are not looked for;
//! - nothing inside frontmatter, headings, wiki-links, timestamps, code (fenced, indented,
//!   inline) or a URL (a run of non-space text holding `://`) is a mention;
//! - where names overlap, the longest one that starts first wins;
//! - the mentioned text must resolve, as a link target written in this note, to exactly one
//!   note, and not to the note itself; the fix links to that note.

use crate::syntax::TextRange;
use crate::vault::{NoteId, Resolution, Vault, fold_case, is_word_char};

/// One plain-text mention of another note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    pub range: TextRange,
    /// The note it names.
    pub target: NoteId,
    /// The name as written in the text.
    pub text: String,
    /// What the link's target should be: the note's file stem when that finds it from here,
    /// else its path.
    pub link_target: String,
}

impl Mention {
    /// The link that replaces the mention: `[[stem]]` when the text is the stem itself, else
    /// `[[stem | text]]`.
    pub fn link_text(&self) -> String {
        if self.text == self.link_target {
            format!("[[{}]]", self.link_target)
        } else {
            format!("[[{} | {}]]", self.link_target, self.text)
        }
    }
}

/// The unlinked mentions of note `id`, in order.
pub fn unlinked_mentions(vault: &Vault, id: NoteId) -> Vec<Mention> {
    let Some(note) = vault.note(id) else {
        return Vec::new();
    };
    let Some(text) = vault.text(id) else {
        return Vec::new();
    };
    let matcher = vault.mention_matcher();
    let folded = fold_case(&text);
    let mut found = matcher.find_all(&folded);
    if found.is_empty() {
        return Vec::new();
    }
    let skip = skipped_ranges(&text, &note.parsed);
    // Longest first among those starting at the same place; then keep the leftmost, longest
    // ones that do not overlap.
    found.sort_by_key(|m| (m.start, std::cmp::Reverse(m.end)));
    let mut out = Vec::new();
    let mut taken_to = 0;
    for m in found {
        if m.start < taken_to || !at_word_boundaries(&text, m.start, m.end) {
            continue;
        }
        if overlaps_any(&skip, m.start, m.end) {
            continue;
        }
        let written = &text[m.start..m.end];
        let Resolution::Note(target) = vault.resolve(written, note.path()) else {
            continue;
        };
        if target == id {
            continue;
        }
        let Some(target_note) = vault.note(target) else {
            continue;
        };
        let link_target =
            if vault.resolve(target_note.stem(), note.path()) == Resolution::Note(target) {
                target_note.stem().to_owned()
            } else {
                target_note.link_path().to_owned()
            };
        taken_to = m.end;
        out.push(Mention {
            range: TextRange::new(m.start, m.end),
            target,
            text: written.to_owned(),
            link_target,
        });
    }
    out
}

fn at_word_boundaries(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char)
}

/// The ranges no mention may touch, sorted by start.
fn skipped_ranges(text: &str, parsed: &crate::syntax::ParsedNote) -> Vec<TextRange> {
    let mut skip: Vec<TextRange> = Vec::new();
    skip.extend(parsed.frontmatter.as_ref().map(|f| f.range));
    skip.extend(parsed.headings.iter().map(|h| h.range));
    skip.extend(parsed.links.iter().map(|l| l.range()));
    skip.extend(parsed.timestamps.iter().map(|t| t.range));
    skip.extend(parsed.code.iter().copied());
    let mut pos = 0;
    for word in text.split(|c: char| c.is_whitespace()) {
        if word.contains("://") {
            skip.push(TextRange::new(pos, pos + word.len()));
        }
        pos += word.len()
            + text[pos + word.len()..]
                .chars()
                .next()
                .map_or(0, char::len_utf8);
    }
    skip.sort_unstable();
    skip
}

fn overlaps_any(skip: &[TextRange], start: usize, end: usize) -> bool {
    let (start, end) = (start as u32, end as u32);
    // Ranges may nest, so every range starting before `end` is a candidate; the list is short.
    skip.iter()
        .take_while(|r| r.start < end)
        .any(|r| r.end > start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse_note;
    use crate::vault::Note;
    use std::path::PathBuf;
    use std::sync::Arc;

    fn vault(notes: &[(&str, &str)]) -> Vault {
        let root = PathBuf::from("/v");
        let mut vault = Vault::new(vec![root.clone()]);
        for (path, text) in notes {
            let mut note = Note::new(
                root.join(path),
                std::slice::from_ref(&root),
                parse_note(text),
            );
            note.open_text = Some(Arc::from(*text));
            vault.upsert(note);
        }
        vault
    }

    /// The mentions in the last note, as (text, link).
    fn mentions(notes: &[(&str, &str)]) -> Vec<(String, String)> {
        let v = vault(notes);
        let id = v
            .note_by_path(&PathBuf::from("/v").join(notes.last().unwrap().0))
            .unwrap();
        unlinked_mentions(&v, id)
            .into_iter()
            .map(|m| (m.text.clone(), m.link_text()))
            .collect()
    }

    const NAMES: [(&str, &str); 3] = [
        (
            "rust.md",
            "---\ntitle: Rust\naliases: [Rust language]\n---\n",
        ),
        ("solar_wind.md", "---\ntitle: Solar wind\n---\n"),
        ("sputnik.md", "# Спутник\n"),
    ];

    fn with(text: &str) -> Vec<(String, String)> {
        let mut notes = NAMES.to_vec();
        notes.push(("here.md", text));
        mentions(&notes)
    }

    fn pair(a: &str, b: &str) -> (String, String) {
        (a.to_owned(), b.to_owned())
    }

    #[test]
    fn matches_whole_words_ignoring_case() {
        assert_eq!(
            with("I like RUST, rusty things, trust and rust_belt; solar WIND too.\n"),
            [
                pair("RUST", "[[rust | RUST]]"),
                pair("solar WIND", "[[solar_wind | solar WIND]]")
            ]
        );
        assert_eq!(with("rust\n"), [pair("rust", "[[rust]]")]);
        assert_eq!(with("(Rust)"), [pair("Rust", "[[rust | Rust]]")]);
    }

    #[test]
    fn the_longest_name_wins_and_non_ascii_folds() {
        assert_eq!(
            with("The Rust language and СПУТНИК.\n"),
            [
                pair("Rust language", "[[rust | Rust language]]"),
                pair("СПУТНИК", "[[sputnik | СПУТНИК]]")
            ]
        );
        // A letter joined to the name is no boundary, whatever its script.
        assert_eq!(with("Спутника and éRust\n"), []);
    }

    #[test]
    fn skips_links_code_headings_frontmatter_timestamps_urls() {
        let text = "---\ntitle: About Rust\n---\n# Rust here\n\n[[rust | Rust]] `Rust` <a class=\"yt-timestamp\" data-t=\"00:00:01\">[00:00:01]</a>\nhttps://example.org/rust/x\n\n```\nRust\n```\n\n    Rust in code\n\nand Solar wind.\n";
        assert_eq!(
            with(text),
            [pair("Solar wind", "[[solar_wind | Solar wind]]")]
        );
    }

    #[test]
    fn diagnostics_report_mentions_unless_switched_off() {
        use crate::ide::{DiagnosticsOptions, diagnostics};
        let mut notes = NAMES.to_vec();
        notes.push(("here.md", "Rust here.\n"));
        let v = vault(&notes);
        let id = v.note_by_path(&PathBuf::from("/v/here.md")).unwrap();
        let on = diagnostics(&v, id, DiagnosticsOptions::default());
        let codes: Vec<_> = on.iter().map(|d| (d.code, d.severity, d.range)).collect();
        assert_eq!(
            codes,
            [(
                "unlinked-mention",
                crate::ide::Severity::Hint,
                TextRange::new(0, 4)
            )]
        );
        let off = DiagnosticsOptions {
            unlinked_mentions: false,
            ..Default::default()
        };
        assert_eq!(diagnostics(&v, id, off), []);
    }

    #[test]
    fn skips_the_note_itself() {
        let notes = [("rust.md", "---\ntitle: Rust\n---\nRust is this note.\n")];
        assert_eq!(mentions(&notes), []);
    }

    /// Correctness only. Measured once (release, 2 shared cores, November 2026): building the
    /// automaton over these 100,000 titles took about 210 ms, scanning the 6 KB note about
    /// 41 µs.
    #[test]
    fn hundred_thousand_titles_and_a_six_kilobyte_note() {
        let root = PathBuf::from("/v");
        let scanned = (0..100_000)
            .map(|i| crate::vault::ScannedNote {
                path: root.join(format!("t{i}.md")),
                parsed: parse_note(&format!("---\ntitle: Topic number {i} of the vault\n---\n")),
            })
            .collect();
        let mut vault = Vault::from_scan(vec![root.clone()], scanned);
        let mut text = String::new();
        while text.len() < 6000 {
            text.push_str("Some prose about nothing in particular, topic number 12 of a list. ");
        }
        text.push_str("And here is Topic Number 99999 of the vault.\n");
        let id = vault.upsert({
            let mut n = Note::new(
                root.join("here.md"),
                std::slice::from_ref(&root),
                parse_note(&text),
            );
            n.open_text = Some(Arc::from(text.as_str()));
            n
        });
        let found = unlinked_mentions(&vault, id);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].text, "Topic Number 99999 of the vault");
        assert_eq!(
            found[0].link_text(),
            "[[t99999 | Topic Number 99999 of the vault]]"
        );
        let start = text.find("Topic Number 99999").unwrap();
        assert_eq!(
            found[0].range,
            TextRange::new(start, start + found[0].text.len())
        );
    }
}
