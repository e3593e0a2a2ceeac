//! Navigating a vault: references (backlinks), the outline of a note, symbols of the vault,
//! clickable links and timestamps, folding.
mod common;
use common::*;
use serde_json::{Value, json};
use std::path::Path;

const VAULT: &str = r#"
//- /kiln_hours/raku_firing.md
---
title: Raku Firing
videoId: rAku-Fire01
aliases: [Raku]
---

From: [[tomas_reyes]]

## Pulling the pots
Tongs at the ready <a class="yt-timestamp" data-t="00:03:20">[00:03:20]</a>, then [00:04:05].

### Reduction bins
Sawdust and newspaper.

## Cooling
Water or air.
//- /kiln_hours/today.md
Крем 🔥 [[raku_firing | the raku]] today, and [[Raku#Cooling]] later; [[wood_firing]] someday.
//- /people/tomas_reyes.md
# Tomás Reyes
He fires [[raku_firing]] and dreams of [[wood_firing]].
```
[[raku_firing]] in code is no link
```
"#;

fn locations(got: &Value) -> Vec<(String, Value)> {
    let mut v: Vec<(String, Value)> = got
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["uri"].as_str().unwrap().to_owned(), l["range"].clone()))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.to_string().cmp(&b.1.to_string())));
    v
}

