//! Rename: of a note's topic (its file and every link to it), of a heading (and the
//! `[[note#Heading]]` links to it), and the link updates a file move needs
//! (`workspace/willRenameFiles`). The server only proposes edits; the editor applies them.
//!
//! Decisions, in short:
//! - Renaming a note to a new name (a title) moves it to `slug(new name)` plus its old extension,
//!   in the same folder. The frontmatter `title` value is set to the new name whenever the note
//!   has one written plainly on one line ([`crate::syntax::Frontmatter::title_range`]), whether
//!   the rename started there or on a link: stem and title name the same topic. A title that
//!   only comes from a `# Heading` or from the stem is left alone.
//! - Each link to the note has only its target text replaced (its `#Heading`, display text and
//!   spacing stay): by the new stem, or for a link written as a path (`folder/old`) by the same
//!   path with the new stem. A link by one of the note's aliases that still reaches the note is
//!   left alone. When the proposed target would not reach the note from where the link is
//!   written (another note has that stem nearer to it), the note's full path is written instead.
//! - Links to other notes that the new name would capture (a `[[new_stem]]` that meant another
//!   note of that stem elsewhere) are rewritten to keep reaching their note.
//! - A new name whose slug is empty, or whose file already belongs to another note of the same
//!   folder (ignoring case), is refused with a [`RenameError`].
//! - Only parsed links are edited, so text in code is never touched; the edits of one note are
//!   sorted and never overlap.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::{FilePosition, link_at};
use crate::syntax::{self, TextRange};
use crate::vault::{NoteId, Resolution, Vault, is_note_path};

/// What `prepareRename` answers: the range the editor selects and the name it proposes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrepareRename {
    pub range: TextRange,
    pub placeholder: String,
}

/// One replacement in one note, in byte offsets of the note's current text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEdit {
    pub range: TextRange,
    pub new_text: String,
}

/// A whole rename: text edits (ranges in the notes' current text, at their current paths),
/// then file moves. Apply the text edits first, then the moves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenameEdit {
    pub file_renames: Vec<(NoteId, PathBuf)>,
    /// Per note, sorted by range, never overlapping.
    pub text_edits: Vec<(NoteId, Vec<TextEdit>)>,
}

/// Why a rename was refused, in words for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenameError(pub String);

impl fmt::Display for RenameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the cursor asks to rename.
#[derive(Debug, Clone, Copy)]
enum Subject {
    Note(NoteId),
    Heading(NoteId, usize),
}

/// The subject under the cursor, the range holding its name there, and the name proposed.
fn subject_at(vault: &Vault, pos: FilePosition) -> Option<(Subject, TextRange, String)> {
    let note = vault.note(pos.note)?;
    let parsed = &note.parsed;
    if let Some(link) = link_at(&parsed.links, pos.offset) {
        if !link.closed() {
            return None;
        }
        if let Some((heading, hr)) = parsed.link_heading(link)
            && (link.target.is_empty() || hr.touches(pos.offset))
        {
            let target = if link.target.is_empty() {
                pos.note
            } else {
                vault.resolve(&link.target, note.path()).note()?
            };
            let i = vault.find_heading(target, heading)?;
            let text = vault.note(target)?.parsed.headings[i].text.clone();
            return Some((Subject::Heading(target, i), hr, text));
        }
        if link.target.is_empty() {
            return None;
        }
        let target = vault.resolve(&link.target, note.path()).note()?;
        let title = vault.note(target)?.title().to_owned();
        return Some((Subject::Note(target), link.target_range(), title));
    }
    if let Some(fm) = &parsed.frontmatter
        && let Some(tr) = fm.title_range
        && tr.touches(pos.offset)
    {
        return Some((Subject::Note(pos.note), tr, note.title().to_owned()));
    }
    let i = parsed
        .headings
        .iter()
        .position(|h| h.range.touches(pos.offset))?;
    let h = &parsed.headings[i];
    Some((Subject::Heading(pos.note, i), h.text_range, h.text.clone()))
}

/// Whether something can be renamed at the cursor: a link's target (proposing the target
/// note's title), the frontmatter title value, a link's `#heading` part or a heading line
/// (proposing the heading's text). `None` elsewhere, and on links that lead nowhere.
pub fn prepare_rename(vault: &Vault, pos: FilePosition) -> Option<PrepareRename> {
    let (_, range, placeholder) = subject_at(vault, pos)?;
    Some(PrepareRename { range, placeholder })
}

