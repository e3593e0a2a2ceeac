//! The client side of LSP's JSON-RPC: `Content-Length` framing, request/response routing by id,
//! replies to the server's own requests, a timestamped log of what the server sent, and the
//! server child process whose stdio carries it all.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub fn write_message(w: &mut dyn Write, msg: &Value) -> io::Result<()> {
    let body = serde_json::to_vec(msg)?;
    // One buffer, one write: a server reading byte by byte never sees a header without its body.
    let mut frame = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    frame.extend_from_slice(&body);
    w.write_all(&frame)?;
    w.flush()
}

/// Reads one framed message; `Ok(None)` at a clean end of stream between messages.
pub fn read_message(r: &mut impl BufRead) -> io::Result<Option<Value>> {
    let mut body = Vec::new();
    match read_frame(r, &mut body)? {
        true => parse_body(&body).map(Some),
        false => Ok(None),
    }
}

fn parse_body(body: &[u8]) -> io::Result<Value> {
    serde_json::from_slice(body).map_err(|e| bad(format!("bad JSON body: {e}")))
}

/// Reads the body of one framed message, unparsed, into `body` (emptied first: a reader that
/// keeps one buffer writes a big answer into memory it already has, as a client that reads
/// for a living does); `Ok(false)` at a clean end of stream.
fn read_frame(r: &mut impl BufRead, body: &mut Vec<u8>) -> io::Result<bool> {
    let mut length = None;
    let mut line = String::new();
    let mut headers = 0;
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            if headers == 0 {
                return Ok(false);
            }
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "stream ended inside a header",
            ));
        }
        let l = line.trim_end_matches(['\r', '\n']);
        if l.is_empty() {
            if headers == 0 {
                continue;
            }
            break;
        }
        headers += 1;
        let (name, value) = l
            .split_once(':')
            .ok_or_else(|| bad(format!("bad header {l:?}")))?;
        if name.trim().eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .trim()
                    .parse::<usize>()
                    .map_err(|e| bad(format!("{l:?}: {e}")))?,
            );
        }
    }
    let length = length.ok_or_else(|| bad("message without Content-Length".into()))?;
    body.clear();
    body.reserve(length);
    if r.take(length as u64).read_to_end(body)? < length {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "stream ended inside a body",
        ));
    }
    Ok(true)
}

fn bad(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// Something the server sent that was not a response: a notification, or a request (answered
/// already by the reader thread) whose arrival time may matter, like progress creation.
#[derive(Debug, Clone)]
pub struct Event {
    pub at: Instant,
    pub method: String,
    pub params: Value,
    pub is_request: bool,
}

#[derive(Debug)]
pub enum ClientError {
    Io(io::Error),
    Timeout {
        method: String,
        after: Duration,
    },
    /// The server closed its output: it exited, crashed, or broke the framing.
    Closed {
        why: String,
    },
    Response {
        method: String,
        error: Value,
    },
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Io(e) => write!(f, "I/O error talking to the server: {e}"),
            ClientError::Timeout { method, after } => {
                write!(
                    f,
                    "no answer to {method} within {:.1} s",
                    after.as_secs_f64()
                )
            }
            ClientError::Closed { why } => write!(f, "the server closed its output ({why})"),
            ClientError::Response { method, error } => write!(f, "{method} failed: {error}"),
        }
    }
}

impl From<io::Error> for ClientError {
    fn from(e: io::Error) -> Self {
        ClientError::Io(e)
    }
}

#[derive(Default)]
struct Log {
    events: Vec<Event>,
    /// Set by the reader thread when the stream ends; the reason, for error messages.
    closed: Option<String>,
}

struct Shared {
    pending: Mutex<HashMap<u64, mpsc::Sender<(Value, Instant)>>>,
    log: Mutex<Log>,
    changed: Condvar,
    writer: Mutex<Box<dyn Write + Send>>,
    /// What `workspace/workspaceFolders` answers.
    folders: Value,
}

/// A JSON-RPC connection over any pair of byte streams; a thread owns the reading side.
pub struct Connection {
    shared: Arc<Shared>,
    next_id: AtomicU64,
    reader: Option<JoinHandle<()>>,
}

/// A request sent whose response has not been collected yet.
pub struct Pending {
    pub id: u64,
    pub method: String,
    pub sent: Instant,
    rx: mpsc::Receiver<(Value, Instant)>,
}

impl Pending {
    /// The whole response message, or `Timeout` after `timeout` (the request stays pending, so
    /// waiting again is fine).
    pub fn wait(&self, timeout: Duration) -> Result<Value, ClientError> {
        self.wait_timed(timeout).map(|(v, _)| v)
    }

