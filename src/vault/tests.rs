//! Unit tests of the index: resolution levels, the folder rule, incremental changes.

use std::path::{Path, PathBuf};

use super::*;
use crate::syntax::parse_note;

fn root() -> PathBuf {
    PathBuf::from("/vault")
}

/// A vault from `(relative path, text)` pairs.
fn vault(notes: &[(&str, &str)]) -> Vault {
    let scanned = notes
        .iter()
        .map(|(p, t)| ScannedNote {
            path: root().join(p),
            parsed: parse_note(t),
        })
        .collect();
    Vault::from_scan(vec![root()], scanned)
}

fn resolve(v: &Vault, target: &str, from: &str) -> Vec<String> {
    v.resolve(target, &root().join(from))
        .candidates()
        .into_iter()
        .map(|id| v.note(id).unwrap().rel_path().to_owned())
        .collect()
}

#[test]
fn each_level_resolves_in_order() {
    let v = vault(&[
        (
            "ch1/diffusion_models.md",
            "---\ntitle: Diffusion Models and ControlNet\n---\n",
        ),
        ("Solar_Wind.md", "# Solar wind\n"),
        ("solar_wind.md", "# Another\n"),
        (
            "people/ada.md",
            "---\naliases: [Countess of Lovelace]\n---\n",
        ),
        ("us_policy.md", "---\ntitle: U.S. policy\n---\n"),
    ]);
    // (1) path, ignoring case
    assert_eq!(
        resolve(&v, "CH1/Diffusion_Models", "x.md"),
        ["ch1/diffusion_models.md"]
    );
    // (2) exact stem wins over the case-insensitive match
    assert_eq!(resolve(&v, "Solar_Wind", "x.md"), ["Solar_Wind.md"]);
    assert_eq!(resolve(&v, "solar_wind", "x.md"), ["solar_wind.md"]);
    // (3) stem ignoring case: both notes tie, neither is in an enclosing folder... both are at the root
    assert_eq!(
        resolve(&v, "SOLAR_WIND", "x.md"),
        ["Solar_Wind.md", "solar_wind.md"]
    );
    // (4) slug of a title, of an alias
    assert_eq!(
        resolve(&v, "Diffusion Models and ControlNet", "x.md"),
        ["ch1/diffusion_models.md"]
    );
    assert_eq!(
        resolve(&v, "countess of lovelace", "x.md"),
        ["people/ada.md"]
    );
    // (5) loose key
    assert_eq!(resolve(&v, "US-Policy", "x.md"), ["us_policy.md"]);
    assert_eq!(resolve(&v, "nothing_here", "x.md"), Vec::<String>::new());
    // a moved note is still found by the last segment of a path
    assert_eq!(resolve(&v, "old/ada", "x.md"), ["people/ada.md"]);
    assert_eq!(resolve(&v, "ada.md", "x.md"), ["people/ada.md"]);
}

#[test]
fn own_folder_then_nearest_enclosing_folder_wins() {
    let v = vault(&[
        ("ch1/intro.md", ""),
        ("ch2/intro.md", ""),
        ("a/x.md", ""),
        ("x.md", ""),
        ("a/c/x.md", ""),
    ]);
    assert_eq!(resolve(&v, "intro", "ch1/index.md"), ["ch1/intro.md"]);
    assert_eq!(resolve(&v, "intro", "ch2/index.md"), ["ch2/intro.md"]);
    assert_eq!(
        resolve(&v, "intro", "people/p.md"),
        ["ch1/intro.md", "ch2/intro.md"]
    );
    assert_eq!(resolve(&v, "x", "a/b/n.md"), ["a/x.md"]);
    assert_eq!(resolve(&v, "x", "z/n.md"), ["x.md"]);
    assert_eq!(resolve(&v, "x", "a/c/d/n.md"), ["a/c/x.md"]);
    assert!(matches!(
        v.resolve("intro", Path::new("/vault/people/p.md")),
        Resolution::Ambiguous(_)
    ));
}

#[test]
fn invisible_unicode_in_file_names_still_resolves() {
    let v = vault(&[("\u{2068}Putin\u{2069}_and_the_war.md", "")]);
    assert_eq!(resolve(&v, "putin_and_the_war", "x.md").len(), 1);
}

#[test]
fn changes_are_incremental_and_keep_backlinks_right() {
    let mut v = vault(&[
        ("a.md", "[[b]] and [[B | again]] and [[missing_topic]]"),
        ("b.md", "# B\n"),
    ]);
    let b_key = link_key("b");
    assert_eq!(v.links_with_key(&b_key).unwrap().total(), 2);
    assert!(!v.has_loose_key(&link_key("missing_topic")));
    // The missing note appears.
    let path = root().join("missing_topic.md");
    v.update(&path, parse_note("# Missing topic\n"), None);
    assert!(v.has_loose_key("missingtopic"));
    assert_eq!(resolve(&v, "missing_topic", "a.md"), ["missing_topic.md"]);
    // The linking note changes: its old links go.
    let a = root().join("a.md");
    let gen_before = v.generation();
    v.update(&a, parse_note("no links now"), None);
    assert!(v.generation() > gen_before);
    assert!(v.links_with_key(&b_key).is_none());
    // Removal.
    v.remove(&path);
    assert!(!v.has_loose_key("missingtopic"));
    assert_eq!(v.len(), 2);
}

#[test]
fn a_snapshot_does_not_see_later_changes() {
    let mut v = vault(&[("a.md", "[[b]]")]);
    let snapshot = v.clone();
    v.update(&root().join("b.md"), parse_note(""), None);
    assert_eq!(resolve(&v, "b", "a.md"), ["b.md"]);
    assert!(resolve(&snapshot, "b", "a.md").is_empty());
}

