//! Hostile clients: positions and ranges out of bounds or backwards, changes of documents
//! never opened, versions going backwards, URIs the server cannot serve, cancelled requests,
//! requests after `shutdown`, `exit` without `shutdown`, broken messages. After each, the
//! server must answer with a clear error or a null, and keep serving: every test ends by
//! checking a normal request ([`still_serving`]).
mod common;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

const VAULT: &str = r#"
//- /garden/tomatoes.md
---
title: Tomatoes
---
# Tomatoes 🍅

Stake them early. See [[basil]] and [[compost]].

## Pruning

Pinch the suckers.
//- /garden/basil.md
# Basil

Grows beside [[tomatoes]].
//- /compost.md
# Compost

Feeds the [[tomatoes#Pruning]] beds and [[missing_note]].
Last: [[basil]]
"#;

/// A normal request gets its normal answer: the link in basil.md leads to tomatoes.md.
async fn still_serving(server: &mut TestServer, fx: &Fixture) {
    let basil = fx.path("garden/basil.md");
    let text = fx.text("garden/basil.md");
    let got = server
        .definition(&basil, pos_in(&text, "[[tomatoes]]", "tom", 0))
        .await;
    assert_eq!(
        got["uri"],
        fx.uri("garden/tomatoes.md"),
        "definition: {got}"
    );
}

/// Once the server has settled, no diagnostics are left shown for `path`: none were ever
/// published, or the newest are empty.
async fn no_diagnostics_left(server: &mut TestServer, path: &Path) {
    server.idle(300).await;
    let left = server.last_published(path);
    assert!(
        left.as_ref().is_none_or(|d| d.is_empty()),
        "diagnostics left for {}: {left:?}",
        path.display()
    );
}

/// The server's own text and version of an open document (`wikilsp/debugState`).
async fn server_text(server: &mut TestServer, path: &Path) -> Option<(i64, String)> {
    let state = server
        .request("wikilsp/debugState", json!({ "uri": uri(path) }))
        .await;
    let doc = &state["document"];
    (!doc.is_null()).then(|| {
        (
            doc["version"].as_i64().unwrap(),
            doc["text"].as_str().unwrap().to_owned(),
        )
    })
}

fn pos(line: u64, character: u64) -> Value {
    json!({ "line": line, "character": character })
}

fn rng(a: Value, b: Value) -> Value {
    json!({ "start": a, "end": b })
}

/// Every request that takes a document and a position, with those params.
fn position_requests(path: &Path, at: Value) -> Vec<(&'static str, Value)> {
    let doc = json!({ "uri": uri(path) });
    let tdp = json!({ "textDocument": doc, "position": at });
    vec![
        ("textDocument/definition", tdp.clone()),
        ("textDocument/hover", tdp.clone()),
        ("textDocument/completion", tdp.clone()),
        ("textDocument/prepareRename", tdp.clone()),
        (
            "textDocument/references",
            json!({ "textDocument": doc, "position": at, "context": { "includeDeclaration": true } }),
        ),
        (
            "textDocument/rename",
            json!({ "textDocument": doc, "position": at, "newName": "Heirloom Tomatoes" }),
        ),
    ]
}

/// Every request that takes a whole document (a range for code actions).
fn document_requests(path: &Path, range: Value) -> Vec<(&'static str, Value)> {
    let doc = json!({ "uri": uri(path) });
    vec![
        (
            "textDocument/documentSymbol",
            json!({ "textDocument": doc }),
        ),
        ("textDocument/documentLink", json!({ "textDocument": doc })),
        ("textDocument/foldingRange", json!({ "textDocument": doc })),
        ("textDocument/codeLens", json!({ "textDocument": doc })),
        (
            "textDocument/codeAction",
            json!({ "textDocument": doc, "range": range, "context": { "diagnostics": [] } }),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn positions_past_the_end_of_a_line_or_of_the_file_are_clamped_in_every_request() {
    let fx = Fixture::new(VAULT);
    let mut server = TestServer::start(fx.root()).await;
    let tomatoes = fx.path("garden/tomatoes.md");
    let compost = fx.path("compost.md");
    server.open(&tomatoes).await;
    let far = [
        pos(0, 10_000),
        pos(10_000, 0),
        pos(4, 4_294_967_295),
        pos(4_294_967_295, 4_294_967_295),
        pos(3, 12), // between the two halves of 🍅
    ];
    // An open note and a closed one.
    for path in [&tomatoes, &compost] {
        for at in &far {
            for (method, params) in position_requests(path, at.clone()) {
                let r = server.request_raw(method, params).await;
                if method == "textDocument/rename" && r.get("error").is_some() {
                    // Nothing to rename there: RequestFailed, with the reason.
                    assert_eq!(r["error"]["code"], -32803, "{r}");
                    assert_eq!(r["error"]["message"], "there is nothing to rename here");
                } else {
                    assert!(r.get("error").is_none(), "{method} at {at}: {r}");
                }
            }
            for (method, params) in document_requests(path, rng(at.clone(), pos(99_999, 9))) {
                let r = server.request_raw(method, params).await;
                assert!(r.get("error").is_none(), "{method} at {at}: {r}");
            }
        }
    }
    // A column past the end of a line is the end of that line (not the next line): there,
    // right after the closing `]]` of the line's last link, the link is found.
    let text = fx.text("compost.md");
    let line = text.lines().position(|l| l == "Last: [[basil]]").unwrap() as u64;
    let got = server.definition(&compost, pos(line, 500)).await;
    assert_eq!(got["uri"], fx.uri("garden/basil.md"), "{got}");
    still_serving(&mut server, &fx).await;
    server.shutdown().await;
}

#[cfg_attr(
    not(debug_assertions),
    ignore = "needs the debug build's wikilsp/debug* methods"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_past_the_end_are_clamped_and_the_text_stays_in_step() {
    let fx = Fixture::new(VAULT);
    let mut server = TestServer::start(fx.root()).await;
    let basil = fx.path("garden/basil.md");
    let text = server.open(&basil).await;
    // Past the end of line 0: the end of that line. Past the last line: the end of the text.
    server
        .edit(&basil, 2, rng(pos(0, 500), pos(0, 900)), " (sweet)")
        .await;
    server
        .edit(
            &basil,
            3,
            rng(pos(500, 0), pos(900, 7)),
            "Also [[oregano]].\n",
        )
        .await;
    let expected = format!(
        "{}{}",
        text.replacen("# Basil\n", "# Basil (sweet)\n", 1),
        "Also [[oregano]].\n"
    );
    assert_eq!(
        server_text(&mut server, &basil).await,
        Some((3, expected.clone()))
    );
    server
        .expect_diagnostics(
            &basil,
            vec![diag("broken-link", WARNING, range_of(&expected, "oregano"))],
        )
        .await;
    still_serving(&mut server, &fx).await;
    server.shutdown().await;
}

#[cfg_attr(
    not(debug_assertions),
    ignore = "needs the debug build's wikilsp/debug* methods"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranges_that_end_before_they_start_mean_the_text_between_their_ends() {
    let fx = Fixture::new(VAULT);
    let mut server = TestServer::start(fx.root()).await;
    let basil = fx.path("garden/basil.md");
    let text = server.open(&basil).await;
    // "Grows beside" replaced, its range written backwards; twice, logged once.
    let grows = find(&text, "Grows beside");
    let backwards = rng(
        position(&text, grows + "Grows beside".len()),
        position(&text, grows),
    );
    server.edit(&basil, 2, backwards, "Thrives near").await;
    let once = text.replace("Grows beside", "Thrives near");
    let thrives = find(&once, "Thrives");
    server
        .edit(
            &basil,
            3,
            rng(position(&once, thrives + 7), position(&once, thrives)),
            "Sulks",
        )
        .await;
    let expected = once.replace("Thrives", "Sulks");
    assert_eq!(
        server_text(&mut server, &basil).await,
        Some((3, expected.clone()))
    );
    assert_eq!(
        server.logged_once("ends before it starts").await,
        2,
        "a warning"
    );
    // In a request: a code action over a backwards range sees the diagnostics between its ends.
    let compost = fx.path("compost.md");
    let ctext = server.open(&compost).await;
    let diags = server.diagnostics_where(&compost, |d| !d.is_empty()).await;
    let missing = find(&ctext, "missing_note");
    let actions = server
        .code_actions(
            &compost,
            rng(position(&ctext, missing + 5), position(&ctext, missing + 2)),
            &diags,
        )
        .await;
    assert!(
        action_titles(&actions)
            .iter()
            .any(|t| t.contains("missing_note")),
        "{:?}",
        action_titles(&actions)
    );
    still_serving(&mut server, &fx).await;
    server.shutdown().await;
}

#[cfg_attr(
    not(debug_assertions),
    ignore = "needs the debug build's wikilsp/debug* methods"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_of_a_document_never_opened_opens_it_from_disk_or_is_ignored() {
    let fx = Fixture::new(VAULT);
    let mut server = TestServer::start(fx.root()).await;
    // A file on disk, never opened: its text on disk, then the change.
    let basil = fx.path("garden/basil.md");
    let text = fx.text("garden/basil.md");
    let end = position(&text, text.len());
    server
        .edit(&basil, 7, rng(end.clone(), end), "And [[chives]].\n")
        .await;
    let expected = format!("{text}And [[chives]].\n");
    assert_eq!(
        server_text(&mut server, &basil).await,
        Some((7, expected.clone()))
    );
    server
        .expect_diagnostics(
            &basil,
            vec![diag("broken-link", WARNING, range_of(&expected, "chives"))],
        )
        .await;
    assert_eq!(
        server.logged_once("without being opened").await,
        3,
        "information, not a warning"
    );
    // It is open now: closing it falls back to the disk.
    server.close(&basil).await;
    server.expect_diagnostics(&basil, vec![]).await;
    assert_eq!(server_text(&mut server, &basil).await, None);

    // No such file: ignored, logged once (as a warning), nothing published.
    let ghost = fx.path("garden/never_was.md");
    for version in [1, 2] {
        server
            .edit(&ghost, version, rng(pos(0, 0), pos(0, 0)), "[[nowhere]]")
            .await;
    }
    still_serving(&mut server, &fx).await;
    assert_eq!(server_text(&mut server, &ghost).await, None);
    assert_eq!(server.logged_once("neither open nor a file").await, 2);
    assert!(server.last_published(&ghost).is_none());
    server.shutdown().await;
}

/// What Neovim before 0.11 does when a rename moves the file of an open buffer: it renames the
/// buffer and goes on sending changes under the new URI, without closing the old one nor
/// opening the new one.
#[cfg_attr(
    not(debug_assertions),
    ignore = "needs the debug build's wikilsp/debug* methods"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_note_moved_by_a_rename_leaves_no_ghost_behind() {
    let fx = Fixture::new(VAULT);
    let mut server = TestServer::start(fx.root()).await;
    let basil = fx.path("garden/basil.md");
    let text = server.open(&basil).await;
    // An unsaved edit: the buffer is not the file any more.
    let buffer = format!("{text}Unsaved line.\n");
    server.change(&basil, 2, json!([{ "text": buffer }])).await;
    let tomatoes = fx.path("garden/tomatoes.md");
    let ttext = fx.text("garden/tomatoes.md");
    let edit = server
        .rename(
            &tomatoes,
            pos_in(&ttext, "[[basil]]", "basil", 0),
            "Sweet Basil",
        )
        .await;
    apply_workspace_edit(&edit);
    let moved = fx.path("garden/sweet_basil.md");
    assert!(moved.exists() && !basil.exists());
    assert_eq!(fx.text("garden/sweet_basil.md"), text, "not saved");
    // The buffer now carries the new name; its next change arrives under it.
    let end = position(&buffer, buffer.len());
    server
        .edit(&moved, 3, rng(end.clone(), end), "[[compost]]\n")
        .await;
    let expected = format!("{buffer}[[compost]]\n");
    assert_eq!(server_text(&mut server, &moved).await, Some((3, expected)));
    // The old URI is no open note any more: its diagnostics are cleared, it has no text, and
    // the vault holds one basil note, so nothing is ambiguous.
    assert_eq!(server_text(&mut server, &basil).await, None);
    no_diagnostics_left(&mut server, &basil).await;
    let state = server.request("wikilsp/debugState", json!({})).await;
    assert_eq!(state["notes"], 3, "{state}");
    let symbols = server
        .request("workspace/symbol", json!({ "query": "basil" }))
        .await;
    let files: Vec<&str> = symbols
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] == 1)
        .map(|s| s["location"]["uri"].as_str().unwrap())
        .collect();
    assert_eq!(files, [fx.uri("garden/sweet_basil.md")]);
    let ttext = fx.text("garden/tomatoes.md");
    let got = server
        .definition(&tomatoes, pos_in(&ttext, "[[sweet_basil]]", "sweet", 0))
        .await;
    assert_eq!(got["uri"], fx.uri("garden/sweet_basil.md"), "{got}");

    // A client that closes and opens instead (VS Code, Neovim 0.11) gets the same. (The moved
    // note is saved first, so that the rename's edits apply to the disk as the buffer has it.)
    std::fs::write(&moved, format!("{buffer}[[compost]]\n")).unwrap();
    let compost = fx.path("compost.md");
    server.open(&compost).await;
    let edit = server
        .rename(
            &tomatoes,
            pos_in(&ttext, "[[compost]]", "compost", 0),
            "Humus",
        )
        .await;
    apply_workspace_edit(&edit);
    let humus = fx.path("humus.md");
    server.open(&humus).await;
    server.close(&compost).await;
    no_diagnostics_left(&mut server, &compost).await;
    assert_eq!(server_text(&mut server, &compost).await, None);
    let state = server.request("wikilsp/debugState", json!({})).await;
    assert_eq!(state["notes"], 3, "{state}");
    let ttext = fx.text("garden/tomatoes.md");
    let got = server
        .definition(&tomatoes, pos_in(&ttext, "[[humus]]", "humus", 0))
        .await;
    assert_eq!(got["uri"], fx.uri("humus.md"), "{got}");
    server.shutdown().await;
}

#[cfg_attr(
    not(debug_assertions),
    ignore = "needs the debug build's wikilsp/debug* methods"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_that_goes_backwards_is_applied_and_logged_once() {
    let fx = Fixture::new(VAULT);
    let mut server = TestServer::start(fx.root()).await;
    let basil = fx.path("garden/basil.md");
    let text = server.open(&basil).await;
    let start = find(&text, "Grows");
    server
        .edit(
            &basil,
            10,
            range(&text, start, start + "Grows".len()),
            "Lives",
        )
        .await;
    let t1 = text.replace("Grows", "Lives");
    server
        .edit(&basil, 4, range(&t1, start, start + "Lives".len()), "Sits")
        .await;
    let t2 = t1.replace("Lives", "Sits");
    server
        .edit(&basil, 4, range(&t2, start, start + "Sits".len()), "Naps")
        .await;
    let t3 = t2.replace("Sits", "Naps");
    assert_eq!(
        server_text(&mut server, &basil).await,
        Some((4, t3.clone()))
    );
    assert_eq!(server.logged_once("went from 10 to 4").await, 2);
    assert_eq!(server.logs_with("went from").len(), 1);
    // Diagnostics follow the newest text, with the version the client gave it.
    let edit_end = position(&t3, t3.len());
    server
        .edit(&basil, 5, rng(edit_end.clone(), edit_end), "[[thyme]]")
        .await;
    let t4 = format!("{t3}[[thyme]]");
    server
        .expect_diagnostics(
            &basil,
            vec![diag("broken-link", WARNING, range_of(&t4, "thyme"))],
        )
        .await;
    let last = server
        .seen
        .iter()
        .rev()
        .find(|m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri(&basil)
        })
        .unwrap();
    assert_eq!(last["params"]["version"], 5);
    still_serving(&mut server, &fx).await;
    server.shutdown().await;
}

#[cfg_attr(
    not(debug_assertions),
    ignore = "needs the debug build's wikilsp/debug* methods"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uris_outside_the_vault_of_other_schemes_or_malformed_get_nulls_or_clear_errors() {
    let fx = Fixture::new(VAULT);
    let mut server = TestServer::start(fx.root()).await;
    let outside = tempfile::tempdir().unwrap();
    let stray = outside.path().join("stray.md");
    std::fs::write(&stray, "# Stray\n\n[[tomatoes]]\n").unwrap();
    let at = pos(2, 4);
    // A file outside the workspace that is not open, and URIs of other schemes: null (an
    // empty list for completion), never an error.
    for u in [
        uri(&stray),
        "untitled:Untitled-1".to_owned(),
        "http://example.com/notes/tomatoes.md".to_owned(),
        "file:///".to_owned(),
        "file:///nonexistent/dir/".to_owned(),
    ] {
        for (method, mut params) in position_requests(Path::new("/x"), at.clone())
            .into_iter()
            .chain(document_requests(
                Path::new("/x"),
                rng(pos(0, 0), pos(1, 0)),
            ))
        {
            params["textDocument"]["uri"] = json!(u);
            let r = server.request_raw(method, params).await;
            assert!(r.get("error").is_none(), "{method} on {u}: {r}");
            assert!(
                r["result"].is_null()
                    || r["result"] == json!([])
                    || completion_items(&r["result"]).is_empty(),
                "{method} on {u}: {r}"
            );
        }
    }
    // Malformed URIs are not URIs: the request's params are invalid (-32602).
    for bad in ["not a uri", "file://%zz/x.md", "", "::::", "file://[::1"] {
        let r = server
            .request_raw(
                "textDocument/hover",
                json!({ "textDocument": { "uri": bad }, "position": at }),
            )
            .await;
        assert_eq!(r["error"]["code"], -32602, "{bad:?}: {r}");
        // The same in notifications: dropped.
        server
            .notify(
                "textDocument/didOpen",
                json!({ "textDocument": { "uri": bad, "languageId": "markdown", "version": 1, "text": "[[x]]" } }),
            )
            .await;
        server
            .notify(
                "textDocument/didChange",
                json!({ "textDocument": { "uri": bad, "version": 2 }, "contentChanges": [{ "text": "" }] }),
            )
            .await;
    }
    // A stray note opened from outside the vault links into it but is no target.
    server.open(&stray).await;
    let got = server.definition(&stray, pos(2, 4)).await;
    assert_eq!(got["uri"], fx.uri("garden/tomatoes.md"));
    let state = server.request("wikilsp/debugState", json!({})).await;
    assert_eq!(state["notes"], 4, "three notes and the stray one: {state}");
    still_serving(&mut server, &fx).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_messages_are_answered_with_errors_and_the_server_goes_on() {
    let fx = Fixture::new(VAULT);
    let mut server = TestServer::start(fx.root()).await;
    // Not JSON: a parse error (-32700), with a null id.
    let body = b"{ this is not json";
    let frame = [
        format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes(),
        body,
    ]
    .concat();
    server.send_bytes(&frame).await;
    let parse_error = server
        .wait_for("a parse error", |m| m["error"]["code"] == -32700)
        .await;
    assert_eq!(parse_error["id"], Value::Null);
    // JSON but not a message: an invalid request (-32600), with its id when it has one.
    for (body, id) in [
        (
            r#"{"id":"weird","method":"textDocument/hover"}"#,
            json!("weird"),
        ),
        (r#"{"jsonrpc":"2.0","id":2.5,"method":"x"}"#, Value::Null),
        ("[1, 2, 3]", Value::Null),
    ] {
        let frame = format!("Content-Length: {}\r\n\r\n{body}", body.len());
        server.forget_seen();
        server.send_bytes(frame.as_bytes()).await;
        let answer = server
            .wait_for("an invalid request", |m| m["error"]["code"] == -32600)
            .await;
        assert_eq!(answer["id"], id, "{body}: {answer}");
    }
    // Headers without a length, a bad length, a body that is not UTF-8: parse errors.
    for frame in [
        b"X-Nonsense: 1\r\n\r\n".to_vec(),
        b"Content-Length: -3\r\n\r\n".to_vec(),
        [&b"Content-Length: 4\r\n\r\n"[..], &[0xff, 0xfe, b'{', b'}']].concat(),
    ] {
        server.forget_seen();
        server.send_bytes(&frame).await;
        server
            .wait_for("a parse error", |m| m["error"]["code"] == -32700)
            .await;
    }
    // A charset the protocol's own reader refused ("UTF-8" in capitals) is read as UTF-8.
    let body = serde_json::to_string(&json!({
        "jsonrpc": "2.0", "id": "capitals", "method": "workspace/symbol", "params": { "query": "basil" }
    }))
    .unwrap();
    let frame = format!(
        "Content-Type: application/vscode-jsonrpc; charset=UTF-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    server.send_bytes(frame.as_bytes()).await;
    let answer = server
        .wait_for("the answer in capitals", |m| m["id"] == "capitals")
        .await;
    assert_eq!(answer["result"][0]["name"], "Basil", "{answer}");
    // An unknown method (-32601), params of the wrong shape (-32602).
    let r = server
        .request_raw("textDocument/frobnicate", json!({}))
        .await;
    assert_eq!(r["error"]["code"], -32601, "{r}");
    let r = server
        .request_raw("textDocument/definition", json!({ "position": "here" }))
        .await;
    assert_eq!(r["error"]["code"], -32602, "{r}");
    let r = server.request_raw("textDocument/hover", json!(null)).await;
    assert_eq!(r["error"]["code"], -32602, "{r}");
    // A second initialize is refused (-32600).
    let r = server
        .request_raw("initialize", initialize_params(fx.root(), json!({})))
        .await;
    assert_eq!(r["error"]["code"], -32600, "{r}");
    still_serving(&mut server, &fx).await;
    server.shutdown().await;
}

#[cfg_attr(
    not(debug_assertions),
    ignore = "needs the debug build's wikilsp/debug* methods"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_request_is_answered_request_cancelled() {
    let fx = Fixture::new(VAULT);
    let mut server = TestServer::start(fx.root()).await;
    // A request that takes ten seconds, cancelled at once: answered -32800 well before.
    let t = Instant::now();
    let slow = server
        .start_request("wikilsp/debugSleep", json!({ "ms": 10_000 }))
        .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    server.cancel(&slow).await;
    let r = server.finish_request(slow).await;
    assert_eq!(r["error"]["code"], -32800, "{r}");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    // Cancelling a request already answered changes nothing; nor does an unknown id.
    let done = server
        .start_request("wikilsp/debugSleep", json!({ "ms": 1 }))
        .await;
    let id = done.id;
    let r = server.finish_request(done).await;
    assert_eq!(r["result"]["slept"], 1, "{r}");
    server.notify("$/cancelRequest", json!({ "id": id })).await;
    server
        .notify("$/cancelRequest", json!({ "id": 987_654 }))
        .await;
    server
        .notify("$/cancelRequest", json!({ "id": "nope" }))
        .await;
    still_serving(&mut server, &fx).await;
    server.shutdown().await;
}

#[cfg_attr(
    not(debug_assertions),
    ignore = "needs the debug build's wikilsp/debug* methods"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_an_edit_made_stale_is_answered_content_modified_at_once() {
    let fx = Fixture::new(VAULT);
    let mut server = TestServer::start(fx.root()).await;
    let basil = fx.path("garden/basil.md");
    let tomatoes = fx.path("garden/tomatoes.md");
    let basil_text = server.open(&basil).await;
    let tomatoes_text = server.open(&tomatoes).await;
    let at = |path: &Path, position: Value| json!({ "textDocument": { "uri": uri(path) }, "position": position });
    let on_basil = at(&basil, pos_in(&basil_text, "[[tomatoes]]", "tom", 0));
    let on_tomatoes = at(&tomatoes, pos_in(&tomatoes_text, "[[basil]]", "bas", 0));
    // Every request now waits 3 s before its work: long enough to edit while it is in flight.
    server
        .request("wikilsp/debugDelay", json!({ "ms": 3_000 }))
        .await;
    let t = Instant::now();
    let hover_basil = server
        .start_request("textDocument/hover", on_basil.clone())
        .await;
    let hover_tomatoes = server
        .start_request("textDocument/hover", on_tomatoes.clone())
        .await;
    let mut references = on_tomatoes.clone();
    references["context"] = json!({ "includeDeclaration": false });
    let references = server
        .start_request("textDocument/references", references)
        .await;
    let cancelled = server
        .start_request("textDocument/definition", on_tomatoes.clone())
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.cancel(&cancelled).await;
    // Typing at the end of basil.md moves nothing in tomatoes.md.
    let end = position(&basil_text, basil_text.len());
    server
        .edit(&basil, 2, rng(end.clone(), end), " More.")
        .await;
    // The hover on basil.md and the references (which span every note) are stale: answered
    // ContentModified at once, not after the delay.
    let r = server.finish_request(hover_basil).await;
    assert_eq!(r["error"]["code"], -32801, "{r}");
    let r = server.finish_request(references).await;
    assert_eq!(r["error"]["code"], -32801, "{r}");
    let r = server.finish_request(cancelled).await;
    assert_eq!(r["error"]["code"], -32800, "{r}");
    assert!(
        t.elapsed() < Duration::from_millis(2_500),
        "{:?}",
        t.elapsed()
    );
    // The hover on tomatoes.md is not: it gets its answer once the delay is over.
    let r = server.finish_request(hover_tomatoes).await;
    let value = r["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default();
    assert!(value.contains("# Basil"), "{r}");
    assert!(
        t.elapsed() >= Duration::from_millis(3_000),
        "{:?}",
        t.elapsed()
    );
    server
        .request("wikilsp/debugDelay", json!({ "ms": 0 }))
        .await;
    // The three dropped requests were never worked out: their turn came after they were
    // answered, and was skipped.
    server.idle(300).await;
    let stats = server.request("wikilsp/debugStats", json!({})).await;
    assert_eq!(stats["skipped"], 3, "{stats}");
    // Asked again after the edit, the hover on basil.md is answered.
    let r = server.request("textDocument/hover", on_basil).await;
    let value = r["contents"]["value"].as_str().unwrap_or_default();
    assert!(value.contains("# Tomatoes"), "{r}");
    still_serving(&mut server, &fx).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_requests_never_hold_up_typing_and_other_requests() {
    let fx = Fixture::new(VAULT);
    let mut server = TestServer::start(fx.root()).await;
    let basil = fx.path("garden/basil.md");
    let text = server.open(&basil).await;
    // More slow requests than tower-lsp serves at once by default (four).
    let mut slow = Vec::new();
    for _ in 0..8 {
        slow.push(
            server
                .start_request("wikilsp/debugSleep", json!({ "ms": 4_000 }))
                .await,
        );
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t = Instant::now();
    let end = position(&text, text.len());
    server.edit(&basil, 2, rng(end.clone(), end), "[[to").await;
    let typed = format!("{text}[[to");
    let got = server
        .completion(&basil, position(&typed, typed.len()))
        .await;
    assert!(labels(&got).iter().any(|l| l == "Tomatoes"), "{got}");
    still_serving(&mut server, &fx).await;
    assert!(
        t.elapsed() < Duration::from_millis(2_000),
        "answered after {:?}",
        t.elapsed()
    );
    for s in slow {
        server.cancel(&s).await;
        let _ = server.finish_request(s).await;
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_after_shutdown_are_invalid_and_exit_ends_cleanly() {
    let fx = Fixture::new(VAULT);
    let mut server = TestServer::start(fx.root()).await;
    let r = server.request_raw("shutdown", Value::Null).await;
    assert_eq!(r["result"], Value::Null, "{r}");
    let basil = fx.path("garden/basil.md");
    for (method, params) in position_requests(&basil, pos(2, 15))
        .into_iter()
        .chain([("shutdown", Value::Null)])
    {
        let r = server.request_raw(method, params).await;
        assert_eq!(r["error"]["code"], -32600, "{method}: {r}");
    }
    // Notifications after shutdown are dropped.
    server.open(&basil).await;
    server.notify("exit", Value::Null).await;
    assert_eq!(
        server.wait_ended(5).await,
        Some(Ended::Served(wikilsp::lsp::Ending::Clean))
    );
    server.check_no_errors();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_without_shutdown_ends_the_session_as_an_error() {
    let fx = Fixture::new(VAULT);
    let mut server = TestServer::start(fx.root()).await;
    still_serving(&mut server, &fx).await;
    server.notify("exit", Value::Null).await;
    assert_eq!(
        server.wait_ended(5).await,
        Some(Ended::Served(wikilsp::lsp::Ending::WithoutShutdown))
    );
    server.check_no_errors();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_exits_0_after_shutdown_and_1_without() {
    let fx = Fixture::new(VAULT);
    // shutdown, exit: 0.
    let mut server = TestServer::start_process(fx.root(), "wikilsp=info").await;
    still_serving(&mut server, &fx).await;
    server.shutdown_and_exit().await;
    assert_eq!(server.wait_ended(10).await, Some(Ended::Exited(Some(0))));

    // exit alone: 1.
    let mut server = TestServer::start_process(fx.root(), "wikilsp=info").await;
    still_serving(&mut server, &fx).await;
    server.notify("exit", Value::Null).await;
    assert_eq!(server.wait_ended(10).await, Some(Ended::Exited(Some(1))));
    assert!(
        server.stderr().contains("without a shutdown request"),
        "{}",
        server.stderr()
    );

    // The client goes away (stdin closes) without a word: 1.
    let mut server = TestServer::start_process(fx.root(), "wikilsp=info").await;
    server.close_input().await;
    assert_eq!(server.wait_ended(10).await, Some(Ended::Exited(Some(1))));

    // exit while a long request runs, stdin left open: the process does not wait for it.
    let mut server = TestServer::start_process(fx.root(), "wikilsp=info").await;
    let slow = server
        .start_request(
            "wikilsp/debugSleep",
            json!({ "ms": 60_000, "blocking": true }),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t = Instant::now();
    server.shutdown_and_exit().await;
    assert_eq!(server.wait_ended(10).await, Some(Ended::Exited(Some(0))));
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    drop(slow);
}
