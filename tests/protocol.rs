//! Protocol hygiene: the capabilities the server announces, position encodings (UTF-16 by
//! default, UTF-8 when offered), and requests that must be answered calmly: unknown documents,
//! `untitled:` documents, positions out of range.
mod common;
use common::*;
use serde_json::{Value, json};

const VAULT: &str = r#"
//- /kiln_hours/glaze_chemistry.md
---
title: Glaze Chemistry
videoId: gLz-Chm7x1Q
---

## 🔥 Why cobalt turns blue

A pinch is enough [00:04:10].
//- /kiln_hours/today.md
🔥🏺 Crème, глазурь: [[glaze_chemistry#🔥 Why cobalt turns blue | кобальт]] and [[anagama_kiln]] [[rak
"#;

async fn initialize(root: &std::path::Path, capabilities: Value) -> (TestServer, Value) {
    TestServer::start_with_params(root, json!({ "capabilities": capabilities })).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_announces_precise_capabilities() {
    let fx = Fixture::new(VAULT);
    let (server, result) = initialize(fx.root(), default_capabilities()).await;
    let caps = &result["capabilities"];
    assert_eq!(caps["positionEncoding"], "utf-16");
    assert_eq!(caps["textDocumentSync"]["openClose"], true);
    assert_eq!(caps["textDocumentSync"]["change"], 2, "incremental sync");
    assert_eq!(caps["definitionProvider"], true);
    assert_eq!(caps["hoverProvider"], true);
    assert_eq!(
        caps["completionProvider"]["triggerCharacters"],
        json!(["[", "#", "|"])
    );
    assert_eq!(caps["completionProvider"]["resolveProvider"], true);
    assert_eq!(caps["referencesProvider"], true);
    assert_eq!(caps["documentSymbolProvider"], true);
    assert_eq!(caps["workspaceSymbolProvider"], true);
    assert_eq!(caps["documentLinkProvider"]["resolveProvider"], false);
    assert_eq!(caps["foldingRangeProvider"], true);
    assert_eq!(caps["renameProvider"]["prepareProvider"], true);
    assert_eq!(
        caps["codeActionProvider"],
        json!({ "codeActionKinds": ["quickfix"] })
    );
    assert_eq!(result["serverInfo"]["name"], "wikilsp");
    // Nothing it does not do.
    for absent in ["documentFormattingProvider", "semanticTokensProvider"] {
        assert!(
            caps.get(absent).is_none_or(Value::is_null),
            "{absent}: {caps:#}"
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn utf16_is_the_default_when_the_client_offers_no_encodings() {
    let fx = Fixture::new(VAULT);
    let caps = capabilities_with(|c| {
        c["general"]
            .as_object_mut()
            .unwrap()
            .remove("positionEncodings");
    });
    let (server, result) = initialize(fx.root(), caps).await;
    assert_eq!(result["capabilities"]["positionEncoding"], "utf-16");
    server.shutdown().await;
    // A client that offers only UTF-32 gets UTF-16 too.
    let caps = capabilities_with(|c| c["general"]["positionEncodings"] = json!(["utf-32"]));
    let (server, result) = initialize(fx.root(), caps).await;
    assert_eq!(result["capabilities"]["positionEncoding"], "utf-16");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_utf8_offered_positions_are_byte_columns() {
    let fx = Fixture::new(VAULT);
    let caps =
        capabilities_with(|c| c["general"]["positionEncodings"] = json!(["utf-8", "utf-16"]));
    let (mut server, result) = initialize(fx.root(), caps).await;
    assert_eq!(result["capabilities"]["positionEncoding"], "utf-8");
    let today = fx.path("kiln_hours/today.md");
    let glaze = fx.text("kiln_hours/glaze_chemistry.md");
    let mut text = server.open(&today).await;

    // Diagnostics in bytes.
    let rak = find(&text, "[[rak");
    server
        .expect_diagnostics(
            &today,
            vec![
                diag(
                    "broken-link",
                    WARNING,
                    utf8_range(
                        &text,
                        find(&text, "anagama_kiln"),
                        find(&text, "anagama_kiln") + 12,
                    ),
                ),
                diag("unclosed-link", ERROR, utf8_range(&text, rak, rak + 2)),
            ],
        )
        .await;

    // Definition: a byte column in, a byte range out.
    let on = find(&text, "кобальт") + "ко".len();
    let got = server.definition(&today, utf8_position(&text, on)).await;
    let heading = find(&glaze, "## 🔥");
    let heading_end = heading + glaze[heading..].find('\n').unwrap();
    assert_eq!(
        got,
        location(
            &fx.uri("kiln_hours/glaze_chemistry.md"),
            utf8_range(&glaze, heading, heading_end)
        )
    );

    // Completion edit ranges in bytes, after an incremental edit in bytes: `[[rak` → `[[gla`.
    let end = text.trim_end().len();
    server
        .edit(&today, 2, utf8_range(&text, rak + 2, end), "gla")
        .await;
    text.replace_range(rak + 2..end, "gla");
    let end = text.trim_end().len();
    let got = server.completion(&today, utf8_position(&text, end)).await;
    assert_eq!(
        item(&got, "Glaze Chemistry")["textEdit"],
        json!({ "range": utf8_range(&text, rak + 2, end), "newText": "glaze_chemistry | ${1:Glaze Chemistry}]]" })
    );

    // Hover range in bytes.
    let hover = server.hover(&today, utf8_position(&text, on)).await;
    let link = find(&text, "[[glaze_chemistry#");
    let link_end = find(&text, "кобальт]]") + "кобальт]]".len();
    assert_eq!(hover["range"], utf8_range(&text, link, link_end));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_for_unknown_documents_answer_null() {
    let fx = Fixture::new(VAULT);
    let mut server = TestServer::start(fx.root()).await;
    let nowhere = fx.path("kiln_hours/no_such_note.md");
    let outside = std::path::PathBuf::from("/definitely/not/here.md");
    let pos = json!({ "line": 0, "character": 3 });
    for path in [&nowhere, &outside] {
        for method in [
            "textDocument/definition",
            "textDocument/hover",
            "textDocument/completion",
        ] {
            let response = server
                .request_raw(
                    method,
                    json!({ "textDocument": { "uri": uri(path) }, "position": pos }),
                )
                .await;
            assert!(response.get("error").is_none(), "{method}: {response}");
            assert_eq!(response["result"], Value::Null, "{method}: {response}");
        }
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untitled_documents_are_harmless() {
    let fx = Fixture::new(VAULT);
    let mut server = TestServer::start(fx.root()).await;
    let untitled = "untitled:Untitled-1";
    let doc = |v: i32| json!({ "uri": untitled, "languageId": "markdown", "version": v, "text": "See [[glaze_chemistry]] and [[\n" });
    server
        .notify("textDocument/didOpen", json!({ "textDocument": doc(1) }))
        .await;
    server
        .notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": untitled, "version": 2 },
                "contentChanges": [{ "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 3 } }, "text": "Read" }]
            }),
        )
        .await;
    let pos = json!({ "line": 0, "character": 8 });
    for method in [
        "textDocument/definition",
        "textDocument/hover",
        "textDocument/completion",
    ] {
        let response = server
            .request_raw(
                method,
                json!({ "textDocument": { "uri": untitled }, "position": pos }),
            )
            .await;
        assert!(response.get("error").is_none(), "{method}: {response}");
        if method == "textDocument/completion" {
            assert!(
                completion_items(&response["result"]).is_empty(),
                "{response}"
            );
        } else {
            assert_eq!(response["result"], Value::Null, "{method}: {response}");
        }
    }
    server
        .notify(
            "textDocument/didClose",
            json!({ "textDocument": { "uri": untitled } }),
        )
        .await;
    // The server goes on serving real notes.
    let today = fx.path("kiln_hours/today.md");
    let text = fx.text("kiln_hours/today.md");
    let got = server
        .definition(&today, pos_in(&text, "кобальт", "к", 0))
        .await;
    assert_eq!(got["uri"], fx.uri("kiln_hours/glaze_chemistry.md"));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn positions_out_of_range_do_not_break_the_server() {
    let fx = Fixture::new(VAULT);
    let mut server = TestServer::start(fx.root()).await;
    let today = fx.path("kiln_hours/today.md");
    let text = server.open(&today).await;
    let positions = [
        json!({ "line": 0, "character": 10_000 }),
        json!({ "line": 10_000, "character": 0 }),
        json!({ "line": 10_000, "character": 10_000 }),
        json!({ "line": 0, "character": 1 }), // inside the surrogate pair of 🔥
        json!({ "line": 4_294_967_295u64, "character": 4_294_967_295u64 }),
    ];
    for pos in positions {
        for method in [
            "textDocument/definition",
            "textDocument/hover",
            "textDocument/completion",
        ] {
            let response = server
                .request_raw(
                    method,
                    json!({ "textDocument": { "uri": uri(&today) }, "position": pos }),
                )
                .await;
            assert!(
                response.get("error").is_none(),
                "{method} at {pos}: {response}"
            );
        }
    }
    // Edits out of range are clamped too, and the server keeps its text consistent.
    server
        .edit(
            &today,
            2,
            json!({ "start": { "line": 50, "character": 0 }, "end": { "line": 60, "character": 9 } }),
            "[[]]",
        )
        .await;
    let appended = format!("{text}[[]]");
    server
        .expect_diagnostics(
            &today,
            vec![
                diag("broken-link", WARNING, range_of(&appended, "anagama_kiln")),
                diag("unclosed-link", ERROR, range_in(&appended, "[[rak", "[[")),
                diag("empty-link", ERROR, range_of(&appended, "[[]]")),
            ],
        )
        .await;
    // A line's end far past its last character, then a real answer.
    let got = server
        .definition(&today, pos_in(&text, "кобальт", "кобальт", 0))
        .await;
    assert_eq!(got["uri"], fx.uri("kiln_hours/glaze_chemistry.md"));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indexing_reports_progress_from_begin_to_end() {
    let fx = Fixture::new(VAULT);
    let server = TestServer::start(fx.root()).await;
    let progress: Vec<&Value> = server
        .seen
        .iter()
        .filter(|m| m["method"] == "$/progress")
        .collect();
    assert_eq!(
        progress.first().unwrap()["params"]["value"]["kind"],
        "begin"
    );
    assert_eq!(progress.last().unwrap()["params"]["value"]["kind"], "end");
    let token = &progress[0]["params"]["token"];
    assert!(progress.iter().all(|p| &p["params"]["token"] == token));
    // The token was created with the client first.
    let created = server.requests_of("window/workDoneProgress/create");
    assert_eq!(created.len(), 1);
    assert_eq!(&created[0]["params"]["token"], token);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_then_exit_ends_the_server_cleanly() {
    let fx = Fixture::new(VAULT);
    let mut server = TestServer::start(fx.root()).await;
    let response = server.request_raw("shutdown", Value::Null).await;
    assert_eq!(response["result"], Value::Null);
    assert!(response.get("error").is_none());
    server.notify("exit", Value::Null).await;
    server.check_no_errors();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_without_workspace_folders_gets_its_root_uri_indexed() {
    let fx = Fixture::new(VAULT);
    let root = fx.root();
    let (mut server, _) =
        TestServer::start_with_params(root, json!({ "workspaceFolders": null })).await;
    let today = fx.path("kiln_hours/today.md");
    let text = fx.text("kiln_hours/today.md");
    let got = server
        .definition(&today, pos_in(&text, "кобальт", "к", 0))
        .await;
    assert_eq!(got["uri"], fx.uri("kiln_hours/glaze_chemistry.md"));
    server.shutdown().await;
}

#[cfg_attr(
    not(debug_assertions),
    ignore = "needs the debug build's wikilsp/debug* methods"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_inside_a_request_is_answered_with_an_error_and_the_server_goes_on() {
    let fx = Fixture::new(VAULT);
    let mut server = TestServer::start(fx.root()).await;
    let today = fx.path("kiln_hours/today.md");
    let text = server.open(&today).await;
    let response = server.request_raw("wikilsp/debugPanic", json!({})).await;
    assert_eq!(response["error"]["code"], -32603, "{response}");
    assert!(
        response["error"]["message"]
            .as_str()
            .unwrap()
            .contains("internal error"),
        "{response}"
    );
    // The next request is served as usual.
    let link = text.find("[[glaze_chemistry").unwrap() + 4;
    let found = server.definition(&today, position(&text, link)).await;
    assert_eq!(found["uri"], uri(&fx.path("kiln_hours/glaze_chemistry.md")));
    server.shutdown().await;
}