#[test]
fn open_text_stays_until_the_editor_closes_the_note() {
    let mut v = vault(&[("a.md", "disk")]);
    let a = root().join("a.md");
    let id = v.update(&a, parse_note("[[x]]"), Some("[[x]]".into()));
    assert_eq!(v.text(id).as_deref(), Some("[[x]]"));
    // A disk change while open does not drop the editor's text.
    v.upsert(Note::new(a.clone(), &[root()], parse_note("disk 2")));
    assert_eq!(v.note(id).unwrap().open_text.as_deref(), Some("[[x]]"));
    v.update(&a, parse_note("disk 2"), None);
    assert!(v.note(id).unwrap().open_text.is_none());
}

#[test]
fn headings_match_by_slug() {
    let v = vault(&[("a.md", "# Title\n## The Bow Shock, up close\n")]);
    let id = v.note_by_path(&root().join("a.md")).unwrap();
    assert_eq!(v.find_heading(id, "the bow shock — Up Close"), Some(1));
    assert_eq!(v.find_heading(id, "nope"), None);
}

#[test]
fn scanning_skips_hidden_and_ignored_folders_and_binary_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir_all(p.join(".obsidian")).unwrap();
    std::fs::create_dir_all(p.join("build")).unwrap();
    std::fs::create_dir_all(p.join("notes")).unwrap();
    std::fs::write(p.join(".gitignore"), "build/\n").unwrap();
    std::fs::write(p.join(".obsidian/x.md"), "hidden").unwrap();
    std::fs::write(p.join("build/y.md"), "ignored").unwrap();
    std::fs::write(p.join("notes/a.md"), "# A").unwrap();
    std::fs::write(p.join("notes/B.MARKDOWN"), "# B").unwrap();
    std::fs::write(p.join("notes/c.txt"), "not a note").unwrap();
    std::fs::write(p.join("notes/bin.md"), b"\x00\x01\x02binary").unwrap();
    std::fs::write(p.join("notes/latin1.md"), b"caf\xe9 [[a]]").unwrap();
    let (notes, errors) = scan_folder(p, &|_, _| {});
    let mut names: Vec<String> = notes
        .iter()
        .map(|n| {
            n.path
                .strip_prefix(p)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    assert_eq!(names, ["notes/B.MARKDOWN", "notes/a.md", "notes/latin1.md"]);
    assert_eq!(errors.len(), 2, "{errors:?}");
    let skipped: Vec<_> = errors
        .iter()
        .filter(|e| e.kind == ScanProblem::Skipped)
        .collect();
    assert_eq!(skipped.len(), 1, "{errors:?}");
    assert!(skipped[0].message.contains("binary"));
    assert!(skipped[0].path.ends_with("bin.md"));
    let lossy: Vec<_> = errors
        .iter()
        .filter(|e| e.kind == ScanProblem::Lossy)
        .collect();
    assert!(lossy.len() == 1 && lossy[0].path.ends_with("latin1.md"));
    let latin = notes
        .iter()
        .find(|n| n.path.ends_with("latin1.md"))
        .unwrap();
    assert_eq!(latin.parsed.links.len(), 1);
}

fn missing(v: &Vault) -> Vec<String> {
    let mut m: Vec<String> = v.missing_targets().map(|(k, _)| k.to_string()).collect();
    m.sort();
    m
}

#[test]
fn targets_without_a_note_follow_every_change() {
    let mut v = vault(&[("a.md", "[[b]] [[c]] [[d | D]]"), ("b.md", "")]);
    assert_eq!(missing(&v), ["c", "d"]);
    // A note appears under an alias.
    v.update(
        &root().join("x.md"),
        parse_note("---\naliases: [C]\n---\n"),
        None,
    );
    assert_eq!(missing(&v), ["d"]);
    // Its alias goes: the target is missing again.
    v.update(&root().join("x.md"), parse_note(""), None);
    assert_eq!(missing(&v), ["c", "d"]);
    // The only link to d goes.
    v.update(&root().join("a.md"), parse_note("[[b]] [[c]]"), None);
    assert_eq!(missing(&v), ["c"]);
    // b is deleted: its links become missing.
    v.remove(&root().join("b.md"));
    assert_eq!(missing(&v), ["b", "c"]);
    // The index built at once agrees with the one built change by change.
    let fresh = vault(&[("a.md", "[[b]] [[c]]"), ("x.md", "")]);
    assert_eq!(missing(&fresh), missing(&v));
}

/// Found by `tests/properties.rs`: two spellings of a missing target used equally often. The
/// first one met won, and which one is met first depends on which note was edited last, so
/// the completion offered `nowhere` after an edit and `Nowhere` after a fresh scan.
#[test]
fn a_tie_of_spellings_does_not_depend_on_the_order_of_edits() {
    let spelling = |v: &Vault| {
        v.links_with_key("nowhere")
            .unwrap()
            .main_spelling()
            .to_string()
    };
    let fresh = vault(&[("a.md", "[[nowhere]]"), ("b.md", "[[Nowhere]]")]);
    let mut edited = vault(&[("a.md", "[[nowhere]]"), ("b.md", "")]);
    edited.update(&root().join("b.md"), parse_note("[[Nowhere]]"), None);
    assert_eq!(spelling(&fresh), "Nowhere");
    assert_eq!(spelling(&edited), "Nowhere");
    // More links still win over the order of characters.
    edited.update(
        &root().join("a.md"),
        parse_note("[[nowhere]] [[nowhere]]"),
        None,
    );
    assert_eq!(spelling(&edited), "nowhere");
}

fn table_texts(t: &SearchTable) -> Vec<String> {
    let mut v: Vec<String> = t.entries().iter().map(|e| t.text(e).to_owned()).collect();
    v.sort();
    v
}

#[test]
fn completion_tables_follow_names_and_links_but_not_prose() {
    let mut v = vault(&[
        ("alpha.md", "---\ntitle: Alpha\n---\nSee [[gamma]].\n"),
        ("beta.md", "---\ntitle: Beta\naliases: [Bee]\n---\n"),
    ]);
    assert_eq!(table_texts(&v.name_table()), ["Alpha", "Bee", "Beta"]);
    assert_eq!(table_texts(&v.missing_table()), ["gamma"]);
    let before = v.name_table();
    // Typing prose: the same tables stay.
    v.update(
        &root().join("alpha.md"),
        parse_note("---\ntitle: Alpha\n---\nSee [[gamma]]. More.\n"),
        None,
    );
    assert!(Arc::ptr_eq(&before, &v.name_table()));
    // A snapshot taken now keeps its tables while the writer's change.
    let snapshot = v.clone();
    v.update(
        &root().join("alpha.md"),
        parse_note("---\ntitle: Aleph\n---\nSee [[delta]].\n"),
        None,
    );
    // The stem is no longer the title's slug, so it is matched too.
    assert_eq!(
        table_texts(&v.name_table()),
        ["Aleph", "Bee", "Beta", "alpha"]
    );
    assert_eq!(table_texts(&v.missing_table()), ["delta"]);
    assert_eq!(
        table_texts(&snapshot.name_table()),
        ["Alpha", "Bee", "Beta"]
    );
    assert_eq!(table_texts(&snapshot.missing_table()), ["gamma"]);
}

#[test]
fn backlinks_are_the_links_that_resolve_to_the_note() {
    let v = vault(&[
        (
            "ch1/intro.md",
            "---\ntitle: Intro One\naliases: [Opening]\n---\n",
        ),
        ("ch2/intro.md", "# Intro Two\n"),
        (
            "ch1/a.md",
            "[[intro]] and [[Opening | the opening]] and [[ch2/intro]]\n[[intro#Part]]",
        ),
        ("ch2/b.md", "[[intro]] [[Intro One]]"),
        ("people/p.md", "[[intro]] [[missing_note]] [[Missing Note]]"),
    ]);
    let id = |p: &str| v.note_by_path(&root().join(p)).unwrap();
    let show = |links: Vec<(NoteId, usize)>| -> Vec<(String, usize)> {
        links
            .into_iter()
            .map(|(n, i)| (v.note(n).unwrap().rel_path().to_owned(), i))
            .collect()
    };
    assert_eq!(
        show(v.backlinks(id("ch1/intro.md"))),
        [
            ("ch1/a.md".to_owned(), 0),
            ("ch1/a.md".to_owned(), 1),
            ("ch1/a.md".to_owned(), 3),
            ("ch2/b.md".to_owned(), 1)
        ]
    );
    assert_eq!(
        show(v.backlinks(id("ch2/intro.md"))),
        [("ch1/a.md".to_owned(), 2), ("ch2/b.md".to_owned(), 0)]
    );
    // The ambiguous link from people/ counts for neither; the missing target has its links.
    assert_eq!(
        show(v.links_using_key("missingnote", |r| *r == Resolution::Missing)),
        [("people/p.md".to_owned(), 1), ("people/p.md".to_owned(), 2)]
    );
}

/// A hub's linking notes are folded in shares (on all cores); the shares come back in order,
/// and so do their links after edits that re-index early notes and add late ones.
#[test]
fn links_of_a_hub_come_in_order_of_notes_in_shares_and_after_edits() {
    let count = 3 * PARALLEL_SOURCES / 2;
    let texts: Vec<(String, String)> = (0..count)
        .map(|i| {
            let text = match i % 3 {
                0 => "[[hub]] once".to_owned(),
                1 => "[[Kiln | by its alias]], then [[hub]]".to_owned(),
                _ => "[[other]] and [[hub#Part]]".to_owned(),
            };
            (format!("n/{i:04}.md"), text)
        })
        .collect();
    let mut notes: Vec<(&str, &str)> = texts.iter().map(|(p, t)| (&p[..], &t[..])).collect();
    notes.push(("hub.md", "---\naliases: [Kiln]\n---\n# Hub\n"));
    notes.push(("other.md", "# Other\n"));
    let mut v = vault(&notes);
    let hub = v.note_by_path(&root().join("hub.md")).unwrap();
    let check = |v: &Vault| {
        let keys: Vec<&str> = v.note(hub).unwrap().loose_keys().collect();
        let keep = Resolution::Note(hub);
        let shares = v.fold_links(
            &keys,
            |r| *r == keep,
            Vec::new,
            |share, id, _, i, _| share.push((id, i)),
        );
        assert!(shares.len() > 1, "{} shares", shares.len());
        let all: Vec<(NoteId, usize)> = shares.concat();
        let mut sorted = all.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(all, sorted);
        assert_eq!(v.backlinks(hub), all);
        for (_, links) in v.links_by_key.iter() {
            assert!(links.sources.is_sorted_by(|a, b| a < b), "{links:?}");
        }
        all
    };
    let before = check(&v);
    let first = v.note_by_path(&root().join("n/0001.md")).unwrap();
    assert_eq!(&before[1..3], [(first, 0), (first, 1)]);
    // An early note changes (its links are indexed again), another loses its links, and a new
    // note links last.
    v.update(
        &root().join("n/0001.md"),
        parse_note("[[hub]] [[x]] [[Kiln]]"),
        None,
    );
    v.update(&root().join("n/0003.md"), parse_note("no links"), None);
    v.update(&root().join("zz.md"), parse_note("[[HUB]]"), None);
    let after = check(&v);
    let third = v.note_by_path(&root().join("n/0003.md")).unwrap();
    assert_eq!(&after[1..3], [(first, 0), (first, 2)]);
    assert!(after.iter().all(|&(id, _)| id != third));
    let last = v.note_by_path(&root().join("zz.md")).unwrap();
    assert_eq!(after.last(), Some(&(last, 0)));
    assert_eq!(after.len(), before.len() - 1 + 1);
}

#[test]
fn a_link_written_with_the_extension_is_a_backlink_too() {
    let v = vault(&[
        ("topic.md", "# Topic\n"),
        ("a.md", "[[topic.md]] and [[Topic.MD | it]]"),
    ]);
    let id = v.note_by_path(&root().join("topic.md")).unwrap();
    assert_eq!(v.backlinks(id).len(), 2);
    assert!(v.missing_targets().next().is_none());
}

#[test]
fn a_new_link_keeps_the_tables_built_from_names() {
    let mut v = vault(&[
        ("alpha.md", "---\ntitle: Alpha\n---\nSee [[gamma]].\n"),
        ("beta.md", "# Beta\n"),
    ]);
    let names = v.name_table();
    let mentions = v.mention_matcher();
    v.update(
        &root().join("alpha.md"),
        parse_note("---\ntitle: Alpha\n---\nSee [[gamma]] [[delta]].\n"),
        None,
    );
    assert!(Arc::ptr_eq(&names, &v.name_table()));
    assert!(Arc::ptr_eq(&mentions, &v.mention_matcher()));
    assert_eq!(table_texts(&v.missing_table()), ["delta", "gamma"]);
    v.update(&root().join("beta.md"), parse_note("# Bet\n"), None);
    assert!(!Arc::ptr_eq(&names, &v.name_table()));
    assert!(!Arc::ptr_eq(&mentions, &v.mention_matcher()));
}

#[test]
fn comparing_a_link_key_as_it_goes_agrees_with_computing_it() {
    let mut buf = String::new();
    for target in [
        "Raku_Firing",
        "raku-firing.md",
        "folder/Raku Firing",
        "raku",
        "rakufiringx",
        "Ракý",
        "",
        "...",
    ] {
        for key in ["rakufiring", "raku", "ракý", ""] {
            assert_eq!(
                super::has_link_key(target, key, &mut buf),
                link_key(target) == key,
                "{target:?} ~ {key:?}"
            );
        }
    }
}

#[test]
fn paths_sort_as_their_components_do() {
    let mut paths: Vec<PathBuf> = [
        "/v/a-b.md",
        "/v/a/b.md",
        "/v/a.md",
        "/v/a",
        "/v/Б.md",
        "/v/z.md",
        // Past eight bytes of common start, and differing inside and after a word of eight.
        "/vault/channel/a-b.md",
        "/vault/channel/a/b.md",
        "/vault/channel-2/a.md",
        "/vault/channel/alliance_and_press.md",
        "/vault/channel/alliance_and_press",
        "/vault/channel/alliance_and_pressed.md",
        "/vault/channel/alliance/and_press.md",
        "/vault/channelx",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    let mut expected = paths.clone();
    expected.sort();
    paths.sort_by(|a, b| super::scan::path_order(a, b));
    assert_eq!(paths, expected);
}

#[test]
fn letters_mask_holds_each_letter_and_what_accented_ones_stand_for() {
    let m = letters_mask("Émile Zola 1885");
    for c in "emilzola185".chars() {
        assert!(
            m & letters_mask(&c.to_string()) != 0,
            "{c} is missing from the mask"
        );
    }
    assert_eq!(m & letters_mask("b"), 0);
    assert_eq!(letters_mask("ÉMILE"), letters_mask("emile"));
    // Cyrillic and emoji hold no ASCII letter.
    assert_eq!(letters_mask("Жизнь 🎬"), 0);
    assert_eq!(letters_mask("_- !"), 0);
    // The search tables mark the names and targets beyond ASCII, and only those.
    let v = vault(&[
        ("emile.md", "# Émile Zola\n[[Жизнь 🎬]] [[plain_target]]"),
        ("plain.md", "# Plain title\n"),
    ]);
    let mut seen = Vec::new();
    for table in [v.name_table(), v.missing_table()] {
        for e in table.entries() {
            let text = table.text(e);
            assert_eq!(e.letters & NOT_ASCII == 0, text.is_ascii(), "{text}");
            assert_eq!(e.letters & !NOT_ASCII, letters_mask(text), "{text}");
            seen.push(text.to_owned());
        }
    }
    for text in ["Émile Zola", "Plain title", "Жизнь 🎬", "plain_target"] {
        assert!(seen.iter().any(|s| s == text), "{text} not in {seen:?}");
    }
}

#[test]
fn the_notes_of_a_key_are_inline_when_one_and_shared_when_many() {
    use super::Ids;
    assert_eq!(std::mem::size_of::<Ids>(), 16);
    let one: Ids = vec![NoteId(7)].into();
    assert!(matches!(one, Ids::One(NoteId(7))));
    assert_eq!(&*one, &[NoteId(7)]);
    let many: Ids = [NoteId(1), NoteId(2)].into_iter().collect();
    assert!(matches!(many, Ids::Many(_)));
    assert_eq!(&*many, &[NoteId(1), NoteId(2)]);
    let none: Ids = Vec::new().into();
    assert!(none.is_empty());
}

#[test]
fn a_key_that_hashes_like_another_finds_only_its_own_notes() {
    // Two keys with one 64-bit hash are as good as never met, so the clash is made by hand:
    // note a.md filed (also) under the hash of "zebra", in every name map and the path map.
    let mut v = vault(&[("a.md", "# Alpha\n"), ("b.md", "[[zebra]] [[a]]")]);
    let a = v.note_by_path(&root().join("a.md")).unwrap();
    for kind in 0..5 {
        add_id(v.key_map(kind), name_hash(b"zebra"), a);
    }
    add_id(&mut v.by_path, path_hash(&root().join("zebra.md")), a);
    assert_eq!(resolve(&v, "zebra", "b.md"), Vec::<String>::new());
    assert_eq!(resolve(&v, "folder/zebra", "b.md"), Vec::<String>::new());
    assert!(!v.has_loose_key("zebra"));
    assert!(v.notes_with_stem_ignoring_case("ZEBRA").is_empty());
    assert_eq!(v.note_by_path(&root().join("zebra.md")), None);
    // The note is still found under its own keys.
    assert_eq!(resolve(&v, "a", "b.md"), ["a.md"]);
    assert_eq!(resolve(&v, "ALPHA", "b.md"), ["a.md"]);
    assert_eq!(v.note_by_path(&root().join("a.md")), Some(a));
    // A note created with that key is found, and the stray entry does not tie with it.
    let z = v.update(&root().join("zebra.md"), parse_note("# Zebra\n"), None);
    assert_eq!(resolve(&v, "zebra", "b.md"), ["zebra.md"]);
    assert_eq!(v.note_by_path(&root().join("zebra.md")), Some(z));
    // Removing it leaves the key missing again, with its link waiting.
    v.remove(&root().join("zebra.md"));
    assert!(!v.has_loose_key("zebra"));
    assert!(v.missing_targets().any(|(k, _)| &**k == "zebra"));
}

#[test]
fn lower_case_comparison_agrees_with_to_lowercase() {
    for (text, lower) in [
        ("Topic", "topic"),
        ("ÉCOLE", "école"),
        ("ΟΔΟΣ", "οδος"),
        ("ΟΔΟΣ", "οδoς"),
        ("Straße", "straße"),
    ] {
        assert_eq!(
            lower_is(text, lower),
            text.to_lowercase() == lower,
            "{text}"
        );
    }
    assert!(lower_is("ΟΔΟΣ", &"ΟΔΟΣ".to_lowercase()));
    assert!(!lower_is("Topic", "topi"));
}

/// A note's (root, rel_path, stem, title) as `Note::new` computed them when it kept each as
/// its own string: what the derived names must equal, byte for byte.
fn names_as_once_kept(
    path: &Path,
    roots: &[PathBuf],
    text: &str,
) -> (Option<usize>, String, String, String) {
    let root = roots.iter().position(|r| path.starts_with(r));
    let rel = match root {
        Some(i) => path.strip_prefix(&roots[i]).unwrap_or(path),
        None => path.file_name().map(Path::new).unwrap_or(path),
    };
    let rel_path = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/");
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let title = parse_note(text)
        .title()
        .map(str::to_owned)
        .unwrap_or_else(|| stem.clone());
    (root, rel_path, stem, title)
}

fn names_of(note: &Note) -> (Option<usize>, String, String, String) {
    (
        note.root(),
        note.rel_path().to_owned(),
        note.stem().to_owned(),
        note.title().to_owned(),
    )
}

/// Builds the note at `path` and checks its names against [`names_as_once_kept`]; tells
/// whether it had to keep them apart from its path.
fn check_names(path: &Path, roots: &[PathBuf], text: &str) -> bool {
    let note = Note::new(path.to_path_buf(), roots, parse_note(text));
    assert_eq!(
        names_of(&note),
        names_as_once_kept(path, roots, text),
        "{path:?}"
    );
    assert_eq!(note.path(), path);
    note.spilled.is_some()
}

#[test]
fn names_in_folders_and_of_any_script_are_read_from_the_path() {
    let v = vault(&[
        ("notes/deep/Idée fixe.md", "no title here\n"),
        ("Путин/Лукашенко и я.md", "# Заголовок\n"),
        (
            "emoji 🚀/launch 🛰 day.md",
            "---\ntitle: Front title\n---\n# Heading title\n",
        ),
        ("a.b/c.d.md", "## Not a title\n"),
        (
            "plain.md",
            "---\ntitle: '   '\n---\n# Heading wins over a blank title\n",
        ),
    ]);
    let by_rel = |rel: &str| {
        let id = v.note_by_path(&root().join(rel)).unwrap();
        names_of(v.note(id).unwrap())
    };
    let names = |rel: &str, stem: &str, title: &str| {
        (Some(0), rel.to_owned(), stem.to_owned(), title.to_owned())
    };
    assert_eq!(
        by_rel("notes/deep/Idée fixe.md"),
        names("notes/deep/Idée fixe.md", "Idée fixe", "Idée fixe")
    );
    assert_eq!(
        by_rel("Путин/Лукашенко и я.md"),
        names("Путин/Лукашенко и я.md", "Лукашенко и я", "Заголовок")
    );
    assert_eq!(
        by_rel("emoji 🚀/launch 🛰 day.md"),
        names("emoji 🚀/launch 🛰 day.md", "launch 🛰 day", "Front title")
    );
    assert_eq!(by_rel("a.b/c.d.md"), names("a.b/c.d.md", "c.d", "c.d"));
    assert_eq!(
        by_rel("plain.md"),
        names("plain.md", "plain", "Heading wins over a blank title")
    );
    for (_, note) in v.notes() {
        assert!(note.spilled.is_none(), "{note:?}");
    }
    // Links find them by the derived names.
    assert_eq!(
        resolve(&v, "Idée fixe", "x.md"),
        ["notes/deep/Idée fixe.md"]
    );
    assert_eq!(resolve(&v, "заголовок", "x.md"), ["Путин/Лукашенко и я.md"]);
    assert_eq!(
        resolve(&v, "Front title", "x.md"),
        ["emoji 🚀/launch 🛰 day.md"]
    );
    assert_eq!(
        resolve(&v, "EMOJI 🚀/Launch 🛰 Day", "x.md"),
        ["emoji 🚀/launch 🛰 day.md"]
    );
}

#[test]
fn names_agree_with_the_path_whatever_its_shape() {
    let roots = [root(), PathBuf::from("/other root/nested")];
    let plain = [
        "/vault/a.md",
        "/vault/deep/er/still/Note with spaces.md",
        "/vault/.hidden.md",
        "/vault/.md",
        "/vault/a..md",
        "/vault/no_extension",
        "/vault/Ünïcödé/ÆØÅ – “quoted”.markdown",
        "/vault/./dot/segment.md",
        "/other root/nested/x.md",
        "/other root/nested",
        "/vault",
    ];
    for path in plain {
        assert!(!check_names(Path::new(path), &roots, "# T\n"), "{path}");
        assert!(!check_names(Path::new(path), &roots, ""), "{path}");
    }
    // A path written with doubled or trailing separators: its components are joined anew, so
    // the relative path is no slice of it and the note keeps its names apart.
    for path in ["/vault//a//b.md", "/vault/dir/note.md/", "/vault/x/../y.md"] {
        check_names(Path::new(path), &roots, "");
    }
    assert!(check_names(Path::new("/vault//a//b.md"), &roots, ""));
    // A relative path that starts past what 16 bits count (a long path below it is fine).
    let long_root = PathBuf::from(format!("/{}", "r".repeat(70_000)));
    let long_roots = [root(), long_root.clone()];
    assert!(check_names(
        &long_root.join("n.md"),
        &long_roots,
        "# Long\n"
    ));
    // Outside every folder too: its file name starts as far.
    assert!(check_names(&long_root.join("n.md"), &[root()], ""));
    let long_below = format!("/vault/{}/n.md", "x".repeat(70_000));
    assert!(!check_names(Path::new(&long_below), &roots, "# Long\n"));
    // The second workspace folder.
    let note = Note::new(
        PathBuf::from("/other root/nested/x.md"),
        &roots,
        parse_note(""),
    );
    assert_eq!(note.root(), Some(1));
}

#[cfg(unix)]
#[test]
fn a_path_that_is_not_utf8_keeps_its_lossy_names() {
    use std::os::unix::ffi::OsStrExt;
    let path = Path::new(std::ffi::OsStr::from_bytes(b"/vault/caf\xe9/th\xe9.md"));
    assert!(check_names(path, &[root()], ""));
    let note = Note::new(path.to_path_buf(), &[root()], parse_note(""));
    assert_eq!(note.rel_path(), "caf\u{fffd}/th\u{fffd}.md");
    assert_eq!(note.stem(), "th\u{fffd}");
    assert_eq!(note.title(), "th\u{fffd}");
    assert_eq!(note.link_path(), "caf\u{fffd}/th\u{fffd}");
}

#[test]
fn a_note_outside_every_folder_is_named_by_its_file_name() {
    let path = PathBuf::from("/elsewhere/sub/Outside Note.md");
    assert!(!check_names(&path, &[root()], "# Out there\n"));
    let note = Note::new(path.clone(), &[root()], parse_note("# Out there\n"));
    assert_eq!(note.root(), None);
    assert_eq!(note.rel_path(), "Outside Note.md");
    assert_eq!(note.stem(), "Outside Note");
    assert_eq!(note.title(), "Out there");
    // Never a link target, whatever key is asked.
    for kind in 0..5 {
        assert!(!note_has_key(&note, kind, "outside note"), "{kind}");
        assert!(note_names(&note, kind).is_empty(), "{kind}");
    }
    let mut v = vault(&[("a.md", "[[Outside Note]]")]);
    v.upsert(note);
    assert_eq!(resolve(&v, "Outside Note", "a.md"), Vec::<String>::new());
    assert!(!v.has_loose_key("outsidenote"));
}

#[test]
fn keys_are_packed_sorted_deduplicated_and_looked_up() {
    let text = "---\ntitle: Zeta Topic\naliases: [Alpha, alpha, ZETA-topic, '!!!', Émile Ω]\n---\n";
    let note = Note::new(root().join("zeta_topic.md"), &[root()], parse_note(text));
    let slugs: Vec<&str> = note.slugs().collect();
    let loose: Vec<&str> = note.loose_keys().collect();
    assert_eq!(slugs, ["alpha", "zeta_topic", "zetatopic", "émile_ω"]);
    assert_eq!(loose, ["alpha", "zetatopic", "émileω"]);
    // As the index computed them when it kept each key as its own string.
    for (keys, f) in [
        (&slugs, syntax::slug as fn(&str) -> String),
        (&loose, syntax::loose_key),
    ] {
        let mut once: Vec<String> = note.names().map(f).filter(|k| !k.is_empty()).collect();
        once.sort();
        once.dedup();
        assert_eq!(*keys, once);
    }
    for slug in &slugs {
        assert!(note.has_slug(slug), "{slug}");
    }
    for key in &loose {
        assert!(note.has_loose_key(key), "{key}");
    }
    for miss in [
        "",
        "zeta",
        "alpha_",
        "zeta_topic\nzetatopic",
        "zetatopic\0alpha",
        "émileω",
    ] {
        assert!(!note.has_slug(miss), "{miss:?}");
    }
    for miss in ["", "zeta_topic", "alph", "alpha\nzetatopic", "émile_ω"] {
        assert!(!note.has_loose_key(miss), "{miss:?}");
    }
    assert!(note_has_key(&note, 3, "zetatopic"));
    assert!(!note_has_key(&note, 3, "zeta"));
    assert!(note_has_key(&note, 4, "émileω"));
    assert!(!note_has_key(&note, 4, "émile_ω"));
    // A note whose names have no letter has no keys, and no block for them.
    let bare = Note::new(root().join("!!!.md"), &[root()], parse_note(""));
    assert_eq!(bare.slugs().count() + bare.loose_keys().count(), 0);
    assert!(!bare.has_slug("") && !bare.has_loose_key(""));
    assert!(bare.heap_blocks().iter().all(|b| b.0 != "keys"));
}

#[test]
fn keys_never_hold_the_separators_they_are_packed_with() {
    for text in [
        "a\nb",
        "a\0b",
        "\r\n\t\u{0}\u{1}\u{7f}\u{85}",
        "x\u{2028}y\u{2029}z",
        "_\n_",
    ] {
        for key in [syntax::slug(text), syntax::loose_key(text)] {
            assert!(
                !key.contains([KEY_SEPARATOR, KINDS_SEPARATOR]),
                "{text:?} -> {key:?}"
            );
        }
    }
}

#[test]
fn a_note_stays_small() {
    // 192 bytes when it kept its names as strings; a regression past this fails here.
    assert!(
        std::mem::size_of::<Note>() <= 88,
        "{}",
        std::mem::size_of::<Note>()
    );
}

#[test]
fn hidden_below_on_bytes_agrees_with_components() {
    let by_components = |root: &Path, path: &Path| {
        path.strip_prefix(root).is_ok_and(|rel| {
            rel.components()
                .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
        })
    };
    let roots = ["/v", "/v/", "/", "/home/u/.notes/vault", "v", "/v/sub"];
    let rels = [
        "a.md",
        ".a.md",
        "sub/a.md",
        "sub/.hidden/a.md",
        ".hidden/a.md",
        "a.b/c.md",
        "sub/a.md/",
        "sub//a.md",
        "./a.md",
        "sub/./a.md",
        "sub/../a.md",
        "..",
        "",
        "été/Жук 🎬.md",
        "x/.y",
    ];
    for root in roots {
        for rel in rels {
            for path in [
                format!("{root}/{rel}"),
                format!("{root}{rel}"),
                rel.to_string(),
            ] {
                let (root, path) = (Path::new(root), Path::new(&path));
                assert_eq!(
                    is_hidden_below(root, path),
                    by_components(root, path),
                    "{root:?} {path:?}"
                );
            }
        }
    }
}

/// Every note's kept link count is the one computed from the links (and the gone notes' 0).
fn assert_link_counts_kept(v: &Vault) {
    for (id, note) in v.notes() {
        assert_eq!(
            v.link_count_of(id),
            v.link_count(note),
            "{}",
            note.path().display()
        );
    }
}

#[test]
fn kept_link_counts_follow_every_change() {
    let mut v = vault(&[
        ("hub.md", "# Hub\n[[leaf]] [[Leaf]] [[other]]\n"),
        (
            "leaf.md",
            "---\naliases: [Green leaf]\n---\n[[hub]] [[hub]]\n",
        ),
        ("other.md", "[[hub]] [[green_leaf]] [[nowhere]]\n"),
    ]);
    assert_link_counts_kept(&v);
    let hub = v.note_by_path(&root().join("hub.md")).unwrap();
    assert_eq!(v.link_count_of(hub), 3);
    let leaf = v.note_by_path(&root().join("leaf.md")).unwrap();
    assert_eq!(v.link_count_of(leaf), 3, "by its stem and its alias");
    // More links, fewer links, a link to the note itself.
    v.update(
        &root().join("other.md"),
        parse_note("[[hub]] [[hub]] [[leaf]] [[other]]\n"),
        None,
    );
    assert_link_counts_kept(&v);
    assert_eq!(v.link_count_of(leaf), 3);
    // The alias goes: links by it no longer count.
    v.update(&root().join("leaf.md"), parse_note("[[hub]]\n"), None);
    assert_link_counts_kept(&v);
    // A new note that a link waited for, a note outside the folder, a note removed.
    v.update(&root().join("nowhere.md"), parse_note("[[hub]]\n"), None);
    v.update(
        Path::new("/elsewhere/hub.md"),
        parse_note("[[leaf]]\n"),
        None,
    );
    assert_link_counts_kept(&v);
    assert!(v.link_count_of(v.note_by_path(&root().join("nowhere.md")).unwrap()) == 0);
    v.remove(&root().join("other.md"));
    assert_link_counts_kept(&v);
    v.remove(&root().join("hub.md"));
    assert_link_counts_kept(&v);
    assert_eq!(v.link_count_of(hub), 0);
}

#[test]
fn link_keys_made_by_the_index_parse_are_those_the_note_would_compute() {
    let text = "[[Topic]] [[folder/Topic.md]] [[ ]] [[#Heading]] [[Жук 🎬 | shown]] [[a.markdown]]\n\
                [[topic]] [[!!!]] [[unclosed\n- [[Ελλάδα]] and [[x#h]]\n";
    for _ in 0..2 {
        // Twice: the second time every name comes from the thread's table.
        let (parsed, keys) = crate::syntax::parse_note_for_index(text);
        assert_eq!(keys.len(), parsed.links.len());
        assert_eq!(keys, link_key_hashes(&parsed));
        assert!(keys.iter().filter(|&&k| k == 0).count() >= 3, "{keys:?}");
        let note = Note::with_link_keys(root().join("n.md"), &[root()], parsed.clone(), keys);
        assert_eq!(
            note.link_keys,
            Note::new(root().join("n.md"), &[root()], parsed).link_keys
        );
    }
    crate::syntax::forget_shared_names();
}

#[test]
fn a_scan_finds_the_missing_targets_that_edits_one_by_one_find() {
    let notes = [
        (
            "/vault/a.md",
            "[[b]] [[c]] [[folder/d]] [[E alias]] [[ghost]] [[Outside]] [[b.md]]\n",
        ),
        ("/vault/b.md", "[[a]] [[ghost | Ghost]]\n"),
        ("/vault/e.md", "---\naliases: [E alias]\n---\n[[c]]\n"),
        // Outside every folder: it answers to no link, so `outside` stays missing.
        ("/elsewhere/outside.md", "[[a]] [[nobody]]\n"),
    ];
    let scanned = notes
        .iter()
        .map(|(p, t)| ScannedNote {
            path: PathBuf::from(p),
            parsed: parse_note(t),
        })
        .collect();
    let at_once = Vault::from_scan(vec![root()], scanned);
    let mut one_by_one = Vault::new(vec![root()]);
    for (p, t) in notes {
        one_by_one.update(Path::new(p), parse_note(t), None);
    }
    assert_eq!(missing(&at_once), ["c", "d", "ghost", "nobody", "outside"]);
    assert_eq!(missing(&at_once), missing(&one_by_one));
    assert_link_counts_kept(&at_once);
}

/// A link group: its key, its linking notes' paths and its spellings with their counts.
type GroupByPath = (String, Vec<PathBuf>, Vec<(String, u32)>);

/// The link groups of a vault by key, with their linking notes' paths and spellings (sorted):
/// comparable between vaults whose note ids differ.
fn link_groups_by_path(v: &Vault) -> Vec<GroupByPath> {
    let mut groups: Vec<_> = v
        .links_by_key
        .iter()
        .map(|(key, links)| {
            let mut sources: Vec<PathBuf> = (links.sources.iter())
                .map(|&id| v.note(id).unwrap().path().to_path_buf())
                .collect();
            sources.sort();
            let mut spellings: Vec<(String, u32)> = (links.spellings.iter())
                .map(|(s, n)| (s.to_string(), *n))
                .collect();
            spellings.sort();
            (key.to_string(), sources, spellings)
        })
        .collect();
    groups.sort();
    groups
}

#[test]
fn an_index_scan_groups_links_as_edits_one_by_one_do() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().canonicalize().unwrap();
    let notes = [
        (
            "a.md",
            "[[Topic]] [[topic]] [[TOPIC | shown]] [[b]] [[b]] [[folder/Deep Note]] [[!!!]]\n\
             [[Жук 🎬]] [[жук_🎬]] [[ghost]] [[unclosed\n```\n[[in code]]\n```\n",
        ),
        (
            "b.md",
            "# B [[Topic#Part]]\n[[ghost | Ghost]] [[a]] [[Topic]]\n",
        ),
        (
            "folder/deep_note.md",
            "[[a]] [[b.md]] [[Ghost]] [[only unclosed\n",
        ),
        (
            "topic.md",
            "---\naliases: [Subject]\n---\n[[Subject]] [[a]]\n",
        ),
        ("empty.md", ""),
    ];
    std::fs::create_dir_all(p.join("folder")).unwrap();
    for (path, text) in notes {
        std::fs::write(p.join(path), text).unwrap();
    }
    let (scanned, errors) = Vault::index_folders(vec![p.clone()], &Config::default(), &|_, _| {});
    assert!(errors.is_empty(), "{errors:?}");
    let mut one_by_one = Vault::new(vec![p.clone()]);
    for (path, text) in notes.iter().rev() {
        one_by_one.update(&p.join(path), parse_note(text), None);
    }
    let groups = link_groups_by_path(&scanned);
    assert_eq!(groups, link_groups_by_path(&one_by_one));
    let topic = groups.iter().find(|g| g.0 == "topic").unwrap();
    assert_eq!(
        topic.1,
        [p.join("a.md"), p.join("b.md")],
        "each linking note once"
    );
    assert_eq!(
        topic.2,
        [
            ("TOPIC".into(), 1),
            ("Topic".into(), 3),
            ("topic".into(), 1)
        ]
    );
    // A scan's sources come in note order, as edits keep them.
    for (_, links) in scanned.links_by_key.iter() {
        assert!(links.sources.is_sorted_by(|a, b| a < b), "{links:?}");
    }
    assert!(
        groups
            .iter()
            .all(|g| !g.0.contains("unclosed") && g.0 != "in_code")
    );
    // The notes' link keys are the key hashes again, as the notes would compute them.
    for (_, note) in scanned.notes() {
        assert_eq!(
            note.link_keys,
            link_key_hashes(&note.parsed),
            "{:?}",
            note.path()
        );
    }
    assert_eq!(missing(&scanned), missing(&one_by_one));
    assert_link_counts_kept(&scanned);
}

#[test]
fn spellings_whose_key_hashes_meet_are_grouped_by_their_keys() {
    // Numbers as two scan tables would give them: "Alpha" twice, "alpha", and "Beta", whose
    // key hashes are made to meet.
    let named = |number: u32, name: &str| NumberedName {
        number,
        name: Name::from(name),
        key: 7,
    };
    let numbered = [
        named(0, "Alpha"),
        named(4096, "Alpha"),
        named(1, "alpha"),
        named(2, "Beta"),
    ];
    let mut run: Vec<&NumberedName> = numbered.iter().collect();
    run.sort_by(|a, b| a.name.cmp(&b.name));
    let (mut groups, mut assigned) = (Vec::new(), Vec::new());
    group_spellings(&run, &mut groups, &mut assigned, &mut String::new());
    let shown: Vec<(String, Vec<String>)> = (groups.iter())
        .map(|(k, l)| {
            let spellings = l.spellings.iter().map(|s| s.0.to_string()).collect();
            (k.to_string(), spellings)
        })
        .collect();
    assert_eq!(
        shown,
        [
            (
                "alpha".to_string(),
                vec!["Alpha".to_string(), "alpha".to_string()]
            ),
            ("beta".to_string(), vec!["Beta".to_string()]),
        ]
    );
    assigned.sort();
    assert_eq!(assigned, [(0, 0, 0), (1, 0, 1), (2, 1, 0), (4096, 0, 0)]);
}

#[test]
fn paths_read_by_bytes_agree_with_path_methods() {
    let paths = [
        "/vault/a.md",
        "/vault/folder/Zürich notes.md",
        "/vault/.hidden/x.md",
        "/vault/a.b.md",
        "/vault/.md",
        "/vault/a.",
        "/vault/folder/",
        "/vault/folder/.",
        "/vault/..",
        "/vault//double.md",
        "/vault/./dot.md",
        "/vaulted/a.md",
        "/a.md",
        "a.md",
        "/",
        "",
    ];
    let roots = ["/vault", "/vault/", "/vault/folder", "/", "/vault/."];
    for p in paths {
        let path = Path::new(p);
        if let Some((folder, name)) = split_file_name(path) {
            assert_eq!(Some(folder), path.parent(), "{p}");
            assert_eq!(Some(name), path.file_name(), "{p}");
        }
        let stem = path.file_stem().map(|s| s.to_string_lossy());
        assert_eq!(file_stem(path), stem.unwrap_or_default(), "{p}");
        for r in roots {
            assert_eq!(
                below_root(path, Path::new(r)),
                path.strip_prefix(r).ok(),
                "{p} in {r}"
            );
        }
        // What `rel_path` gave before it read paths by bytes: components joined by `/`.
        let joined = |path: &Path| {
            let parts: Vec<String> = (path.components())
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            parts.join("/")
        };
        assert_eq!(NoteScratch::default().rel_path(path), joined(path), "{p}");
        if let Ok(rel) = path.strip_prefix("/vault") {
            assert_eq!(NoteScratch::default().rel_path(rel), joined(rel), "{p}");
        }
        let config = Config::default();
        let by_path = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("md") || e.eq_ignore_ascii_case("markdown"));
        assert_eq!(config.is_note_path(path), by_path, "{p}");
    }
}
