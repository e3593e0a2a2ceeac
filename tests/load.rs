//! Load: a client types as fast as it can into a ~6 KB note of a vault of 400 notes: 10,000
//! `didChange` events of one character each, with a completion request every 50 changes (one
//! in flight at a time, as an editor asks) and long requests in flight meanwhile (references
//! on the most linked note, a request that holds a thread for 3 s). The real binary serves it
//! over stdio, so that its memory can be measured; `WIKILSP_TEST_SERVER=target/release/wikilsp`
//! measures a release build.
//!
//! After the burst the server's text is the client's, its newest diagnostics are those of a
//! fresh server given the final text, diagnostics were never published for a version older
//! than one already published, its memory is back near where it was, and completion answered
//! quickly throughout. The figures are printed (`--nocapture`); the bounds asserted are
//! generous, as machines are noisy.
mod common;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};
use wikilsp::bench::generate::{Rng, generate_vault};

const NOTES: usize = 400;
const CHANGES: usize = 10_000;
const COMPLETION_EVERY: usize = 50;

/// The client's copy of the document, as lines (no change here adds or removes a line
/// break), with the line where completion is asked kept last and never edited.
struct Doc {
    lines: Vec<String>,
}

impl Doc {
    fn text(&self) -> String {
        self.lines.join("\n")
    }

    /// The UTF-16 column of char `i` of line `l`.
    fn col(&self, l: usize, i: usize) -> usize {
        self.lines[l].chars().take(i).map(char::len_utf16).sum()
    }

    /// One random edit of one character, applied here; returns the LSP change.
    fn random_edit(&mut self, rng: &mut Rng) -> Value {
        // Every line but the last (where completion is asked).
        let editable = self.lines.len() - 1;
        let l = rng.below(editable as u64) as usize;
        let chars = self.lines[l].chars().count();
        let delete = chars > 0 && rng.below(2) == 0;
        if delete {
            let i = rng.below(chars as u64) as usize;
            let (a, c) = (self.col(l, i), self.lines[l].chars().nth(i).unwrap());
            let byte = self.lines[l].char_indices().nth(i).unwrap().0;
            self.lines[l].replace_range(byte..byte + c.len_utf8(), "");
            json!({
                "range": { "start": { "line": l, "character": a }, "end": { "line": l, "character": a + c.len_utf16() } },
                "text": "",
            })
        } else {
            let i = rng.below(chars as u64 + 1) as usize;
            let a = self.col(l, i);
            // Brackets make and break links; the rest is prose.
            let c = ['[', ']', 'a', 'e', 's', ' ', '#', 'é'][rng.below(8) as usize];
            let byte = self.lines[l]
                .char_indices()
                .nth(i)
                .map_or(self.lines[l].len(), |(b, _)| b);
            self.lines[l].insert(byte, c);
            json!({
                "range": { "start": { "line": l, "character": a }, "end": { "line": l, "character": a } },
                "text": c.to_string(),
            })
        }
    }
}

