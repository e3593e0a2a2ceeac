//! Quick fixes over the protocol: each fix is applied as an editor would apply it (creating
//! files, UTF-16 positions, no overlapping edits) and the whole text of every file is compared
//! afterwards. Also the `unlinked-mention` hints and their exact ranges.
mod common;
use common::*;
use serde_json::{Value, json};

/// Notes the fixtures below link to.
const VAULT: &str = r#"
//- /people/nadia_petrov.md
---
title: Nadia Petrov
---

Keeps forty hives.
//- /bees/hive_inspection.md
---
title: Hive Inspection
videoId: hV1-nsp3ct0
---

From: [[nadia_petrov]] <br/>

## Smoke first
//- /bees/varroa_mites.md
---
title: Varroa mites
---
//- /bees/propolis.md
Resin the bees gather.
//- /bees/introduction.md
# Welcome to the Apiary
//- /honey/introduction.md
# Welcome to Honey Hour
"#;

fn vault(extra: &str) -> Fixture {
    Fixture::new(&format!("{VAULT}{extra}"))
}

/// Opens `rel`, waits for its diagnostics to be `expected(text)`, and returns them in full.
async fn open_expecting(
    server: &mut TestServer,
    fx: &Fixture,
    rel: &str,
    expected: impl FnOnce(&str) -> Vec<Value>,
) -> Vec<Value> {
    let path = fx.path(rel);
    let text = server.open(&path).await;
    server.expect_diagnostics(&path, expected(&text)).await
}

/// The published diagnostic with this code (exactly one).
fn only(diags: &[Value], code: &str) -> Value {
    let found: Vec<&Value> = diags.iter().filter(|d| d["code"] == code).collect();
    assert_eq!(found.len(), 1, "{code} in {diags:#?}");
    found[0].clone()
}

/// Every action is a quick fix attached to `diag`, whose edit is a list of operations.
fn check_attached(actions: &[Value], diag: &Value) {
    for a in actions {
        assert_eq!(a["kind"], "quickfix", "{a:#}");
        assert_eq!(a["diagnostics"], json!([diag]), "{a:#}");
        assert!(a["edit"]["documentChanges"].is_array(), "{a:#}");
    }
}

const SWARM: &str = r#"
//- /bees/swarm_season.md
---
title: Swarm Season
videoId: sW4rm-S34s0
---

From: [[nadia_petrov]] <br/>

