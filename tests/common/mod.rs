//! An in-memory client for end-to-end tests: it runs the real server over a duplex stream,
//! speaks JSON-RPC to it, answers its requests, and checks when dropped that the server logged
//! no error. Fixture vaults are written as one string with `//- /path.md` headers and a `$0`
//! cursor, so a test reads like the notes it checks.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};

/// A vault written to a temporary folder, and where the cursor was.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub cursor: Option<(PathBuf, usize)>,
}

impl Fixture {
    /// `//- /folder/note.md` starts a file; `$0` marks the cursor (removed from the text).
    pub fn new(spec: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let mut cursor = None;
        let mut current: Option<(PathBuf, String)> = None;
        let flush = |cur: Option<(PathBuf, String)>, cursor: &mut Option<(PathBuf, usize)>| {
            if let Some((path, mut text)) = cur {
                if let Some(i) = text.find("$0") {
                    text.replace_range(i..i + 2, "");
                    *cursor = Some((path.clone(), i));
                }
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, text).unwrap();
            }
        };
        for line in spec.split_inclusive('\n') {
            if let Some(rest) = line.trim_start().strip_prefix("//- ") {
                flush(current.take(), &mut cursor);
                let rel = rest.trim().trim_start_matches('/');
                current = Some((dir.path().join(rel), String::new()));
            } else if let Some((_, text)) = current.as_mut() {
                text.push_str(line);
            }
        }
        flush(current.take(), &mut cursor);
        Fixture { dir, cursor }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel.trim_start_matches('/'))
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }
}

pub fn uri(path: &Path) -> String {
    let mut s = String::from("file://");
    for b in path.to_str().unwrap().bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                s.push(b as char)
            }
            _ => s.push_str(&format!("%{b:02X}")),
        }
    }
    s
}

/// The LSP position (UTF-16 columns) of a byte offset, computed independently of the server.
pub fn position(text: &str, offset: usize) -> Value {
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col: usize = before[line_start..].chars().map(char::len_utf16).sum();
    json!({ "line": line, "character": col })
}

pub fn utf8_position(text: &str, offset: usize) -> Value {
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    json!({ "line": line, "character": offset - line_start })
}

/// Requests waiting for their answer.
type Pending = Arc<Mutex<HashMap<i64, oneshot::Sender<Answer>>>>;

/// A response as it arrived: its bytes, not parsed yet (a test that times many big answers
/// must not spend its time parsing them meanwhile), and when its last byte was read.
pub struct Answer {
    pub bytes: Vec<u8>,
    pub at: std::time::Instant,
}

impl Answer {
    pub fn value(&self) -> Value {
        serde_json::from_slice(&self.bytes).expect("a JSON answer")
    }
}