/// Renames what is under the cursor to `new_name` (see the module docs for the rules).
pub fn rename(vault: &Vault, pos: FilePosition, new_name: &str) -> Result<RenameEdit, RenameError> {
    let new_name = new_name.trim();
    let Some((subject, _, _)) = subject_at(vault, pos) else {
        return Err(RenameError("there is nothing to rename here".into()));
    };
    if new_name.is_empty() {
        return Err(RenameError("the new name is empty".into()));
    }
    match subject {
        Subject::Note(id) => rename_note(vault, id, new_name),
        Subject::Heading(id, i) => rename_heading(vault, id, i, new_name),
    }
}

fn rename_note(vault: &Vault, id: NoteId, new_name: &str) -> Result<RenameEdit, RenameError> {
    let note = vault
        .note(id)
        .ok_or_else(|| RenameError("no such note".into()))?;
    let new_stem = syntax::slug(new_name);
    if new_stem.is_empty() {
        return Err(RenameError(format!(
            "cannot rename to \"{new_name}\": it has no letter or digit to make a file name of"
        )));
    }
    let ext = note
        .path()
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_else(|| "md".into());
    let new_path = note.folder().join(format!("{new_stem}.{ext}"));
    for other in vault.notes_with_stem_ignoring_case(&new_stem) {
        if other != id
            && let Some(n) = vault.note(other)
            && n.folder() == note.folder()
        {
            return Err(RenameError(format!(
                "a note named \"{new_stem}\" already exists: {}",
                n.rel_path()
            )));
        }
    }

    let mut edits: BTreeMap<NoteId, Vec<TextEdit>> = BTreeMap::new();
    let text = vault.text(id).unwrap_or_default();
    let mut own = Vec::new();
    if let Some(tr) = note.parsed.frontmatter.as_ref().and_then(|f| f.title_range) {
        own.push(TextEdit {
            range: tr,
            new_text: yaml_value(&text, tr, new_name),
        });
    }
    // The vault as it will be: the note at its new path, with its new title.
    let mut future = vault.clone();
    future.remove(note.path());
    let fid = future.update(
        &new_path,
        syntax::parse_note(&apply_edits(&text, &own)),
        None,
    );
    if !own.is_empty() {
        edits.insert(id, own);
    }
    let alias_slugs: Vec<String> = note
        .parsed
        .aliases()
        .iter()
        .map(|a| syntax::slug(a))
        .collect();
    for (src, i) in vault.backlinks(id) {
        let Some(from) = vault.note(src) else {
            continue;
        };
        let link = &from.parsed.links[i];
        let from_path = if src == id { &new_path } else { from.path() };
        let reaches = |t: &str| future.resolve(t, from_path) == Resolution::Note(fid);
        if alias_slugs.contains(&syntax::slug(&link.target)) && reaches(&link.target) {
            continue;
        }
        let proposed = match link.target.rfind('/') {
            Some(slash) => format!("{}/{new_stem}", &link.target[..slash]),
            None => new_stem.clone(),
        };
        let proposed = with_extension_like(&link.target, proposed);
        let new_target = if reaches(&proposed) {
            proposed
        } else {
            with_extension_like(&link.target, future_path(&future, fid))
        };
        if new_target != link.target {
            edits.entry(src).or_default().push(TextEdit {
                range: link.target_range(),
                new_text: new_target,
            });
        }
    }
    let mut moved = BTreeMap::new();
    moved.insert(id, (fid, new_path.clone()));
    let new_keys: Vec<String> = future
        .note(fid)
        .map(|n| n.loose_keys().map(str::to_owned).collect())
        .unwrap_or_default();
    keep_other_links(vault, &future, &new_keys, &moved, &mut edits);
    let file_renames = if new_path != note.path() {
        vec![(id, new_path)]
    } else {
        Vec::new()
    };
    Ok(RenameEdit {
        file_renames,
        text_edits: finish(edits),
    })
}

