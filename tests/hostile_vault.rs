//! Hostile vaults: files that are not text, text that is not UTF-8, a 50 MB note, a note of
//! 100,000 lines, 10,000 links on one line, 200 nested folders, symbolic link loops, files that
//! cannot be read or vanish while being read, names that are not UTF-8, an empty note, a
//! frontmatter that never closes. For each: indexing ends (its `$/progress` end arrives), the
//! rest of the vault works ([`vault_works`]), and the problem is either logged once to the
//! client (`window/logMessage`, a warning) or reported as a diagnostic of the note; each test
//! says which.
mod common;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

/// The healthy part of every vault below.
const NORMAL: &str = r#"
//- /notes/alpha.md
# Alpha

Links to [[beta]] and [[gamma]].
//- /notes/beta.md
# Beta

Back to [[alpha]].
"#;

/// The healthy notes work: a definition lands on beta.md, and alpha.md, opened, has exactly
/// its one broken link.
async fn vault_works(server: &mut TestServer, fx: &Fixture) {
    let alpha = fx.path("notes/alpha.md");
    let text = fx.text("notes/alpha.md");
    let got = server
        .definition(&alpha, pos_in(&text, "[[beta]]", "beta", 0))
        .await;
    assert_eq!(got["uri"], fx.uri("notes/beta.md"), "definition: {got}");
    server.open(&alpha).await;
    server
        .expect_diagnostics(
            &alpha,
            vec![diag("broken-link", WARNING, range_of(&text, "gamma"))],
        )
        .await;
    server.close(&alpha).await;
}

/// How many notes the server holds (`wikilsp/debugState`).
async fn note_count(server: &mut TestServer) -> u64 {
    let state = server.request("wikilsp/debugState", json!({})).await;
    state["notes"].as_u64().unwrap()
}