/// The id of a response written as tower-lsp writes them (`{"jsonrpc":"2.0","result":…,
/// "id":7}`), read from its last bytes without parsing it.
fn response_id(body: &[u8]) -> Option<i64> {
    let is_response = body.starts_with(br#"{"jsonrpc":"2.0","result":"#)
        || body.starts_with(br#"{"jsonrpc":"2.0","error":"#);
    let tail = body.strip_suffix(b"}")?;
    let at = tail.iter().rposition(|b| !b.is_ascii_digit())?;
    let digits = &tail[at + 1..];
    (is_response && tail[..at + 1].ends_with(br#","id":"#) && !digits.is_empty())
        .then(|| std::str::from_utf8(digits).ok()?.parse().ok())
        .flatten()
}

pub struct TestServer {
    writer: Box<dyn AsyncWrite + Send + Unpin>,
    pending: Pending,
    notifications: mpsc::UnboundedReceiver<Value>,
    /// Every notification seen so far (also those consumed by waits).
    pub seen: Vec<Value>,
    /// Requests the server sent us, by method.
    pub server_requests: Arc<Mutex<Vec<Value>>>,
    /// Our answers to the server's requests, waiting to be written.
    replies: Arc<Mutex<Vec<Value>>>,
    next_id: i64,
    server: ServerHandle,
    pub root: PathBuf,
    /// Whether the check that the server reported no error has run (else it runs on drop).
    checked: bool,
}

/// The server under test: a task of this process, or the real binary over stdio.
enum ServerHandle {
    Task(tokio::task::JoinHandle<wikilsp::lsp::Ending>),
    Process {
        child: tokio::process::Child,
        /// What the server wrote to stderr (its log).
        stderr: Arc<Mutex<String>>,
    },
}

/// How a server ended, as far as a test can see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The in-process server's `serve` returned this.
    Served(wikilsp::lsp::Ending),
    /// The process exited with this code (`None`: killed by a signal).
    Exited(Option<i32>),
}

/// A request sent but not yet answered (see [`TestServer::start_request`]).
pub struct InFlight {
    pub id: i64,
    /// When the request was written.
    pub sent: std::time::Instant,
    method: String,
    rx: oneshot::Receiver<Answer>,
}

impl InFlight {
    /// Where the response arrives, to await elsewhere (the server must not need answers from
    /// the client meanwhile: nobody flushes them).
    pub fn into_receiver(self) -> oneshot::Receiver<Answer> {
        self.rx
    }
}

/// The `initialize` params a client sends for the vault at `root`: the default capabilities
/// and `root` as the workspace folder, with the fields of `extra` put over them (a field set to
/// null is sent as null).
pub fn initialize_params(root: &Path, extra: Value) -> Value {
    let mut params = json!({
        "processId": null,
        "rootUri": uri(root),
        "capabilities": default_capabilities(),
        "workspaceFolders": [{ "uri": uri(root), "name": "vault" }],
    });
    if let (Some(params), Some(extra)) = (params.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            params.insert(k.clone(), v.clone());
        }
    }
    params
}

pub fn default_capabilities() -> Value {
    json!({
        "general": { "positionEncodings": ["utf-16"] },
        "window": { "workDoneProgress": true },
        "workspace": { "didChangeWatchedFiles": { "dynamicRegistration": true }, "workspaceFolders": true },
        "textDocument": {
            "completion": { "completionItem": { "snippetSupport": true } },
            "hover": { "contentFormat": ["markdown", "plaintext"] },
            "publishDiagnostics": { "versionSupport": true }
        }
    })
}

impl TestServer {
    /// Starts the server on `root` with the capabilities VS Code would send, and waits until
    /// the vault is indexed.
    pub async fn start(root: &Path) -> TestServer {
        Self::start_with(root, default_capabilities()).await
    }

    pub async fn start_with(root: &Path, capabilities: Value) -> TestServer {
        Self::start_with_params(root, json!({ "capabilities": capabilities }))
            .await
            .0
    }

    /// Starts the server with `initialize` params of [`initialize_params`] (`extra` merged in),
    /// and waits until the vault is indexed; returns the server and `initialize`'s result.
    pub async fn start_with_params(root: &Path, extra: Value) -> (TestServer, Value) {
        let mut server = Self::spawn(root);
        let result = server.initialize(extra).await;
        server.notify("initialized", json!({})).await;
        server.wait_indexed().await;
        (server, result)
    }

    /// Sends `initialize` for this server's root (params of [`initialize_params`]) and returns
    /// its result; `initialized` is left to the caller.
    pub async fn initialize(&mut self, extra: Value) -> Value {
        let params = initialize_params(&self.root.clone(), extra);
        self.request("initialize", params).await
    }

    /// The server, before `initialize`.
    pub fn spawn(root: &Path) -> TestServer {
        let (client_io, server_io) = tokio::io::duplex(1 << 20);
        let (server_read, server_write) = tokio::io::split(server_io);
        let server = tokio::spawn(wikilsp::lsp::serve(server_read, server_write));
        let (client_read, writer) = tokio::io::split(client_io);
        Self::connect(
            root,
            client_read,
            Box::new(writer),
            ServerHandle::Task(server),
        )
    }

    /// The real `wikilsp` binary (of this build) serving over stdio, before `initialize`.
    /// `log` is its `WIKILSP_LOG` filter.
    ///
    /// `WIKILSP_TEST_SERVER` names another binary to run (a release build, to measure it); the
    /// test requests are enabled in it.
    pub fn spawn_process(root: &Path, log: &str) -> TestServer {
        let binary = std::env::var("WIKILSP_TEST_SERVER")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_wikilsp").to_owned());
        let mut child = tokio::process::Command::new(binary)
            .env(wikilsp::lsp::TEST_METHODS_VAR, "1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .env("WIKILSP_LOG", log)
            .kill_on_drop(true)
            .spawn()
            .expect("cannot start the wikilsp binary");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut err = child.stderr.take().unwrap();
        let stderr: Arc<Mutex<String>> = Arc::default();
        {
            let stderr = stderr.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 8192];
                while let Ok(n) = err.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    stderr
                        .lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            });
        }
        Self::connect(
            root,
            stdout,
            Box::new(stdin),
            ServerHandle::Process { child, stderr },
        )
    }

    /// [`TestServer::spawn_process`], then `initialize` and `initialized`, and waits until the
    /// vault is indexed.
    pub async fn start_process(root: &Path, log: &str) -> TestServer {
        let mut server = Self::spawn_process(root, log);
        server.initialize(json!({})).await;
        server.notify("initialized", json!({})).await;
        server.wait_indexed().await;
        server
    }

    fn connect(
        root: &Path,
        client_read: impl AsyncRead + Send + Unpin + 'static,
        writer: Box<dyn AsyncWrite + Send + Unpin>,
        server: ServerHandle,
    ) -> TestServer {
        let pending: Pending = Arc::default();
        let server_requests: Arc<Mutex<Vec<Value>>> = Arc::default();
        let (note_tx, notifications) = mpsc::unbounded_channel();
        let replies: Arc<Mutex<Vec<Value>>> = Arc::default();
        {
            let pending = pending.clone();
            let server_requests = server_requests.clone();
            let replies = replies.clone();
            // One task reads the messages' bytes (and notes when each arrived), another parses
            // them: a slow parse of a big answer must not delay reading the next one.
            let (bytes_tx, mut bytes_rx) =
                mpsc::unbounded_channel::<(Vec<u8>, std::time::Instant)>();
            tokio::spawn(async move {
                let mut reader = BufReader::new(client_read);
                while let Some(frame) = read_frame(&mut reader).await {
                    if bytes_tx.send(frame).is_err() {
                        break;
                    }
                }
            });
            tokio::spawn(async move {
                while let Some((body, at)) = bytes_rx.recv().await {
                    if let Some(id) = response_id(&body) {
                        if let Some(tx) = pending.lock().unwrap().remove(&id) {
                            let _ = tx.send(Answer { bytes: body, at });
                        }
                        continue;
                    }
                    let Ok(msg) = serde_json::from_slice::<Value>(&body) else {
                        continue;
                    };
                    if msg.get("id").is_some() && msg.get("method").is_some() {
                        server_requests.lock().unwrap().push(msg.clone());
                        replies
                            .lock()
                            .unwrap()
                            .push(json!({ "jsonrpc": "2.0", "id": msg["id"], "result": null }));
                    } else if let Some(id) = msg.get("id").and_then(Value::as_i64) {
                        if let Some(tx) = pending.lock().unwrap().remove(&id) {
                            let _ = tx.send(Answer { bytes: body, at });
                        }
                    } else {
                        // Notifications, and answers to messages without a usable id.
                        let _ = note_tx.send(msg);
                    }
                }
            });
        }
        TestServer {
            writer,
            pending,
            notifications,
            seen: Vec::new(),
            server_requests,
            replies,
            next_id: 1,
            server,
            root: root.to_path_buf(),
            checked: false,
        }
    }

    /// The server process's id (`None` for an in-process server).
    pub fn pid(&self) -> Option<u32> {
        match &self.server {
            ServerHandle::Task(_) => None,
            ServerHandle::Process { child, .. } => child.id(),
        }
    }

    /// What the server process wrote to stderr so far (empty for an in-process server).
    pub fn stderr(&self) -> String {
        match &self.server {
            ServerHandle::Task(_) => String::new(),
            ServerHandle::Process { stderr, .. } => stderr.lock().unwrap().clone(),
        }
    }

    /// Waits (up to `secs`) for the server to end; `None` if it is still running.
    pub async fn wait_ended(&mut self, secs: u64) -> Option<Ended> {
        let limit = Duration::from_secs(secs);
        match &mut self.server {
            ServerHandle::Task(handle) => match tokio::time::timeout(limit, handle).await {
                Ok(r) => Some(Ended::Served(r.expect("the server task panicked"))),
                Err(_) => None,
            },
            ServerHandle::Process { child, .. } => {
                match tokio::time::timeout(limit, child.wait()).await {
                    Ok(r) => Some(Ended::Exited(r.unwrap().code())),
                    Err(_) => None,
                }
            }
        }
    }

    /// Closes the client's end of the input stream (stdin of a process).
    pub async fn close_input(&mut self) {
        let _ = self.writer.shutdown().await;
        // A process's stdin closes when dropped.
        self.writer = Box::new(tokio::io::sink());
    }

    /// A notification as the bytes [`TestServer::send_bytes`] writes (to prepare many).
    pub fn frame(method: &str, params: Value) -> Vec<u8> {
        let body =
            serde_json::to_vec(&json!({ "jsonrpc": "2.0", "method": method, "params": params }))
                .unwrap();
        [
            format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes(),
            body,
        ]
        .concat()
    }

    /// Writes raw bytes to the server, framing included (for malformed messages).
    pub async fn send_bytes(&mut self, bytes: &[u8]) {
        self.flush_replies().await;
        self.writer.write_all(bytes).await.unwrap();
        self.writer.flush().await.unwrap();
    }

    async fn send(&mut self, msg: Value) {
        self.flush_replies().await;
        let body = serde_json::to_vec(&msg).unwrap();
        let header = format!("Content-Length: {}\r\n\r\n", body.len());
        self.writer.write_all(header.as_bytes()).await.unwrap();
        self.writer.write_all(&body).await.unwrap();
        self.writer.flush().await.unwrap();
    }

    async fn flush_replies(&mut self) {
        let pending: Vec<Value> = std::mem::take(&mut *self.replies.lock().unwrap());
        for msg in pending {
            let body = serde_json::to_vec(&msg).unwrap();
            let header = format!("Content-Length: {}\r\n\r\n", body.len());
            self.writer.write_all(header.as_bytes()).await.unwrap();
            self.writer.write_all(&body).await.unwrap();
        }
        self.writer.flush().await.unwrap();
    }

    /// Sends a request and returns its whole response (`result` or `error`).
    pub async fn request_raw(&mut self, method: &str, params: Value) -> Value {
        let call = self.start_request(method, params).await;
        self.finish_request(call).await
    }

    /// Sends a request without waiting for its answer (see [`TestServer::finish_request`]).
    pub async fn start_request(&mut self, method: &str, params: Value) -> InFlight {
        let id = self.next_id;
        self.next_id += 1;
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, tx);
        let body = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
        let sent = std::time::Instant::now();
        self.send(body).await;
        InFlight {
            id,
            sent,
            method: method.to_owned(),
            rx,
        }
    }

    /// Waits (up to 20 s) for the whole response to a request sent with
    /// [`TestServer::start_request`].
    pub async fn finish_request(&mut self, call: InFlight) -> Value {
        let InFlight { method, mut rx, .. } = call;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            // Keep answering the server's own requests while we wait.
            tokio::select! {
                r = &mut rx => return r.expect("the server dropped the request").value(),
                _ = tokio::time::sleep(Duration::from_millis(5)) => {
                    self.flush_replies().await;
                    assert!(tokio::time::Instant::now() < deadline, "no answer to {method} within 20 s");
                }
            }
        }
    }

    /// `$/cancelRequest` for a request in flight.
    pub async fn cancel(&mut self, call: &InFlight) {
        self.notify("$/cancelRequest", json!({ "id": call.id }))
            .await;
    }

    /// Sends a request and returns its result, failing the test on an error.
    pub async fn request(&mut self, method: &str, params: Value) -> Value {
        let response = self.request_raw(method, params).await;
        if let Some(e) = response.get("error") {
            panic!("{method} failed: {e}");
        }
        response["result"].clone()
    }

    pub async fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }))
            .await;
    }

    /// Waits for a notification that satisfies `pred`, answering server requests meanwhile.
    pub async fn wait_for(&mut self, what: &str, mut pred: impl FnMut(&Value) -> bool) -> Value {
        if let Some(found) = self.seen.iter().find(|m| pred(m)) {
            return found.clone();
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            self.flush_replies().await;
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            assert!(
                !remaining.is_zero(),
                "timed out waiting for {what}; seen: {:#?}",
                self.seen
            );
            match tokio::time::timeout(
                remaining.min(Duration::from_millis(20)),
                self.notifications.recv(),
            )
            .await
            {
                Ok(Some(msg)) => {
                    self.seen.push(msg.clone());
                    if pred(&msg) {
                        return msg;
                    }
                }
                Ok(None) => panic!("the server closed the connection while waiting for {what}"),
                Err(_) => {}
            }
        }
    }

    /// Lets `ms` milliseconds pass while answering the server's requests and collecting its
    /// notifications (for a test that waits on something else meanwhile).
    pub async fn idle(&mut self, ms: u64) {
        let until = tokio::time::Instant::now() + Duration::from_millis(ms);
        loop {
            self.flush_replies().await;
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return;
            }
            if let Ok(Some(msg)) = tokio::time::timeout(
                left.min(Duration::from_millis(5)),
                self.notifications.recv(),
            )
            .await
            {
                self.seen.push(msg);
            }
        }
    }

    /// Forgets the notifications seen so far, so later waits see only new ones.
    pub fn forget_seen(&mut self) {
        while let Ok(msg) = self.notifications.try_recv() {
            self.seen.push(msg);
        }
        self.seen.clear();
    }

    pub async fn wait_indexed(&mut self) -> Value {
        self.wait_for("the end of indexing", |m| {
            m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end"
        })
        .await
    }

    /// Waits for diagnostics of `path` that satisfy `pred`; returns them.
    pub async fn diagnostics_where(
        &mut self,
        path: &Path,
        mut pred: impl FnMut(&[Value]) -> bool,
    ) -> Vec<Value> {
        let u = uri(path);
        let msg = self
            .wait_for(&format!("diagnostics of {}", path.display()), |m| {
                m["method"] == "textDocument/publishDiagnostics"
                    && m["params"]["uri"] == u.as_str()
                    && pred(m["params"]["diagnostics"].as_array().unwrap())
            })
            .await;
        msg["params"]["diagnostics"].as_array().unwrap().clone()
    }

    /// The newest diagnostics published for `path` after the server has gone quiet.
    pub async fn latest_diagnostics(&mut self, path: &Path) -> Vec<Value> {
        let u = uri(path);
        self.wait_for(&format!("diagnostics of {}", path.display()), |m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == u.as_str()
        })
        .await;
        // Let any newer publication arrive.
        tokio::time::sleep(Duration::from_millis(150)).await;
        while let Ok(msg) = self.notifications.try_recv() {
            self.seen.push(msg);
        }
        let latest = self
            .seen
            .iter()
            .rev()
            .find(|m| {
                m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == u.as_str()
            })
            .unwrap();
        latest["params"]["diagnostics"].as_array().unwrap().clone()
    }

    pub async fn open(&mut self, path: &Path) -> String {
        let text = std::fs::read_to_string(path).unwrap();
        self.open_with(path, &text).await;
        text
    }

    pub async fn open_with(&mut self, path: &Path, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri(path), "languageId": "markdown", "version": 1, "text": text } }),
        )
        .await;
    }

    /// `shutdown` (which must succeed), then `exit`, without waiting for the server to end.
    pub async fn shutdown_and_exit(&mut self) {
        self.request("shutdown", json!(null)).await;
        self.notify("exit", json!(null)).await;
    }

    pub async fn shutdown(mut self) {
        self.request("shutdown", json!(null)).await;
        self.notify("exit", json!(null)).await;
        let _ = self.wait_ended(5).await;
        self.check_no_errors();
    }

    /// The messages (`window/logMessage`) the server logged to the client so far, as
    /// `(type, text)`: 1 error, 2 warning, 3 info, 4 log.
    pub fn logs(&mut self) -> Vec<(u64, String)> {
        while let Ok(msg) = self.notifications.try_recv() {
            self.seen.push(msg);
        }
        self.seen
            .iter()
            .filter(|m| m["method"] == "window/logMessage")
            .map(|m| {
                (
                    m["params"]["type"].as_u64().unwrap_or(0),
                    m["params"]["message"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    }

    /// Waits for a logged message containing `needle`, lets later ones arrive, checks that it
    /// was logged exactly once, and returns its type.
    pub async fn logged_once(&mut self, needle: &str) -> u64 {
        self.wait_for(&format!("a log message with {needle:?}"), |m| {
            m["method"] == "window/logMessage"
                && m["params"]["message"]
                    .as_str()
                    .is_some_and(|t| t.contains(needle))
        })
        .await;
        tokio::time::sleep(Duration::from_millis(150)).await;
        let found = self.logs_with(needle);
        assert_eq!(found.len(), 1, "logged more than once: {found:#?}");
        found[0].0
    }

    /// The logged messages that contain `needle`.
    pub fn logs_with(&mut self, needle: &str) -> Vec<(u64, String)> {
        self.logs()
            .into_iter()
            .filter(|(_, m)| m.contains(needle))
            .collect()
    }

    /// The server must not have reported an error to the client: a `window/logMessage` or
    /// `window/showMessage` of type 1. Warnings (type 2) are how the server reports problems
    /// of the vault and of the client's messages; tests that provoke them assert them. Runs on
    /// drop if the test did not run it (and is not already failing).
    pub fn check_no_errors(&mut self) {
        self.checked = true;
        while let Ok(msg) = self.notifications.try_recv() {
            self.seen.push(msg);
        }
        let errors: Vec<&Value> = self
            .seen
            .iter()
            .filter(|m| {
                (m["method"] == "window/logMessage" || m["method"] == "window/showMessage")
                    && m["params"]["type"] == 1
            })
            .collect();
        assert!(errors.is_empty(), "the server reported errors: {errors:#?}");
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if !self.checked && !std::thread::panicking() {
            self.check_no_errors();
        }
    }
}

/// The body of the next message, and when its last byte was read.
async fn read_frame<R: tokio::io::AsyncBufRead + Unpin>(
    reader: &mut R,
) -> Option<(Vec<u8>, std::time::Instant)> {
    let mut len = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length: ") {
            len = v.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; len?];
    reader.read_exact(&mut body).await.ok()?;
    Some((body, std::time::Instant::now()))
}

// ---------------------------------------------------------------------------------------------
// Helpers for the feature tests: finding text in fixtures, building the expected LSP values
// independently of the server, and short forms of the requests and notifications.
// ---------------------------------------------------------------------------------------------

impl Fixture {
    /// The text of a fixture file as written to disk.
    pub fn text(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap()
    }

    pub fn uri(&self, rel: &str) -> String {
        uri(&self.path(rel))
    }

    /// The cursor's file and its UTF-16 position.
    pub fn cursor(&self) -> (PathBuf, Value) {
        let (path, offset) = self.cursor.clone().expect("the fixture has no $0 cursor");
        let text = std::fs::read_to_string(&path).unwrap();
        (path, position(&text, offset))
    }
}

/// The byte offset of `needle`, which must occur exactly once in `text`.
pub fn find(text: &str, needle: &str) -> usize {
    let first = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} is not in the text"));
    assert!(
        text.match_indices(needle).count() == 1,
        "{needle:?} occurs more than once in the text"
    );
    first
}

/// The byte offset of `inner` inside the one occurrence of `context`.
pub fn find_in(text: &str, context: &str, inner: &str) -> usize {
    let at = find(text, context);
    at + context
        .find(inner)
        .unwrap_or_else(|| panic!("{inner:?} is not in {context:?}"))
}

/// The LSP range (UTF-16) of the byte range `start..end`.
pub fn range(text: &str, start: usize, end: usize) -> Value {
    json!({ "start": position(text, start), "end": position(text, end) })
}

pub fn utf8_range(text: &str, start: usize, end: usize) -> Value {
    json!({ "start": utf8_position(text, start), "end": utf8_position(text, end) })
}

/// The range of the one occurrence of `needle`.
pub fn range_of(text: &str, needle: &str) -> Value {
    let at = find(text, needle);
    range(text, at, at + needle.len())
}

/// The range of `inner` inside the one occurrence of `context`.
pub fn range_in(text: &str, context: &str, inner: &str) -> Value {
    let at = find_in(text, context, inner);
    range(text, at, at + inner.len())
}

/// The range of the whole line holding the one occurrence of `needle`, without its line break
/// (`\n` or `\r\n`).
pub fn line_range(text: &str, needle: &str) -> Value {
    let at = find(text, needle);
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let mut end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    if text[..end].ends_with('\r') {
        end -= 1;
    }
    range(text, start, end)
}

/// The UTF-16 position of `inner` inside `context` (plus `delta` bytes).
pub fn pos_in(text: &str, context: &str, inner: &str, delta: usize) -> Value {
    position(text, find_in(text, context, inner) + delta)
}

/// The top of a note: where a link without `#Heading` leads.
pub fn top() -> Value {
    json!({ "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 0 } })
}

pub fn location(uri: &str, range: Value) -> Value {
    json!({ "uri": uri, "range": range })
}

/// The parts of a diagnostic that tests compare exactly: code, severity, range.
pub fn diag(code: &str, severity: u8, range: Value) -> Value {
    json!({ "code": code, "severity": severity, "range": range })
}

pub const ERROR: u8 = 1;
pub const WARNING: u8 = 2;
pub const HINT: u8 = 4;

/// Diagnostics as `diag` values, in a stable order.
pub fn summarize(diags: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = diags
        .iter()
        .map(|d| {
            diag(
                d["code"].as_str().unwrap_or("?"),
                d["severity"].as_u64().unwrap_or(0) as u8,
                d["range"].clone(),
            )
        })
        .collect();
    sort_diags(&mut out);
    out
}

fn sort_diags(d: &mut [Value]) {
    d.sort_by_key(|d| {
        (
            d["range"]["start"]["line"].as_u64(),
            d["range"]["start"]["character"].as_u64(),
            d["code"].as_str().map(str::to_owned),
        )
    });
}

/// Client capabilities with one change.
pub fn capabilities_with(f: impl FnOnce(&mut Value)) -> Value {
    let mut caps = default_capabilities();
    f(&mut caps);
    caps
}

/// The labels of a completion answer (a list or an array), in order.
pub fn labels(completion: &Value) -> Vec<String> {
    completion_items(completion)
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_owned())
        .collect()
}

pub fn completion_items(completion: &Value) -> Vec<Value> {
    let items = if completion.is_array() {
        completion
    } else {
        &completion["items"]
    };
    items.as_array().cloned().unwrap_or_default()
}

/// The item labelled `label`.
pub fn item(completion: &Value, label: &str) -> Value {
    completion_items(completion)
        .into_iter()
        .find(|i| i["label"] == label)
        .unwrap_or_else(|| panic!("no item {label:?} in {:#}", completion))
}

impl TestServer {
    fn doc_position(path: &Path, pos: Value) -> Value {
        json!({ "textDocument": { "uri": uri(path) }, "position": pos })
    }

    pub async fn definition(&mut self, path: &Path, pos: Value) -> Value {
        self.request("textDocument/definition", Self::doc_position(path, pos))
            .await
    }

    pub async fn hover(&mut self, path: &Path, pos: Value) -> Value {
        self.request("textDocument/hover", Self::doc_position(path, pos))
            .await
    }

    pub async fn completion(&mut self, path: &Path, pos: Value) -> Value {
        self.request("textDocument/completion", Self::doc_position(path, pos))
            .await
    }

    /// The markdown of a hover, failing when there is none.
    pub async fn hover_text(&mut self, path: &Path, pos: Value) -> String {
        let h = self.hover(path, pos).await;
        assert_eq!(h["contents"]["kind"], "markdown", "hover: {h:#}");
        h["contents"]["value"].as_str().unwrap().to_owned()
    }

    /// `didChange` with the given content changes.
    pub async fn change(&mut self, path: &Path, version: i32, changes: Value) {
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri(path), "version": version }, "contentChanges": changes }),
        )
        .await;
    }

    /// `didChange` replacing `range` by `text`.
    pub async fn edit(&mut self, path: &Path, version: i32, range: Value, text: &str) {
        self.change(path, version, json!([{ "range": range, "text": text }]))
            .await;
    }

    pub async fn close(&mut self, path: &Path) {
        self.notify(
            "textDocument/didClose",
            json!({ "textDocument": { "uri": uri(path) } }),
        )
        .await;
    }

    /// `workspace/didChangeWatchedFiles`: 1 created, 2 changed, 3 deleted.
    pub async fn watched(&mut self, changes: &[(&Path, u8)]) {
        let changes: Vec<Value> = changes
            .iter()
            .map(|(p, t)| json!({ "uri": uri(p), "type": t }))
            .collect();
        self.notify(
            "workspace/didChangeWatchedFiles",
            json!({ "changes": changes }),
        )
        .await;
    }

    /// The requests the server sent with this method.
    pub fn requests_of(&self, method: &str) -> Vec<Value> {
        self.server_requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r["method"] == method)
            .cloned()
            .collect()
    }

    /// The newest diagnostics published for `path` so far, if any.
    pub fn last_published(&mut self, path: &Path) -> Option<Vec<Value>> {
        while let Ok(msg) = self.notifications.try_recv() {
            self.seen.push(msg);
        }
        let u = uri(path);
        self.seen
            .iter()
            .rev()
            .find(|m| {
                m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == u.as_str()
            })
            .map(|m| m["params"]["diagnostics"].as_array().unwrap().clone())
    }

    /// Waits (up to `secs`) until the newest diagnostics published for `path` summarize to
    /// `expected`, and returns them in full; on a timeout, fails showing the newest ones.
    pub async fn expect_diagnostics_within(
        &mut self,
        path: &Path,
        mut expected: Vec<Value>,
        secs: u64,
    ) -> Vec<Value> {
        sort_diags(&mut expected);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            self.flush_replies().await;
            if let Some(latest) = self.last_published(path)
                && summarize(&latest) == expected
            {
                return latest;
            }
            if tokio::time::Instant::now() >= deadline {
                let latest = self.last_published(path).map(|d| summarize(&d));
                assert_eq!(
                    latest.as_ref(),
                    Some(&expected),
                    "the diagnostics of {} (left: newest published, right: expected)",
                    path.display()
                );
            }
            if let Ok(Some(msg)) =
                tokio::time::timeout(Duration::from_millis(20), self.notifications.recv()).await
            {
                self.seen.push(msg);
            }
        }
    }

    /// [`Self::expect_diagnostics_within`] five seconds.
    pub async fn expect_diagnostics(&mut self, path: &Path, expected: Vec<Value>) -> Vec<Value> {
        self.expect_diagnostics_within(path, expected, 5).await
    }
}