    /// [`Pending::wait`], with how long the response took: from the request written to the
    /// last byte of the response read.
    pub fn wait_timed(&self, timeout: Duration) -> Result<(Value, Duration), ClientError> {
        match self.rx.recv_timeout(timeout) {
            Ok((v, arrived)) => Ok((v, arrived.saturating_duration_since(self.sent))),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(ClientError::Timeout {
                method: self.method.clone(),
                after: timeout,
            }),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(ClientError::Closed {
                why: "before answering ".to_string() + &self.method,
            }),
        }
    }
}

impl Connection {
    pub fn new(
        reader: impl Read + Send + 'static,
        writer: impl Write + Send + 'static,
        folders: Value,
    ) -> Connection {
        let shared = Arc::new(Shared {
            pending: Mutex::new(HashMap::new()),
            log: Mutex::new(Log::default()),
            changed: Condvar::new(),
            writer: Mutex::new(Box::new(writer)),
            folders,
        });
        let for_thread = Arc::clone(&shared);
        let reader = thread::Builder::new()
            .name("lsp-reader".into())
            .spawn(move || read_loop(BufReader::with_capacity(1 << 16, reader), &for_thread))
            .expect("spawn the reader thread");
        Connection {
            shared,
            next_id: AtomicU64::new(1),
            reader: Some(reader),
        }
    }