fn rename_heading(
    vault: &Vault,
    id: NoteId,
    index: usize,
    new_name: &str,
) -> Result<RenameEdit, RenameError> {
    let note = vault
        .note(id)
        .ok_or_else(|| RenameError("no such note".into()))?;
    let heading = &note.parsed.headings[index];
    let key = syntax::slug(new_name);
    if key.is_empty() {
        return Err(RenameError(format!(
            "cannot rename the heading to \"{new_name}\": links match headings by their letters and digits, and it has none"
        )));
    }
    if let Some(other) = note
        .parsed
        .headings
        .iter()
        .enumerate()
        .find(|(j, h)| *j != index && syntax::slug(&h.text) == key)
    {
        return Err(RenameError(format!(
            "a heading \"{}\" already exists in {}",
            other.1.text,
            note.rel_path()
        )));
    }
    let tr = heading.text_range;
    if note
        .parsed
        .links
        .iter()
        .any(|l| l.range().start < tr.end && tr.start < l.range().end)
    {
        // Replacing the heading's text would drop its links.
        return Err(RenameError(format!(
            "the heading \"{}\" holds links; edit its text by hand",
            heading.text
        )));
    }
    let mut edits: BTreeMap<NoteId, Vec<TextEdit>> = BTreeMap::new();
    edits.entry(id).or_default().push(TextEdit {
        range: heading.text_range,
        new_text: new_name.to_owned(),
    });
    let matches = |h: &str| vault.find_heading(id, h) == Some(index);
    let same_note = note
        .parsed
        .links
        .iter()
        .enumerate()
        .filter(|(_, l)| l.closed() && l.target.is_empty())
        .map(|(i, _)| (id, i));
    let links: Vec<(NoteId, usize)> = vault.backlinks(id).into_iter().chain(same_note).collect();
    for (src, i) in links {
        let Some(from) = vault.note(src) else {
            continue;
        };
        let link = &from.parsed.links[i];
        if let Some((heading, hr)) = from.parsed.link_heading(link)
            && matches(heading)
        {
            edits.entry(src).or_default().push(TextEdit {
                range: hr,
                new_text: new_name.to_owned(),
            });
        }
    }
    Ok(RenameEdit {
        file_renames: Vec::new(),
        text_edits: finish(edits),
    })
}

/// The link edits that keep every link pointing at its note when files or folders move from
/// the first path to the second (`workspace/willRenameFiles`: the editor moves the files
/// itself). Links to a moved note, and links inside a moved note, are rewritten when they would
/// no longer reach their note, or when they name the note's old file stem and the stem changed:
/// to its new stem when that reaches it, else to its path. A link written as a path gets the
/// new path. Links by title or alias that still reach their note are left alone. A note moved to a name that is not a note's
/// (another extension) loses its links; nothing can keep them.
pub fn will_rename_files(vault: &Vault, renames: &[(PathBuf, PathBuf)]) -> RenameEdit {
    let mut moves: Vec<(NoteId, PathBuf)> = Vec::new();
    for (old, new) in renames {
        if let Some(id) = vault.note_by_path(old) {
            moves.push((id, new.clone()));
            continue;
        }
        for (id, n) in vault.notes() {
            if let Ok(rest) = n.path().strip_prefix(old) {
                moves.push((id, new.join(rest)));
            }
        }
    }
    moves.retain(|(_, p)| is_note_path(p));
    if moves.is_empty() {
        return RenameEdit::default();
    }
    let mut future = vault.clone();
    for (id, _) in &moves {
        if let Some(n) = vault.note(*id) {
            future.remove(n.path());
        }
    }
    let mut now_at: BTreeMap<NoteId, (NoteId, PathBuf)> = BTreeMap::new();
    for (id, new_path) in &moves {
        if let Some(n) = vault.note(*id) {
            let fid = future.update(new_path, (*n.parsed).clone(), None);
            now_at.insert(*id, (fid, new_path.clone()));
        }
    }
    // Every link that may stop reaching its note, with that note.
    let mut links: Vec<(NoteId, usize, NoteId)> = Vec::new();
    for &id in now_at.keys() {
        links.extend(vault.backlinks(id).into_iter().map(|(s, i)| (s, i, id)));
        if let Some(n) = vault.note(id) {
            for (i, link) in n.parsed.links.iter().enumerate() {
                if link.closed()
                    && !link.target.is_empty()
                    && let Some(t) = vault.resolve(&link.target, n.path()).note()
                {
                    links.push((id, i, t));
                }
            }
        }
    }
    links.sort_unstable();
    links.dedup();
    let mut edits: BTreeMap<NoteId, Vec<TextEdit>> = BTreeMap::new();
    for (src, i, target) in links {
        let Some(from) = vault.note(src) else {
            continue;
        };
        let link = &from.parsed.links[i];
        let from_path = now_at.get(&src).map_or(from.path(), |m| &m.1);
        let want = now_at.get(&target).map_or(target, |m| m.0);
        let Some(to) = future.note(want) else {
            continue;
        };
        let reaches = |t: &str| future.resolve(t, from_path) == Resolution::Note(want);
        let path = to.link_path().to_owned();
        // A link that names the old file stem follows the file to its new stem, even where the
        // old name would still reach the note (by its title, say).
        let old_stem = vault.note(target).map_or("", |n| n.stem());
        let names_old_stem = syntax::slug(strip_extension(&link.target)) == syntax::slug(old_stem);
        let new_target = if link.target.contains('/') {
            let written = strip_extension(&link.target).trim_matches('/');
            if written.eq_ignore_ascii_case(&path) && reaches(&link.target) {
                continue;
            }
            path
        } else if !(names_old_stem && old_stem != to.stem()) && reaches(&link.target) {
            continue;
        } else if reaches(to.stem()) {
            to.stem().to_owned()
        } else {
            path
        };
        edits.entry(src).or_default().push(TextEdit {
            range: link.target_range(),
            new_text: with_extension_like(&link.target, new_target),
        });
    }
    let new_keys: Vec<String> = now_at
        .values()
        .filter_map(|(fid, _)| future.note(*fid))
        .map(|n| syntax::loose_key(n.stem()))
        .collect();
    keep_other_links(vault, &future, &new_keys, &now_at, &mut edits);
    RenameEdit {
        file_renames: Vec::new(),
        text_edits: finish(edits),
    }
}