// ---------------------------------------------------------------------------------------------
// Applying a `WorkspaceEdit` the way an editor does, to check renames on the whole vault.
// ---------------------------------------------------------------------------------------------

/// Every file under `root`, by `/`-separated relative path, with its text.
pub fn read_tree(root: &Path) -> std::collections::BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut std::collections::BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_str().unwrap();
                out.insert(
                    rel.replace('\\', "/"),
                    std::fs::read_to_string(&path).unwrap(),
                );
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// The path of a `file://` URI (percent-decoded).
pub fn uri_path(uri: &str) -> PathBuf {
    let rest = uri.strip_prefix("file://").expect("a file URI");
    let bytes = rest.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    PathBuf::from(String::from_utf8(out).unwrap())
}

/// The byte offset of a UTF-16 LSP position, which must lie inside the text: on an existing
/// line, at most at its end, not inside a character (half of a surrogate pair) nor between the
/// `\r` and `\n` of a line break.
pub fn offset_of(text: &str, pos: &Value) -> usize {
    let line = pos["line"].as_u64().unwrap() as usize;
    let col = pos["character"].as_u64().unwrap() as usize;
    let mut start = 0;
    for _ in 0..line {
        start += text[start..]
            .find('\n')
            .unwrap_or_else(|| panic!("line {line} is past the end of the text"))
            + 1;
    }
    let mut units = 0;
    for (i, c) in text[start..].char_indices() {
        if units == col {
            return start + i;
        }
        assert!(
            c != '\n' && !(c == '\r' && text[start + i..].starts_with("\r\n")) && units < col,
            "column {col} is past the end of line {line} or inside a character"
        );
        units += c.len_utf16();
    }
    assert_eq!(units, col, "column {col} is past the end of the text");
    text.len()
}

