//! The names prose may mention: one multi-pattern matcher over every note's title and aliases,
//! built once per change of names and shared by snapshots (see `Vault::mention_matcher`).

use aho_corasick::{AhoCorasick, MatchKind};

/// Names shorter than this many characters are not looked for: two letters match too much.
pub const MIN_MENTION_CHARS: usize = 3;

/// A matcher over names folded by [`fold_case`].
#[derive(Debug)]
pub struct MentionMatcher {
    /// `None` when the vault has no name worth looking for.
    matcher: Option<AhoCorasick>,
}

/// One place where a name is written: byte range in the text (the folded text has the same
/// offsets as the original).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameMatch {
    pub start: usize,
    pub end: usize,
}

impl MentionMatcher {
    /// Builds the matcher over `names` (duplicates, names under [`MIN_MENTION_CHARS`] and names
    /// without a letter are dropped).
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> MentionMatcher {
        let mut patterns: Vec<String> = names
            .into_iter()
            .map(|n| fold_case(n.trim()))
            .filter(|n| {
                n.chars().count() >= MIN_MENTION_CHARS && n.chars().any(char::is_alphabetic)
            })
            .collect();
        patterns.sort_unstable();
        patterns.dedup();
        let matcher = (!patterns.is_empty()).then(|| {
            AhoCorasick::builder()
                // Overlapping search (every name at every place) needs the standard semantics;
                // the caller picks the longest among those that sit on word boundaries.
                .match_kind(MatchKind::Standard)
                .build(&patterns)
                .expect("the name matcher cannot be built")
        });
        MentionMatcher { matcher }
    }

    /// Every place in `folded` (a text passed through [`fold_case`]) where some name is written,
    /// overlapping ones included, in order of their end.
    pub fn find_all(&self, folded: &str) -> Vec<NameMatch> {
        let Some(m) = &self.matcher else {
            return Vec::new();
        };
        m.find_overlapping_iter(folded)
            .map(|m| NameMatch {
                start: m.start(),
                end: m.end(),
            })
            .collect()
    }
}

/// Lower-cases `text` character by character, keeping a character as it is when its lower case
/// would take a different number of bytes, so offsets into the result are offsets into `text`.
pub fn fold_case(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let mut lower = c.to_lowercase();
        match (lower.next(), lower.next()) {
            (Some(l), None) if l.len_utf8() == c.len_utf8() => out.push(l),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_keeps_offsets() {
        for t in ["Ångström", "Спутник", "İstanbul", "ẞ big", "🔭 Rust"] {
            let f = fold_case(t);
            assert_eq!(f.len(), t.len(), "{t}");
            assert!(t.char_indices().all(|(i, _)| f.is_char_boundary(i)), "{t}");
        }
        assert_eq!(fold_case("Спутник RUST"), "спутник rust");
    }

    #[test]
    fn short_and_letterless_names_are_dropped() {
        let m = MentionMatcher::new(["Go", "1984", "Rust", "rust"]);
        let text = fold_case("Go, 1984 and Rust");
        let found: Vec<&str> = m
            .find_all(&text)
            .iter()
            .map(|x| &text[x.start..x.end])
            .collect();
        assert_eq!(found, ["rust"]);
    }
}
