//! Note names as keys: [`slug`] (the file stem a title is saved under) and [`loose_key`] (the
//! forgiving key used to match a name whatever its punctuation or spacing).
//!
//! Both run once per title, alias and link at vault start-up, so each makes one allocation and
//! takes a byte-wise path when the text is ASCII.

/// The slug of a title: lower-case letters and digits of any script, with each run of spaces
/// and underscores turned into one `_`, trimmed of `_` at both ends; every other character
/// (apostrophes, hyphens, dots, invisible format characters) is dropped.
///
/// `Russia's strategy: high-profile deaths` → `russias_strategy_highprofile_deaths`.
pub fn slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    slug_into(text, &mut out);
    out
}

/// [`slug`] into a buffer the caller reuses.
pub fn slug_into(text: &str, out: &mut String) {
    out.clear();
    // A separator is only written once a letter follows it, which both collapses runs and trims
    // both ends without a second pass.
    let mut pending_sep = false;
    if text.is_ascii() {
        for &b in text.as_bytes() {
            if b.is_ascii_alphanumeric() {
                if pending_sep && !out.is_empty() {
                    out.push('_');
                }
                pending_sep = false;
                out.push(b.to_ascii_lowercase() as char);
            } else if b == b'_' || b.is_ascii_whitespace() || b == 0x0b {
                pending_sep = true;
            }
        }
        return;
    }
    for c in text.chars() {
        if c.is_alphanumeric() {
            if pending_sep && !out.is_empty() {
                out.push('_');
            }
            pending_sep = false;
            push_lower_alnum(out, c);
        } else if c == '_' || c.is_whitespace() {
            pending_sep = true;
        }
    }
}

/// The loose key of a name: only its letters and digits, lower-cased, so that `U.S. high-profile`,
/// `us_highprofile` and `US High Profile` all meet at `ushighprofile`.
pub fn loose_key(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    loose_key_into(text, &mut out);
    out
}

/// [`loose_key`] into a buffer the caller reuses (the index computes millions of them).
pub fn loose_key_into(text: &str, out: &mut String) {
    out.clear();
    if text.is_ascii() {
        for &b in text.as_bytes() {
            if b.is_ascii_alphanumeric() {
                out.push(b.to_ascii_lowercase() as char);
            }
        }
        return;
    }
    for c in text.chars() {
        if c.is_alphanumeric() {
            push_lower_alnum(out, c);
        }
    }
}

/// Lower-cases `c`, keeping only the alphanumeric part: `İ` lower-cases to `i` plus a combining
/// dot, and keeping that dot would make `slug(slug(x)) != slug(x)`.
fn push_lower_alnum(out: &mut String, c: char) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    for l in c.to_lowercase() {
        if l.is_alphanumeric() {
            out.push(l);
        }
    }
}

/// The key under which a link target's backlinks are grouped, into a reused buffer: the loose
/// key of its last path segment without a note extension (`folder/topic.md`, `folder/topic`
/// and `Topic` all land on `topic`).
pub fn link_key_into(target: &str, key: &mut String) {
    loose_key_into(strip_note_extension(last_segment(target)), key);
}

/// A short hash of a link key, never 0 (0 marks a link without a key). Equal keys give equal
/// hashes; a match is confirmed on the key itself.
pub fn key_hash(key: &str) -> u32 {
    use std::hash::BuildHasher;
    if key.is_empty() {
        return 0;
    }
    let h = rustc_hash::FxBuildHasher.hash_one(key);
    ((h >> 32) as u32 ^ h as u32).max(1)
}

/// What follows a target's last `/`.
pub fn last_segment(target: &str) -> &str {
    // A byte loop: targets are short, and `rsplit` sets up a searcher for each of millions.
    match target.bytes().rposition(|b| b == b'/') {
        Some(i) => &target[i + 1..],
        None => target,
    }
}

/// `topic.md` in a link means the note `topic`.
pub fn strip_note_extension(target: &str) -> &str {
    for ext in [".md", ".markdown"] {
        let tail = target.len().checked_sub(ext.len()).filter(|&i| i > 0);
        if let Some(i) = tail
            && target.is_char_boundary(i)
            && target[i..].eq_ignore_ascii_case(ext)
        {
            return &target[..target.len() - ext.len()];
        }
    }
    target
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_of_a_title_with_apostrophe_colon_and_hyphen() {
        assert_eq!(
            slug("Russia's strategy: high-profile deaths"),
            "russias_strategy_highprofile_deaths"
        );
    }

    #[test]
    fn slug_drops_curly_apostrophes_dots_and_hyphens() {
        assert_eq!(slug("Europe’s U.S. co-operation"), "europes_us_cooperation");
    }

    #[test]
    fn slug_collapses_runs_of_spaces_and_underscores() {
        assert_eq!(slug("  the   long__ _road  "), "the_long_road");
        assert_eq!(slug("__already_a_slug__"), "already_a_slug");
        assert_eq!(slug("a - b"), "a_b");
    }

    #[test]
    fn slug_treats_tabs_and_nbsp_as_spaces() {
        assert_eq!(slug("one\ttwo\u{a0}three"), "one_two_three");
    }

    #[test]
    fn slug_drops_invisible_isolates() {
        assert_eq!(slug("\u{2068}Kyiv\u{2069} talks"), "kyiv_talks");
        assert_eq!(slug("talks with \u{2068}Kyiv\u{2069}"), "talks_with_kyiv");
        assert_eq!(slug("zero\u{200b}width"), "zerowidth");
    }

    #[test]
    fn slug_keeps_letters_of_any_script() {
        assert_eq!(slug("Путин и Лукашенко"), "путин_и_лукашенко");
        assert_eq!(slug("Idée Fixe"), "idée_fixe");
        assert_eq!(slug("東京 2020"), "東京_2020");
    }

    #[test]
    fn slug_drops_emoji_and_symbols() {
        assert_eq!(slug("🚀 Launch & landing!"), "launch_landing");
        assert_eq!(slug("!!!"), "");
        assert_eq!(slug(""), "");
    }

    #[test]
    fn slug_is_idempotent_even_for_dotted_capital_i() {
        for title in ["İstanbul Talks", "Russia's strategy", "ÀÉÎ õü", "ǅemal"] {
            let once = slug(title);
            assert_eq!(slug(&once), once, "{title}");
        }
        assert_eq!(slug("İstanbul"), "istanbul");
    }

    #[test]
    fn loose_key_keeps_only_letters_and_digits() {
        assert_eq!(loose_key("U.S. high-profile"), "ushighprofile");
        assert_eq!(loose_key("us_high_profile"), "ushighprofile");
        assert_eq!(loose_key("Ukraine’s War, 2022"), "ukraineswar2022");
        assert_eq!(loose_key("Łódź \u{2068}Café\u{2069}"), "łódźcafé");
        assert_eq!(loose_key(" - "), "");
    }
}
