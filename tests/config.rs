//! Configuration: `.wikilsp.toml` at the vault root, `initializationOptions` and
//! `workspace/didChangeConfiguration`; bad keys are reported and ignored.
mod common;
use common::*;
use serde_json::{Value, json};

const NOTES: &str = r#"
//- /kiln_hours/raku_firing.md
---
title: Raku Firing
videoId: rAku-Fire01
---

Pull the pot at red heat [00:02:00].
//- /kiln_hours/today.md
Fire [[raku_firing]] then [[anagama_kiln]] at [00:01:00].
//- /drafts/secret.md
# Secret
//- /kiln_hours/old.markdown
# Old
"#;

async fn start_with_options(root: &std::path::Path, options: Value) -> TestServer {
    TestServer::start_with_params(root, json!({ "initializationOptions": options }))
        .await
        .0
}

fn show_messages(server: &TestServer) -> Vec<String> {
    server
        .seen
        .iter()
        .filter(|m| m["method"] == "window/showMessage")
        .map(|m| m["params"]["message"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vault_file_sets_severities_extensions_ignored_folders_and_the_timestamp_url() {
    let fx = Fixture::new(&format!(
        "{NOTES}//- /.wikilsp.toml\nextensions = [\"md\"]\nignore = [\"drafts\"]\ntimestamp_url = \"https://tube.example/{{video}}?at={{seconds}}\"\n\n[diagnostics]\nbroken-link = \"error\"\ntimestamp-without-video = \"off\"\n"
    ));
    let today = fx.path("kiln_hours/today.md");
    let text = fx.text("kiln_hours/today.md");
    let mut server = TestServer::start(fx.root()).await;
    server.open(&today).await;
    // broken-link is an error now; the hint for the timestamp without video is off.
    server
        .expect_diagnostics(
            &today,
            vec![diag("broken-link", ERROR, range_of(&text, "anagama_kiln"))],
        )
        .await;
    // Notes in the ignored folder and with other extensions are not in the vault.
    let symbols = server
        .request("workspace/symbol", json!({ "query": "" }))
        .await;
    let mut names: Vec<&str> = symbols
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] == 1)
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["Raku Firing", "today"]);
    // Hover on the link shows the moments with the configured URL.
    let raku = server
        .hover_text(&today, pos_in(&text, "[[raku_firing]]", "raku", 0))
        .await;
    assert!(raku.contains("https://tube.example/rAku-Fire01"), "{raku}");
    assert!(
        show_messages(&server).is_empty(),
        "{:?}",
        show_messages(&server)
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_keys_and_bad_values_are_shown_to_the_user_and_ignored() {
    let fx = Fixture::new(&format!(
        "{NOTES}//- /.wikilsp.toml\ncolour = \"blue\"\n[diagnostics]\nbroken-link = \"loud\"\n"
    ));
    let today = fx.path("kiln_hours/today.md");
    let text = fx.text("kiln_hours/today.md");
    let mut server = TestServer::start(fx.root()).await;
    let shown = show_messages(&server);
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(
        shown[0].contains("unknown configuration key `colour`"),
        "{shown:?}"
    );
    assert!(
        shown[0].contains("diagnostics.broken-link must be"),
        "{shown:?}"
    );
    // The defaults hold.
    server.open(&today).await;
    server
        .expect_diagnostics(
            &today,
            vec![
                diag("broken-link", WARNING, range_of(&text, "anagama_kiln")),
                diag(
                    "timestamp-without-video",
                    HINT,
                    range_of(&text, "[00:01:00]"),
                ),
            ],
        )
        .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_settings_win_over_the_file_and_can_change_while_serving() {
    let fx = Fixture::new(&format!(
        "{NOTES}//- /.wikilsp.toml\n[diagnostics]\nbroken-link = \"error\"\n"
    ));
    let today = fx.path("kiln_hours/today.md");
    let text = fx.text("kiln_hours/today.md");
    let mut server = start_with_options(
        fx.root(),
        json!({ "diagnostics": { "broken-link": "hint" } }),
    )
    .await;
    server.open(&today).await;
    server
        .expect_diagnostics(
            &today,
            vec![
                diag("broken-link", HINT, range_of(&text, "anagama_kiln")),
                diag(
                    "timestamp-without-video",
                    HINT,
                    range_of(&text, "[00:01:00]"),
                ),
            ],
        )
        .await;
    // As VS Code sends it: the section's keys, with the extension's own settings along.
    server
        .notify(
            "workspace/didChangeConfiguration",
            json!({ "settings": { "wikilsp": {
                "diagnostics": { "broken-link": "off", "timestamp-without-video": "off" },
                "server": { "path": "" },
                "trace": { "server": "off" },
            } } }),
        )
        .await;
    server.expect_diagnostics(&today, vec![]).await;
    assert!(
        show_messages(&server).is_empty(),
        "{:?}",
        show_messages(&server)
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completion_can_insert_the_slug_alone() {
    let fx = Fixture::new(&format!(
        "{NOTES}//- /.wikilsp.toml\ncompletion = \"slug\"\n//- /kiln_hours/new.md\nSee [[rak$0\n"
    ));
    let (path, pos) = fx.cursor();
    let mut server = TestServer::start(fx.root()).await;
    let got = server.completion(&path, pos).await;
    let raku = item(&got, "Raku Firing");
    assert_eq!(raku["textEdit"]["newText"], "raku_firing]]");
    assert_eq!(raku["insertTextFormat"], 1);
    server.shutdown().await;
}