/// The end of indexing, with the number of notes it reports.
fn indexed_notes(server: &TestServer) -> u64 {
    let end = server
        .seen
        .iter()
        .find(|m| m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end")
        .expect("indexing ended");
    let message = end["params"]["value"]["message"].as_str().unwrap();
    // "indexed N notes in T ms"
    message.split(' ').nth(1).unwrap().parse().unwrap()
}

/// The log messages of this test's vault that are warnings or errors.
fn problems_logged(server: &mut TestServer) -> Vec<(u64, String)> {
    server.logs().into_iter().filter(|(t, _)| *t <= 2).collect()
}

fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binary_file_named_md_is_skipped_and_logged_once() {
    let fx = Fixture::new(NORMAL);
    let png = fx.path("notes/diagram.md");
    write(
        &png,
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00[[alpha]]\x00\xff",
    );
    let mut server = TestServer::start(fx.root()).await;
    assert_eq!(indexed_notes(&server), 2);
    assert_eq!(server.logged_once("diagram.md").await, 2, "a warning");
    let logged = server.logs_with("diagram.md");
    assert!(
        logged[0].1.contains("skipped") && logged[0].1.contains("binary"),
        "{logged:?}"
    );
    vault_works(&mut server, &fx).await;
    // Its "link" does not count: alpha has one backlink, from beta.
    let alpha = fx.path("notes/alpha.md");
    let refs = server
        .request(
            "textDocument/references",
            json!({ "textDocument": { "uri": uri(&alpha) }, "position": { "line": 0, "character": 2 }, "context": { "includeDeclaration": false } }),
        )
        .await;
    assert_eq!(refs.as_array().unwrap().len(), 1, "{refs}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_that_is_not_utf8_is_read_with_replacements_and_logged_once() {
    let fx = Fixture::new(NORMAL);
    let latin = fx.path("notes/latin.md");
    // "Café" and "Crème" in Latin-1, then a link after a bad byte on its line.
    write(
        &latin,
        b"# Caf\xe9\n\nCr\xe8me br\xfbl\xe9e goes with [[alpha]] and [[nowhere_latin]].\n",
    );
    let mut server = TestServer::start(fx.root()).await;
    assert_eq!(indexed_notes(&server), 3);
    assert_eq!(server.logged_once("latin.md").await, 2, "a warning");
    assert!(
        server.logs_with("latin.md")[0]
            .1
            .contains("not valid UTF-8"),
        "{:?}",
        server.logs()
    );
    vault_works(&mut server, &fx).await;
    // The note is usable: its title has U+FFFD for the bad byte, and its links resolve at the
    // columns an editor shows (one UTF-16 unit per bad byte, as U+FFFD or as Latin-1).
    let shown = "# Caf\u{fffd}\n\nCr\u{fffd}me br\u{fffd}l\u{fffd}e goes with [[alpha]] and [[nowhere_latin]].\n";
    let got = server
        .definition(&latin, pos_in(shown, "[[alpha]]", "alpha", 0))
        .await;
    assert_eq!(got["uri"], fx.uri("notes/alpha.md"), "{got}");
    let symbols = server
        .request("workspace/symbol", json!({ "query": "Caf" }))
        .await;
    assert_eq!(symbols[0]["name"], "Caf\u{fffd}", "{symbols}");
    // Opened, the editor's text (here as it decodes Latin-1) gets the usual diagnostics.
    let as_editor = "# Café\n\nCrème brûlée goes with [[alpha]] and [[nowhere_latin]].\n";
    server.open_with(&latin, as_editor).await;
    server
        .expect_diagnostics(
            &latin,
            vec![diag(
                "broken-link",
                WARNING,
                range_of(as_editor, "nowhere_latin"),
            )],
        )
        .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_note_is_a_note() {
    let fx = Fixture::new(NORMAL);
    let empty = fx.path("notes/empty.md");
    write(&empty, "");
    let linker = fx.path("notes/linker.md");
    write(&linker, "See [[empty]].\n");
    let mut server = TestServer::start(fx.root()).await;
    assert_eq!(indexed_notes(&server), 4);
    let got = server
        .definition(&linker, json!({ "line": 0, "character": 7 }))
        .await;
    assert_eq!(got["uri"], fx.uri("notes/empty.md"), "{got}");
    let hover = server
        .hover_text(&linker, json!({ "line": 0, "character": 7 }))
        .await;
    assert!(hover.contains("empty"), "{hover}");
    server.open(&empty).await;
    server.expect_diagnostics(&empty, vec![]).await;
    let symbols = server
        .request(
            "textDocument/documentSymbol",
            json!({ "textDocument": { "uri": uri(&empty) } }),
        )
        .await;
    assert_eq!(symbols[0]["name"], "empty", "{symbols}");
    assert!(
        problems_logged(&mut server).is_empty(),
        "{:?}",
        server.logs()
    );
    vault_works(&mut server, &fx).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frontmatter_that_never_closes_is_a_diagnostic_and_the_body_still_counts() {
    let fx = Fixture::new(NORMAL);
    let open_fm = fx.path("notes/open_fm.md");
    let text =
        "---\ntitle: Never closed\naliases: [nc]\n\nStill read: [[alpha]] and [[nowhere_fm]].\n";
    write(&open_fm, text);
    let mut server = TestServer::start(fx.root()).await;
    assert_eq!(indexed_notes(&server), 3);
    assert!(
        problems_logged(&mut server).is_empty(),
        "{:?}",
        server.logs()
    );
    vault_works(&mut server, &fx).await;
    server.open(&open_fm).await;
    server
        .expect_diagnostics(
            &open_fm,
            vec![
                diag("bad-frontmatter", ERROR, range_of(text, "---")),
                diag("broken-link", WARNING, range_of(text, "nowhere_fm")),
            ],
        )
        .await;
    // No frontmatter was read: the title is the file's stem, the "alias" is no name.
    let symbols = server
        .request("workspace/symbol", json!({ "query": "open_fm" }))
        .await;
    assert_eq!(symbols[0]["name"], "open_fm", "{symbols}");
    let symbols = server
        .request("workspace/symbol", json!({ "query": "Never closed" }))
        .await;
    assert!(
        symbols
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["location"]["uri"] != uri(&open_fm)),
        "{symbols}"
    );
    let got = server
        .definition(&open_fm, pos_in(text, "[[alpha]]", "alpha", 0))
        .await;
    assert_eq!(got["uri"], fx.uri("notes/alpha.md"));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_of_100000_lines_is_served_to_its_last_line() {
    let fx = Fixture::new(NORMAL);
    let long = fx.path("notes/long.md");
    let mut text = String::from("# Long\n");
    for i in 1..99_999 {
        text.push_str(&format!("Line {i} of a very long note.\n"));
    }
    text.push_str("The end links to [[beta]] and [[nowhere_long]]");
    assert_eq!(text.lines().count(), 100_000);
    write(&long, &text);
    let mut server = TestServer::start(fx.root()).await;
    assert_eq!(indexed_notes(&server), 3);
    assert!(
        problems_logged(&mut server).is_empty(),
        "{:?}",
        server.logs()
    );
    vault_works(&mut server, &fx).await;
    // Closed: a definition on its last line.
    let last = pos_in(&text, "[[beta]]", "beta", 0);
    assert_eq!(last["line"], 99_999);
    let got = server.definition(&long, last.clone()).await;
    assert_eq!(got["uri"], fx.uri("notes/beta.md"), "{got}");
    // The backlink from its last line is placed there.
    let beta = fx.path("notes/beta.md");
    let refs = server
        .request(
            "textDocument/references",
            json!({ "textDocument": { "uri": uri(&beta) }, "position": { "line": 0, "character": 2 }, "context": { "includeDeclaration": false } }),
        )
        .await;
    let from_long: Vec<&Value> = refs
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["uri"] == uri(&long))
        .collect();
    assert_eq!(from_long.len(), 1, "{refs}");
    assert_eq!(from_long[0]["range"], range_of(&text, "[[beta]]"));
    // Open, typed into at the end: diagnostics follow, and completion answers.
    let t = Instant::now();
    server.open(&long).await;
    server
        .expect_diagnostics(
            &long,
            vec![diag(
                "broken-link",
                WARNING,
                range_of(&text, "nowhere_long"),
            )],
        )
        .await;
    let end = position(&text, text.len());
    server
        .edit(&long, 2, json!({ "start": end, "end": end }), " and [[al")
        .await;
    let typed = format!("{text} and [[al");
    let got = server
        .completion(&long, position(&typed, typed.len()))
        .await;
    assert_eq!(labels(&got)[0], "Alpha", "{got}");
    server
        .expect_diagnostics(
            &long,
            vec![
                diag("broken-link", WARNING, range_of(&typed, "nowhere_long")),
                diag("unclosed-link", ERROR, range_in(&typed, "[[al", "[[")),
            ],
        )
        .await;
    eprintln!(
        "100,000 lines: open, edit, completion and diagnostics in {:?}",
        t.elapsed()
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_links_on_one_line_are_served_quickly() {
    let fx = Fixture::new(NORMAL);
    let many = fx.path("notes/many.md");
    // One emoji first, so that no column can be taken from bytes.
    let mut text = String::from("# Many\n\n🔗 ");
    for i in 0..9_999 {
        text.push_str(if i % 2 == 0 {
            "[[alpha]] "
        } else {
            "[[beta]] "
        });
    }
    text.push_str("[[nowhere_many]]\n");
    write(&many, &text);
    let mut server = TestServer::start(fx.root()).await;
    assert_eq!(indexed_notes(&server), 3);
    assert!(
        problems_logged(&mut server).is_empty(),
        "{:?}",
        server.logs()
    );
    vault_works(&mut server, &fx).await;
    let t = Instant::now();
    // References to alpha: 5,000 from the long line, one from beta.
    let alpha = fx.path("notes/alpha.md");
    let refs = server
        .request(
            "textDocument/references",
            json!({ "textDocument": { "uri": uri(&alpha) }, "position": { "line": 0, "character": 2 }, "context": { "includeDeclaration": false } }),
        )
        .await;
    let refs = refs.as_array().unwrap();
    assert_eq!(refs.len(), 5_001);
    let last = refs
        .iter()
        .filter(|l| l["uri"] == uri(&many))
        .max_by_key(|l| l["range"]["start"]["character"].as_u64())
        .unwrap();
    let last_alpha = text.rfind("[[alpha]]").unwrap();
    assert_eq!(
        last["range"],
        range(&text, last_alpha, last_alpha + "[[alpha]]".len())
    );
    let references = t.elapsed();
    // Opened: 10,000 links checked, one broken, at its UTF-16 column.
    let t = Instant::now();
    server.open(&many).await;
    server
        .expect_diagnostics_within(
            &many,
            vec![diag(
                "broken-link",
                WARNING,
                range_of(&text, "nowhere_many"),
            )],
            20,
        )
        .await;
    let diagnostics = t.elapsed();
    let t = Instant::now();
    let links = server
        .request(
            "textDocument/documentLink",
            json!({ "textDocument": { "uri": uri(&many) } }),
        )
        .await;
    assert_eq!(links.as_array().unwrap().len(), 9_999);
    let document_links = t.elapsed();
    // A definition on the last link of the line, and completion typed after it.
    let t = Instant::now();
    let got = server
        .definition(&many, pos_in(&text, "[[nowhere_many]]", "now", 0))
        .await;
    assert_eq!(got, Value::Null);
    let before_nowhere = find(&text, "[[nowhere_many]]");
    let got = server
        .definition(&many, position(&text, before_nowhere - 4))
        .await;
    assert_eq!(got["uri"], fx.uri("notes/alpha.md"), "{got}");
    let end = position(&text, text.len() - 1);
    server
        .edit(&many, 2, json!({ "start": end, "end": end }), " [[be")
        .await;
    let typed = format!("{} [[be\n", &text[..text.len() - 1]);
    let got = server
        .completion(&many, position(&typed, typed.len() - 1))
        .await;
    assert_eq!(labels(&got)[0], "Beta", "{got}");
    let requests = t.elapsed();
    eprintln!(
        "10,000 links on a line: references {references:?}, open to diagnostics {diagnostics:?}, document links {document_links:?}, definition + edit + completion {requests:?}"
    );
    for (what, took) in [
        ("references", references),
        ("diagnostics", diagnostics),
        ("document links", document_links),
        ("definition, edit and completion", requests),
    ] {
        assert!(took < Duration::from_secs(5), "{what} took {took:?}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_200_folders_deep_is_found_by_stem_and_by_path() {
    let fx = Fixture::new(NORMAL);
    let folders: Vec<String> = (0..200).map(|i| format!("level_{i:03}")).collect();
    let rel = format!("{}/deep.md", folders.join("/"));
    let deep = fx.path(&rel);
    write(&deep, "# Deep\n\nUp to [[alpha]].\n");
    let link_path = format!("{}/deep", folders.join("/"));
    let linker = fx.path("notes/linker.md");
    let text = format!("By stem [[deep]], by path [[{link_path}]].\n");
    write(&linker, &text);
    let mut server = TestServer::start(fx.root()).await;
    assert_eq!(indexed_notes(&server), 4);
    assert!(
        problems_logged(&mut server).is_empty(),
        "{:?}",
        server.logs()
    );
    vault_works(&mut server, &fx).await;
    for at in [
        pos_in(&text, "[[deep]]", "deep", 0),
        pos_in(&text, "level_199/deep", "deep", 0),
    ] {
        let got = server.definition(&linker, at).await;
        assert_eq!(got["uri"], uri(&deep), "{got}");
    }
    let got = server
        .definition(&deep, json!({ "line": 2, "character": 9 }))
        .await;
    assert_eq!(got["uri"], fx.uri("notes/alpha.md"));
    // The path link follows a move of the top folder.
    let edit = server
        .will_rename(&[(&fx.path("level_000"), &fx.path("moved"))])
        .await;
    apply_workspace_edit(&edit);
    assert_eq!(
        fx.text("notes/linker.md"),
        text.replace("[[level_000/", "[[moved/")
    );
    server.shutdown().await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symbolic_link_loops_are_logged_once_and_a_folder_linked_twice_is_read_once() {
    let fx = Fixture::new(NORMAL);
    let link = |target: &str, at: &str| {
        let at = fx.path(at);
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, at).unwrap();
    };
    link("..", "notes/up"); // notes/up/notes/up/… : a loop
    link(".", "self"); // self/self/… : a loop
    link("notes", "mirror"); // every note of notes/ a second time
    link("notes/alpha.md", "alias_of_alpha.md"); // alpha a second time
    link("nowhere.md", "dangling.md"); // a link to nothing
    link("/", "notes/root"); // the whole system, the vault in it
    let outside = tempfile::tempdir().unwrap();
    write(&outside.path().join("shared.md"), "# Shared\n\n[[alpha]]\n");
    link(outside.path().to_str().unwrap(), "shared"); // notes from elsewhere: followed
    let mut server = TestServer::start(fx.root()).await;
    // alpha, beta and shared/shared.md.
    assert_eq!(indexed_notes(&server), 3, "{:#?}", server.logs());
    for looping in ["notes/up", "self", "notes/root"] {
        let shown = format!("{}:", fx.path(looping).display());
        assert_eq!(server.logged_once(&shown).await, 2, "{:#?}", server.logs());
        let logged = server.logs_with(&shown);
        assert!(logged[0].1.contains("loop"), "{logged:?}");
    }
    let shown = fx.path("dangling.md").display().to_string();
    assert_eq!(server.logged_once(&shown).await, 2);
    assert!(server.logs_with(&shown)[0].1.contains("No such file"));
    assert_eq!(
        problems_logged(&mut server).len(),
        4,
        "{:#?}",
        server.logs()
    );
    vault_works(&mut server, &fx).await;
    // The note behind the link from outside is a note of the vault at the link's path.
    let shared = fx.path("shared/shared.md");
    let got = server
        .definition(&shared, json!({ "line": 2, "character": 3 }))
        .await;
    assert_eq!(got["uri"], fx.uri("notes/alpha.md"), "{got}");
    server.shutdown().await;
}

/// A file the server cannot read. Permissions do not stop root, so as root the file is a
/// symbolic link to `/proc/self/mem`, which no one can read from its start.
#[cfg(unix)]
fn make_unreadable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    write(path, "# Secret\n\n[[alpha]]\n");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(path).is_ok() {
        eprintln!(
            "note: running as root, where permissions do not stop reads; the unreadable file is a link to /proc/self/mem instead"
        );
        std::fs::remove_file(path).unwrap();
        std::os::unix::fs::symlink("/proc/self/mem", path).unwrap();
        assert!(std::fs::read(path).is_err());
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_file_is_skipped_and_logged_once() {
    let fx = Fixture::new(NORMAL);
    let secret = fx.path("notes/secret.md");
    make_unreadable(&secret);
    let mut server = TestServer::start(fx.root()).await;
    assert_eq!(indexed_notes(&server), 2);
    assert_eq!(server.logged_once("secret.md").await, 2, "a warning");
    let logged = server.logs_with("secret.md");
    assert!(logged[0].1.contains("cannot read"), "{logged:?}");
    vault_works(&mut server, &fx).await;
    // The watcher reports it changed: still unreadable, logged again (a new event), once.
    server.forget_seen();
    server.watched(&[(&secret, 2)]).await;
    assert_eq!(server.logged_once("secret.md").await, 2);
    vault_works(&mut server, &fx).await;
    server.shutdown().await;
}

/// The race is made to happen: a hook of debug builds deletes the file just before the scan
/// reads it (in release builds the hook does not exist, and neither does this test).
#[cfg(debug_assertions)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_deleted_between_listing_and_reading_is_no_note_and_no_warning() {
    let fx = Fixture::new(NORMAL);
    let doomed = fx.path("notes/doomed.md");
    write(&doomed, "# Doomed\n\n[[alpha]]\n");
    let target = doomed.clone();
    let _hook = wikilsp::vault::hooks::before_read(fx.root(), move |path| {
        if path == target {
            std::fs::remove_file(path).unwrap();
        }
    });
    let mut server = TestServer::start(fx.root()).await;
    assert!(!doomed.exists(), "the hook ran");
    assert_eq!(indexed_notes(&server), 2);
    // Information, not a warning: the file system changed, the vault has no problem.
    assert_eq!(server.logged_once("doomed.md").await, 3);
    assert!(
        problems_logged(&mut server).is_empty(),
        "{:?}",
        server.logs()
    );
    vault_works(&mut server, &fx).await;
    server.shutdown().await;
}

#[cfg_attr(
    not(debug_assertions),
    ignore = "needs the debug build's wikilsp/debug* methods"
)]
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_name_that_is_not_utf8_is_a_note_with_an_exact_uri() {
    use std::os::unix::ffi::OsStrExt;
    let fx = Fixture::new(NORMAL);
    // "café.md" with é in Latin-1: not UTF-8.
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.md");
    let latin = fx.path("notes").join(name);
    let text = "# Latin name\n\nSee [[alpha]] and [[nowhere_name]].\n";
    write(&latin, text);
    let mut server = TestServer::start(fx.root()).await;
    assert_eq!(indexed_notes(&server), 3);
    assert!(
        problems_logged(&mut server).is_empty(),
        "{:?}",
        server.logs()
    );
    vault_works(&mut server, &fx).await;
    // Its URI percent-encodes the byte itself, as Neovim does.
    let latin_uri = format!("{}/caf%E9.md", fx.uri("notes"));
    let alpha = fx.path("notes/alpha.md");
    let refs = server
        .request(
            "textDocument/references",
            json!({ "textDocument": { "uri": uri(&alpha) }, "position": { "line": 0, "character": 2 }, "context": { "includeDeclaration": false } }),
        )
        .await;
    let uris: Vec<&str> = refs
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["uri"].as_str().unwrap())
        .collect();
    assert!(uris.contains(&latin_uri.as_str()), "{uris:?}");
    // Opened by that URI, it is the same note (not a second one), with its diagnostics.
    server
        .notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": latin_uri, "languageId": "markdown", "version": 1, "text": text } }),
        )
        .await;
    let diags = server
        .wait_for("the diagnostics of the Latin-1 name", |m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == latin_uri
        })
        .await;
    assert_eq!(
        summarize(diags["params"]["diagnostics"].as_array().unwrap()),
        vec![diag("broken-link", WARNING, range_of(text, "nowhere_name"))]
    );
    assert_eq!(note_count(&mut server).await, 3);
    let got = server
        .request(
            "textDocument/definition",
            json!({ "textDocument": { "uri": latin_uri }, "position": pos_in(text, "[[alpha]]", "alpha", 0) }),
        )
        .await;
    assert_eq!(got["uri"], fx.uri("notes/alpha.md"));
    server.shutdown().await;
}

/// The size of a note made to be 50 MB.
const HUGE: usize = 50 << 20;

/// Writes a 50 MB note, mostly blank (lines of spaces, which even a debug build reads fast),
/// with links at its top and at its very end. Returns the line of the last link.
fn write_huge_note(path: &Path) -> usize {
    use std::io::Write;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let head = "# Huge\n\nStarts with [[alpha]].\n";
    let tail = "Ends with [[beta]] and [[nowhere_huge]].\n";
    file.write_all(head.as_bytes()).unwrap();
    let blank = format!("{}\n", " ".repeat(1023));
    let room = HUGE - head.len() - tail.len();
    let lines = room / blank.len();
    for _ in 0..lines {
        file.write_all(blank.as_bytes()).unwrap();
    }
    // One more blank line, to make it exactly 50 MB.
    let rest = room - lines * blank.len();
    file.write_all(format!("{}\n", " ".repeat(rest - 1)).as_bytes())
        .unwrap();
    file.write_all(tail.as_bytes()).unwrap();
    file.flush().unwrap();
    3 + lines + 1
}

/// `VmRSS` and `VmHWM` (peak) of a process, in MB.
#[cfg(target_os = "linux")]
fn memory_mb(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| -> u64 {
        let line = status.lines().find(|l| l.starts_with(name)).unwrap();
        line.split_whitespace()
            .nth(1)
            .unwrap()
            .parse::<u64>()
            .unwrap()
            / 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The real binary indexes a 50 MB note, serves it, and does not keep its text: its memory
/// after indexing is near what it is without the note, and its peak shows the text was held
/// about once at a time, never copied over and over.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_50_mb_note_is_indexed_without_keeping_or_copying_its_text() {
    let t = Instant::now();
    // The same vault without the note, for the memory it takes.
    let fx = Fixture::new(NORMAL);
    let bare = TestServer::start_process(fx.root(), "wikilsp=warn").await;
    let (bare_rss, bare_peak) = memory_mb(bare.pid().unwrap());
    bare.shutdown().await;

    let huge = fx.path("notes/huge.md");
    let last_line = write_huge_note(&huge);
    assert_eq!(std::fs::metadata(&huge).unwrap().len() as usize, HUGE);
    let written = t.elapsed();
    let mut server = TestServer::start_process(fx.root(), "wikilsp=warn").await;
    let indexed = t.elapsed() - written;
    assert_eq!(indexed_notes(&server), 3);
    assert!(
        problems_logged(&mut server).is_empty(),
        "{:?}",
        server.logs()
    );
    let pid = server.pid().unwrap();
    let (rss, peak) = memory_mb(pid);
    // No text is kept for a closed note.
    let state = server
        .request("wikilsp/debugState", json!({ "uri": uri(&huge) }))
        .await;
    assert_eq!(state["keptTextBytes"], 0, "{state}");
    assert_eq!(state["note"]["keptTextBytes"], 0, "{state}");
    assert_eq!(state["note"]["links"], 3, "{state}");
    vault_works(&mut server, &fx).await;
    // The link on its last line is placed right, from the index (no read of the file).
    let beta = fx.path("notes/beta.md");
    let refs = server
        .request(
            "textDocument/references",
            json!({ "textDocument": { "uri": uri(&beta) }, "position": { "line": 0, "character": 2 }, "context": { "includeDeclaration": false } }),
        )
        .await;
    let from_huge: Vec<&Value> = refs
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["uri"] == uri(&huge))
        .collect();
    assert_eq!(from_huge.len(), 1, "{refs}");
    assert_eq!(
        from_huge[0]["range"],
        json!({ "start": { "line": last_line, "character": 10 }, "end": { "line": last_line, "character": 18 } })
    );
    // A request on the closed note reads it (once) and answers.
    let got = server
        .definition(&huge, json!({ "line": last_line, "character": 13 }))
        .await;
    assert_eq!(got["uri"], uri(&beta), "{got}");
    let (rss_after, peak_after) = memory_mb(pid);
    let mb = HUGE as u64 >> 20;
    eprintln!(
        "50 MB note: written in {written:?}, indexed in {indexed:?}; server RSS {rss} MB after indexing (peak {peak} MB), {rss_after} MB after a request on it (peak {peak_after} MB); without the note {bare_rss} MB (peak {bare_peak} MB)"
    );
    assert!(
        rss < bare_rss + mb / 2,
        "the text of a closed note is not kept: {rss} MB against {bare_rss} MB without it"
    );
    assert!(
        peak < bare_peak + 2 * mb,
        "indexing held the text about once: peak {peak} MB against {bare_peak} MB without it"
    );
    assert!(
        peak_after < bare_peak + 3 * mb,
        "a request on the note holds its text a few times at most: peak {peak_after} MB"
    );
    server.shutdown().await;
    let _ = std::fs::remove_file(&huge);
}

/// Every hostile thing at once, with the server's own file watcher (a client that does not
/// watch files): indexing ends, each problem is logged once, and the vault works.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_of_it_at_once_with_the_servers_own_watcher() {
    use std::os::unix::ffi::OsStrExt;
    let fx = Fixture::new(NORMAL);
    write(&fx.path("notes/diagram.md"), b"\x00\x01binary");
    write(&fx.path("notes/latin.md"), b"# Caf\xe9\n");
    write(&fx.path("notes/empty.md"), "");
    write(&fx.path("notes/open_fm.md"), "---\ntitle: x\n");
    let folders: Vec<String> = (0..200).map(|i| format!("d{i}")).collect();
    write(
        &fx.path(&format!("{}/deep.md", folders.join("/"))),
        "[[alpha]]",
    );
    std::os::unix::fs::symlink(".", fx.path("self")).unwrap();
    make_unreadable(&fx.path("notes/secret.md"));
    write(
        &fx.path("notes")
            .join(std::ffi::OsStr::from_bytes(b"caf\xe9.md")),
        "[[beta]]",
    );
    let caps = capabilities_with(|c| {
        c["workspace"]["didChangeWatchedFiles"]["dynamicRegistration"] = json!(false)
    });
    let mut server = TestServer::start_with(fx.root(), caps).await;
    // alpha, beta, latin, empty, open_fm, deep, café.
    assert_eq!(indexed_notes(&server), 7);
    for problem in ["diagram.md", "latin.md", "secret.md"] {
        assert_eq!(server.logged_once(problem).await, 2, "{problem}");
    }
    let shown = fx.path("self").display().to_string();
    assert_eq!(server.logged_once(&shown).await, 2);
    assert_eq!(
        problems_logged(&mut server).len(),
        4,
        "{:#?}",
        server.logs()
    );
    vault_works(&mut server, &fx).await;
    // The watcher still sees a new note.
    let fresh = fx.path("notes/fresh.md");
    write(&fresh, "# Fresh\n");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let symbols = server
            .request("workspace/symbol", json!({ "query": "Fresh" }))
            .await;
        if symbols.as_array().is_some_and(|s| !s.is_empty()) {
            break;
        }
        assert!(Instant::now() < deadline, "the watcher never saw fresh.md");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.shutdown().await;
}

/// Files created and deleted while the vault is being indexed, reported by the client's
/// watcher meanwhile: the index installed at the end must not undo them. A hook of debug
/// builds holds the scan (after listing, before reading beta.md) while it happens.
#[cfg(debug_assertions)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_on_disk_while_indexing_are_not_lost_when_the_index_is_installed() {
    let fx = Fixture::new(NORMAL);
    let doomed = fx.path("notes/doomed.md");
    write(&doomed, "# Doomed\n");
    let (reached_tx, reached_rx) = std::sync::mpsc::channel::<()>();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let go_rx = std::sync::Mutex::new(go_rx);
    let beta = fx.path("notes/beta.md");
    let _hook = wikilsp::vault::hooks::before_read(fx.root(), move |path| {
        if path == beta {
            let _ = reached_tx.send(());
            let _ = go_rx.lock().unwrap().recv();
        }
    });
    let mut server = TestServer::spawn(fx.root());
    server.initialize(json!({})).await;
    server.notify("initialized", json!({})).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while reached_rx.try_recv().is_err() {
        assert!(Instant::now() < deadline, "the scan never reached beta.md");
        server.idle(10).await;
    }
    // The scan has listed the folder and waits: gamma.md comes, doomed.md goes.
    let gamma = fx.path("notes/gamma.md");
    write(&gamma, "# Gamma\n");
    std::fs::remove_file(&doomed).unwrap();
    server.watched(&[(&gamma, 1), (&doomed, 3)]).await;
    server.idle(300).await;
    go_tx.send(()).unwrap();
    server.wait_indexed().await;
    // alpha's [[gamma]] is no longer broken, and doomed is gone.
    let alpha = fx.path("notes/alpha.md");
    server.open(&alpha).await;
    server.expect_diagnostics(&alpha, vec![]).await;
    let symbols = server
        .request("workspace/symbol", json!({ "query": "Doomed" }))
        .await;
    assert_eq!(symbols, json!([]), "{symbols}");
    assert_eq!(note_count(&mut server).await, 3);
    server.shutdown().await;
}