/// Links to notes that do not move, which a moved or renamed note's new names (loose keys
/// `keys`) would capture in the `future` vault (`[[new_stem]]` that meant another note with
/// that stem): rewritten to reach their own note again, by its stem or else its path.
fn keep_other_links(
    vault: &Vault,
    future: &Vault,
    keys: &[String],
    moved: &BTreeMap<NoteId, (NoteId, PathBuf)>,
    edits: &mut BTreeMap<NoteId, Vec<TextEdit>>,
) {
    let stays = |r: &Resolution| matches!(r, Resolution::Note(t) if !moved.contains_key(t));
    let mut keys = keys.to_vec();
    keys.sort();
    keys.dedup();
    for key in &keys {
        for (src, i) in vault.links_using_key(key, stays) {
            let Some(from) = vault.note(src) else {
                continue;
            };
            let link = &from.parsed.links[i];
            let Some(target) = vault.resolve(&link.target, from.path()).note() else {
                continue;
            };
            let from_path = moved.get(&src).map_or(from.path(), |m| &m.1);
            let reaches = |t: &str| future.resolve(t, from_path) == Resolution::Note(target);
            if reaches(&link.target) {
                continue;
            }
            let Some(to) = future.note(target) else {
                continue;
            };
            let new_target = if !link.target.contains('/') && reaches(to.stem()) {
                to.stem().to_owned()
            } else {
                to.link_path().to_owned()
            };
            let list = edits.entry(src).or_default();
            if !list.iter().any(|e| e.range == link.target_range()) {
                list.push(TextEdit {
                    range: link.target_range(),
                    new_text: with_extension_like(&link.target, new_target),
                });
            }
        }
    }
}

/// The note's path as a link writes it.
fn future_path(future: &Vault, id: NoteId) -> String {
    future
        .note(id)
        .map(|n| n.link_path().to_owned())
        .unwrap_or_default()
}

/// A target written with `.md` keeps it.
fn with_extension_like(old: &str, new: String) -> String {
    let stripped = strip_extension(old);
    if stripped.len() < old.len() {
        format!("{new}{}", &old[stripped.len()..])
    } else {
        new
    }
}

fn strip_extension(target: &str) -> &str {
    let p = Path::new(target);
    if target.contains('.') && is_note_path(p) {
        &target[..target.rfind('.').unwrap_or(target.len())]
    } else {
        target
    }
}

/// `new` as the value of the `title:` line whose old value is at `range` of `text`: inside
/// the same quotes when it was quoted, else plain when YAML reads it back unchanged, else in
/// double quotes.
fn yaml_value(text: &str, range: TextRange, new: &str) -> String {
    let before = text[..range.start as usize].chars().next_back();
    match before {
        Some('"') => escape_double(new),
        Some('\'') => new.replace('\'', "''"),
        _ if plain_is_safe(new) => new.to_owned(),
        _ => format!("\"{}\"", escape_double(new)),
    }
}

