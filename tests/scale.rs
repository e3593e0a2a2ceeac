//! The behaviour behind the speed figures, checked without timing anything: requests on open
//! notes are answered while indexing is under way, a change to one note parses that note alone,
//! and the index keeps no text of closed notes.
//!
//! These tests read the process-wide parse counter, so they live in a test binary of their own
//! and run one at a time (a lock), never beside servers of other tests.

mod common;

use common::*;
use serde_json::{Value, json};

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn stats(server: &mut TestServer) -> Value {
    server.request("wikilsp/debugStats", json!({})).await
}

const VAULT: &str = r#"
//- /notes/glaze.md
---
title: Glaze
---
# Glaze

Celadon and [[kiln]] notes, with [[$0kiln_log]] and a [[missing_topic]].
//- /notes/kiln.md
# Kiln

The [[glaze]] goes in at [00:01:15].
//- /notes/kiln_log.md
# Kiln log
//- /notes/other.md
Links to [[kiln]] and [[glaze]].
"#;

#[cfg_attr(
    not(debug_assertions),
    ignore = "needs the debug build's wikilsp/debug* methods"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_note_is_served_while_indexing_and_its_links_are_judged_once_the_index_is_in() {
    let _one = ONE_AT_A_TIME.lock().await;
    let fx = Fixture::new(VAULT);
    let glaze = fx.path("notes/glaze.md");
    let text = fx.text("notes/glaze.md");
    let mut server = TestServer::spawn(fx.root());
    server.initialize(json!({})).await;
    // The scan runs but its index is held back: the vault knows only what the editor opens.
    server
        .request("wikilsp/debugHoldIndexing", json!({ "hold": true }))
        .await;
    server.notify("initialized", json!({})).await;
    server.open(&glaze).await;

    let symbols = server
        .request(
            "textDocument/documentSymbol",
            json!({ "textDocument": { "uri": uri(&glaze) } }),
        )
        .await;
    assert_eq!(symbols[0]["name"], "Glaze", "{symbols:#}");
    let (_, cursor) = fx.cursor();
    // The link's note is not read yet: the hover says so, rather than that it does not exist.
    let hover = server.hover(&glaze, cursor.clone()).await;
    let said = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(said.contains("still reading"), "{hover:#}");
    assert!(!said.contains("exists yet"), "{hover:#}");
    let completion = server
        .completion(&glaze, pos_in(&text, "[[kiln]]", "kiln", 2))
        .await;
    assert!(completion.is_object(), "{completion:#}");
    // From part of the vault: the editor is to ask again as the user types on.
    assert_eq!(completion["isIncomplete"], true, "{completion:#}");
    assert_eq!(stats(&mut server).await["indexed"], false);
    // No link is called broken before the index is in (its note may just not be read yet).
    let early = server.latest_diagnostics(&glaze).await;
    assert!(
        early.iter().all(|d| d["code"] != "broken-link"),
        "{early:#?}"
    );

    server
        .request("wikilsp/debugHoldIndexing", json!({ "hold": false }))
        .await;
    server.wait_indexed().await;
    // Diagnostics are published again for the whole vault: only the missing topic is broken.
    let after = server
        .diagnostics_where(&glaze, |d| d.iter().any(|d| d["code"] == "broken-link"))
        .await;
    assert_eq!(
        summarize(&after),
        vec![diag("broken-link", 2, range_of(&text, "missing_topic"))]
    );
    let hover = server.hover(&glaze, cursor.clone()).await;
    let said = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(said.contains("Kiln log"), "{hover:#}");
    let missing = server
        .hover(&glaze, pos_in(&text, "[[missing_topic]]", "missing", 0))
        .await;
    let said = missing["contents"]["value"].as_str().unwrap_or_default();
    assert!(
        said.starts_with("No note `missing_topic` exists yet"),
        "{missing:#}"
    );
    let found = server.definition(&glaze, cursor).await;
    assert_eq!(
        found,
        location(
            &fx.uri("notes/kiln_log.md"),
            json!({"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}})
        )
    );
    // The whole vault read, a short list is the whole answer.
    let completion = server
        .completion(&glaze, pos_in(&text, "[[kiln]]", "kiln", 2))
        .await;
    assert_eq!(completion["isIncomplete"], false, "{completion:#}");
    assert!(
        completion["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|i| i["label"] == "Kiln log")),
        "{completion:#}"
    );
    server.shutdown().await;
}

#[cfg_attr(
    not(debug_assertions),
    ignore = "needs the debug build's wikilsp/debug* methods"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_in_one_note_parses_that_note_alone_and_closed_notes_keep_no_text() {
    let _one = ONE_AT_A_TIME.lock().await;
    let fx = Fixture::new(VAULT);
    // More notes, so a pass over the vault would show in the count.
    for i in 0..200 {
        std::fs::write(
            fx.path(&format!("notes/extra_{i}.md")),
            format!(
                "# Extra {i}\n\nSee [[glaze]] and [[extra_{}]].\n",
                (i + 1) % 200
            ),
        )
        .unwrap();
    }
    let glaze = fx.path("notes/glaze.md");
    let text = fx.text("notes/glaze.md");
    let mut server = TestServer::start(fx.root()).await;
    let before = stats(&mut server).await;
    assert_eq!(before["vault"]["notes"], 204, "{before:#}");
    // The index keeps the parsed structure of closed notes, never their text.
    assert_eq!(before["vault"]["textBytes"], 0, "{before:#}");
    assert_eq!(before["vault"]["openNotes"], 0);

    server.open(&glaze).await;
    server.latest_diagnostics(&glaze).await;
    let opened = stats(&mut server).await;
    assert_eq!(opened["vault"]["textBytes"], text.len(), "{opened:#}");
    let parses_at_open = opened["parses"].as_u64().unwrap();

    // Ten keystrokes in a paragraph, then a new link (which changes the note's links).
    let at = find(&text, "Celadon") + "Celadon".len();
    let mut typed = String::new();
    for (k, ch) in "ware glaze".chars().enumerate() {
        let p = position(&text, at);
        let col = p["character"].as_u64().unwrap() + k as u64;
        let here = json!({"line": p["line"], "character": col});
        server
            .edit(
                &glaze,
                2 + k as i32,
                json!({"start": here, "end": here}),
                &ch.to_string(),
            )
            .await;
        typed.push(ch);
    }
    let end = position(&text, text.len());
    server
        .edit(
            &glaze,
            20,
            json!({"start": end, "end": end}),
            "More on [[kiln]].\n",
        )
        .await;
    let mut final_text = text.clone();
    final_text.insert_str(at, &typed);
    final_text.push_str("More on [[kiln]].\n");
    server.latest_diagnostics(&glaze).await;
    let after = stats(&mut server).await;
    let parses = after["parses"].as_u64().unwrap() - parses_at_open;
    // At most one parse per change of the open note (changes that queue up while nothing reads
    // the note are parsed together); none of the 203 other notes was parsed again.
    assert!((1..=11).contains(&parses), "{parses} parses: {after:#}");
    assert_eq!(after["vault"]["textBytes"], final_text.len());

    server.close(&glaze).await;
    let closed = stats(&mut server).await;
    assert_eq!(closed["vault"]["textBytes"], 0, "{closed:#}");
    assert_eq!(closed["vault"]["openNotes"], 0);
    server.shutdown().await;
}
