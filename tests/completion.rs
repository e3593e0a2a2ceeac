//! Completion inside wiki-links over the protocol: notes and missing targets after `[[`, the
//! edit that completes a target (with a snippet for the display text when the client takes
//! snippets), headings after `[[note#`, titles and aliases after `[[note | `, ranking, the
//! 200-item cut, and `completionItem/resolve`.
mod common;
use common::*;
use serde_json::{Value, json};

const VAULT: &str = r#"
//- /people/tomas_reyes.md
---
title: Tomás Reyes
aliases:
  - The kiln keeper
---

Host of Kiln Hours.
//- /kiln_hours/glaze_chemistry.md
---
title: Glaze Chemistry
videoId: gLz-Chm7x1Q
aliases: [Glaze maths, Potter’s wheel of oxides]
---

From: [[tomas_reyes]] <br/>

Silica, flux and alumina make every glaze.

## Why cobalt turns blue

A pinch is enough [00:04:10].

### The bow of the wheel, up close

Centrifugal notes.
//- /kiln_hours/raku_firing.md
---
title: "Raku Firing: Fast and Smoky"
videoId: rAk-U9fIr3Z
---

From: [[tomas_reyes | Tomás]] <br/>

Pull the pot out at red heat [00:02:00].
//- /kiln_hours/draft.md
Next: [[wood_firing]], more [[wood_firing]] and [[wood_firing | anagama]].
"#;

fn vault(extra: &str) -> Fixture {
    Fixture::new(&format!("{VAULT}{extra}"))
}

const RAKU_SNIPPET: &str = "raku_firing | ${1:Raku Firing: Fast and Smoky}";

