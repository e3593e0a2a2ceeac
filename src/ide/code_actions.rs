//! Quick fixes for the diagnostics of a note.
//!
//! - `broken-link`: "Create note `slug.md`": a new file named by the slug of the target, in the
//!   linking note's own folder (a target with a `folder/` part: that folder under the workspace
//!   folder), holding frontmatter with a title made from the target (`_` → space, first letter
//!   upper-case); and "Change to `…`" for up to three notes whose names' slugs are nearest to
//!   the target's (Jaro-Winkler similarity of at least [`MIN_SIMILARITY`]).
//! - `timestamp-mismatch`: the anchor's text becomes `[data-t]`.
//! - `ambiguous-link`: one "Change to `folder/note`" per candidate.
//! - `unlinked-mention`: the text becomes `[[stem | text]]` (or `[[stem]]`).

use std::path::PathBuf;

use super::diagnostics::{DiagnosticsOptions, diagnostics};
use super::unlinked::unlinked_mentions;
use crate::syntax::{self, TextRange, TimestampKind, strip_note_extension};
use crate::vault::{NoteId, Resolution, Vault};

/// Notes whose best slug is less similar than this to a broken target are not suggested.
pub const MIN_SIMILARITY: f64 = 0.7;

/// A quick fix.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeAction {
    pub title: String,
    /// The diagnostic it fixes: its code and range in the note.
    pub diagnostic_code: &'static str,
    pub diagnostic_range: TextRange,
    /// The fix editors may apply without asking (the only one for its diagnostic).
    pub preferred: bool,
    pub edit: FixEdit,
}