Before a swarm, count [[varroa_mite | mites]] and read [[honey/Raw Honey#Jars]].
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_link_offers_to_create_the_note_in_its_folder() {
    let fx = vault(SWARM);
    let mut server = TestServer::start(fx.root()).await;
    let diags = open_expecting(&mut server, &fx, "bees/swarm_season.md", |t| {
        vec![
            diag(
                "broken-link",
                WARNING,
                range_in(t, "varroa_mite ", "varroa_mite"),
            ),
            diag("broken-link", WARNING, range_of(t, "honey/Raw Honey")),
        ]
    })
    .await;
    let path = fx.path("bees/swarm_season.md");
    let before = fx.text("bees/swarm_season.md");
    let broken = diags[0].clone();
    let actions = server
        .code_actions(&path, broken["range"].clone(), &diags)
        .await;
    assert_eq!(
        action_titles(&actions),
        ["Create note `varroa_mite.md`", "Change to `varroa_mites`"]
    );
    check_attached(&actions, &broken);

    let create = action(&actions, "Create note `varroa_mite.md`");
    let new_uri = fx.uri("bees/varroa_mite.md");
    assert_eq!(
        create["edit"]["documentChanges"],
        json!([
            { "kind": "create", "uri": new_uri, "options": { "overwrite": false } },
            {
                "textDocument": { "uri": new_uri, "version": null },
                "edits": [{ "range": top(), "newText": "---\ntitle: Varroa mite\n---\n" }]
            }
        ])
    );
    apply_workspace_edit(&create["edit"]);
    assert_eq!(
        fx.text("bees/varroa_mite.md"),
        "---\ntitle: Varroa mite\n---\n"
    );
    assert_eq!(fx.text("bees/swarm_season.md"), before);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_link_can_change_to_the_nearest_note() {
    let fx = vault(SWARM);
    let mut server = TestServer::start(fx.root()).await;
    let diags = open_expecting(&mut server, &fx, "bees/swarm_season.md", |t| {
        vec![
            diag(
                "broken-link",
                WARNING,
                range_in(t, "varroa_mite ", "varroa_mite"),
            ),
            diag("broken-link", WARNING, range_of(t, "honey/Raw Honey")),
        ]
    })
    .await;
    let path = fx.path("bees/swarm_season.md");
    // A cursor inside the target is enough.
    let cursor = pos_in(&fx.text("bees/swarm_season.md"), "[[varroa_mite", "mite", 1);
    let actions = server
        .code_actions(&path, json!({ "start": cursor, "end": cursor }), &diags)
        .await;
    apply_workspace_edit(&action(&actions, "Change to `varroa_mites`")["edit"]);
    assert_eq!(
        fx.text("bees/swarm_season.md"),
        "---\ntitle: Swarm Season\nvideoId: sW4rm-S34s0\n---\n\nFrom: [[nadia_petrov]] <br/>\n\n\
         Before a swarm, count [[varroa_mites | mites]] and read [[honey/Raw Honey#Jars]].\n"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_with_a_folder_is_created_in_that_folder() {
    let fx = vault(SWARM);
    let mut server = TestServer::start(fx.root()).await;
    let diags = open_expecting(&mut server, &fx, "bees/swarm_season.md", |t| {
        vec![
            diag(
                "broken-link",
                WARNING,
                range_in(t, "varroa_mite ", "varroa_mite"),
            ),
            diag("broken-link", WARNING, range_of(t, "honey/Raw Honey")),
        ]
    })
    .await;
    let path = fx.path("bees/swarm_season.md");
    let broken = diags[1].clone();
    let actions = server
        .code_actions(&path, broken["range"].clone(), &diags)
        .await;
    assert_eq!(
        action_titles(&actions),
        ["Create note `honey/raw_honey.md`"]
    );
    check_attached(&actions, &broken);
    apply_workspace_edit(&actions[0]["edit"]);
    assert_eq!(
        fx.text("honey/raw_honey.md"),
        "---\ntitle: Raw Honey\n---\n"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timestamp_mismatch_takes_the_moment_of_data_t() {
    let fx = vault(
        r#"
//- /bees/queen_marking.md
---
title: Queen marking
videoId: qU33n-M4rk0
---

Mark her with a dot 🖊️ <a class="yt-timestamp" data-t="00:14:05">[00:14:50]</a> and wait.
"#,
    );
    let mut server = TestServer::start(fx.root()).await;
    let diags = open_expecting(&mut server, &fx, "bees/queen_marking.md", |t| {
        vec![diag(
            "timestamp-mismatch",
            WARNING,
            range_of(t, "[00:14:50]"),
        )]
    })
    .await;
    let path = fx.path("bees/queen_marking.md");
    let d = only(&diags, "timestamp-mismatch");
    let actions = server.code_actions(&path, d["range"].clone(), &diags).await;
    assert_eq!(
        action_titles(&actions),
        ["Change to `[00:14:05]` (as data-t)"]
    );
    check_attached(&actions, &d);
    assert_eq!(actions[0]["isPreferred"], true);
    apply_workspace_edit(&actions[0]["edit"]);
    assert_eq!(
        fx.text("bees/queen_marking.md"),
        "---\ntitle: Queen marking\nvideoId: qU33n-M4rk0\n---\n\n\
         Mark her with a dot 🖊️ <a class=\"yt-timestamp\" data-t=\"00:14:05\">[00:14:05]</a> and wait.\n"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ambiguous_link_picks_a_candidate_by_path() {
    let fx = vault(
        r#"
//- /people/omar_haddad.md
# Omar Haddad

He opened the [[introduction | first episode]].
"#,
    );
    let mut server = TestServer::start(fx.root()).await;
    let diags = open_expecting(&mut server, &fx, "people/omar_haddad.md", |t| {
        vec![diag(
            "ambiguous-link",
            WARNING,
            range_in(t, "[[introduction", "introduction"),
        )]
    })
    .await;
    let path = fx.path("people/omar_haddad.md");
    let d = only(&diags, "ambiguous-link");
    let actions = server.code_actions(&path, d["range"].clone(), &diags).await;
    assert_eq!(
        action_titles(&actions),
        [
            "Change to `bees/introduction`",
            "Change to `honey/introduction`"
        ]
    );
    check_attached(&actions, &d);
    apply_workspace_edit(&actions[1]["edit"]);
    assert_eq!(
        fx.text("people/omar_haddad.md"),
        "# Omar Haddad\n\nHe opened the [[honey/introduction | first episode]].\n"
    );
    server.shutdown().await;
}

const FIELD_NOTES: &str = r#"
//- /bees/field_notes.md
---
title: Field notes on Hive Inspection
aliases: [Nadia Petrov's notes]
---

# Hive Inspection diary

Пчёлы 🐝 любят Hive Inspection; so does nadia petrov.
A link [[hive_inspection | Hive Inspection]] and code `Nadia Petrov` are no mentions.

```
Nadia Petrov
```

    Nadia Petrov in indented code

Varroa mites-free hives, said Nadia Petrov's neighbour, with propolis.
See https://example.org/propolis/varroa-mites too.
"#;

fn field_note_mentions(t: &str) -> Vec<Value> {
    vec![
        diag(
            "unlinked-mention",
            HINT,
            range_in(t, "любят Hive Inspection", "Hive Inspection"),
        ),
        diag("unlinked-mention", HINT, range_of(t, "nadia petrov")),
        diag("unlinked-mention", HINT, range_of(t, "Varroa mites")),
        diag(
            "unlinked-mention",
            HINT,
            range_in(t, "said Nadia Petrov", "Nadia Petrov"),
        ),
        diag(
            "unlinked-mention",
            HINT,
            range_in(t, "with propolis", "propolis"),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlinked_mentions_are_hints_on_plain_text_only() {
    let fx = vault(FIELD_NOTES);
    let mut server = TestServer::start(fx.root()).await;
    let diags = open_expecting(&mut server, &fx, "bees/field_notes.md", field_note_mentions).await;
    let first = diags
        .iter()
        .find(|d| d["range"]["start"]["line"] == 7)
        .unwrap();
    // `Пчёлы 🐝 любят ` is 15 UTF-16 units (the bee takes two) but 27 bytes.
    assert_eq!(
        first["range"]["start"],
        json!({ "line": 7, "character": 15 })
    );
    assert!(
        first["message"]
            .as_str()
            .unwrap()
            .contains("Hive Inspection"),
        "{first:#}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unlinked_mention_becomes_a_link() {
    let fx = vault(FIELD_NOTES);
    let mut server = TestServer::start(fx.root()).await;
    let diags = open_expecting(&mut server, &fx, "bees/field_notes.md", field_note_mentions).await;
    let path = fx.path("bees/field_notes.md");
    let original = fx.text("bees/field_notes.md");

    let mention = diags[0].clone();
    let actions = server
        .code_actions(&path, mention["range"].clone(), &diags)
        .await;
    assert_eq!(action_titles(&actions), ["Link to `hive_inspection`"]);
    check_attached(&actions, &mention);
    assert_eq!(actions[0]["isPreferred"], true);
    apply_workspace_edit(&actions[0]["edit"]);
    let expected = original.replacen(
        "любят Hive Inspection;",
        "любят [[hive_inspection | Hive Inspection]];",
        1,
    );
    assert_eq!(fx.text("bees/field_notes.md"), expected);

    // A name that is the note's stem links without a display text.
    std::fs::write(&path, &original).unwrap();
    let propolis = diags[4].clone();
    let actions = server
        .code_actions(&path, propolis["range"].clone(), &diags)
        .await;
    assert_eq!(action_titles(&actions), ["Link to `propolis`"]);
    apply_workspace_edit(&actions[0]["edit"]);
    let expected = original.replacen("with propolis.", "with [[propolis]].", 1);
    assert_eq!(fx.text("bees/field_notes.md"), expected);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_range_over_the_whole_note_offers_every_fix_each_on_its_own() {
    let fx = vault(FIELD_NOTES);
    let mut server = TestServer::start(fx.root()).await;
    let diags = open_expecting(&mut server, &fx, "bees/field_notes.md", field_note_mentions).await;
    let path = fx.path("bees/field_notes.md");
    let original = fx.text("bees/field_notes.md");
    let all = range(&original, 0, original.len());
    let actions = server.code_actions(&path, all, &diags).await;
    assert_eq!(
        action_titles(&actions),
        [
            "Link to `hive_inspection`",
            "Link to `nadia_petrov`",
            "Link to `varroa_mites`",
            "Link to `nadia_petrov`",
            "Link to `propolis`"
        ]
    );
    let linked = [
        "[[hive_inspection | Hive Inspection]]",
        "[[nadia_petrov | nadia petrov]]",
        "[[varroa_mites | Varroa mites]]",
        "[[nadia_petrov | Nadia Petrov]]",
        "[[propolis]]",
    ];
    for ((a, d), link) in actions.iter().zip(&diags).zip(linked) {
        assert_eq!(a["diagnostics"], json!([d]));
        std::fs::write(&path, &original).unwrap();
        apply_workspace_edit(&a["edit"]);
        let start = offset_of(&original, &d["range"]["start"]);
        let end = offset_of(&original, &d["range"]["end"]);
        let mut expected = original.clone();
        expected.replace_range(start..end, link);
        assert_eq!(fx.text("bees/field_notes.md"), expected);
    }
    server.shutdown().await;
}