/// Completion at the fixture's cursor.
async fn complete_at_cursor(server: &mut TestServer, fx: &Fixture) -> Value {
    let (path, pos) = fx.cursor();
    server.completion(&path, pos).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_open_brackets_every_note_and_every_missing_target_is_offered() {
    let fx = vault(
        r#"
//- /kiln_hours/today.md
Today we fire [[$0
"#,
    );
    let mut server = TestServer::start(fx.root()).await;
    server.open(&fx.path("kiln_hours/today.md")).await;
    let got = complete_at_cursor(&mut server, &fx).await;
    let mut names: Vec<String> = labels(&got)
        .into_iter()
        .filter(|l| l != "today") // whether a note offers itself is not specified
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "Glaze Chemistry",
            "Raku Firing: Fast and Smoky",
            "Tomás Reyes",
            "draft",
            "wood_firing"
        ]
    );
    assert_eq!(got["isIncomplete"], false);
    // The missing target says how many links use it.
    let wood = item(&got, "wood_firing");
    let detail = format!(
        "{} {}",
        wood["detail"].as_str().unwrap_or(""),
        wood["labelDetails"]["description"].as_str().unwrap_or("")
    );
    assert!(
        detail.contains("3 links"),
        "detail of wood_firing: {wood:#}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn note_items_show_the_note_path_as_detail() {
    let fx = vault(
        r#"
//- /kiln_hours/today.md
Today we fire [[$0
"#,
    );
    let mut server = TestServer::start(fx.root()).await;
    let got = complete_at_cursor(&mut server, &fx).await;
    // docs/format.md: "Its *path* is its location relative to the workspace folder, without
    // the extension".
    assert_eq!(
        item(&got, "Raku Firing: Fast and Smoky")["detail"],
        "kiln_hours/raku_firing"
    );
    assert_eq!(item(&got, "Tomás Reyes")["detail"], "people/tomas_reyes");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_an_unclosed_link_the_edit_inserts_stem_title_snippet_and_closing_brackets() {
    let fx = vault(
        r#"
//- /kiln_hours/today.md
Today we fire [[rak$0
"#,
    );
    let text = fx.text("kiln_hours/today.md");
    let mut server = TestServer::start(fx.root()).await;
    server.open(&fx.path("kiln_hours/today.md")).await;
    let got = complete_at_cursor(&mut server, &fx).await;
    let raku = item(&got, "Raku Firing: Fast and Smoky");
    assert_eq!(raku["insertTextFormat"], 2);
    assert_eq!(
        raku["textEdit"],
        json!({ "range": range_of(&text, "rak"), "newText": format!("{RAKU_SNIPPET}]]") })
    );
    assert_eq!(labels(&got)[0], "Raku Firing: Fast and Smoky");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unclosed_link_with_text_after_it_still_gets_closing_brackets() {
    let fx = vault(
        r#"
//- /kiln_hours/today.md
Today we fire ![[rak$0 in the yard
"#,
    );
    let text = fx.text("kiln_hours/today.md");
    let mut server = TestServer::start(fx.root()).await;
    let got = complete_at_cursor(&mut server, &fx).await;
    let raku = item(&got, "Raku Firing: Fast and Smoky");
    assert_eq!(
        raku["textEdit"],
        json!({ "range": range_of(&text, "rak"), "newText": format!("{RAKU_SNIPPET}]]") })
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_closed_link_the_edit_replaces_the_whole_partial_target_without_closing_brackets() {
    let fx = vault(
        r#"
//- /kiln_hours/today.md
Today we fire [[ ra$0ku ]] pots.
"#,
    );
    let text = fx.text("kiln_hours/today.md");
    let mut server = TestServer::start(fx.root()).await;
    let got = complete_at_cursor(&mut server, &fx).await;
    let raku = item(&got, "Raku Firing: Fast and Smoky");
    assert_eq!(raku["insertTextFormat"], 2);
    assert_eq!(
        raku["textEdit"],
        json!({ "range": range_of(&text, "raku"), "newText": RAKU_SNIPPET })
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_with_display_text_gets_only_the_stem_as_plain_text() {
    let fx = vault(
        r#"
//- /kiln_hours/today.md
Today we fire [[rak$0 | the smoky bin]] pots.
"#,
    );
    let text = fx.text("kiln_hours/today.md");
    let mut server = TestServer::start(fx.root()).await;
    let got = complete_at_cursor(&mut server, &fx).await;
    let raku = item(&got, "Raku Firing: Fast and Smoky");
    assert_eq!(raku["insertTextFormat"], 1);
    assert_eq!(
        raku["textEdit"],
        json!({ "range": range_of(&text, "rak"), "newText": "raku_firing" })
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_with_a_heading_part_gets_only_the_stem() {
    let fx = vault(
        r#"
//- /kiln_hours/today.md
Why blue? [[gla$0#Why cobalt turns blue]]
"#,
    );
    let text = fx.text("kiln_hours/today.md");
    let mut server = TestServer::start(fx.root()).await;
    let got = complete_at_cursor(&mut server, &fx).await;
    let glaze = item(&got, "Glaze Chemistry");
    assert_eq!(glaze["insertTextFormat"], 1);
    assert_eq!(
        glaze["textEdit"],
        json!({ "range": range_of(&text, "gla"), "newText": "glaze_chemistry" })
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_snippet_support_the_edit_is_plain_text_without_placeholder() {
    let fx = vault(
        r#"
//- /kiln_hours/today.md
Today we fire [[rak$0
Tomorrow we glaze [[gla]] pots.
"#,
    );
    let path = fx.path("kiln_hours/today.md");
    let text = fx.text("kiln_hours/today.md");
    let caps = capabilities_with(|c| {
        c["textDocument"]["completion"]["completionItem"]["snippetSupport"] = json!(false)
    });
    let mut server = TestServer::start_with(fx.root(), caps).await;
    let got = complete_at_cursor(&mut server, &fx).await;
    let raku = item(&got, "Raku Firing: Fast and Smoky");
    assert_eq!(raku["insertTextFormat"], 1);
    assert_eq!(
        raku["textEdit"],
        json!({ "range": range_of(&text, "rak"), "newText": "raku_firing]]" })
    );
    // A closed link: the stem alone.
    let got = server
        .completion(&path, pos_in(&text, "[[gla]]", "]]", 0))
        .await;
    let glaze = item(&got, "Glaze Chemistry");
    assert_eq!(glaze["insertTextFormat"], 1);
    assert_eq!(
        glaze["textEdit"],
        json!({ "range": range_in(&text, "[[gla]]", "gla"), "newText": "glaze_chemistry" })
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_target_completes_to_its_spelling_as_plain_text() {
    let fx = vault(
        r#"
//- /kiln_hours/today.md
Tomorrow: [[woo$0
"#,
    );
    let text = fx.text("kiln_hours/today.md");
    let mut server = TestServer::start(fx.root()).await;
    let got = complete_at_cursor(&mut server, &fx).await;
    let wood = item(&got, "wood_firing");
    assert_eq!(wood["insertTextFormat"], 1);
    assert_eq!(
        wood["textEdit"],
        json!({ "range": range_of(&text, "woo"), "newText": "wood_firing]]" })
    );
    server.shutdown().await;
}

/// The note labels offered at the end of `[[query` typed in an open note. (The typed target
/// itself, which no note has, is left out here: see
/// `the_target_being_typed_is_not_offered_as_a_missing_target`.)
async fn offered_for(
    server: &mut TestServer,
    path: &std::path::Path,
    version: i32,
    query: &str,
) -> Vec<String> {
    let text = format!("Today: [[{query}");
    server
        .change(path, version, json!([{ "text": text }]))
        .await;
    let got = server.completion(path, position(&text, text.len())).await;
    labels(&got).into_iter().filter(|l| l != query).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_are_matched_fuzzily_against_stem_title_and_aliases() {
    let fx = vault(
        r#"
//- /kiln_hours/today.md
Today.
"#,
    );
    let path = fx.path("kiln_hours/today.md");
    let mut server = TestServer::start(fx.root()).await;
    server.open(&path).await;
    let cases = [
        ("smoky", "Raku Firing: Fast and Smoky"),   // title
        ("keeper", "Tomás Reyes"),                  // alias
        ("oxides", "Glaze Chemistry"),              // alias
        ("rku_fir", "Raku Firing: Fast and Smoky"), // file stem, fuzzily
        ("glzchem", "Glaze Chemistry"),             // fuzzily
    ];
    for (version, (query, label)) in (2..).zip(cases) {
        let got = offered_for(&mut server, &path, version, query).await;
        assert_eq!(got, [label], "completion of {query:?}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_better_fuzzy_match_ranks_first() {
    let fx = vault(
        r#"
//- /kiln_hours/ram_kiln_update.md
# Ram Kiln Update
//- /kiln_hours/today.md
Today.
"#,
    );
    let path = fx.path("kiln_hours/today.md");
    let mut server = TestServer::start(fx.root()).await;
    server.open(&path).await;
    let got = offered_for(&mut server, &path, 2, "raku").await;
    assert_eq!(got, ["Raku Firing: Fast and Smoky", "Ram Kiln Update"]);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_target_being_typed_is_not_offered_as_a_missing_target() {
    let fx = vault(
        r#"
//- /kiln_hours/today.md
Today we fire [[rak$0
"#,
    );
    let mut server = TestServer::start(fx.root()).await;
    let got = complete_at_cursor(&mut server, &fx).await;
    // Only notes match `rak`; no other link uses `rak`.
    assert_eq!(labels(&got), ["Raku Firing: Fast and Smoky"]);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn equal_scores_are_ranked_by_how_many_links_use_the_note() {
    let fx = Fixture::new(
        r#"
//- /kiln_hours/bisque.md
# Bisque
//- /kiln_hours/celadon.md
# Celadon
//- /kiln_hours/shino.md
# Shino
//- /kiln_hours/tenmoku.md
# Tenmoku
//- /kiln_hours/today.md
[[shino]] [[Shino]] [[shino | a shino]] [[celadon]] [[celadon]] [[bisque]]

[[$0
"#,
    );
    let mut server = TestServer::start(fx.root()).await;
    let got = complete_at_cursor(&mut server, &fx).await;
    let names: Vec<String> = labels(&got).into_iter().filter(|l| l != "today").collect();
    assert_eq!(names, ["Shino", "Celadon", "Bisque", "Tenmoku"]);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_targets_are_ranked_with_notes_by_link_count() {
    let fx = Fixture::new(
        r#"
//- /kiln_hours/celadon.md
# Celadon
//- /kiln_hours/shino.md
# Shino
//- /kiln_hours/tenmoku.md
# Tenmoku
//- /kiln_hours/today.md
[[wood_firing]] [[wood_firing]] [[wood_firing]] [[shino]] [[shino]] [[celadon]]

[[$0
"#,
    );
    let mut server = TestServer::start(fx.root()).await;
    let got = complete_at_cursor(&mut server, &fx).await;
    let names: Vec<String> = labels(&got).into_iter().filter(|l| l != "today").collect();
    // All score alike on an empty query; ties go by link count: 3, 2, 1, 0.
    assert_eq!(names, ["wood_firing", "Shino", "Celadon", "Tenmoku"]);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_whose_stem_leads_elsewhere_from_here_is_completed_with_its_path() {
    let fx = Fixture::new(
        r#"
//- /kiln_hours/introduction.md
# Welcome to Kiln Hours
//- /glaze_lab/introduction.md
# Welcome to the Glaze Lab
//- /kiln_hours/index.md
Start here: [[welc$0
"#,
    );
    let text = fx.text("kiln_hours/index.md");
    let mut server = TestServer::start(fx.root()).await;
    let got = complete_at_cursor(&mut server, &fx).await;
    let here = item(&got, "Welcome to Kiln Hours");
    assert_eq!(
        here["textEdit"],
        json!({ "range": range_of(&text, "welc"), "newText": "introduction | ${1:Welcome to Kiln Hours}]]" })
    );
    let there = item(&got, "Welcome to the Glaze Lab");
    assert_eq!(
        there["textEdit"],
        json!({ "range": range_of(&text, "welc"), "newText": "glaze_lab/introduction | ${1:Welcome to the Glaze Lab}]]" })
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snippet_placeholders_escape_dollars_and_braces_in_titles() {
    let fx = Fixture::new(
        r#"
//- /kiln_hours/cheap_glazes.md
---
title: Glazes under $5 {cheap}
---
//- /kiln_hours/today.md
[[chea$0
"#,
    );
    let text = fx.text("kiln_hours/today.md");
    let mut server = TestServer::start(fx.root()).await;
    let got = complete_at_cursor(&mut server, &fx).await;
    let cheap = item(&got, "Glazes under $5 {cheap}");
    assert_eq!(
        cheap["textEdit"],
        json!({ "range": range_of(&text, "chea"), "newText": "cheap_glazes | ${1:Glazes under \\$5 {cheap\\}}]]" })
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_hash_the_notes_headings_are_offered() {
    let fx = vault(
        r#"
//- /kiln_hours/today.md
Why blue? [[glaze_chemistry#$0]] and [[glaze_chemistry#bow]] and [[#Plan]]

## Plan

### Kiln loading
"#,
    );
    let path = fx.path("kiln_hours/today.md");
    let text = fx.text("kiln_hours/today.md");
    let mut server = TestServer::start(fx.root()).await;
    server.open(&path).await;
    let got = complete_at_cursor(&mut server, &fx).await;
    assert_eq!(
        labels(&got),
        ["Why cobalt turns blue", "The bow of the wheel, up close"]
    );
    let (_, cursor) = fx.cursor();
    assert_eq!(
        item(&got, "Why cobalt turns blue")["textEdit"],
        json!({ "range": { "start": cursor, "end": cursor }, "newText": "Why cobalt turns blue" })
    );
    // A partial heading is replaced whole.
    let got = server
        .completion(&path, pos_in(&text, "#bow]]", "]]", 0))
        .await;
    assert_eq!(labels(&got), ["The bow of the wheel, up close"]);
    assert_eq!(
        item(&got, "The bow of the wheel, up close")["textEdit"],
        json!({ "range": range_in(&text, "#bow]]", "bow"), "newText": "The bow of the wheel, up close" })
    );
    // `[[#` offers this note's own headings.
    let got = server
        .completion(&path, pos_in(&text, "[[#Plan]]", "Plan", 0))
        .await;
    assert_eq!(labels(&got), ["Plan", "Kiln loading"]);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_pipe_the_title_and_aliases_are_offered() {
    let fx = vault(
        r#"
//- /kiln_hours/today.md
Chemistry: [[glaze_chemistry | $0]] and [[glaze_chemistry | Pot]] and [[The kiln keeper |]]
"#,
    );
    let path = fx.path("kiln_hours/today.md");
    let text = fx.text("kiln_hours/today.md");
    let mut server = TestServer::start(fx.root()).await;
    let got = complete_at_cursor(&mut server, &fx).await;
    let mut names = labels(&got);
    names.sort();
    assert_eq!(
        names,
        ["Glaze Chemistry", "Glaze maths", "Potter’s wheel of oxides"]
    );
    let (_, cursor) = fx.cursor();
    assert_eq!(
        item(&got, "Glaze maths")["textEdit"],
        json!({ "range": { "start": cursor, "end": cursor }, "newText": "Glaze maths" })
    );
    // Partial display text is replaced whole.
    let got = server
        .completion(&path, pos_in(&text, "| Pot]]", "]]", 0))
        .await;
    assert_eq!(
        item(&got, "Potter’s wheel of oxides")["textEdit"],
        json!({ "range": range_in(&text, "| Pot]]", "Pot"), "newText": "Potter’s wheel of oxides" })
    );
    // The target may be an alias itself.
    let got = server
        .completion(&path, pos_in(&text, "keeper |]]", "]]", 0))
        .await;
    let mut names = labels(&got);
    names.sort();
    assert_eq!(names, ["The kiln keeper", "Tomás Reyes"]);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_a_link_nothing_is_offered() {
    let fx = vault(
        r#"
//- /kiln_hours/today.md
Plain [text$0 and [[raku_firing]] after.
"#,
    );
    let path = fx.path("kiln_hours/today.md");
    let text = fx.text("kiln_hours/today.md");
    let mut server = TestServer::start(fx.root()).await;
    let got = complete_at_cursor(&mut server, &fx).await;
    assert!(completion_items(&got).is_empty(), "{got:#}");
    // Just after a closed link's `]]` the link is complete: nothing to offer either.
    let after = find(&text, "]] after") + 2;
    let got = server.completion(&path, position(&text, after)).await;
    assert!(completion_items(&got).is_empty(), "{got:#}");
    server.shutdown().await;
}

/// 250 notes, so that completion must cut.
fn big_vault() -> String {
    let mut spec = String::new();
    for i in 0..250 {
        spec.push_str(&format!(
            "//- /tests/glaze_test_{i:03}.md\n---\ntitle: Glaze test {i:03}\n---\n\nTile {i}.\n"
        ));
    }
    spec.push_str("//- /wood_ash.md\n# Wood ash\n");
    spec.push_str(
        "//- /today.md\n[[glaze_test_207]] [[glaze_test_207]] [[glaze_test_207]] [[glaze_test_207]] [[glaze_test_042]] [[glaze_test_042]] [[glaze_test_042]] [[glaze_test_131]] [[glaze_test_131]]\n\n[[$0\n\n[[wood ash]]\n",
    );
    spec
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_200_candidates_the_best_200_come_with_is_incomplete() {
    let fx = Fixture::new(&big_vault());
    let path = fx.path("today.md");
    let text = fx.text("today.md");
    let mut server = TestServer::start(fx.root()).await;
    let got = complete_at_cursor(&mut server, &fx).await;
    assert_eq!(got["isIncomplete"], true);
    let names = labels(&got);
    assert_eq!(names.len(), 200);
    // The best: the notes that links use, most used first (4, 3, 2 and 1 links).
    assert_eq!(
        names[..4],
        [
            "Glaze test 207",
            "Glaze test 042",
            "Glaze test 131",
            "Wood ash"
        ]
    );
    // A query that few notes match gives a complete list.
    let got = server
        .completion(&path, pos_in(&text, "[[wood ash]]", "]]", 0))
        .await;
    assert_eq!(got["isIncomplete"], false);
    assert_eq!(labels(&got), ["Wood ash"]);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolve_puts_the_note_preview_in_documentation() {
    let fx = vault(
        r#"
//- /kiln_hours/today.md
Today we fire [[rak$0
"#,
    );
    let mut server = TestServer::start(fx.root()).await;
    let got = complete_at_cursor(&mut server, &fx).await;
    let raku = item(&got, "Raku Firing: Fast and Smoky");
    assert!(raku.get("documentation").is_none() || raku["documentation"].is_null());
    let resolved = server.request("completionItem/resolve", raku.clone()).await;
    assert_eq!(resolved["label"], raku["label"]);
    assert_eq!(resolved["textEdit"], raku["textEdit"]);
    let doc = &resolved["documentation"];
    assert_eq!(doc["kind"], "markdown", "{resolved:#}");
    let value = doc["value"].as_str().unwrap();
    assert!(value.contains("Raku Firing: Fast and Smoky"), "{value}");
    assert!(value.contains("Pull the pot out at red heat"), "{value}");
    assert!(
        value.contains("https://www.youtube.com/watch?v=rAk-U9fIr3Z"),
        "{value}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_ranges_count_utf16_units_after_accents_cyrillic_and_emoji() {
    let fx = vault(
        r#"
//- /kiln_hours/today.md
🔥🏺 Crème brûlée, глазурь «Ёж»: [[gla]] and [[rak$0
"#,
    );
    let path = fx.path("kiln_hours/today.md");
    let text = fx.text("kiln_hours/today.md");
    let mut server = TestServer::start(fx.root()).await;
    server.open(&path).await;
    let got = complete_at_cursor(&mut server, &fx).await;
    assert_eq!(
        item(&got, "Raku Firing: Fast and Smoky")["textEdit"],
        json!({ "range": range_of(&text, "rak"), "newText": format!("{RAKU_SNIPPET}]]") })
    );
    let got = server
        .completion(&path, pos_in(&text, "[[gla]]", "la", 0))
        .await;
    assert_eq!(
        item(&got, "Glaze Chemistry")["textEdit"],
        json!({ "range": range_of(&text, "gla"), "newText": "glaze_chemistry | ${1:Glaze Chemistry}" })
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completion_follows_what_the_user_types_in_an_open_note() {
    let fx = vault(
        r#"
//- /kiln_hours/today.md
🔥 Today we fire 
"#,
    );
    let path = fx.path("kiln_hours/today.md");
    let mut server = TestServer::start(fx.root()).await;
    let mut text = server.open(&path).await;
    // Type `[[ra` one key at a time at the end of the line, as an editor sends it.
    for (version, key) in [(2, "["), (3, "["), (4, "r"), (5, "a")] {
        let eol = text.find('\n').unwrap();
        let at = position(&text, eol);
        server
            .edit(&path, version, json!({ "start": at, "end": at }), key)
            .await;
        text.insert_str(eol, key);
    }
    assert!(text.starts_with("🔥 Today we fire [[ra\n"));
    let eol = text.find('\n').unwrap();
    let got = server.completion(&path, position(&text, eol)).await;
    assert_eq!(
        item(&got, "Raku Firing: Fast and Smoky")["textEdit"],
        json!({ "range": range(&text, eol - 2, eol), "newText": format!("{RAKU_SNIPPET}]]") })
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_offered_inside_code() {
    let fx = vault(
        r#"
//- /kiln_hours/today.md
```
[[rak
```

Inline `[[rak` code.
"#,
    );
    let path = fx.path("kiln_hours/today.md");
    let text = fx.text("kiln_hours/today.md");
    let mut server = TestServer::start(fx.root()).await;
    server.open(&path).await;
    let fenced = find(&text, "[[rak\n```") + 5;
    let inline = find(&text, "[[rak`") + 5;
    for at in [fenced, inline] {
        let got = server.completion(&path, position(&text, at)).await;
        assert!(completion_items(&got).is_empty(), "{got:#}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_texts_keep_the_server_order_and_let_the_client_narrow_a_complete_list() {
    let fx = vault(
        r#"
//- /kiln_hours/today.md
Today we fire [[rak$0]]
"#,
    );
    let mut server = TestServer::start(fx.root()).await;
    let got = complete_at_cursor(&mut server, &fx).await;
    assert_eq!(got["isIncomplete"], false);
    for item in got["items"].as_array().unwrap() {
        let filter = item["filterText"].as_str().unwrap();
        // Every item matches what was typed equally well, so the client keeps our order...
        assert!(filter.starts_with("rak "), "{item:#}");
    }
    // ...and as the user types on without asking again, the names still match.
    let raku = item(&got, "Raku Firing: Fast and Smoky");
    assert_eq!(
        raku["filterText"],
        "rak raku_firing Raku Firing: Fast and Smoky"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_a_file_name_with_underscores_finds_the_note_titled_in_words() {
    // glaze_chemistry.md is the slug of its title "Glaze Chemistry".
    let fx = vault(
        r#"
//- /kiln_hours/today.md
Today we mix [[glaze_chem$0
"#,
    );
    let mut server = TestServer::start(fx.root()).await;
    let got = complete_at_cursor(&mut server, &fx).await;
    assert_eq!(labels(&got)[0], "Glaze Chemistry", "{got:#}");
    server.shutdown().await;
}

/// Completion skips the names that lack a letter of the query before scoring them: names whose
/// letters are accented, and queries with the matcher's own syntax, must still be offered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accented_names_match_plain_letters_and_query_syntax_still_works() {
    let fx = Fixture::new(
        r#"
//- /people/writer_1.md
---
title: Émile Zola
---
//- /people/painter_2.md
# Zoë Brun
//- /places/city_3.md
# Kraków
//- /today.md
[[emil$0]] [[zoe]] [[krakow]] [[!zola]]
"#,
    );
    let path = fx.path("today.md");
    let text = fx.text("today.md");
    let mut server = TestServer::start(fx.root()).await;
    server.wait_indexed().await;
    let got = complete_at_cursor(&mut server, &fx).await;
    assert_eq!(labels(&got)[0], "Émile Zola");
    let got = server
        .completion(&path, pos_in(&text, "[[zoe]]", "]]", 0))
        .await;
    assert_eq!(labels(&got)[0], "Zoë Brun");
    let got = server
        .completion(&path, pos_in(&text, "[[krakow]]", "]]", 0))
        .await;
    assert_eq!(labels(&got)[0], "Kraków");
    // With the matcher's syntax in the query, names are not skipped for lacking its letters:
    // "Kraków" has no "z" and still comes back for `!zola`.
    let got = server
        .completion(&path, pos_in(&text, "[[!zola]]", "]]", 0))
        .await;
    let names = labels(&got);
    assert!(names.contains(&"Kraków".to_string()), "{names:?}");
    server.shutdown().await;
}

/// Past 2,000 candidates, completion scores them all with the quick (greedy) matcher and ranks
/// the best 2,000 of those by the full score: the best answers must still come first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_candidates_keep_the_best_first() {
    let mut spec = String::new();
    for i in 0..1000 {
        spec.push_str(&format!(
            "//- /tests/glaze_trial_{i:04}.md\n---\ntitle: Glaze trial {i:04} of the kiln log\n---\n"
        ));
    }
    // Matches with the letters apart, scoring lower and unequally: past the shortlist.
    for i in 0..1500 {
        let title = format!(
            "G{} l{} a{} z {i:04}",
            "o".repeat(i % 7),
            "e".repeat(i % 5),
            "n".repeat(i % 3)
        );
        spec.push_str(&format!(
            "//- /scattered/note_{i:04}.md\n---\ntitle: {title}\n---\n"
        ));
    }
    spec.push_str("//- /glaze.md\n# Glaze\n//- /today.md\n[[glaz$0\n");
    let fx = Fixture::new(&spec);
    let mut server = TestServer::start(fx.root()).await;
    server.wait_indexed().await;
    let got = complete_at_cursor(&mut server, &fx).await;
    assert_eq!(got["isIncomplete"], true);
    let names = labels(&got);
    assert_eq!(names.len(), 200);
    assert_eq!(names[0], "Glaze");
    assert!(
        names[1..].iter().all(|n| n.starts_with("Glaze trial")),
        "{names:?}"
    );
    server.shutdown().await;
}
