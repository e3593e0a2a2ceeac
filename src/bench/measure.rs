//! The scenario: start a server on a vault, wait until it has indexed, then time completion,
//! definition, hover and change→diagnostics the way an editor drives them, and read its memory.

use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use regex::Regex;
use serde_json::{Value, json};

use super::client::{ClientError, Connection, Pending, ServerProcess, WaitError};
use super::generate::GeneratedVault;

const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const INDEX_TIMEOUT: Duration = Duration::from_secs(120);
const POLL_EVERY: Duration = Duration::from_millis(10);

/// Latencies of one kind of request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    pub n: usize,
    pub median: Duration,
    pub p95: Duration,
    pub max: Duration,
}

impl Stats {
    pub fn from_samples(samples: &mut [Duration]) -> Stats {
        if samples.is_empty() {
            return Stats::default();
        }
        samples.sort_unstable();
        // Nearest rank: the p95 of 200 samples is the 190th, an actual observation.
        let rank = |p: f64| {
            samples[((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1]
        };
        Stats {
            n: samples.len(),
            median: rank(0.5),
            p95: rank(0.95),
            max: samples[samples.len() - 1],
        }
    }
}

#[derive(Debug, Clone)]
pub enum IndexMethod {
    /// The `$/progress` `end` of the server's indexing progress, whose begin had this title.
    Progress { title: String },
    /// The first non-null answer to a definition request into a closed note, polled.
    DefinitionPoll,
}

/// Everything measured on one server.
#[derive(Debug, Clone)]
pub struct Figures {
    /// The best of [`Figures::index_runs`].
    pub index: Duration,
    /// The index time of each start of the server, in order (the last one is the run whose
    /// requests were timed).
    pub index_runs: Vec<Duration>,
    pub index_method: IndexMethod,
    pub completion: Stats,
    pub definition: Stats,
    pub hover: Stats,
    /// References on the probe link (to a note with many backlinks), and the rename of that
    /// note (the edit computed, not applied).
    pub references: Stats,
    pub references_found: usize,
    pub rename: Stats,
    pub rename_edits: usize,
    pub diagnostics: Stats,
    /// Peak resident set of the server's process tree, in MB (Linux only).
    pub peak_rss_mb: Option<f64>,
    /// Items in the last completion answer.
    pub completion_items: usize,
    pub definition_found: usize,
    pub hover_found: usize,
    /// Signs the figures may flatter the server (empty answers and the like).
    pub warnings: Vec<String>,
    /// Set when `shutdown`/`exit` did not end the server cleanly.
    pub shutdown_error: Option<String>,
}

/// Runs the whole scenario on one server; any failure comes back with the server's exit status
/// and last stderr lines.
pub fn measure(
    cmd: &[String],
    vault: &GeneratedVault,
    iterations: usize,
) -> Result<Figures, String> {
    let mut run = Run::start(cmd, vault)?;
    match scenario(&run, iterations) {
        Ok(mut figures) => {
            figures.peak_rss_mb = peak_rss_kb(run.server.pid()).map(|kb| kb as f64 / 1024.0);
            figures.shutdown_error = run.server.shutdown().err();
            Ok(figures)
        }
        Err(e) => Err(format!("{e}\n  {}", run.server.post_mortem())),
    }
}

/// Starts the server, waits until it has indexed (as [`measure`] does, an editor-like note open
/// meanwhile) and shuts it down: one more index time, for a best of several.
pub fn time_index(cmd: &[String], vault: &GeneratedVault) -> Result<Duration, String> {
    let mut run = Run::start(cmd, vault)?;
    match run.index() {
        Ok((_, index, _)) => {
            // Its figures are the measured run's; a slow exit here is reported there.
            let _ = run.server.shutdown();
            Ok(index)
        }
        Err(e) => Err(format!("{e}\n  {}", run.server.post_mortem())),
    }
}

/// A server started on the vault, and what it is asked about.
struct Run {
    server: ServerProcess,
    root: std::path::PathBuf,
    folders: Value,
    probe: Probe,
}

impl Run {
    fn start(cmd: &[String], vault: &GeneratedVault) -> Result<Run, String> {
        let root = vault
            .root
            .canonicalize()
            .map_err(|e| format!("{}: {e}", vault.root.display()))?;
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let folders = json!([{"uri": file_uri(&root), "name": name}]);
        let probe = Probe::new(vault, &root)?;
        let server =
            ServerProcess::spawn(cmd, &root, folders.clone()).map_err(|e| e.to_string())?;
        Ok(Run {
            server,
            root,
            folders,
            probe,
        })
    }

    /// Initializes the server and waits until it has indexed: its capabilities, the index time
    /// (from `initialized`) and how its end was told.
    fn index(&self) -> Result<(Value, Duration, IndexMethod), String> {
        let conn = &self.server.conn;
        let probe = &self.probe;
        let init = conn
            .request(
                "initialize",
                initialize_params(&self.root, &self.folders),
                REQUEST_TIMEOUT,
            )
            .map_err(|e| e.to_string())?;
        let t0 = Instant::now();
        conn.notify("initialized", json!({}))
            .map_err(|e| e.to_string())?;
        // An editor restoring its tabs opens a note at once, before the index is ready; so
        // does the bench, which also gives the definition poll a document to ask about.
        conn.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": probe.uri, "languageId": "markdown", "version": 1, "text": probe.text}}),
        )
        .map_err(|e| e.to_string())?;
        let (index, method) = wait_for_index(conn, probe, t0)?;
        Ok((init, index, method))
    }
}

fn scenario(run: &Run, iterations: usize) -> Result<Figures, String> {
    let (conn, probe) = (&run.server.conn, &run.probe);
    let (init, index, index_method) = run.index()?;
    let mut warnings = capability_warnings(&init["capabilities"]);

    let doc = json!({"uri": probe.uri});
    let at = |pos: (u32, u32)| json!({"line": pos.0, "character": pos.1});
    let timed = |method: &str, params: &Value, samples: &mut Vec<Duration>| {
        let (result, took) = conn
            .request_timed(method, params.clone(), REQUEST_TIMEOUT)
            .map_err(|e| e.to_string())?;
        samples.push(took);
        Ok::<Value, String>(result)
    };

    let completion_params = json!({"textDocument": doc, "position": at(probe.completion_at),
        "context": {"triggerKind": 1}});
    let definition_params = json!({"textDocument": doc, "position": at(probe.definition_at)});
    let (mut completion, mut definition, mut hover) = (Vec::new(), Vec::new(), Vec::new());
    let (mut completion_items, mut definition_found, mut hover_found) = (0, 0, 0);
    let references_params = json!({"textDocument": doc, "position": at(probe.definition_at),
        "context": {"includeDeclaration": false}});
    let (mut references, mut rename) = (Vec::new(), Vec::new());
    let (mut references_found, mut rename_edits) = (0, 0);
    for _ in 0..iterations {
        let items = timed(
            "textDocument/completion",
            &completion_params,
            &mut completion,
        )?;
        completion_items = items
            .get("items")
            .unwrap_or(&items)
            .as_array()
            .map_or(0, Vec::len);
        let def = timed(
            "textDocument/definition",
            &definition_params,
            &mut definition,
        )?;
        definition_found += !is_empty(&def) as usize;
        let hov = timed("textDocument/hover", &definition_params, &mut hover)?;
        hover_found += !is_empty(&hov) as usize;
        let refs = timed(
            "textDocument/references",
            &references_params,
            &mut references,
        )?;
        references_found = refs.as_array().map_or(0, Vec::len);
    }
    // Rename computes an edit of every backlink: fewer rounds.
    for i in 0..iterations.div_ceil(10) {
        let mut params = definition_params.clone();
        params["newName"] = json!(format!("Renamed topic {i}"));
        let edit = timed("textDocument/rename", &params, &mut rename)?;
        rename_edits = edit["documentChanges"].as_array().map_or(0, |d| {
            d.iter()
                .map(|c| c["edits"].as_array().map_or(0, Vec::len))
                .sum()
        });
    }
    if iterations > 0 {
        if completion_items == 0 {
            warnings.push("completion returned no items".into());
        }
        if definition_found < iterations {
            warnings.push(format!(
                "definition found the target {definition_found} of {iterations} times"
            ));
        }
        if hover_found < iterations {
            warnings.push(format!(
                "hover answered {hover_found} of {iterations} times"
            ));
        }
        // An empty answer is fast: say so next to the figure that it makes look good.
        if references_found == 0 {
            warnings.push("references found no link: its time measures an empty answer".into());
        }
        if rename_edits == 0 {
            warnings.push("rename made no edit: its time measures an empty answer".into());
        }
    }

    let mut diagnostics = change_to_diagnostics(conn, probe, iterations, &mut warnings)?;

    Ok(Figures {
        index,
        index_runs: vec![index],
        index_method,
        completion: Stats::from_samples(&mut completion),
        definition: Stats::from_samples(&mut definition),
        hover: Stats::from_samples(&mut hover),
        references: Stats::from_samples(&mut references),
        references_found,
        rename: Stats::from_samples(&mut rename),
        rename_edits,
        diagnostics: Stats::from_samples(&mut diagnostics),
        peak_rss_mb: None,
        completion_items,
        definition_found,
        hover_found,
        warnings,
        shutdown_error: None,
    })
}

/// Prefers the server's own word (its indexing progress ending); a server that reports no
/// progress is instead polled until a definition into a closed note resolves.
fn wait_for_index(
    conn: &Connection,
    probe: &Probe,
    t0: Instant,
) -> Result<(Duration, IndexMethod), String> {
    let deadline = t0 + INDEX_TIMEOUT;
    let mut progress = ProgressTracker::default();
    let mut poll: Option<Pending> = None;
    let mut next_poll = t0;
    let definition = json!({"textDocument": {"uri": probe.uri},
        "position": {"line": probe.definition_at.0, "character": probe.definition_at.1}});
    let closed = |why: String| format!("the server closed its output while indexing ({why})");
    let timeout = || format!("no index-complete within {} s", INDEX_TIMEOUT.as_secs());

    loop {
        progress.update(conn);
        if let Some((title, end)) = progress.indexing_end() {
            if let Some(p) = poll.take() {
                conn.forget(p.id);
            }
            return Ok((
                end.saturating_duration_since(t0),
                IndexMethod::Progress { title },
            ));
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(timeout());
        }
        if progress.announced() {
            if let Some(p) = poll.take() {
                conn.forget(p.id);
            }
            if let Err(WaitError::Closed(why)) = conn.wait_any(progress.seen, deadline) {
                return Err(closed(why));
            }
            continue;
        }
        match &poll {
            None if now >= next_poll => {
                poll = Some(
                    conn.send_request("textDocument/definition", definition.clone())
                        .map_err(|e| e.to_string())?,
                );
                next_poll = now + POLL_EVERY;
            }
            None => {
                if let Err(WaitError::Closed(why)) = conn.wait_any(progress.seen, next_poll) {
                    return Err(closed(why));
                }
            }
            Some(p) => match p.wait(Duration::from_millis(2)) {
                Ok(response) => {
                    let at = Instant::now();
                    conn.forget(p.id);
                    poll = None;
                    let found = response.get("error").is_none_or(Value::is_null)
                        && !is_empty(response.get("result").unwrap_or(&Value::Null));
                    if found {
                        return Ok((at - t0, IndexMethod::DefinitionPoll));
                    }
                }
                // A server that answers only once it has loaded the whole vault (iwes) holds
                // its first answer until then: waited for up to the indexing deadline.
                Err(ClientError::Timeout { .. }) if Instant::now() < deadline => {}
                Err(ClientError::Timeout { .. }) => {
                    return Err(format!(
                        "no answer to the indexing poll (textDocument/definition) within {:.0} s",
                        p.sent.elapsed().as_secs_f64()
                    ));
                }
                Err(e) => return Err(format!("while polling for the index: {e}")),
            },
        }
    }
}

/// Which `$/progress` tokens began and ended, read from the event log as it grows.
#[derive(Default)]
struct ProgressTracker {
    seen: usize,
    created: bool,
    tokens: Vec<(Value, String, Option<Instant>)>,
}

impl ProgressTracker {
    fn update(&mut self, conn: &Connection) {
        for ev in conn.events_from(self.seen) {
            self.seen += 1;
            match ev.method.as_str() {
                "window/workDoneProgress/create" => self.created = true,
                "$/progress" => {
                    let token = ev.params["token"].clone();
                    let value = &ev.params["value"];
                    match value["kind"].as_str() {
                        Some("begin") => {
                            let title = value["title"].as_str().unwrap_or_default().to_string();
                            self.tokens.push((token, title, None));
                        }
                        Some("end") => {
                            if let Some(t) = self
                                .tokens
                                .iter_mut()
                                .find(|t| t.0 == token && t.2.is_none())
                            {
                                t.2 = Some(ev.at);
                            }
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
    }

    fn announced(&self) -> bool {
        self.created || !self.tokens.is_empty()
    }

    /// The progress whose title mentions indexing, else the first one begun.
    fn indexing_end(&self) -> Option<(String, Instant)> {
        let t = self
            .tokens
            .iter()
            .find(|t| t.1.to_lowercase().contains("index"))
            .or(self.tokens.first())?;
        Some((t.1.clone(), t.2?))
    }
}

/// Alternately inserts and removes a broken link at the end of a line, timing each change until
/// the server publishes diagnostics for it.
fn change_to_diagnostics(
    conn: &Connection,
    probe: &Probe,
    iterations: usize,
    warnings: &mut Vec<String>,
) -> Result<Vec<Duration>, String> {
    let (line, end) = probe.edit_at;
    let mut samples = Vec::with_capacity(iterations);
    let mut inserted_len = 0u32;
    let (mut with_link, mut without_link) = (Vec::new(), Vec::new());
    for i in 1..=iterations {
        let version = 1 + i as i64;
        let insert = i % 2 == 1;
        let change = if insert {
            let text = format!(" [[no_such_topic_{i}]]");
            inserted_len = text.encode_utf16().count() as u32;
            json!({"range": range(line, end, line, end), "text": text})
        } else {
            json!({"range": range(line, end, line, end + inserted_len), "text": ""})
        };
        let cursor = conn.event_count();
        let start = Instant::now();
        conn.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": probe.uri, "version": version}, "contentChanges": [change]}),
        )
        .map_err(|e| e.to_string())?;
        let found = conn.wait_event(cursor, start + REQUEST_TIMEOUT, |ev| {
            ev.method == "textDocument/publishDiagnostics"
                && same_uri(ev.params["uri"].as_str().unwrap_or_default(), &probe.uri)
                && ev.params["version"].as_i64().is_none_or(|v| v >= version)
        });
        let ev = match found {
            Ok((_, ev)) => ev,
            Err(WaitError::Timeout) if i == 1 => {
                // Some servers (iwes) publish no diagnostics at all: the figure is left out
                // rather than every other figure of the run.
                warnings.push(format!(
                    "no publishDiagnostics within {} s of the first didChange: change→diagnostics not measured",
                    REQUEST_TIMEOUT.as_secs()
                ));
                return Ok(Vec::new());
            }
            Err(WaitError::Timeout) => {
                return Err(format!(
                    "no publishDiagnostics for version {version} within {} s of didChange",
                    REQUEST_TIMEOUT.as_secs()
                ));
            }
            Err(WaitError::Closed(why)) => {
                return Err(format!("the server closed its output ({why})"));
            }
        };
        samples.push(ev.at.saturating_duration_since(start));
        let count = ev.params["diagnostics"].as_array().map_or(0, Vec::len);
        if insert {
            &mut with_link
        } else {
            &mut without_link
        }
        .push(count);
    }
    let mean = |v: &[usize]| v.iter().sum::<usize>() as f64 / v.len().max(1) as f64;
    if !without_link.is_empty() && mean(&with_link) <= mean(&without_link) {
        warnings.push("diagnostics did not grow when a broken link was inserted".into());
    }
    Ok(samples)
}

fn range(l1: u32, c1: u32, l2: u32, c2: u32) -> Value {
    json!({"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}})
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// The opened note and the places in it the requests aim at (UTF-16 line/character).
struct Probe {
    uri: String,
    text: String,
    /// Just after `[[` and two characters of an existing target.
    completion_at: (u32, u32),
    /// Inside the same link's target.
    definition_at: (u32, u32),
    /// The end of the last paragraph line, where broken links are inserted.
    edit_at: (u32, u32),
}

impl Probe {
    fn new(vault: &GeneratedVault, root: &Path) -> Result<Probe, String> {
        let index = vault.probe();
        let rel = &vault.notes[index].path;
        let text =
            fs::read_to_string(root.join(rel)).map_err(|e| format!("{}: {e}", rel.display()))?;
        let slugs = vault.slugs();
        let hubs: HashSet<&str> = vault
            .hubs
            .iter()
            .map(|&h| vault.notes[h].slug.as_str())
            .collect();
        let own = vault.notes[index].slug.as_str();
        let link = Regex::new(r"\[\[([^\[\]|#]+?)\s*(?:\|[^\[\]]*)?\]\]").unwrap();

        let mut best: Option<(bool, u32, u32, &str)> = None;
        let mut edit_at = None;
        for (n, line) in text.split('\n').enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            let n = n as u32;
            for c in link.captures_iter(line) {
                let target = c.get(1).unwrap();
                let slug = target.as_str();
                // A target in another note, preferably a hub, so hover has backlinks to count.
                if slugs.contains(slug)
                    && slug != own
                    && best.is_none_or(|b| !b.0 && hubs.contains(slug))
                {
                    best = Some((
                        hubs.contains(slug),
                        n,
                        utf16_len(&line[..target.start()]),
                        slug,
                    ));
                }
            }
            if line.chars().next().is_some_and(char::is_alphabetic)
                && !line.starts_with("From:")
                && line.contains(". ")
            {
                edit_at = Some((n, utf16_len(line)));
            }
        }
        let (_, line, col, slug) =
            best.ok_or_else(|| format!("{}: no link to another note", rel.display()))?;
        let edit_at = edit_at.ok_or_else(|| format!("{}: no paragraph line", rel.display()))?;
        let mid: String = slug.chars().take(slug.chars().count() / 2).collect();
        let two: String = slug.chars().take(2).collect();
        Ok(Probe {
            uri: file_uri(&root.join(rel)),
            completion_at: (line, col + utf16_len(&two)),
            definition_at: (line, col + utf16_len(&mid)),
            edit_at,
            text,
        })
    }
}

fn utf16_len(s: &str) -> u32 {
    s.encode_utf16().count() as u32
}

fn initialize_params(root: &Path, folders: &Value) -> Value {
    // What VS Code's language client announces, minus pull diagnostics: a server that sees
    // `textDocument.diagnostic` may stop pushing, and the bench times pushed diagnostics.
    json!({
        "processId": std::process::id(),
        "clientInfo": {"name": "wikilsp-bench", "version": env!("CARGO_PKG_VERSION")},
        "locale": "en",
        "rootPath": root.to_string_lossy(),
        "rootUri": folders[0]["uri"],
        "workspaceFolders": folders,
        "trace": "off",
        "capabilities": {
            "general": {
                "positionEncodings": ["utf-16"],
                "staleRequestSupport": {"cancel": true, "retryOnContentModified": [
                    "textDocument/semanticTokens/full", "textDocument/semanticTokens/range",
                    "textDocument/semanticTokens/full/delta"]},
                "regularExpressions": {"engine": "ECMAScript", "version": "ES2020"},
                "markdown": {"parser": "marked", "version": "1.1.0"}
            },
            "window": {
                "workDoneProgress": true,
                "showMessage": {"messageActionItem": {"additionalPropertiesSupport": true}},
                "showDocument": {"support": true}
            },
            "workspace": {
                "applyEdit": true,
                "workspaceEdit": {"documentChanges": true, "resourceOperations": ["create", "rename", "delete"],
                    "failureHandling": "textOnlyTransactional", "normalizesLineEndings": true},
                "didChangeConfiguration": {"dynamicRegistration": true},
                "didChangeWatchedFiles": {"dynamicRegistration": true, "relativePatternSupport": true},
                "symbol": {"dynamicRegistration": true, "resolveSupport": {"properties": ["location.range"]}},
                "executeCommand": {"dynamicRegistration": true},
                "configuration": true,
                "workspaceFolders": true,
                "fileOperations": {"dynamicRegistration": true, "didCreate": true, "didRename": true,
                    "didDelete": true, "willCreate": true, "willRename": true, "willDelete": true}
            },
            "textDocument": {
                "synchronization": {"dynamicRegistration": true, "willSave": true, "willSaveWaitUntil": true, "didSave": true},
                "completion": {
                    "dynamicRegistration": true,
                    "contextSupport": true,
                    "insertTextMode": 2,
                    "completionItem": {
                        "snippetSupport": true, "commitCharactersSupport": true,
                        "documentationFormat": ["markdown", "plaintext"], "deprecatedSupport": true,
                        "preselectSupport": true, "insertReplaceSupport": true, "labelDetailsSupport": true,
                        "tagSupport": {"valueSet": [1]},
                        "resolveSupport": {"properties": ["documentation", "detail", "additionalTextEdits"]},
                        "insertTextModeSupport": {"valueSet": [1, 2]}
                    },
                    "completionItemKind": {"valueSet": (1..=25).collect::<Vec<u32>>()},
                    "completionList": {"itemDefaults": ["commitCharacters", "editRange", "insertTextFormat", "insertTextMode", "data"]}
                },
                "hover": {"dynamicRegistration": true, "contentFormat": ["markdown", "plaintext"]},
                "definition": {"dynamicRegistration": true, "linkSupport": true},
                "references": {"dynamicRegistration": true},
                "documentSymbol": {"dynamicRegistration": true, "hierarchicalDocumentSymbolSupport": true,
                    "symbolKind": {"valueSet": (1..=26).collect::<Vec<u32>>()}},
                "documentLink": {"dynamicRegistration": true, "tooltipSupport": true},
                "rename": {"dynamicRegistration": true, "prepareSupport": true,
                    "prepareSupportDefaultBehavior": 1, "honorsChangeAnnotations": true},
                "publishDiagnostics": {"relatedInformation": true, "versionSupport": false,
                    "tagSupport": {"valueSet": [1, 2]}, "codeDescriptionSupport": true, "dataSupport": true}
            }
        }
    })
}

fn capability_warnings(caps: &Value) -> Vec<String> {
    let mut w = Vec::new();
    for (cap, what) in [
        ("completionProvider", "completion"),
        ("definitionProvider", "definition"),
        ("hoverProvider", "hover"),
        ("textDocumentSync", "document sync"),
    ] {
        if caps
            .get(cap)
            .is_none_or(|v| v.is_null() || v == &json!(false))
        {
            w.push(format!("the server does not announce {what} ({cap})"));
        }
    }
    if let Some(enc) = caps["positionEncoding"].as_str().filter(|e| *e != "utf-16") {
        w.push(format!(
            "the server chose position encoding {enc}; the bench speaks utf-16"
        ));
    }
    w
}

/// `file://` plus the path with everything but unreserved characters and `/` percent-encoded,
/// as VS Code writes it.
pub fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}

/// Whether two URIs name the same file, whichever characters each chose to percent-encode.
fn same_uri(a: &str, b: &str) -> bool {
    a == b || percent_decode(a) == percent_decode(b)
}

fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Sum of `VmHWM` over the process and its descendants: a server started through a wrapper
/// script is still measured, at the cost of adding peaks that may not have coincided.
pub fn peak_rss_kb(pid: u32) -> Option<u64> {
    let mut total = vm_hwm_kb(pid)?;
    let mut frontier = vec![pid];
    let parents: Vec<(u32, u32)> = fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|p| Some((p, parent_pid(p)?)))
        .collect();
    while let Some(parent) = frontier.pop() {
        for &(child, _) in parents.iter().filter(|(_, pp)| *pp == parent) {
            total += vm_hwm_kb(child).unwrap_or(0);
            frontier.push(child);
        }
    }
    Some(total)
}

fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn parent_pid(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses; the fields resume after the last `)`.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// One run of `rg -c '\[\['` over the vault: the floor for reading every note once.
/// `Ok(None)` when rg is not installed.
pub fn time_rg(root: &Path) -> Result<Option<Duration>, String> {
    let start = Instant::now();
    let status = Command::new("rg")
        .args(["-c", r"\[\["])
        .arg(root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let elapsed = start.elapsed();
    match status {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("rg: {e}")),
        Ok(s) if !s.success() => Err(format!("rg: {s}")),
        Ok(_) => Ok(Some(elapsed)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut v: Vec<Duration> = (1..=200).rev().map(Duration::from_millis).collect();
        let s = Stats::from_samples(&mut v);
        assert_eq!(
            (s.median, s.p95, s.max),
            (
                Duration::from_millis(100),
                Duration::from_millis(190),
                Duration::from_millis(200)
            )
        );
        assert_eq!(
            Stats::from_samples(&mut [Duration::from_millis(7)]).p95,
            Duration::from_millis(7)
        );
    }

    #[test]
    fn uris_compare_modulo_percent_encoding() {
        let uri = file_uri(Path::new("/tmp/a b/c:d.md"));
        assert_eq!(uri, "file:///tmp/a%20b/c%3Ad.md");
        assert!(same_uri(&uri, "file:///tmp/a%20b/c:d.md"));
        assert!(!same_uri(&uri, "file:///tmp/a%20b/c.md"));
    }

    #[test]
    fn probe_points_into_a_link_to_another_note() {
        let dir = tempfile::tempdir().unwrap();
        let vault = super::super::generate::generate_vault(dir.path(), 300, 2).unwrap();
        let root = dir.path().canonicalize().unwrap();
        let p = Probe::new(&vault, &root).unwrap();
        let line: Vec<u16> = p
            .text
            .split('\n')
            .nth(p.completion_at.0 as usize)
            .unwrap()
            .encode_utf16()
            .collect();
        let before = String::from_utf16(&line[..p.completion_at.1 as usize]).unwrap();
        let open = before.rfind("[[").unwrap();
        assert_eq!(before[open + 2..].chars().count(), 2, "{before}");
        let slugs = vault.slugs();
        let after = String::from_utf16(&line[open_utf16(&before, open)..]).unwrap();
        let target = after[2..].split([']', '|', ' ']).next().unwrap();
        assert!(slugs.contains(target));
    }

    fn open_utf16(s: &str, byte: usize) -> usize {
        s[..byte].encode_utf16().count()
    }
}