/// `VmRSS` of a process, in KB.
#[cfg(target_os = "linux")]
fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// The diagnostics a fresh server gives `text` as the note at `path` (its vault otherwise the
/// same): the oracle for the diagnostics after the burst.
async fn fresh_diagnostics(root: &Path, path: &Path, text: &str) -> Vec<Value> {
    let saved = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, text).unwrap();
    let mut server = TestServer::start(root).await;
    std::fs::write(path, saved).unwrap();
    server.open_with(path, text).await;
    let diags = server.latest_diagnostics(path).await;
    server.shutdown().await;
    summarize(&diags)
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_changes_with_completion_keep_text_diagnostics_and_memory_right() {
    let dir = tempfile::tempdir().unwrap();
    let vault = generate_vault(dir.path(), NOTES, 7).unwrap();
    let path = vault.abs_path(vault.probe());
    let mut server = TestServer::start_process(dir.path(), "wikilsp=warn").await;
    let pid = server.pid().unwrap();
    let uri = uri(&path);

    // The note, with a last line where completion is asked: `[[` and two letters of a title.
    let disk = std::fs::read_to_string(&path).unwrap();
    let hub = &vault.notes[vault.hubs[0]];
    let typed: String = hub.title.chars().take(2).collect();
    let mut doc = Doc {
        lines: format!("{}\n[[{typed}", disk.trim_end_matches('\n'))
            .split('\n')
            .map(str::to_owned)
            .collect(),
    };
    assert!(
        (5_000..9_000).contains(&disk.len()),
        "a note of about 6 KB: {}",
        disk.len()
    );
    server.open_with(&path, &doc.text()).await;
    server.latest_diagnostics(&path).await;
    let completion_at = |doc: &Doc| {
        let l = doc.lines.len() - 1;
        json!({ "textDocument": { "uri": uri }, "position": { "line": l, "character": doc.col(l, 2 + typed.chars().count()) } })
    };
    // Warm up, then the memory before the burst.
    for _ in 0..20 {
        let got = server
            .request("textDocument/completion", completion_at(&doc))
            .await;
        assert!(!labels(&got).is_empty());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_before = rss_kb(pid);

    // The burst, prepared first so that the client spends its time sending: every change
    // as the bytes to write, and the client's text after them all.
    let mut rng = Rng::new(42);
    let frames: Vec<Vec<u8>> = (0..CHANGES)
        .map(|n| {
            let change = doc.random_edit(&mut rng);
            TestServer::frame(
                "textDocument/didChange",
                json!({ "textDocument": { "uri": uri, "version": n + 2 }, "contentChanges": [change] }),
            )
        })
        .collect();
    // One completion in flight at a time, as an editor has it: at every 50th change the
    // answer to the last one is awaited (if it has not come yet) before the next is asked;
    // changes keep flowing while one is in flight.
    let mut in_flight: Option<(Instant, tokio::sync::oneshot::Receiver<Answer>)> = None;
    let mut answers: Vec<(Duration, Answer)> = Vec::new();
    let mut long_requests = Vec::new();
    let hub_path = vault.abs_path(vault.hubs[0]);
    let started = Instant::now();
    long_requests.push(
        server
            .start_request(
                "wikilsp/debugSleep",
                json!({ "ms": 3_000, "blocking": true }),
            )
            .await,
    );
    for (n, frame) in frames.iter().enumerate() {
        server.send_bytes(frame).await;
        if (n + 1) % COMPLETION_EVERY == 0 {
            if let Some((sent, rx)) = in_flight.take() {
                let answer = rx.await.expect("an answer");
                answers.push((answer.at - sent, answer));
            }
            // The completion line is never edited: the same request each time.
            let call = server
                .start_request("textDocument/completion", completion_at(&doc))
                .await;
            in_flight = Some((call.sent, call.into_receiver()));
        }
        if n % 2_500 == 1_000 {
            // Long work meanwhile: the backlinks of the most linked note, in full.
            long_requests.push(
                server
                    .start_request(
                        "textDocument/references",
                        json!({ "textDocument": { "uri": uri_of(&hub_path) }, "position": { "line": 0, "character": 0 }, "context": { "includeDeclaration": true } }),
                    )
                    .await,
            );
        }
    }
    let sent_all = started.elapsed();
    let final_version = CHANGES as i64 + 1;
    if let Some((sent, rx)) = in_flight.take() {
        let answer = rx.await.expect("an answer");
        answers.push((answer.at - sent, answer));
    }
    // The server caught up: its text is the client's.
    let state = server
        .request("wikilsp/debugState", json!({ "uri": uri }))
        .await;
    let processed = started.elapsed();
    // Each completion is answered with items, or, when a change came while it was in flight,
    // ContentModified (its items would be for a text the editor no longer has). The last
    // was asked after every change: it has its items.
    let mut times = Vec::new();
    let mut modified = 0;
    let last = answers.len() - 1;
    for (n, (took, answer)) in answers.into_iter().enumerate() {
        times.push(took);
        let answer = answer.value();
        if answer["error"]["code"] == -32801 && n < last {
            modified += 1;
            continue;
        }
        assert!(answer.get("error").is_none(), "{answer}");
        assert!(!labels(&answer["result"]).is_empty(), "{answer}");
    }
    // The long requests were answered too (the references, which span every note, with
    // ContentModified when a change came meanwhile).
    let slept = server.finish_request(long_requests.remove(0)).await;
    assert_eq!(slept["result"]["slept"], 3_000, "{slept}");
    for call in long_requests {
        let answer = server.finish_request(call).await;
        assert!(
            answer["result"].as_array().is_some_and(|r| !r.is_empty())
                || answer["error"]["code"] == -32801,
            "{answer}"
        );
    }
    assert_eq!(state["document"]["version"], final_version);
    let text = doc.text();
    assert!(
        state["document"]["text"] == text.as_str(),
        "the server's text differs from the client's"
    );

    // Diagnostics: never an older version after a newer one; the newest are right.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let final_diags = server.latest_diagnostics(&path).await;
    let versions: Vec<i64> = server
        .seen
        .iter()
        .filter(|m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri.as_str()
        })
        .map(|m| m["params"]["version"].as_i64().unwrap())
        .collect();
    assert!(
        versions.windows(2).all(|w| w[0] <= w[1]),
        "a version published after a newer one: {versions:?}"
    );
    let expected = fresh_diagnostics(dir.path(), &path, &text).await;
    assert_eq!(summarize(&final_diags), expected, "the final diagnostics");

    // Memory, once the burst is over.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_after = rss_kb(pid);
    times.sort();
    let (median, p95, max) = (
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        *times.last().unwrap(),
    );
    eprintln!(
        "load: {CHANGES} changes sent in {sent_all:?}, all processed in {processed:?}; {} completions during the burst ({modified} stale): median {median:?}, p95 {p95:?}, max {max:?}; diagnostics published {} times (versions {}..={}); server RSS {} MB before the burst, {} MB after",
        times.len(),
        versions.len(),
        versions.first().unwrap(),
        versions.last().unwrap(),
        rss_before / 1024,
        rss_after / 1024,
    );
    assert!(
        median < Duration::from_millis(250),
        "median completion {median:?}"
    );
    assert!(
        rss_after < rss_before + 64 * 1024,
        "memory after the burst: {rss_after} KB against {rss_before} KB before"
    );
    server.shutdown().await;
}

fn uri_of(path: &Path) -> String {
    uri(path)
}