/// The byte spans `(start, end, new text)` of one document's edits, checked as an editor
/// needs them: every position inside the text, no range ending before it starts, and no two
/// edits touching the same text (several may insert at one point, but a replacement at that
/// point must come after the insertions, as the protocol says). Returned in the order to
/// apply them from the end of the text backwards.
pub fn edit_spans(uri: &str, text: &str, edits: &[Value]) -> Vec<(usize, usize, String)> {
    let mut spans: Vec<(usize, usize, usize, String)> = edits
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let start = offset_of(text, &e["range"]["start"]);
            let end = offset_of(text, &e["range"]["end"]);
            assert!(
                start <= end,
                "an edit of {uri} with its end before its start: {e}"
            );
            (start, end, i, e["newText"].as_str().unwrap().to_owned())
        })
        .collect();
    // By position; edits at one point keep their order.
    spans.sort_by_key(|s| (s.0, s.2));
    for w in spans.windows(2) {
        let ((s1, e1, ..), (s2, ..)) = (&w[0], &w[1]);
        assert!(
            e1 <= s2 && !(s1 == s2 && s1 != e1),
            "overlapping edits in {uri}: {:?} and {:?}",
            w[0],
            w[1]
        );
    }
    spans.into_iter().map(|(s, e, _, t)| (s, e, t)).collect()
}