/// The answer to `textDocument/references` at `pos` in the note at `path`.
async fn references(server: &mut TestServer, path: &Path, pos: Value, declaration: bool) -> Value {
    server
        .request(
            "textDocument/references",
            json!({
                "textDocument": { "uri": uri(path) },
                "position": pos,
                "context": { "includeDeclaration": declaration },
            }),
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn references_on_a_link_list_every_link_to_its_note() {
    let fx = Fixture::new(VAULT);
    let today = fx.path("kiln_hours/today.md");
    let text = fx.text("kiln_hours/today.md");
    let person = fx.text("people/tomas_reyes.md");
    let raku = fx.text("kiln_hours/raku_firing.md");
    let mut server = TestServer::start(fx.root()).await;
    server.open(&today).await;
    let params = |include: bool| {
        json!({
            "textDocument": { "uri": uri(&today) },
            "position": pos_in(&text, "[[raku_firing | the raku]]", "the raku", 2),
            "context": { "includeDeclaration": include },
        })
    };
    let got = server
        .request("textDocument/references", params(false))
        .await;
    let mut expected = vec![
        (
            fx.uri("kiln_hours/today.md"),
            range_of(&text, "[[raku_firing | the raku]]"),
        ),
        (
            fx.uri("kiln_hours/today.md"),
            range_of(&text, "[[Raku#Cooling]]"),
        ),
        (
            fx.uri("people/tomas_reyes.md"),
            range_of(&person, "[[raku_firing]] and"),
        ),
    ];
    // `range_of` above took a longer needle for uniqueness: cut it to the link.
    expected[2].1 = {
        let at = find(&person, "[[raku_firing]] and");
        range(&person, at, at + "[[raku_firing]]".len())
    };
    expected.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.to_string().cmp(&b.1.to_string())));
    assert_eq!(locations(&got), expected);
    // With the declaration: the note's title line comes too.
    let got = server
        .request("textDocument/references", params(true))
        .await;
    let title = find(&raku, "Raku Firing");
    assert!(
        locations(&got).contains(&(
            fx.uri("kiln_hours/raku_firing.md"),
            range(&raku, title, title + "Raku Firing".len())
        )),
        "{got:#}"
    );
    assert_eq!(got.as_array().unwrap().len(), 4);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn references_in_plain_text_are_the_backlinks_of_the_note_and_a_missing_target_lists_its_links()
 {
    let fx = Fixture::new(VAULT);
    let raku_path = fx.path("kiln_hours/raku_firing.md");
    let raku = fx.text("kiln_hours/raku_firing.md");
    let today = fx.path("kiln_hours/today.md");
    let text = fx.text("kiln_hours/today.md");
    let person = fx.text("people/tomas_reyes.md");
    let mut server = TestServer::start(fx.root()).await;
    server.open(&raku_path).await;
    let got = references(
        &mut server,
        &raku_path,
        pos_in(&raku, "Sawdust", "Saw", 1),
        false,
    )
    .await;
    assert_eq!(got.as_array().unwrap().len(), 3, "{got:#}");
    server.open(&today).await;
    let got = references(
        &mut server,
        &today,
        pos_in(&text, "[[wood_firing]]", "wood", 1),
        true,
    )
    .await;
    let mut expected = vec![
        (
            fx.uri("kiln_hours/today.md"),
            range_of(&text, "[[wood_firing]]"),
        ),
        (
            fx.uri("people/tomas_reyes.md"),
            range_of(&person, "[[wood_firing]]"),
        ),
    ];
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(locations(&got), expected);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outline_is_the_title_holding_the_heading_tree() {
    let fx = Fixture::new(VAULT);
    let path = fx.path("kiln_hours/raku_firing.md");
    let text = fx.text("kiln_hours/raku_firing.md");
    let mut server = TestServer::start(fx.root()).await;
    server.open(&path).await;
    let got = server
        .request(
            "textDocument/documentSymbol",
            json!({ "textDocument": { "uri": uri(&path) } }),
        )
        .await;
    let pulling = find(&text, "## Pulling");
    let bins = find(&text, "### Reduction");
    let cooling = find(&text, "## Cooling");
    let heading = |at: usize, line: &str| range(&text, at, at + line.len());
    let title = find(&text, "Raku Firing");
    let expected = json!([{
        "name": "Raku Firing",
        "kind": 1,
        "range": range(&text, 0, text.len()),
        "selectionRange": range(&text, title, title + "Raku Firing".len()),
        "children": [
            {
                "name": "Pulling the pots",
                "kind": 15,
                "range": range(&text, pulling, cooling),
                "selectionRange": heading(pulling, "## Pulling the pots"),
                "children": [{
                    "name": "Reduction bins",
                    "kind": 15,
                    "range": range(&text, bins, cooling),
                    "selectionRange": heading(bins, "### Reduction bins"),
                    "children": [],
                }],
            },
            {
                "name": "Cooling",
                "kind": 15,
                "range": range(&text, cooling, text.len()),
                "selectionRange": heading(cooling, "## Cooling"),
                "children": [],
            },
        ],
    }]);
    assert_eq!(got, expected);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workspace_symbols_find_notes_by_title_and_alias_and_headings() {
    let fx = Fixture::new(VAULT);
    let raku = fx.text("kiln_hours/raku_firing.md");
    let mut server = TestServer::start(fx.root()).await;
    let got = server
        .request("workspace/symbol", json!({ "query": "cooling" }))
        .await;
    let cooling = find(&raku, "## Cooling");
    assert_eq!(
        got,
        json!([{
            "name": "Cooling",
            "kind": 15,
            "location": { "uri": fx.uri("kiln_hours/raku_firing.md"), "range": range(&raku, cooling, cooling + "## Cooling".len()) },
            "containerName": "Raku Firing",
        }])
    );
    let got = server
        .request("workspace/symbol", json!({ "query": "tomas" }))
        .await;
    assert_eq!(got[0]["name"], "Tomás Reyes");
    assert_eq!(
        got[0]["location"],
        json!({ "uri": fx.uri("people/tomas_reyes.md"), "range": top() })
    );
    assert_eq!(got[0]["containerName"], "people/tomas_reyes");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timestamps_and_links_are_clickable() {
    let fx = Fixture::new(VAULT);
    let raku_path = fx.path("kiln_hours/raku_firing.md");
    let raku = fx.text("kiln_hours/raku_firing.md");
    let today = fx.path("kiln_hours/today.md");
    let text = fx.text("kiln_hours/today.md");
    let mut server = TestServer::start(fx.root()).await;
    server.open(&raku_path).await;
    let got = server
        .request(
            "textDocument/documentLink",
            json!({ "textDocument": { "uri": uri(&raku_path) } }),
        )
        .await;
    assert_eq!(
        got,
        json!([
            { "range": range_of(&raku, "[[tomas_reyes]]"), "target": fx.uri("people/tomas_reyes.md") },
            { "range": range_in(&raku, ">[00:03:20]<", "[00:03:20]"), "target": "https://www.youtube.com/watch?v=rAku-Fire01&t=200s" },
            { "range": range_of(&raku, "[00:04:05]"), "target": "https://www.youtube.com/watch?v=rAku-Fire01&t=245s" },
        ])
    );
    // A link to a heading opens the note at that line; broken links are not clickable.
    server.open(&today).await;
    let got = server
        .request(
            "textDocument/documentLink",
            json!({ "textDocument": { "uri": uri(&today) } }),
        )
        .await;
    let cooling_line = raku.lines().position(|l| l == "## Cooling").unwrap() + 1;
    assert_eq!(
        got,
        json!([
            { "range": range_of(&text, "[[raku_firing | the raku]]"), "target": fx.uri("kiln_hours/raku_firing.md") },
            { "range": range_of(&text, "[[Raku#Cooling]]"), "target": format!("{}#L{cooling_line}", fx.uri("kiln_hours/raku_firing.md")) },
        ])
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frontmatter_and_sections_fold() {
    let fx = Fixture::new(VAULT);
    let path = fx.path("kiln_hours/raku_firing.md");
    let mut server = TestServer::start(fx.root()).await;
    server.open(&path).await;
    let got = server
        .request(
            "textDocument/foldingRange",
            json!({ "textDocument": { "uri": uri(&path) } }),
        )
        .await;
    // Lines: 0-4 frontmatter, 8 "## Pulling", 11 "### Reduction", 14 "## Cooling", 15 last.
    assert_eq!(
        got,
        json!([
            { "startLine": 0, "endLine": 4, "kind": "comment" },
            { "startLine": 8, "endLine": 13, "kind": "region" },
            { "startLine": 11, "endLine": 13, "kind": "region" },
            { "startLine": 14, "endLine": 15, "kind": "region" },
        ])
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_title_carries_a_backlinks_lens_with_the_clients_show_references_command() {
    let fx = Fixture::new(VAULT);
    let path = fx.path("kiln_hours/raku_firing.md");
    let raku = fx.text("kiln_hours/raku_firing.md");
    let title = find(&raku, "Raku Firing");
    let title_range = range(&raku, title, title + "Raku Firing".len());
    // A client that is not VS Code gets the server's own command.
    let mut server = TestServer::start(fx.root()).await;
    server.open(&path).await;
    let got = server
        .request(
            "textDocument/codeLens",
            json!({ "textDocument": { "uri": uri(&path) } }),
        )
        .await;
    assert_eq!(
        got,
        json!([{
            "range": title_range,
            "command": {
                "title": "3 backlinks",
                "command": "wikilsp.showReferences",
                "arguments": [uri(&path), title_range["start"]],
            },
        }])
    );
    server.shutdown().await;
    // VS Code gets its own show-references command with the locations.
    let (mut server, _) = TestServer::start_with_params(
        fx.root(),
        json!({ "clientInfo": { "name": "Visual Studio Code", "version": "1.139.1" } }),
    )
    .await;
    let got = server
        .request(
            "textDocument/codeLens",
            json!({ "textDocument": { "uri": uri(&path) } }),
        )
        .await;
    let command = &got[0]["command"];
    assert_eq!(command["command"], "editor.action.showReferences");
    assert_eq!(command["arguments"][0], uri(&path));
    assert_eq!(command["arguments"][2].as_array().unwrap().len(), 3);
    server.shutdown().await;
}

/// Closed notes are placed from the index alone (their text is not kept): links after
/// accents, Cyrillic and emoji must still land on UTF-16 columns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn references_in_closed_notes_after_non_ascii_text_have_utf16_columns() {
    let fx = Fixture::new(
        r#"
//- /glaze.md
---
title: "Céladon — глазурь 🎨"
---
# Glaze

Notes on $0glaze.
//- /a.md
Crème brûlée glaze: [[glaze]] and again Ж [[Glaze | глазурь 🎬]] 🎬 [[glaze]].
//- /b.md
🎬🎬 first [[glaze#Glaze]]
second line: é [[glaze]]
"#,
    );
    let glaze = fx.path("glaze.md");
    let (a, b, g) = (fx.text("a.md"), fx.text("b.md"), fx.text("glaze.md"));
    let mut server = TestServer::start(fx.root()).await;
    server.open(&glaze).await;
    server.wait_indexed().await;
    let (_, pos) = fx.cursor();
    let got = references(&mut server, &glaze, pos, true).await;
    let nth = |text: &str, needle: &str, n: usize| {
        let at = text.match_indices(needle).nth(n).unwrap().0;
        range(text, at, at + needle.len())
    };
    let mut expected = vec![
        (fx.uri("a.md"), nth(&a, "[[glaze]]", 0)),
        (fx.uri("a.md"), range_of(&a, "[[Glaze | глазурь 🎬]]")),
        (fx.uri("a.md"), nth(&a, "[[glaze]]", 1)),
        (fx.uri("b.md"), range_of(&b, "[[glaze#Glaze]]")),
        (fx.uri("b.md"), range_of(&b, "[[glaze]]")),
        (fx.uri("glaze.md"), range_of(&g, "Céladon — глазурь 🎨")),
    ];
    expected.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.to_string().cmp(&b.1.to_string())));
    assert_eq!(locations(&got), expected);
    server.shutdown().await;
}

/// A hub with hundreds of backlinks: the answer is written by the server itself rather than by
/// tower-lsp (see `lsp::raw`). It must be the same answer, placed exactly, and a small request
/// sent with it must get its own answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_backlinks_come_back_whole_and_exact() {
    let mut spec = String::from("//- /hub.md\n# Kiln $0log\n");
    for i in 0..150 {
        spec.push_str(&format!(
            "//- /firings/firing_{i:03}.md\nFiring {i}: [[hub]], then Ж é 🎬 [[Hub | the hub]].\n"
        ));
    }
    let fx = Fixture::new(&spec);
    let hub = fx.path("hub.md");
    let mut server = TestServer::start(fx.root()).await;
    server.open(&hub).await;
    server.wait_indexed().await;
    let (_, pos) = fx.cursor();
    let params = json!({
        "textDocument": { "uri": uri(&hub) },
        "position": pos,
        "context": { "includeDeclaration": false },
    });
    let big = server
        .start_request("textDocument/references", params)
        .await;
    let small = server
        .start_request(
            "textDocument/hover",
            json!({ "textDocument": { "uri": uri(&hub) }, "position": pos }),
        )
        .await;
    let got = server.finish_request(big).await;
    let hover = server.finish_request(small).await;
    assert!(hover.get("error").is_none(), "{hover}");
    let got = &got["result"];
    let mut expected = Vec::new();
    for i in 0..150 {
        let rel = format!("firings/firing_{i:03}.md");
        let text = fx.text(&rel);
        expected.push((fx.uri(&rel), range_of(&text, "[[hub]]")));
        expected.push((fx.uri(&rel), range_of(&text, "[[Hub | the hub]]")));
    }
    expected.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.to_string().cmp(&b.1.to_string())));
    assert_eq!(locations(got), expected);
    // With the declaration: the hub's title comes first, then the same links in the same order.
    let with_title = references(&mut server, &hub, pos, true).await;
    let with_title = with_title.as_array().unwrap();
    assert_eq!(with_title.len(), 301);
    assert_eq!(with_title[0]["uri"], fx.uri("hub.md"));
    assert_eq!(
        with_title[0]["range"],
        range_of(&fx.text("hub.md"), "Kiln log")
    );
    assert_eq!(&with_title[1..], got.as_array().unwrap().as_slice());
    server.shutdown().await;
}

/// A hub linked from more notes than one share of the work holds (they are read on all cores),
/// by its stem and by its alias, one of them open in the editor with unsaved edits. The real
/// binary writes the answer itself, in pieces: it is every link, in order of notes and then of
/// position, placed in the text the editor has.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_of_many_notes_answers_every_link_in_order_from_the_real_binary() {
    let mut spec = String::from("//- /hub.md\n---\naliases: [Kiln]\n---\n# Hub $0of the kilns\n");
    for i in 0..700 {
        let text = match i % 3 {
            0 => "Ж [[hub]] once.".to_owned(),
            1 => "é 🎬 [[Kiln | the kiln]], then [[hub]].".to_owned(),
            _ => "[[hub#Firing]] is a part; [[other]] is not.".to_owned(),
        };
        spec.push_str(&format!("//- /links/n_{i:03}.md\n{text}\n"));
    }
    let fx = Fixture::new(&spec);
    let hub = fx.path("hub.md");
    let edited = "line one 🔥\nКрем [[Kiln]] and [[hub]]\n";
    let mut server = TestServer::start_process(fx.root(), "wikilsp=info").await;
    server.open(&hub).await;
    server.open_with(&fx.path("links/n_005.md"), edited).await;
    let (_, pos) = fx.cursor();
    let got = references(&mut server, &hub, pos, true).await;
    let mut expected = vec![json!({
        "uri": fx.uri("hub.md"),
        "range": range_of(&fx.text("hub.md"), "Hub of the kilns"),
    })];
    for i in 0..700 {
        let rel = format!("links/n_{i:03}.md");
        let text = if i == 5 {
            edited.to_owned()
        } else {
            fx.text(&rel)
        };
        let mut found: Vec<usize> = [
            "[[hub]]",
            "[[hub#Firing]]",
            "[[Kiln | the kiln]]",
            "[[Kiln]]",
        ]
        .iter()
        .flat_map(|link| text.match_indices(link).map(|m| m.0).collect::<Vec<_>>())
        .collect();
        found.sort();
        for at in found {
            let end = at + text[at..].find("]]").unwrap() + 2;
            expected.push(json!({ "uri": fx.uri(&rel), "range": range(&text, at, end) }));
        }
    }
    assert_eq!(got.as_array().unwrap().len(), expected.len());
    assert_eq!(got, Value::Array(expected));
    server.check_no_errors();
    server.shutdown().await;
}