/// What a fix changes: a file to create first (path and initial text), then edits. Edits of one
/// file never overlap.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FixEdit {
    pub create: Option<(PathBuf, String)>,
    pub edits: Vec<FileEdit>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FileEdit {
    pub target: EditTarget,
    pub range: TextRange,
    pub new_text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EditTarget {
    Note(NoteId),
    /// A file that does not exist yet (created by the same fix).
    NewFile(PathBuf),
}

/// The quick fixes for the diagnostics of note `id` that touch `range`.
pub fn code_actions(
    vault: &Vault,
    id: NoteId,
    range: TextRange,
    options: DiagnosticsOptions,
) -> Vec<CodeAction> {
    let Some(note) = vault.note(id) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let touches = |r: TextRange| r.start <= range.end && range.start <= r.end;
    let diags = diagnostics(vault, id, options);
    let mut mentions = None;
    for d in diags.iter().filter(|d| touches(d.range)) {
        let replace = |title: String, preferred: bool, new_text: String| CodeAction {
            title,
            diagnostic_code: d.code,
            diagnostic_range: d.range,
            preferred,
            edit: FixEdit {
                create: None,
                edits: vec![FileEdit {
                    target: EditTarget::Note(id),
                    range: d.range,
                    new_text,
                }],
            },
        };
        let link = || {
            note.parsed
                .links
                .iter()
                .find(|l| l.target_range() == d.range)
        };
        match d.code {
            "broken-link" => {
                let Some(link) = link() else { continue };
                if let Some(a) = create_note(vault, id, &link.target, d.range, d.code) {
                    out.push(a);
                }
                for target in nearest_notes(vault, &link.target, 3) {
                    let text = link_target_for(vault, id, target);
                    out.push(replace(format!("Change to `{text}`"), false, text));
                }
            }
            "ambiguous-link" => {
                let Some(link) = link() else { continue };
                for target in vault.resolve(&link.target, note.path()).candidates() {
                    let Some(n) = vault.note(target) else {
                        continue;
                    };
                    let text = n.link_path().to_owned();
                    out.push(replace(format!("Change to `{text}`"), false, text));
                }
            }
            "timestamp-mismatch" => {
                let data_t = note.parsed.timestamps.iter().find_map(|t| match &t.kind {
                    TimestampKind::Anchor {
                        data_t: Some(data_t),
                        text_range,
                        ..
                    } if *text_range == d.range => Some(data_t.trim()),
                    _ => None,
                });
                if let Some(data_t) = data_t {
                    let text = format!("[{data_t}]");
                    out.push(replace(
                        format!("Change to `{text}` (as data-t)"),
                        true,
                        text,
                    ));
                }
            }
            "unlinked-mention" => {
                let mentions = mentions.get_or_insert_with(|| unlinked_mentions(vault, id));
                if let Some(m) = mentions.iter().find(|m| m.range == d.range) {
                    let text = m.link_text();
                    out.push(replace(format!("Link to `{}`", m.link_target), true, text));
                }
            }
            _ => {}
        }
    }
    out
}

/// "Create note": `None` when the target has no slug or the file is there already.
fn create_note(
    vault: &Vault,
    id: NoteId,
    target: &str,
    range: TextRange,
    code: &'static str,
) -> Option<CodeAction> {
    let note = vault.note(id)?;
    let target = strip_note_extension(target.trim().trim_matches('/'));
    let (folder, name) = match target.rfind('/') {
        Some(i) => {
            let root = vault.roots().get(note.root()?)?;
            let mut folder = root.clone();
            for part in target[..i].split('/').filter(|p| !p.is_empty()) {
                if part == ".." || part == "." {
                    return None;
                }
                folder.push(part);
            }
            (folder, &target[i + 1..])
        }
        None => (note.folder().to_path_buf(), target),
    };
    let slug = syntax::slug(name);
    if slug.is_empty() {
        return None;
    }
    let file = format!("{slug}.md");
    let path = folder.join(&file);
    if vault.note_by_path(&path).is_some() || path.exists() {
        return None;
    }
    let shown = match note.folder().strip_prefix(&folder) {
        Ok(p) if p.as_os_str().is_empty() => file.clone(),
        _ => path
            .strip_prefix(note.root().and_then(|r| vault.roots().get(r))?)
            .ok()?
            .to_string_lossy()
            .into_owned(),
    };
    let text = format!("---\ntitle: {}\n---\n", yaml_scalar(&title_of(name)));
    Some(CodeAction {
        title: format!("Create note `{shown}`"),
        diagnostic_code: code,
        diagnostic_range: range,
        preferred: false,
        edit: FixEdit {
            create: Some((path.clone(), text.clone())),
            edits: vec![FileEdit {
                target: EditTarget::NewFile(path),
                range: TextRange::default(),
                new_text: text,
            }],
        },
    })
}

/// `zodiacal_light` → `Zodiacal light`.
fn title_of(target: &str) -> String {
    let spaced = target.replace('_', " ");
    let spaced = spaced.trim();
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A title as a YAML scalar: plain when it reads back as the same string, else double-quoted.
fn yaml_scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && !s.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@`".contains(c))
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.ends_with(':');
    if plain {
        s.to_owned()
    } else {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// The text a link in note `from` should use for `target`: its stem when that finds it, else
/// its path.
fn link_target_for(vault: &Vault, from: NoteId, target: NoteId) -> String {
    let (Some(from), Some(note)) = (vault.note(from), vault.note(target)) else {
        return String::new();
    };
    if vault.resolve(note.stem(), from.path()) == Resolution::Note(target) {
        note.stem().to_owned()
    } else {
        note.link_path().to_owned()
    }
}

/// Up to `n` notes whose names' slugs are most like the slug of `target`, best first (ties by
/// path).
fn nearest_notes(vault: &Vault, target: &str, n: usize) -> Vec<NoteId> {
    let key = syntax::slug(strip_note_extension(
        target.rsplit('/').next().unwrap_or(target),
    ));
    if key.is_empty() {
        return Vec::new();
    }
    let mut scored: Vec<(f64, &str, NoteId)> = vault
        .notes()
        .filter(|(_, note)| note.root().is_some())
        .filter_map(|(id, note)| {
            let best = note
                .slugs()
                .map(|s| strsim::jaro_winkler(&key, s))
                .fold(0.0, f64::max);
            (best >= MIN_SIMILARITY).then_some((best, note.rel_path(), id))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().take(n).map(|s| s.2).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_from_targets() {
        assert_eq!(title_of("zodiacal_light"), "Zodiacal light");
        assert_eq!(title_of("Coronal Mass Ejections"), "Coronal Mass Ejections");
        assert_eq!(title_of("ångström_units"), "Ångström units");
        assert_eq!(yaml_scalar("Zodiacal light"), "Zodiacal light");
        assert_eq!(yaml_scalar("Q: and A"), "\"Q: and A\"");
    }
}