/// Applies a `WorkspaceEdit` to the files on disk as an editor does: each `TextDocumentEdit`
/// (UTF-16 positions, checked by [`edit_spans`]), then `rename`/`create` operations, in order.
/// Also accepts the older `changes` map, but not both forms at once, nor two edits of one
/// document (the second would have to be written against the text the first made: a server
/// that computes both on one snapshot loses text).
pub fn apply_workspace_edit(edit: &Value) {
    let apply_text = |uri: &str, edits: &[Value]| {
        let path = uri_path(uri);
        let text = std::fs::read_to_string(&path).unwrap();
        let spans = edit_spans(uri, &text, edits);
        let mut out = text.clone();
        for (start, end, new) in spans.iter().rev() {
            out.replace_range(start..end, new);
        }
        std::fs::write(&path, out).unwrap();
    };
    assert!(
        edit.get("changes").is_none() || edit.get("documentChanges").is_none(),
        "a WorkspaceEdit with both changes and documentChanges: {edit}"
    );
    if let Some(changes) = edit["changes"].as_object() {
        for (uri, edits) in changes {
            apply_text(uri, edits.as_array().unwrap());
        }
    }
    let mut edited = std::collections::HashSet::new();
    for op in edit["documentChanges"].as_array().into_iter().flatten() {
        match op["kind"].as_str() {
            None => {
                let uri = op["textDocument"]["uri"].as_str().unwrap();
                assert!(
                    edited.insert(uri.to_owned()),
                    "two TextDocumentEdits of {uri} in one WorkspaceEdit: {edit}"
                );
                apply_text(uri, op["edits"].as_array().unwrap())
            }
            Some("rename") => {
                let (old, new) = (
                    uri_path(op["oldUri"].as_str().unwrap()),
                    uri_path(op["newUri"].as_str().unwrap()),
                );
                assert!(!new.exists(), "a rename onto an existing file: {op}");
                std::fs::create_dir_all(new.parent().unwrap()).unwrap();
                std::fs::rename(old, new).unwrap();
            }
            Some("create") => {
                let path = uri_path(op["uri"].as_str().unwrap());
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                if !path.exists() {
                    std::fs::write(path, "").unwrap();
                }
            }
            Some(other) => panic!("unexpected operation {other}: {op}"),
        }
    }
}

