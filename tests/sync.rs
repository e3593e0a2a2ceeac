//! Keeping the index in step with the editor and the disk: open documents win over the disk and
//! are synced incrementally (UTF-16 ranges, CRLF), `didClose` falls back to the disk, and changes
//! made outside the editor arrive through `workspace/didChangeWatchedFiles` or, for clients that
//! cannot watch files, the server's own watcher. Which files are notes at all.
mod common;
use common::*;
use serde_json::{Value, json};

const VAULT: &str = r#"
//- /people/tomas_reyes.md
---
title: Tomás Reyes
---

Host of Kiln Hours.
//- /kiln_hours/glaze_chemistry.md
---
title: Glaze Chemistry
videoId: gLz-Chm7x1Q
---

From: [[tomas_reyes]] <br/>

## Why cobalt turns blue

A pinch is enough [00:04:10].
//- /kiln_hours/raku_firing.md
# Raku firing

Fast and smoky.
"#;

fn vault(extra: &str) -> Fixture {
    Fixture::new(&format!("{VAULT}{extra}"))
}

fn write(path: &std::path::Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

// ---------------------------------------------------------------------------------------------
// The index, open documents and closing them
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_editor_text_of_an_open_note_wins_over_the_disk() {
    let fx = vault(
        r#"
//- /kiln_hours/today.md
Fire the [[glaze_chemistry]] tiles.
"#,
    );
    let path = fx.path("kiln_hours/today.md");
    let editor = "Fire the [[raku_firing]] pots and an [[anagama_kiln]].\n";
    let mut server = TestServer::start(fx.root()).await;
    server.open_with(&path, editor).await;
    server
        .expect_diagnostics(
            &path,
            vec![diag(
                "broken-link",
                WARNING,
                range_of(editor, "anagama_kiln"),
            )],
        )
        .await;
    // The same column is `glaze_chemistry` on disk, `raku_firing` in the editor.
    let got = server
        .definition(&path, pos_in(editor, "[[raku", "raku", 0))
        .await;
    assert_eq!(got, location(&fx.uri("kiln_hours/raku_firing.md"), top()));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_a_note_falls_back_to_its_text_on_disk() {
    let fx = vault(
        r#"
//- /kiln_hours/kiln_log.md
# Kiln log

Fired [[glaze_chemistry]] tiles.
//- /kiln_hours/plans.md
Keep the [[Wood Firing Journal]] up to date.
"#,
    );
    let log = fx.path("kiln_hours/kiln_log.md");
    let log_disk = fx.text("kiln_hours/kiln_log.md");
    let plans = fx.path("kiln_hours/plans.md");
    let mut server = TestServer::start(fx.root()).await;
    let plans_text = server.open(&plans).await;
    let broken = vec![diag(
        "broken-link",
        WARNING,
        range_of(&plans_text, "Wood Firing Journal"),
    )];
    server.expect_diagnostics(&plans, broken.clone()).await;

    // In the editor the log gets the title the plans link to (unsaved).
    let log_editor =
        "# Wood Firing Journal\n\nFired [[raku_firing]] pots, glazed [[glaze_chemistry]] tiles.\n";
    server.open_with(&log, log_editor).await;
    server.expect_diagnostics(&plans, vec![]).await;
    let got = server
        .definition(&log, pos_in(log_editor, "[[raku", "raku", 0))
        .await;
    assert_eq!(got, location(&fx.uri("kiln_hours/raku_firing.md"), top()));

    // Closed without saving: the disk's title and text are back.
    server.close(&log).await;
    server.expect_diagnostics(&plans, broken).await;
    let got = server
        .definition(&log, pos_in(&log_disk, "[[glaze", "glaze", 0))
        .await;
    assert_eq!(
        got,
        location(&fx.uri("kiln_hours/glaze_chemistry.md"), top())
    );
    // The closed note's diagnostics are cleared.
    server.expect_diagnostics(&log, vec![]).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_markdown_files_outside_hidden_and_ignored_folders_are_notes() {
    let fx = vault(
        r#"
//- /.gitignore
drafts/
//- /drafts/secret_glaze.md
# Secret glaze
//- /.trash/anagama_kiln.md
# Anagama kiln
//- /kiln_hours/.hidden/noborigama.md
# Noborigama
//- /kiln_hours/wood_ash.markdown
# Wood ash
//- /kiln_hours/shino.txt
# Shino
//- /kiln_hours/plans.md
[[secret_glaze]] [[anagama_kiln]] [[noborigama]] [[wood_ash]] [[shino]]
"#,
    );
    let plans = fx.path("kiln_hours/plans.md");
    let mut server = TestServer::start(fx.root()).await;
    let text = server.open(&plans).await;
    server
        .expect_diagnostics(
            &plans,
            vec![
                diag("broken-link", WARNING, range_of(&text, "secret_glaze")),
                diag("broken-link", WARNING, range_of(&text, "anagama_kiln")),
                diag("broken-link", WARNING, range_of(&text, "noborigama")),
                diag("broken-link", WARNING, range_of(&text, "shino")),
            ],
        )
        .await;
    let got = server
        .definition(&plans, pos_in(&text, "[[wood_ash", "wood", 0))
        .await;
    assert_eq!(
        got,
        location(&fx.uri("kiln_hours/wood_ash.markdown"), top())
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_opened_from_outside_the_folder_links_out_but_is_never_a_target() {
    let fx = vault(
        r#"
//- /kiln_hours/plans.md
Compare with [[outsider]].
"#,
    );
    let elsewhere = tempfile::tempdir().unwrap();
    let outsider = elsewhere.path().join("outsider.md");
    write(&outsider, "See [[raku_firing]].\n");
    let plans = fx.path("kiln_hours/plans.md");
    let mut server = TestServer::start(fx.root()).await;
    let plans_text = server.open(&plans).await;
    server.open(&outsider).await;
    let got = server
        .definition(&outsider, json!({ "line": 0, "character": 8 }))
        .await;
    assert_eq!(got, location(&fx.uri("kiln_hours/raku_firing.md"), top()));
    server
        .expect_diagnostics(
            &plans,
            vec![diag(
                "broken-link",
                WARNING,
                range_of(&plans_text, "outsider"),
            )],
        )
        .await;
    server.expect_diagnostics(&outsider, vec![]).await;
    server.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Incremental sync
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_edits_after_emoji_and_cyrillic_use_utf16_ranges() {
    let fx = vault(
        r#"
//- /kiln_hours/abroad.md
🔥🏺 Ёж и глазурь: [[glaze_chemistry]] and [[raku_firing]]
Второй 👩‍👩‍👧 line
"#,
    );
    let path = fx.path("kiln_hours/abroad.md");
    let mut server = TestServer::start(fx.root()).await;
    let mut text = server.open(&path).await;
    server.expect_diagnostics(&path, vec![]).await;

    // Replace `chemistry` by `chemistri`: the range starts well after the emoji.
    let at = find(&text, "chemistry]]") + "chemistr".len();
    server.edit(&path, 2, range(&text, at, at + 1), "i").await;
    text.replace_range(at..at + 1, "i");
    server
        .expect_diagnostics(
            &path,
            vec![diag(
                "broken-link",
                WARNING,
                range_of(&text, "glaze_chemistri"),
            )],
        )
        .await;

    // Insert between the two emoji (UTF-16 column 2): everything after shifts by two units.
    let between = "🔥".len();
    server
        .edit(&path, 3, range(&text, between, between), "🧪")
        .await;
    text.insert(between, '🧪');
    server
        .expect_diagnostics(
            &path,
            vec![diag(
                "broken-link",
                WARNING,
                range_of(&text, "glaze_chemistri"),
            )],
        )
        .await;
    assert_eq!(
        range_of(&text, "glaze_chemistri")["start"],
        json!({ "line": 0, "character": 23 })
    );

    // Break the second link on the next line's edit: replace `raku_firing` with a Cyrillic name
    // spanning the emoji family on line 1 as well (a multi-line range).
    let start = find(&text, "raku_firing");
    let end = find(&text, "Второй") + "Второй".len();
    server
        .edit(&path, 4, range(&text, start, end), "обжиг]]\nТретий")
        .await;
    text.replace_range(start..end, "обжиг]]\nТретий");
    assert!(text.contains("[[обжиг]]\nТретий 👩‍👩‍👧 line"), "{text}");
    server
        .expect_diagnostics(
            &path,
            vec![
                diag("broken-link", WARNING, range_of(&text, "glaze_chemistri")),
                diag("broken-link", WARNING, range_of(&text, "обжиг")),
            ],
        )
        .await;
    // After the emoji family on the last line, a new empty link.
    let eol = find(&text, " line");
    server.edit(&path, 5, range(&text, eol, eol), " [[]]").await;
    text.insert_str(eol, " [[]]");
    server
        .expect_diagnostics(
            &path,
            vec![
                diag("broken-link", WARNING, range_of(&text, "glaze_chemistri")),
                diag("broken-link", WARNING, range_of(&text, "обжиг")),
                diag("empty-link", ERROR, range_of(&text, "[[]]")),
            ],
        )
        .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_changes_in_one_notification_apply_in_order() {
    let fx = vault(
        r#"
//- /kiln_hours/today.md
Fire [[raku_firing]].
"#,
    );
    let path = fx.path("kiln_hours/today.md");
    let mut server = TestServer::start(fx.root()).await;
    let text = server.open(&path).await;
    // 1. `raku_firing` → `raku_fir`; 2. append ` and [[tomas]]` after the (now shorter) link;
    // 3. insert `Crème ` at the start. Each range refers to the text after the previous change.
    let t0 = text.clone();
    let at = find(&t0, "ing]]");
    let mut t1 = t0.clone();
    t1.replace_range(at..at + 3, "");
    let end = find(&t1, "]].") + 2;
    let mut t2 = t1.clone();
    t2.insert_str(end, " and [[tomas]]");
    let mut t3 = t2.clone();
    t3.insert_str(0, "Crème ");
    server
        .change(
            &path,
            2,
            json!([
                { "range": range(&t0, at, at + 3), "text": "" },
                { "range": range(&t1, end, end), "text": " and [[tomas]]" },
                { "range": range(&t2, 0, 0), "text": "Crème " },
            ]),
        )
        .await;
    assert_eq!(t3, "Crème Fire [[raku_fir]] and [[tomas]].\n");
    server
        .expect_diagnostics(
            &path,
            vec![
                diag("broken-link", WARNING, range_of(&t3, "raku_fir")),
                diag("broken-link", WARNING, range_of(&t3, "tomas")),
            ],
        )
        .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_edits_on_crlf_lines() {
    let fx = vault(
        "//- /kiln_hours/windows.md\r\n# Windows\r\n\r\nCrème [[raku_firing]] here\r\nÉtape [[glaze_chemistry]]\r\n",
    );
    let path = fx.path("kiln_hours/windows.md");
    let mut server = TestServer::start(fx.root()).await;
    let mut text = server.open(&path).await;
    assert!(text.contains("\r\n"));
    server.expect_diagnostics(&path, vec![]).await;
    // Break the link on line 3 (after an accent).
    let at = find(&text, "glaze_chemistry") + "glaze".len();
    server.edit(&path, 2, range(&text, at, at + 1), "-").await;
    text.replace_range(at..at + 1, "-");
    // `glaze-chemistry` still resolves by its loose key; make it a real break.
    let at = find(&text, "glaze-chemistry");
    server
        .edit(&path, 3, range(&text, at, at + 5), "glace")
        .await;
    text.replace_range(at..at + 5, "glace");
    server
        .expect_diagnostics(
            &path,
            vec![diag(
                "broken-link",
                WARNING,
                range_of(&text, "glace-chemistry"),
            )],
        )
        .await;
    // Split line 2 with a CRLF inside the text, before the link.
    let at = find(&text, " [[raku");
    server
        .edit(&path, 4, range(&text, at, at + 1), "\r\nthen ")
        .await;
    text.replace_range(at..at + 1, "\r\nthen ");
    // Then break `raku_firing` on the new line 3.
    let at = find(&text, "raku_firing") + "raku_".len();
    server
        .edit(&path, 5, range(&text, at, at + 6), "smoke")
        .await;
    text.replace_range(at..at + 6, "smoke");
    assert_eq!(
        text,
        "# Windows\r\n\r\nCrème\r\nthen [[raku_smoke]] here\r\nÉtape [[glace-chemistry]]\r\n"
    );
    server
        .expect_diagnostics(
            &path,
            vec![
                diag("broken-link", WARNING, range_of(&text, "raku_smoke")),
                diag("broken-link", WARNING, range_of(&text, "glace-chemistry")),
            ],
        )
        .await;
    // An edit whose range ends at the end of a CRLF line (past the `\r`, clamped) keeps the
    // line break.
    let line3 = text.find("then").unwrap();
    let crlf = line3 + text[line3..].find("\r\n").unwrap();
    let end_of_line =
        json!({ "start": position(&text, crlf), "end": { "line": 3, "character": 999 } });
    server.edit(&path, 6, end_of_line, " [[]]").await;
    text.insert_str(crlf, " [[]]");
    server
        .expect_diagnostics(
            &path,
            vec![
                diag("broken-link", WARNING, range_of(&text, "raku_smoke")),
                diag("empty-link", ERROR, range_of(&text, "[[]]")),
                diag("broken-link", WARNING, range_of(&text, "glace-chemistry")),
            ],
        )
        .await;
    server.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Changes outside the editor
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_asks_the_client_to_watch_markdown_files() {
    let fx = vault("");
    let server = TestServer::start(fx.root()).await;
    let registrations: Vec<Value> = server
        .requests_of("client/registerCapability")
        .iter()
        .flat_map(|r| {
            r["params"]["registrations"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|r| r["method"] == "workspace/didChangeWatchedFiles")
        .collect();
    assert_eq!(registrations.len(), 1, "{registrations:#?}");
    let globs: Vec<&str> = registrations[0]["registerOptions"]["watchers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["globPattern"].as_str())
        .collect();
    assert!(globs.contains(&"**/*.md"), "{globs:?}");
    assert!(globs.contains(&"**/*.markdown"), "{globs:?}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_created_changed_and_deleted_on_disk_arrive_through_watched_files() {
    let fx = vault(
        r#"
//- /kiln_hours/plans.md
Build an [[anagama_kiln]]; read [[glaze_chemistry#Copper reds]].
//- /people/ana_lima.md
Ana wants an [[Anagama Kiln | anagama]].
"#,
    );
    let plans = fx.path("kiln_hours/plans.md");
    let ana = fx.path("people/ana_lima.md");
    let mut server = TestServer::start(fx.root()).await;
    let plans_text = server.open(&plans).await;
    let ana_text = server.open(&ana).await;
    let broken = diag(
        "broken-link",
        WARNING,
        range_of(&plans_text, "anagama_kiln"),
    );
    let no_heading = diag(
        "missing-heading",
        WARNING,
        range_of(&plans_text, "Copper reds"),
    );
    let ana_broken = vec![diag(
        "broken-link",
        WARNING,
        range_of(&ana_text, "Anagama Kiln"),
    )];
    server
        .expect_diagnostics(&plans, vec![broken.clone(), no_heading.clone()])
        .await;
    server.expect_diagnostics(&ana, ana_broken.clone()).await;

    // Created.
    let kiln = fx.path("kiln_hours/anagama_kiln.md");
    write(&kiln, "# Anagama kiln\n");
    server.watched(&[(&kiln, 1)]).await;
    server
        .expect_diagnostics(&plans, vec![no_heading.clone()])
        .await;
    server.expect_diagnostics(&ana, vec![]).await;

    // Changed: a closed note gets the heading.
    let glaze = fx.path("kiln_hours/glaze_chemistry.md");
    let mut glaze_text = fx.text("kiln_hours/glaze_chemistry.md");
    glaze_text.push_str("\n## Copper reds\n\nReduction turns copper red.\n");
    write(&glaze, &glaze_text);
    server.watched(&[(&glaze, 2)]).await;
    server.expect_diagnostics(&plans, vec![]).await;

    // Deleted.
    std::fs::remove_file(&kiln).unwrap();
    server.watched(&[(&kiln, 3)]).await;
    server.expect_diagnostics(&plans, vec![broken]).await;
    server.expect_diagnostics(&ana, ana_broken).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_folder_takes_its_notes_with_it() {
    let fx = vault(
        r#"
//- /people/ana_lima.md
Ana reads [[glaze_chemistry]] and [[raku_firing]], and met [[tomas_reyes]].
"#,
    );
    let ana = fx.path("people/ana_lima.md");
    let mut server = TestServer::start(fx.root()).await;
    let text = server.open(&ana).await;
    server.expect_diagnostics(&ana, vec![]).await;
    let folder = fx.path("kiln_hours");
    std::fs::remove_dir_all(&folder).unwrap();
    server.watched(&[(&folder, 3)]).await;
    server
        .expect_diagnostics(
            &ana,
            vec![
                diag("broken-link", WARNING, range_of(&text, "glaze_chemistry")),
                diag("broken-link", WARNING, range_of(&text, "raku_firing")),
            ],
        )
        .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_changed_on_disk_while_open_keeps_the_editor_text() {
    let fx = vault(
        r#"
//- /kiln_hours/today.md
Fire the [[raku_firing]] pots and an [[anagama_kiln]].
//- /kiln_hours/probe.md
Waiting for [[fence_note]].
"#,
    );
    let today = fx.path("kiln_hours/today.md");
    let probe = fx.path("kiln_hours/probe.md");
    let mut server = TestServer::start(fx.root()).await;
    let editor = server.open(&today).await;
    let probe_text = server.open(&probe).await;
    server
        .expect_diagnostics(
            &today,
            vec![diag(
                "broken-link",
                WARNING,
                range_of(&editor, "anagama_kiln"),
            )],
        )
        .await;
    server
        .expect_diagnostics(
            &probe,
            vec![diag(
                "broken-link",
                WARNING,
                range_of(&probe_text, "fence_note"),
            )],
        )
        .await;
    // Someone else rewrites the open note on disk; the same notification creates the note the
    // probe waits for, so once the probe is clean the change has been seen.
    let disk = "Fire the [[glaze_chemistry]] tiles.\n";
    write(&today, disk);
    let fence = fx.path("kiln_hours/fence_note.md");
    write(&fence, "# Fence note\n");
    server.watched(&[(&today, 2), (&fence, 1)]).await;
    server.expect_diagnostics(&probe, vec![]).await;
    let got = server
        .definition(&today, pos_in(&editor, "[[raku", "raku", 0))
        .await;
    assert_eq!(got, location(&fx.uri("kiln_hours/raku_firing.md"), top()));
    server
        .expect_diagnostics(
            &today,
            vec![diag(
                "broken-link",
                WARNING,
                range_of(&editor, "anagama_kiln"),
            )],
        )
        .await;
    // Once closed, the disk text is the note.
    server.close(&today).await;
    server.expect_diagnostics(&today, vec![]).await;
    let got = server
        .definition(&today, pos_in(disk, "[[glaze", "glaze", 0))
        .await;
    assert_eq!(
        got,
        location(&fx.uri("kiln_hours/glaze_chemistry.md"), top())
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_note_changed_on_disk_is_read_anew() {
    let fx = vault(
        r#"
//- /kiln_hours/plans.md
Read [[glaze_chemistry#Copper reds | copper]].
"#,
    );
    let plans = fx.path("kiln_hours/plans.md");
    let glaze = fx.path("kiln_hours/glaze_chemistry.md");
    let mut server = TestServer::start(fx.root()).await;
    let text = server.open(&plans).await;
    server
        .expect_diagnostics(
            &plans,
            vec![diag(
                "missing-heading",
                WARNING,
                range_of(&text, "Copper reds"),
            )],
        )
        .await;
    let new = "---\ntitle: Glaze Chemistry, revised\n---\n\nNew first paragraph.\n\n## Copper reds\n\nReduction turns copper red.\n";
    write(&glaze, new);
    server.watched(&[(&glaze, 2)]).await;
    server.expect_diagnostics(&plans, vec![]).await;
    let got = server
        .definition(&plans, pos_in(&text, "| copper", "copper", 0))
        .await;
    assert_eq!(
        got,
        location(
            &fx.uri("kiln_hours/glaze_chemistry.md"),
            line_range(new, "## Copper reds")
        )
    );
    let preview = server
        .hover_text(&plans, pos_in(&text, "| copper", "copper", 0))
        .await;
    assert!(preview.contains("Reduction turns copper red."), "{preview}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watched_files_in_ignored_and_hidden_folders_do_not_become_notes() {
    let fx = vault(
        r#"
//- /.gitignore
drafts/
//- /kiln_hours/plans.md
[[secret_glaze]] [[anagama_kiln]]
//- /kiln_hours/probe.md
Waiting for [[fence_note]].
"#,
    );
    let plans = fx.path("kiln_hours/plans.md");
    let probe = fx.path("kiln_hours/probe.md");
    let mut server = TestServer::start(fx.root()).await;
    let text = server.open(&plans).await;
    let probe_text = server.open(&probe).await;
    let broken = vec![
        diag("broken-link", WARNING, range_of(&text, "secret_glaze")),
        diag("broken-link", WARNING, range_of(&text, "anagama_kiln")),
    ];
    server.expect_diagnostics(&plans, broken.clone()).await;
    server
        .expect_diagnostics(
            &probe,
            vec![diag(
                "broken-link",
                WARNING,
                range_of(&probe_text, "fence_note"),
            )],
        )
        .await;
    let ignored = fx.path("drafts/secret_glaze.md");
    let hidden = fx.path(".trash/anagama_kiln.md");
    let fence = fx.path("kiln_hours/fence_note.md");
    write(&ignored, "# Secret glaze\n");
    write(&hidden, "# Anagama kiln\n");
    write(&fence, "# Fence note\n");
    // A client watching `**/*.md` reports all three.
    server
        .watched(&[(&ignored, 1), (&hidden, 1), (&fence, 1)])
        .await;
    server.expect_diagnostics(&probe, vec![]).await;
    for target in ["secret_glaze", "anagama_kiln"] {
        let got = server
            .definition(&plans, pos_in(&text, target, target, 1))
            .await;
        assert_eq!(got, Value::Null, "{target} is not a note");
    }
    server.expect_diagnostics(&plans, broken).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_dynamic_registration_the_server_watches_the_folder_itself() {
    let fx = vault(
        r#"
//- /kiln_hours/plans.md
Build an [[anagama_kiln]].
"#,
    );
    let plans = fx.path("kiln_hours/plans.md");
    let caps = capabilities_with(|c| {
        c["workspace"]["didChangeWatchedFiles"]["dynamicRegistration"] = json!(false)
    });
    let mut server = TestServer::start_with(fx.root(), caps).await;
    assert!(
        server
            .requests_of("client/registerCapability")
            .iter()
            .all(|r| !r.to_string().contains("didChangeWatchedFiles")),
        "no registration for a client that cannot take it"
    );
    let text = server.open(&plans).await;
    let broken = vec![diag(
        "broken-link",
        WARNING,
        range_of(&text, "anagama_kiln"),
    )];
    server.expect_diagnostics(&plans, broken.clone()).await;
    // Written to disk with no notification at all.
    let kiln = fx.path("kiln_hours/anagama_kiln.md");
    write(&kiln, "# Anagama kiln\n");
    server.expect_diagnostics_within(&plans, vec![], 5).await;
    std::fs::remove_file(&kiln).unwrap();
    server.expect_diagnostics_within(&plans, broken, 5).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_own_watcher_sees_notes_in_new_folders() {
    let fx = vault(
        r#"
//- /kiln_hours/plans.md
Build an [[anagama_kiln]].
"#,
    );
    let plans = fx.path("kiln_hours/plans.md");
    let caps = capabilities_with(|c| {
        c["workspace"]["didChangeWatchedFiles"]["dynamicRegistration"] = json!(false)
    });
    let mut server = TestServer::start_with(fx.root(), caps).await;
    let text = server.open(&plans).await;
    server
        .expect_diagnostics(
            &plans,
            vec![diag(
                "broken-link",
                WARNING,
                range_of(&text, "anagama_kiln"),
            )],
        )
        .await;
    // A new folder with a note in it, written straight away.
    write(&fx.path("wood/kilns/anagama_kiln.md"), "# Anagama kiln\n");
    server.expect_diagnostics_within(&plans, vec![], 5).await;
    server.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// More orderings of editor and disk
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsaved_headings_and_text_of_an_open_target_are_used() {
    let fx = vault(
        r#"
//- /kiln_hours/plans.md
Read [[glaze_chemistry#Copper reds | copper]].
"#,
    );
    let plans = fx.path("kiln_hours/plans.md");
    let glaze = fx.path("kiln_hours/glaze_chemistry.md");
    let mut server = TestServer::start(fx.root()).await;
    let text = server.open(&plans).await;
    server
        .expect_diagnostics(
            &plans,
            vec![diag(
                "missing-heading",
                WARNING,
                range_of(&text, "Copper reds"),
            )],
        )
        .await;
    let editor = "---\ntitle: Glaze Chemistry\n---\n\nUnsaved 🔥 first paragraph.\n\n## Copper reds 🔥\n\nReduction turns copper red.\n";
    server.open_with(&glaze, editor).await;
    server.expect_diagnostics(&plans, vec![]).await;
    let on = pos_in(&text, "| copper", "copper", 0);
    let got = server.definition(&plans, on.clone()).await;
    assert_eq!(
        got,
        location(
            &fx.uri("kiln_hours/glaze_chemistry.md"),
            line_range(editor, "## Copper reds")
        )
    );
    let preview = server.hover_text(&plans, on).await;
    assert!(preview.contains("Reduction turns copper red."), "{preview}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_note_deleted_on_disk_lives_until_it_is_closed() {
    let fx = vault(
        r#"
//- /kiln_hours/anagama_kiln.md
# Anagama kiln
//- /kiln_hours/plans.md
Build an [[anagama_kiln]].
"#,
    );
    let kiln = fx.path("kiln_hours/anagama_kiln.md");
    let plans = fx.path("kiln_hours/plans.md");
    let mut server = TestServer::start(fx.root()).await;
    let text = server.open(&plans).await;
    server.open(&kiln).await;
    server.expect_diagnostics(&plans, vec![]).await;
    std::fs::remove_file(&kiln).unwrap();
    server.watched(&[(&kiln, 3)]).await;
    // Still open in the editor: still a note.
    let got = server
        .definition(&plans, pos_in(&text, "[[anagama_kiln", "kiln", 0))
        .await;
    assert_eq!(got, location(&fx.uri("kiln_hours/anagama_kiln.md"), top()));
    server.close(&kiln).await;
    server
        .expect_diagnostics(
            &plans,
            vec![diag(
                "broken-link",
                WARNING,
                range_of(&text, "anagama_kiln"),
            )],
        )
        .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_opened_and_edited_while_indexing_is_checked_against_the_full_index() {
    let fx = vault(
        r#"
//- /kiln_hours/today.md
Fire [[raku_firing]].
"#,
    );
    let today = fx.path("kiln_hours/today.md");
    let root = fx.root();
    let mut server = TestServer::spawn(root);
    server.initialize(json!({})).await;
    server.notify("initialized", json!({})).await;
    // Straight away, before the index is there.
    let text = server.open(&today).await;
    let at = find(&text, "]].");
    let mut edited = text.clone();
    edited.insert_str(at + 2, " with [[glaze_chemistry]] and [[anagama_kiln]]");
    server
        .edit(
            &today,
            2,
            range(&text, at + 2, at + 2),
            " with [[glaze_chemistry]] and [[anagama_kiln]]",
        )
        .await;
    server.wait_indexed().await;
    server
        .expect_diagnostics(
            &today,
            vec![diag(
                "broken-link",
                WARNING,
                range_of(&edited, "anagama_kiln"),
            )],
        )
        .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fast_typing_is_applied_in_order() {
    let fx = vault(
        r#"
//- /kiln_hours/today.md
🔥 Ёж 
"#,
    );
    let path = fx.path("kiln_hours/today.md");
    let mut server = TestServer::start(fx.root()).await;
    let mut text = server.open(&path).await;
    let typed = "[[glaze_chemistry]] then [[обжиг]] and [[]] 🏺 [[raku_firing#Nowhere]]";
    for (version, c) in (2..).zip(typed.chars()) {
        let eol = text.find('\n').unwrap();
        let at = position(&text, eol);
        server
            .edit(
                &path,
                version,
                json!({ "start": at, "end": at }),
                &c.to_string(),
            )
            .await;
        text.insert(eol, c);
    }
    assert_eq!(text, format!("🔥 Ёж {typed}\n"));
    server
        .expect_diagnostics(
            &path,
            vec![
                diag("broken-link", WARNING, range_of(&text, "обжиг")),
                diag("empty-link", ERROR, range_of(&text, "[[]]")),
                diag("missing-heading", WARNING, range_of(&text, "Nowhere")),
            ],
        )
        .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_a_note_clears_its_diagnostics() {
    let fx = vault(
        r#"
//- /kiln_hours/plans.md
Build an [[anagama_kiln]] and [[]].
"#,
    );
    let plans = fx.path("kiln_hours/plans.md");
    let mut server = TestServer::start(fx.root()).await;
    let text = server.open(&plans).await;
    server
        .expect_diagnostics(
            &plans,
            vec![
                diag("broken-link", WARNING, range_of(&text, "anagama_kiln")),
                diag("empty-link", ERROR, range_of(&text, "[[]]")),
            ],
        )
        .await;
    server.close(&plans).await;
    server.expect_diagnostics(&plans, vec![]).await;
    server.shutdown().await;
}
