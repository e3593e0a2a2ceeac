//! Rename over the protocol: `prepareRename`, `rename` of a note (from a link or from its
//! frontmatter title) and of a heading, and `workspace/willRenameFiles`. Every returned
//! `WorkspaceEdit` is applied to the fixture vault on disk and the whole vault compared: the
//! changed notes in full, the new file names, and every other file unchanged.
mod common;
use std::collections::BTreeMap;

use common::*;
use serde_json::{Value, json};

/// A small gardening vault. `garden/composting_basics.md` is the note renamed below; it is
/// linked by stem, title, alias and path, with headings, display text and odd spacing, from
/// its own folder, another folder and the top; `kitchen/hot_composting.md` has the stem the
/// note gets in the first test, in another folder.
const VAULT: &str = r#"
//- /garden/composting_basics.md
---
title: Composting Basics
aliases:
  - Compost 101
---

# Composting Basics

Turn the heap weekly. Back to [[#Hot piles]] or [[composting_basics#Greens and browns]].

## Greens and browns

Balance nitrogen with carbon.

## Hot piles

Keep it at 60 °C.
//- /garden/raised_beds.md
---
title: Raised Beds
---

Fill them with [[composting_basics#Greens and browns | the right mix]] and [[ composting_basics |Compost ]] .
See also [[Compost 101]], [[garden/composting_basics]] and [[raised_beds]].

```text
[[composting_basics]] in a fence
```

Inline `[[composting_basics]]` stays too.
//- /kitchen/bokashi.md
# Bokashi

Ферментация 🌱 [[composting_basics # Hot piles]] and 🥕 [[Composting Basics]] then [[hot_composting]].
//- /kitchen/hot_composting.md
---
title: Hot Composting (kitchen)
---

Not the garden one.
//- /notes.md
Index: [[composting_basics]], [[raised_beds]], ![[composting_basics#Hot piles]].
Kitchen: [[hot_composting]].
"#;

/// The vault after `apply`, with every file named in `changed` replaced (or added) and those
/// named in `removed` gone: what the whole vault must look like.
fn expected(
    before: &BTreeMap<String, String>,
    removed: &[&str],
    changed: &[(&str, &str)],
) -> BTreeMap<String, String> {
    let mut out = before.clone();
    for r in removed {
        assert!(out.remove(*r).is_some(), "{r} was not in the vault");
    }
    for (path, text) in changed {
        out.insert(path.to_string(), text.to_string());
    }
    out
}

/// The operations of a `documentChanges` edit, in order: `edit <path>` or `rename <a> -> <b>`,
/// with paths relative to the vault.
fn operations(fx: &Fixture, edit: &Value) -> Vec<String> {
    let rel = |u: &Value| {
        uri_path(u.as_str().unwrap())
            .strip_prefix(fx.root())
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    edit["documentChanges"]
        .as_array()
        .expect("documentChanges")
        .iter()
        .map(|op| match op["kind"].as_str() {
            None => format!("edit {}", rel(&op["textDocument"]["uri"])),
            Some("rename") => format!("rename {} -> {}", rel(&op["oldUri"]), rel(&op["newUri"])),
            Some(k) => format!("{k}?"),
        })
        .collect()
}

fn assert_tree(actual: &BTreeMap<String, String>, expected: &BTreeMap<String, String>) {
    assert_eq!(
        actual.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "the files of the vault"
    );
    for (path, text) in expected {
        assert_eq!(&actual[path], text, "the text of {path}");
    }
}

const RENAMED_FROM_LINK: &str = r#"---
title: Hot Composting
aliases:
  - Compost 101
---

# Composting Basics

Turn the heap weekly. Back to [[#Hot piles]] or [[hot_composting#Greens and browns]].

## Greens and browns

Balance nitrogen with carbon.

## Hot piles

Keep it at 60 °C.
"#;

const BEDS_AFTER_HOT: &str = r#"---
title: Raised Beds
---

Fill them with [[hot_composting#Greens and browns | the right mix]] and [[ hot_composting |Compost ]] .
See also [[Compost 101]], [[garden/hot_composting]] and [[raised_beds]].

```text
[[composting_basics]] in a fence
```

Inline `[[composting_basics]]` stays too.
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_from_a_link_moves_the_file_and_rewrites_every_link() {
    let fx = Fixture::new(VAULT);
    let before = read_tree(fx.root());
    let notes = fx.path("notes.md");
    let text = fx.text("notes.md");
    let mut server = TestServer::start(fx.root()).await;
    let edit = server
        .rename(
            &notes,
            pos_in(&text, "[[composting_basics]]", "basics", 0),
            "Hot Composting",
        )
        .await;
    // Text edits first (at the old paths), then the move.
    let ops = operations(&fx, &edit);
    assert_eq!(
        ops.last().unwrap(),
        "rename garden/composting_basics.md -> garden/hot_composting.md"
    );
    assert!(ops[..ops.len() - 1].iter().all(|o| o.starts_with("edit ")));
    apply_workspace_edit(&edit);
    // From kitchen/ and from the top, `hot_composting` would reach another note (or both): those
    // links get the path. And the top's `[[hot_composting]]`, which meant the kitchen note, would
    // become ambiguous: it gets its path too.
    let want = expected(
        &before,
        &["garden/composting_basics.md"],
        &[
            ("garden/hot_composting.md", RENAMED_FROM_LINK),
            ("garden/raised_beds.md", BEDS_AFTER_HOT),
            (
                "kitchen/bokashi.md",
                "# Bokashi\n\nФерментация 🌱 [[garden/hot_composting # Hot piles]] and 🥕 [[garden/hot_composting]] then [[hot_composting]].\n",
            ),
            (
                "notes.md",
                "Index: [[garden/hot_composting]], [[raised_beds]], ![[garden/hot_composting#Hot piles]].\nKitchen: [[kitchen/hot_composting]].\n",
            ),
        ],
    );
    assert_tree(&read_tree(fx.root()), &want);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_from_the_frontmatter_title_of_an_open_note() {
    let fx = Fixture::new(VAULT);
    let before = read_tree(fx.root());
    let path = fx.path("garden/composting_basics.md");
    let mut server = TestServer::start(fx.root()).await;
    let text = server.open(&path).await;
    let edit = server
        .rename(
            &path,
            pos_in(&text, "title: Composting Basics", "Basics", 2),
            "Cold Composting: Slow & Easy",
        )
        .await;
    // The open note's edit carries its version.
    let own = edit["documentChanges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|op| op["textDocument"]["uri"] == uri(&path).as_str())
        .unwrap()
        .clone();
    assert_eq!(own["textDocument"]["version"], 1);
    let other = edit["documentChanges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|op| op["textDocument"]["uri"] == fx.uri("notes.md").as_str())
        .unwrap()
        .clone();
    assert_eq!(other["textDocument"]["version"], Value::Null);
    apply_workspace_edit(&edit);
    let renamed = RENAMED_FROM_LINK
        .replace(
            "title: Hot Composting",
            "title: \"Cold Composting: Slow & Easy\"",
        )
        .replace("[[hot_composting#", "[[cold_composting_slow_easy#");
    let want = expected(
        &before,
        &["garden/composting_basics.md"],
        &[
            ("garden/cold_composting_slow_easy.md", &renamed),
            (
                "garden/raised_beds.md",
                &BEDS_AFTER_HOT
                    .replace("[[hot_composting#", "[[cold_composting_slow_easy#")
                    .replace("[[ hot_composting |", "[[ cold_composting_slow_easy |")
                    .replace("garden/hot_composting", "garden/cold_composting_slow_easy"),
            ),
            (
                "kitchen/bokashi.md",
                "# Bokashi\n\nФерментация 🌱 [[cold_composting_slow_easy # Hot piles]] and 🥕 [[cold_composting_slow_easy]] then [[hot_composting]].\n",
            ),
            (
                "notes.md",
                "Index: [[cold_composting_slow_easy]], [[raised_beds]], ![[cold_composting_slow_easy#Hot piles]].\nKitchen: [[hot_composting]].\n",
            ),
        ],
    );
    assert_tree(&read_tree(fx.root()), &want);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_taken_in_the_same_folder_or_without_letters_is_refused() {
    let fx = Fixture::new(VAULT);
    let notes = fx.path("notes.md");
    let text = fx.text("notes.md");
    let mut server = TestServer::start(fx.root()).await;
    let at = pos_in(&text, "[[composting_basics]]", "composting", 0);
    let r = server.rename_raw(&notes, at.clone(), "Raised Beds").await;
    assert_eq!(r["error"]["code"], -32803, "{r}");
    assert_eq!(
        r["error"]["message"],
        "a note named \"raised_beds\" already exists: garden/raised_beds.md"
    );
    let r = server.rename_raw(&notes, at.clone(), " ?! ").await;
    assert_eq!(r["error"]["code"], -32803, "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no letter or digit")
    );
    // The same stem in another folder is no collision.
    let r = server.rename_raw(&notes, at, "Hot composting").await;
    assert!(r.get("error").is_none(), "{r}");
    // Plain text: nothing to rename.
    let r = server
        .rename_raw(&notes, pos_in(&text, "Index", "dex", 0), "x")
        .await;
    assert!(r.get("error").is_some(), "{r}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepare_rename_gives_the_range_and_the_current_name() {
    let fx = Fixture::new(VAULT);
    let notes = fx.path("notes.md");
    let notes_text = fx.text("notes.md");
    let bokashi = fx.path("kitchen/bokashi.md");
    let bokashi_text = fx.text("kitchen/bokashi.md");
    let basics = fx.path("garden/composting_basics.md");
    let basics_text = fx.text("garden/composting_basics.md");
    let mut server = TestServer::start(fx.root()).await;
    let cases = [
        (
            "on a link's target",
            &notes,
            pos_in(&notes_text, "[[composting_basics]]", "basics", 0),
            json!({ "range": range_in(&notes_text, "[[composting_basics]]", "composting_basics"), "placeholder": "Composting Basics" }),
        ),
        (
            "on a link's display text (the target is renamed)",
            &fx.path("garden/raised_beds.md"),
            pos_in(
                &fx.text("garden/raised_beds.md"),
                "the right mix",
                "right",
                0,
            ),
            json!({ "range": range_in(&fx.text("garden/raised_beds.md"), "[[composting_basics#Greens and browns | the right mix]]", "composting_basics"), "placeholder": "Composting Basics" }),
        ),
        (
            "on a link's heading, after Cyrillic and an emoji",
            &bokashi,
            pos_in(&bokashi_text, "# Hot piles]]", "piles", 0),
            json!({ "range": range_in(&bokashi_text, "# Hot piles]]", "Hot piles"), "placeholder": "Hot piles" }),
        ),
        (
            "on a link's target, after Cyrillic and an emoji",
            &bokashi,
            pos_in(&bokashi_text, "[[Composting Basics]]", "Basics", 0),
            json!({ "range": range_in(&bokashi_text, "[[Composting Basics]]", "Composting Basics"), "placeholder": "Composting Basics" }),
        ),
        (
            "on a same-note heading link",
            &basics,
            pos_in(&basics_text, "[[#Hot piles]]", "[[", 0),
            json!({ "range": range_in(&basics_text, "[[#Hot piles]]", "Hot piles"), "placeholder": "Hot piles" }),
        ),
        (
            "on the frontmatter title",
            &basics,
            pos_in(&basics_text, "title: Composting Basics", "Basics", 0),
            json!({ "range": range_in(&basics_text, "title: Composting Basics", "Composting Basics"), "placeholder": "Composting Basics" }),
        ),
        (
            "on a heading line",
            &basics,
            pos_in(&basics_text, "## Greens and browns", "##", 0),
            json!({ "range": range_in(&basics_text, "## Greens and browns", "Greens and browns"), "placeholder": "Greens and browns" }),
        ),
    ];
    for (what, path, pos, want) in cases {
        assert_eq!(server.prepare_rename(path, pos).await, want, "{what}");
    }
    let nothing = [
        ("plain text", &notes, pos_in(&notes_text, "Index", "dex", 0)),
        (
            "a link in a fenced code block",
            &fx.path("garden/raised_beds.md"),
            pos_in(
                &fx.text("garden/raised_beds.md"),
                "[[composting_basics]] in a fence",
                "basics",
                0,
            ),
        ),
        (
            "an alias in the frontmatter",
            &basics,
            pos_in(&basics_text, "Compost 101", "101", 0),
        ),
    ];
    for (what, path, pos) in nothing {
        assert_eq!(
            server.prepare_rename(path, pos).await,
            Value::Null,
            "{what}"
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renaming_a_heading_rewrites_the_links_to_it() {
    let fx = Fixture::new(VAULT);
    let before = read_tree(fx.root());
    let bokashi = fx.path("kitchen/bokashi.md");
    let text = fx.text("kitchen/bokashi.md");
    let mut server = TestServer::start(fx.root()).await;
    // Started from a link's `#heading`, in a note that is not open.
    let edit = server
        .rename(
            &bokashi,
            pos_in(&text, "# Hot piles", "Hot", 1),
            "Hot heaps",
        )
        .await;
    assert!(
        operations(&fx, &edit)
            .iter()
            .all(|o| o.starts_with("edit ")),
        "no file moves"
    );
    apply_workspace_edit(&edit);
    let want = expected(
        &before,
        &[],
        &[
            (
                "garden/composting_basics.md",
                &before["garden/composting_basics.md"]
                    .replace("[[#Hot piles]]", "[[#Hot heaps]]")
                    .replace("## Hot piles", "## Hot heaps"),
            ),
            (
                "kitchen/bokashi.md",
                "# Bokashi\n\nФерментация 🌱 [[composting_basics # Hot heaps]] and 🥕 [[Composting Basics]] then [[hot_composting]].\n",
            ),
            (
                "notes.md",
                "Index: [[composting_basics]], [[raised_beds]], ![[composting_basics#Hot heaps]].\nKitchen: [[hot_composting]].\n",
            ),
        ],
    );
    assert_tree(&read_tree(fx.root()), &want);

    // A heading cannot take the name of another heading of its note.
    let basics = fx.path("garden/composting_basics.md");
    let basics_text = fx.text("garden/composting_basics.md");
    server
        .watched(&[(&basics, 2), (&bokashi, 2), (&fx.path("notes.md"), 2)])
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let r = server
        .rename_raw(
            &basics,
            pos_in(&basics_text, "## Hot heaps", "Hot", 0),
            "Greens and Browns!",
        )
        .await;
    assert_eq!(
        r["error"]["message"],
        "a heading \"Greens and browns\" already exists in garden/composting_basics.md",
        "{r}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn will_rename_files_keeps_links_to_a_moved_note() {
    let fx = Fixture::new(VAULT);
    let before = read_tree(fx.root());
    let old = fx.path("garden/composting_basics.md");
    let new = fx.path("archive/composting_basics.md");
    let mut server = TestServer::start(fx.root()).await;
    let edit = server.will_rename(&[(&old, &new)]).await;
    // The editor applies the edit, then moves the file itself.
    apply_workspace_edit(&edit);
    std::fs::create_dir_all(new.parent().unwrap()).unwrap();
    std::fs::rename(&old, &new).unwrap();
    // Links by stem, title and alias still reach the note; only the path link changes.
    let want = expected(
        &before,
        &["garden/composting_basics.md"],
        &[
            (
                "archive/composting_basics.md",
                &before["garden/composting_basics.md"],
            ),
            (
                "garden/raised_beds.md",
                &before["garden/raised_beds.md"].replace(
                    "[[garden/composting_basics]]",
                    "[[archive/composting_basics]]",
                ),
            ),
        ],
    );
    assert_tree(&read_tree(fx.root()), &want);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn will_rename_files_follows_a_renamed_note_and_a_renamed_folder() {
    let fx = Fixture::new(VAULT);
    let before = read_tree(fx.root());
    let old = fx.path("garden/raised_beds.md");
    let new = fx.path("garden/beds.md");
    let mut server = TestServer::start(fx.root()).await;
    let edit = server.will_rename(&[(&old, &new)]).await;
    apply_workspace_edit(&edit);
    std::fs::rename(&old, &new).unwrap();
    // `[[raised_beds]]` would still reach the note by its title, but it named the file: it
    // follows the file.
    let want = expected(
        &before,
        &["garden/raised_beds.md"],
        &[
            (
                "garden/beds.md",
                &before["garden/raised_beds.md"].replace("and [[raised_beds]].", "and [[beds]]."),
            ),
            (
                "notes.md",
                "Index: [[composting_basics]], [[beds]], ![[composting_basics#Hot piles]].\nKitchen: [[hot_composting]].\n",
            ),
        ],
    );
    assert_tree(&read_tree(fx.root()), &want);
    server.shutdown().await;

    // The folder `kitchen/` becomes `pantry/`: its notes still link to each other by stem, and
    // nothing links into it by path, so nothing changes.
    let fx = Fixture::new(VAULT);
    let mut server = TestServer::start(fx.root()).await;
    let edit = server
        .will_rename(&[(&fx.path("kitchen"), &fx.path("pantry"))])
        .await;
    assert_eq!(edit, Value::Null);
    // Moving `garden/` under `old/` rewrites the one path link.
    let edit = server
        .will_rename(&[(&fx.path("garden"), &fx.path("old/garden"))])
        .await;
    let before = read_tree(fx.root());
    apply_workspace_edit(&edit);
    let want = expected(
        &before,
        &[],
        &[(
            "garden/raised_beds.md",
            &before["garden/raised_beds.md"].replace(
                "[[garden/composting_basics]]",
                "[[old/garden/composting_basics]]",
            ),
        )],
    );
    assert_tree(&read_tree(fx.root()), &want);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capabilities_announce_rename_and_will_rename() {
    let fx = Fixture::new(VAULT);
    let mut server = TestServer::spawn(fx.root());
    let init = server.initialize(json!({})).await;
    let caps = &init["capabilities"];
    assert_eq!(caps["renameProvider"], json!({ "prepareProvider": true }));
    let filters = &caps["workspace"]["fileOperations"]["willRename"]["filters"];
    assert_eq!(
        filters,
        &json!([
            { "scheme": "file", "pattern": { "glob": "**/*.{md,markdown}", "matches": "file" } },
            { "scheme": "file", "pattern": { "glob": "**", "matches": "folder" } },
        ])
    );
    server.notify("initialized", json!({})).await;
    server.wait_indexed().await;
    server.shutdown().await;
}

/// Links, headings and a path written inside code of every kind: fenced with backticks or
/// tildes (longer fences holding shorter ones), a fence inside a list item, an indented block,
/// inline code with one and two backticks, and a fence that never closes. Only `REAL` marks
/// real links; a lone backtick opens no code span, so the link after it is real too.
const CODE_VAULT: &str = r#"
//- /seeds/seed_saving.md
# Seed Saving

## Drying

Dry them well.
//- /notes.md
REAL [[seed_saving]] and REAL [[seed_saving#Drying]] and REAL [[seeds/seed_saving]].

```
[[seed_saving]] in a backtick fence, and [[seeds/seed_saving]]
## Drying
```

~~~markdown
[[seed_saving#Drying]] in a tilde fence
```
still inside: [[seed_saving]]
~~~

````text
```
[[seed_saving]] inside a longer fence
```
````

- A list item
  ```
  [[seed_saving]] in a fence inside a list
  ```
- Next: REAL [[seed_saving]]

Paragraph.

    [[seed_saving#Drying]] in an indented block

Inline `[[seed_saving]]`, double ``[[seed_saving]] ` tick`` and REAL [[seed_saving | after code]].
A lone ` backtick, then REAL [[seed_saving]].

```
[[seed_saving]] in a fence that never closes
"#;

/// The parts of `notes.md` outside the `REAL [[...]]` links, which no rename may change.
fn code_parts(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("REAL [[") {
        parts.push(rest[..i].to_owned());
        let end = rest[i..].find("]]").unwrap() + i + 2;
        rest = &rest[end..];
    }
    parts.push(rest.to_owned());
    parts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renames_never_touch_links_inside_code() {
    let note_text = |fx: &Fixture| fx.text("notes.md");
    // A rename of the note, from a real link.
    let fx = Fixture::new(CODE_VAULT);
    let before = note_text(&fx);
    let notes = fx.path("notes.md");
    let mut server = TestServer::start(fx.root()).await;
    // Inside code there is nothing to rename.
    for inside in [
        "[[seed_saving]] in a backtick fence",
        "[[seed_saving]] inside a longer fence",
        "[[seed_saving]] in a fence inside a list",
        "[[seed_saving#Drying]] in an indented block",
        "`[[seed_saving]]`,",
        "[[seed_saving]] in a fence that never closes",
    ] {
        let got = server
            .prepare_rename(&notes, pos_in(&before, inside, "seed", 0))
            .await;
        assert_eq!(got, Value::Null, "prepareRename in {inside:?}");
    }
    let edit = server
        .rename(
            &notes,
            pos_in(&before, "REAL [[seed_saving]] and", "seed", 0),
            "Seed Keeping",
        )
        .await;
    apply_workspace_edit(&edit);
    let after = fx.text("notes.md");
    assert_eq!(code_parts(&after), code_parts(&before), "{after}");
    assert_eq!(
        after.matches("REAL [[seed_keeping").count()
            + after.matches("REAL [[seeds/seed_keeping").count(),
        6,
        "{after}"
    );
    assert!(fx.path("seeds/seed_keeping.md").exists());
    server.shutdown().await;

    // A rename of the heading `Drying`, which a fence in notes.md also writes as a heading.
    let fx = Fixture::new(CODE_VAULT);
    let note = fx.path("seeds/seed_saving.md");
    let mut server = TestServer::start(fx.root()).await;
    let edit = server
        .rename(
            &note,
            pos_in(&fx.text("seeds/seed_saving.md"), "## Drying", "Dry", 0),
            "Drying out",
        )
        .await;
    apply_workspace_edit(&edit);
    let after = note_text(&fx);
    assert_eq!(code_parts(&after), code_parts(&before), "{after}");
    assert_eq!(
        after,
        before.replace(
            "REAL [[seed_saving#Drying]]",
            "REAL [[seed_saving#Drying out]]"
        )
    );
    assert_eq!(
        fx.text("seeds/seed_saving.md"),
        "# Seed Saving\n\n## Drying out\n\nDry them well.\n"
    );
    server.shutdown().await;

    // The file moved by the editor: only real path links follow it.
    let fx = Fixture::new(CODE_VAULT);
    let mut server = TestServer::start(fx.root()).await;
    let edit = server
        .will_rename(&[(
            &fx.path("seeds/seed_saving.md"),
            &fx.path("archive/seed_saving.md"),
        )])
        .await;
    apply_workspace_edit(&edit);
    let after = note_text(&fx);
    assert_eq!(
        after,
        before.replace("REAL [[seeds/seed_saving]]", "REAL [[archive/seed_saving]]")
    );
    server.shutdown().await;
}

/// A rename with hundreds of edits: the answer is written by the server itself rather than by
/// tower-lsp (see `lsp::raw`); applied, it must give exactly the renamed vault, with edits on
/// lines after accents, Cyrillic and emoji placed in UTF-16.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rename_with_hundreds_of_edits_comes_back_whole_and_exact() {
    let mut spec = String::from("//- /kiln_log.md\nLog of the kiln.\n");
    let line = |i: usize, name: &str| {
        format!(
            "Firing {i}: Ж é 🎬 [[{name}]], then [[{name} | the log]] and 🎬 [[{name}#Glazes]].\n"
        )
    };
    for i in 0..120 {
        spec.push_str(&format!(
            "//- /firings/firing_{i:03}.md\n{}",
            line(i, "kiln_log")
        ));
    }
    let fx = Fixture::new(&spec);
    let before = read_tree(fx.root());
    let first = fx.path("firings/firing_000.md");
    let text = fx.text("firings/firing_000.md");
    let mut server = TestServer::start(fx.root()).await;
    server.wait_indexed().await;
    let edit = server
        .rename(
            &first,
            pos_in(&text, "[[kiln_log]]", "log", 0),
            "firing_record",
        )
        .await;
    apply_workspace_edit(&edit);
    let renamed: Vec<(String, String)> = (0..120)
        .map(|i| {
            (
                format!("firings/firing_{i:03}.md"),
                line(i, "firing_record"),
            )
        })
        .collect();
    let mut changes: Vec<(&str, &str)> = renamed
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    changes.push(("firing_record.md", "Log of the kiln.\n"));
    let want = expected(&before, &["kiln_log.md"], &changes);
    assert_tree(&read_tree(fx.root()), &want);
    server.shutdown().await;
}