    pub fn send_request(&self, method: &str, params: Value) -> Result<Pending, ClientError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel();
        self.shared.pending.lock().unwrap().insert(id, tx);
        if let Some(why) = &self.shared.log.lock().unwrap().closed {
            return Err(ClientError::Closed { why: why.clone() });
        }
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let sent = Instant::now();
        self.write(&msg)?;
        Ok(Pending {
            id,
            method: method.to_string(),
            sent,
            rx,
        })
    }

    /// Sends a request and waits for its result; an error response is an `Err`.
    pub fn request(
        &self,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value, ClientError> {
        self.request_timed(method, params, timeout).map(|(v, _)| v)
    }

    /// [`Connection::request`], with the time from the request written to the last byte of
    /// its response read.
    pub fn request_timed(
        &self,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<(Value, Duration), ClientError> {
        let pending = self.send_request(method, params)?;
        let response = pending.wait_timed(timeout);
        self.forget(pending.id);
        let (mut response, took) = response?;
        if let Some(error) = response.get("error").filter(|e| !e.is_null()) {
            return Err(ClientError::Response {
                method: method.to_string(),
                error: error.clone(),
            });
        }
        Ok((
            response
                .get_mut("result")
                .map(Value::take)
                .unwrap_or(Value::Null),
            took,
        ))
    }

    /// Drops the routing entry of a request given up on, so its late answer is discarded.
    pub fn forget(&self, id: u64) {
        self.shared.pending.lock().unwrap().remove(&id);
    }

    pub fn notify(&self, method: &str, params: Value) -> Result<(), ClientError> {
        self.write(&json!({"jsonrpc": "2.0", "method": method, "params": params}))
    }

    fn write(&self, msg: &Value) -> Result<(), ClientError> {
        let mut w = self.shared.writer.lock().unwrap();
        write_message(&mut **w, msg).map_err(|e| match &self.shared.log.lock().unwrap().closed {
            Some(why) => ClientError::Closed { why: why.clone() },
            None => ClientError::Io(e),
        })
    }

    /// How many events have arrived; a cursor for [`Connection::wait_event`].
    pub fn event_count(&self) -> usize {
        self.shared.log.lock().unwrap().events.len()
    }

    /// Events from index `from` on.
    pub fn events_from(&self, from: usize) -> Vec<Event> {
        let log = self.shared.log.lock().unwrap();
        log.events.get(from..).unwrap_or_default().to_vec()
    }

    /// The first event at index `from` or later that `pred` accepts, with its index.
    pub fn wait_event(
        &self,
        from: usize,
        deadline: Instant,
        mut pred: impl FnMut(&Event) -> bool,
    ) -> Result<(usize, Event), WaitError> {
        let mut log = self.shared.log.lock().unwrap();
        let mut next = from;
        loop {
            while next < log.events.len() {
                if pred(&log.events[next]) {
                    return Ok((next, log.events[next].clone()));
                }
                next += 1;
            }
            if let Some(why) = &log.closed {
                return Err(WaitError::Closed(why.clone()));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(WaitError::Timeout);
            }
            log = self
                .shared
                .changed
                .wait_timeout(log, deadline - now)
                .unwrap()
                .0;
        }
    }

    /// Blocks until something arrives after index `from`, the stream closes, or `deadline`.
    pub fn wait_any(&self, from: usize, deadline: Instant) -> Result<(), WaitError> {
        match self.wait_event(from, deadline, |_| true) {
            Ok(_) | Err(WaitError::Timeout) => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub fn closed(&self) -> Option<String> {
        self.shared.log.lock().unwrap().closed.clone()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum WaitError {
    Timeout,
    Closed(String),
}

impl Drop for Connection {
    fn drop(&mut self) {
        // The reader ends when the peer closes; for a child process that is after kill/wait.
        if let Some(r) = self.reader.take()
            && self.closed().is_some()
        {
            let _ = r.join();
        }
    }
}

fn read_loop(mut reader: impl BufRead, shared: &Shared) {
    let mut body = Vec::new();
    let why = loop {
        // A message's time is when its last byte arrived: parsing it is the client's work.
        let (msg, arrived) = match read_frame(&mut reader, &mut body) {
            Ok(true) => {
                let arrived = Instant::now();
                match parse_body(&body) {
                    Ok(msg) => (msg, arrived),
                    Err(e) => break format!("read error: {e}"),
                }
            }
            Ok(false) => break "end of stream".to_string(),
            Err(e) => break format!("read error: {e}"),
        };
        let method = msg
            .get("method")
            .and_then(Value::as_str)
            .map(str::to_string);
        let id = msg.get("id").filter(|id| !id.is_null()).cloned();
        match (method, id) {
            (None, Some(id)) => {
                let tx = id
                    .as_u64()
                    .and_then(|id| shared.pending.lock().unwrap().remove(&id));
                if let Some(tx) = tx {
                    let _ = tx.send((msg, arrived));
                }
            }
            (Some(method), id) => {
                let params = msg.get("params").cloned().unwrap_or(Value::Null);
                if let Some(id) = &id {
                    let reply = reply_to(&method, &params, &shared.folders, id);
                    let mut w = shared.writer.lock().unwrap();
                    if write_message(&mut **w, &reply).is_err() {
                        break "could not answer a server request".to_string();
                    }
                }
                let event = Event {
                    at: arrived,
                    method,
                    params,
                    is_request: id.is_some(),
                };
                shared.log.lock().unwrap().events.push(event);
                shared.changed.notify_all();
            }
            (None, None) => {}
        }
    };
    shared.log.lock().unwrap().closed = Some(why);
    // Dropping the senders wakes every caller still waiting for a response.
    shared.pending.lock().unwrap().clear();
    shared.changed.notify_all();
}

/// What a plain editor answers: acknowledge, configure nothing, apply no edits.
fn reply_to(method: &str, params: &Value, folders: &Value, id: &Value) -> Value {
    let result = match method {
        "window/workDoneProgress/create"
        | "client/registerCapability"
        | "client/unregisterCapability"
        | "window/showMessageRequest"
        | "window/showDocument"
        | "workspace/codeLens/refresh"
        | "workspace/semanticTokens/refresh"
        | "workspace/inlayHint/refresh"
        | "workspace/inlineValue/refresh"
        | "workspace/diagnostic/refresh" => Value::Null,
        "workspace/configuration" => {
            let n = params
                .get("items")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            Value::Array(vec![Value::Null; n])
        }
        "workspace/workspaceFolders" => folders.clone(),
        "workspace/applyEdit" => json!({"applied": false}),
        _ => {
            return json!({"jsonrpc": "2.0", "id": id,
                "error": {"code": -32601, "message": format!("bench client does not handle {method}")}});
        }
    };
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// A language server running as a child process, spoken to over its stdin/stdout.
pub struct ServerProcess {
    child: Child,
    pub conn: Connection,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
}

const STDERR_LINES_KEPT: usize = 30;

impl ServerProcess {
    pub fn spawn(cmd: &[String], cwd: &Path, folders: Value) -> io::Result<ServerProcess> {
        let (program, args) = cmd
            .split_first()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty server command"))?;
        let mut child = Command::new(program)
            .args(args)
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot start {program:?}: {e}")))?;
        let stdin: ChildStdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");

        // A chatty server blocks once its stderr pipe fills, so it is drained; the tail explains
        // a crash.
        let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
        let tail = Arc::clone(&stderr_tail);
        thread::Builder::new()
            .name("lsp-stderr".into())
            .spawn(move || {
                let mut r = BufReader::new(stderr);
                let mut line = Vec::new();
                while matches!(r.read_until(b'\n', &mut line), Ok(n) if n > 0) {
                    let mut t = tail.lock().unwrap();
                    if t.len() == STDERR_LINES_KEPT {
                        t.pop_front();
                    }
                    t.push_back(String::from_utf8_lossy(&line).trim_end().to_string());
                    line.clear();
                }
            })?;

        let conn = Connection::new(stdout, stdin, folders);
        Ok(ServerProcess {
            child,
            conn,
            stderr_tail,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status and the last stderr lines, to explain a failure.
    pub fn post_mortem(&mut self) -> String {
        // The process may still be closing down after its output ended.
        let deadline = Instant::now() + Duration::from_millis(300);
        let mut status = self.child.try_wait().ok().flatten();
        while status.is_none() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
            status = self.child.try_wait().ok().flatten();
        }
        let mut s = match status {
            Some(st) => format!("server exited: {st}"),
            None => "server still running".to_string(),
        };
        let tail = self.stderr_tail.lock().unwrap();
        if !tail.is_empty() {
            s.push_str("; last lines of its stderr:");
            for l in tail.iter() {
                s.push_str("\n    ");
                s.push_str(l);
            }
        }
        s
    }

    /// `shutdown`, then `exit`, then up to 5 s for the process to end before it is killed.
    pub fn shutdown(mut self) -> Result<ExitStatus, String> {
        let grace = Duration::from_secs(5);
        let answered = self.conn.request("shutdown", Value::Null, grace);
        let _ = self.conn.notify("exit", Value::Null);
        let deadline = Instant::now() + grace;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    return match answered {
                        Ok(_) => Ok(status),
                        Err(e) => Err(format!("shutdown: {e}; {status}")),
                    };
                }
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return Err("the server did not exit within 5 s of `exit`; killed it".into());
                }
            }
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_round_trips_and_tolerates_extra_headers() {
        let mut buf = Vec::new();
        write_message(&mut buf, &json!({"a": "é"})).unwrap();
        buf.extend_from_slice(b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n");
        buf.extend_from_slice(b"content-length: 2\r\n\r\n{}");
        let mut r = io::Cursor::new(buf);
        assert_eq!(read_message(&mut r).unwrap(), Some(json!({"a": "é"})));
        assert_eq!(read_message(&mut r).unwrap(), Some(json!({})));
        assert_eq!(read_message(&mut r).unwrap(), None);
        let mut cut = io::Cursor::new(b"Content-Length: 10\r\n\r\n{}".to_vec());
        assert!(read_message(&mut cut).is_err());
    }

    /// A fake server on the far end of two pipes: it asks the client something, sends
    /// notifications, then answers the client's requests out of order.
    #[test]
    fn routes_responses_answers_server_requests_and_logs_notifications() {
        let (client_in, mut server_out) = io::pipe().unwrap();
        let (server_in, client_out) = io::pipe().unwrap();
        let server = thread::spawn(move || {
            let mut r = BufReader::new(server_in);
            let first = read_message(&mut r).unwrap().unwrap();
            let second = read_message(&mut r).unwrap().unwrap();
            assert_eq!(first["method"], "one");
            let ask = json!({"jsonrpc": "2.0", "id": "srv-1", "method": "workspace/configuration",
                "params": {"items": [{}, {}]}});
            write_message(&mut server_out, &ask).unwrap();
            let answer = read_message(&mut r).unwrap().unwrap();
            assert_eq!(answer["id"], "srv-1");
            assert_eq!(answer["result"], json!([null, null]));
            let note = json!({"jsonrpc": "2.0", "method": "$/progress",
                "params": {"token": "t", "value": {"kind": "end"}}});
            write_message(&mut server_out, &note).unwrap();
            for (req, result) in [(&second, json!(2)), (&first, json!(1))] {
                let resp = json!({"jsonrpc": "2.0", "id": req["id"], "result": result});
                write_message(&mut server_out, &resp).unwrap();
            }
            // The server then exits: its end of the pipes closes.
        });

        let conn = Connection::new(client_in, client_out, Value::Null);
        let one = conn.send_request("one", json!({})).unwrap();
        let two = conn.send_request("two", json!({})).unwrap();
        let t = Duration::from_secs(5);
        assert_eq!(two.wait(t).unwrap()["result"], 2);
        assert_eq!(one.wait(t).unwrap()["result"], 1);
        let deadline = Instant::now() + t;
        let (i, ev) = conn
            .wait_event(0, deadline, |e| e.method == "$/progress")
            .unwrap();
        assert_eq!(ev.params["value"]["kind"], "end");
        assert!(
            conn.events_from(0)[0].is_request,
            "the configuration request is logged first"
        );
        assert_eq!(i, 1);
        server.join().unwrap();
        assert!(matches!(
            conn.wait_event(2, deadline, |_| true),
            Err(WaitError::Closed(_))
        ));
        let late = conn.request("three", json!({}), t);
        assert!(matches!(late, Err(ClientError::Closed { .. })), "{late:?}");
    }
}