fn escape_double(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Whether a YAML plain scalar reads back as this very string.
fn plain_is_safe(s: &str) -> bool {
    let first_ok = s.chars().next().is_some_and(char::is_alphanumeric);
    let lower = s.to_ascii_lowercase();
    let special = matches!(
        lower.as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "~"
    ) || s.parse::<f64>().is_ok();
    first_ok
        && !special
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.ends_with(':')
        && !s.contains(['\n', '\r', '\t'])
        && s == s.trim()
}

/// Applies sorted, non-overlapping edits to a text.
fn apply_edits(text: &str, edits: &[TextEdit]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for e in edits {
        out.push_str(&text[at..e.range.start as usize]);
        out.push_str(&e.new_text);
        at = e.range.end as usize;
    }
    out.push_str(&text[at..]);
    out
}

/// Each note's edits sorted by range, dropping any that would overlap an earlier one (none
/// should: every edit replaces a different part of a different link).
fn finish(edits: BTreeMap<NoteId, Vec<TextEdit>>) -> Vec<(NoteId, Vec<TextEdit>)> {
    edits
        .into_iter()
        .map(|(id, mut list)| {
            list.sort_by_key(|e| (e.range.start, e.range.end));
            list.dedup();
            let mut kept: Vec<TextEdit> = Vec::with_capacity(list.len());
            for e in list {
                if kept.last().is_none_or(|k| k.range.end <= e.range.start) {
                    kept.push(e);
                } else {
                    debug_assert!(false, "overlapping rename edits in one note");
                }
            }
            (id, kept)
        })
        .filter(|(_, l)| !l.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_values_read_back_as_written() {
        let text = "title: Old\n";
        let r = TextRange::new(7, 10);
        assert_eq!(yaml_value(text, r, "New Topic"), "New Topic");
        assert_eq!(yaml_value(text, r, "Q&A: live"), "\"Q&A: live\"");
        assert_eq!(yaml_value(text, r, "'quoted'"), "\"'quoted'\"");
        assert_eq!(yaml_value(text, r, "2024"), "\"2024\"");
        let quoted = "title: \"Old\"\n";
        let r = TextRange::new(8, 11);
        assert_eq!(yaml_value(quoted, r, "Say \"hi\""), "Say \\\"hi\\\"");
        let single = "title: 'Old'\n";
        assert_eq!(yaml_value(single, r, "It's"), "It''s");
    }

    fn vault(files: &[(&str, &str)]) -> Vault {
        let root = PathBuf::from("/v");
        let mut vault = Vault::new(vec![root.clone()]);
        for (path, text) in files {
            let text: std::sync::Arc<str> = (*text).into();
            vault.update(&root.join(path), syntax::parse_note(&text), Some(text));
        }
        vault
    }

    fn at(vault: &Vault, path: &str, text: &str, needle: &str) -> FilePosition {
        let note = vault.note_by_path(&Path::new("/v").join(path)).unwrap();
        let offset = text.find(needle).unwrap() as u32;
        FilePosition { note, offset }
    }

    #[test]
    fn a_heading_holding_links_is_not_renamed() {
        let a = "## Talk with [[b | Bea]]\n";
        let v = vault(&[
            ("a.md", a),
            ("b.md", "x\n"),
            ("c.md", "[[a#Talk with Bea]]\n"),
        ]);
        let err = rename(&v, at(&v, "a.md", a, "Talk"), "Chat").unwrap_err();
        assert_eq!(
            err.0,
            "the heading \"Talk with Bea\" holds links; edit its text by hand"
        );
    }

    #[test]
    fn a_note_without_frontmatter_title_keeps_its_heading_and_gets_a_new_file() {
        let a = "# Old Topic\n\n[[old_topic]] [[sub/Old_Topic#Old Topic]]\n";
        let v = vault(&[("sub/old_topic.md", a)]);
        let edit = rename(
            &v,
            at(&v, "sub/old_topic.md", a, "old_topic]]"),
            "New Topic",
        )
        .unwrap();
        let id = v.note_by_path(Path::new("/v/sub/old_topic.md")).unwrap();
        assert_eq!(
            edit.file_renames,
            vec![(id, PathBuf::from("/v/sub/new_topic.md"))]
        );
        let news: Vec<&str> = edit.text_edits[0]
            .1
            .iter()
            .map(|e| e.new_text.as_str())
            .collect();
        assert_eq!(news, ["new_topic", "sub/new_topic"]);
    }

    #[test]
    fn targets_keep_their_extension() {
        assert_eq!(with_extension_like("old.md", "new".into()), "new.md");
        assert_eq!(with_extension_like("a/old", "a/new".into()), "a/new");
        assert_eq!(strip_extension("v1.2"), "v1.2");
    }
}