impl TestServer {
    pub async fn prepare_rename(&mut self, path: &Path, pos: Value) -> Value {
        self.request("textDocument/prepareRename", Self::doc_position(path, pos))
            .await
    }

    /// The whole response to `textDocument/rename` (`result` or `error`).
    pub async fn rename_raw(&mut self, path: &Path, pos: Value, new_name: &str) -> Value {
        self.request_raw(
            "textDocument/rename",
            json!({ "textDocument": { "uri": uri(path) }, "position": pos, "newName": new_name }),
        )
        .await
    }

    pub async fn rename(&mut self, path: &Path, pos: Value, new_name: &str) -> Value {
        let r = self.rename_raw(path, pos, new_name).await;
        assert!(r.get("error").is_none(), "rename failed: {r}");
        r["result"].clone()
    }

    /// `workspace/willRenameFiles` for `(old, new)` paths.
    pub async fn will_rename(&mut self, files: &[(&Path, &Path)]) -> Value {
        let files: Vec<Value> = files
            .iter()
            .map(|(o, n)| json!({ "oldUri": uri(o), "newUri": uri(n) }))
            .collect();
        self.request("workspace/willRenameFiles", json!({ "files": files }))
            .await
    }

    /// `textDocument/codeAction` over `range`, with `diagnostics` as the context.
    pub async fn code_actions(
        &mut self,
        path: &Path,
        range: Value,
        diagnostics: &[Value],
    ) -> Vec<Value> {
        let answer = self
            .request(
                "textDocument/codeAction",
                json!({
                    "textDocument": { "uri": uri(path) },
                    "range": range,
                    "context": { "diagnostics": diagnostics },
                }),
            )
            .await;
        answer.as_array().cloned().unwrap_or_default()
    }
}

/// The titles of code actions, in order.
pub fn action_titles(actions: &[Value]) -> Vec<String> {
    actions
        .iter()
        .map(|a| a["title"].as_str().unwrap().to_owned())
        .collect()
}

/// The action titled `title`.
pub fn action<'a>(actions: &'a [Value], title: &str) -> &'a Value {
    actions
        .iter()
        .find(|a| a["title"] == title)
        .unwrap_or_else(|| panic!("no action {title:?} in {:?}", action_titles(actions)))
}
