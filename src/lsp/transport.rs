//! The client's byte stream, made safe for tower-lsp. Its reader stops for good at the first
//! message it cannot decode (bad JSON, a body that is not a JSON-RPC message, invalid UTF-8, a
//! missing `Content-Length`, a charset it does not know): one stray message would end the
//! session. So the input passes through [`sanitize`] first, which re-frames every message the
//! reader would take unchanged, and replaces each one it would choke on by a request for the
//! error answer JSON-RPC prescribes (served by [`INVALID_MESSAGE`]).

use std::borrow::Cow;

use serde::{Deserialize, Deserializer};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Id};

/// Standard input as an async stream, read by a thread of its own (and sanitized on its way,
/// see [`sanitize`]), and standard output as the sending end of the messages to write, which
/// a thread of its own writes. (tokio's own stdin and stdout hand every read and write to the
/// blocking pool: a thread hop per message, which a busy machine made slow enough to stall the
/// server's output, and with it every request behind it; and a read of stdin left pending kept
/// the runtime from shutting down.) The receiver returned hears when the output thread has
/// written everything.
pub fn stdio() -> (
    tokio::io::DuplexStream,
    Frames,
    std::sync::mpsc::Receiver<()>,
) {
    let handle = tokio::runtime::Handle::current();
    let (input, mut to_server) = tokio::io::duplex(1 << 20);
    std::thread::Builder::new()
        .name("wikilsp-stdin".into())
        .spawn(move || {
            // The sanitizer runs here, on the thread that reads: no hop to another thread
            // between a message's arrival and the server. (A blocking read inside a future is
            // fine on a thread that runs nothing else.)
            handle.block_on(sanitize(Blocking(std::io::stdin()), &mut to_server));
            // Dropping `to_server` ends the server's input.
        })
        .expect("cannot start the stdin thread");
    let (frames, waiting) = tokio::sync::mpsc::channel::<Frame>(FRAMES_WAITING);
    let (done, written) = std::sync::mpsc::channel();
    let clock = tokio::runtime::Handle::current();
    std::thread::Builder::new()
        .name("wikilsp-stdout".into())
        .spawn(move || {
            write_until_closed(waiting, &mut *raw_stdout(), &clock, TRIM_WHEN_QUIET);
            let _ = done.send(());
        })
        .expect("cannot start the stdout thread");
    (input, frames, written)
}

/// Writes the messages that come through `waiting` to `out` (on a thread of its own, whose
/// blocking is fine) until every sender is gone or `out` fails. The messages already waiting
/// go out in one write. After a big one, the memory freed meanwhile is given back once no
/// message came for `quiet` (see [`TRIM_WHEN_QUIET`]).
fn write_until_closed(
    mut waiting: tokio::sync::mpsc::Receiver<Frame>,
    out: &mut dyn std::io::Write,
    clock: &tokio::runtime::Handle,
    quiet: std::time::Duration,
) {
    let mut batch = Vec::new();
    let mut trim_due = false;
    loop {
        let next = if trim_due {
            let next = clock.block_on(async { tokio::time::timeout(quiet, waiting.recv()).await });
            match next {
                Ok(next) => next,
                Err(_) => {
                    super::indexing::give_back_freed_memory();
                    trim_due = false;
                    continue;
                }
            }
        } else {
            waiting.blocking_recv()
        };
        let Some(frame) = next else {
            return;
        };
        batch.push(frame);
        while batch.len() < FRAMES_WAITING
            && let Ok(frame) = waiting.try_recv()
        {
            batch.push(frame);
        }
        if write_frames_blocking(out, &batch).is_err() {
            return;
        }
        trim_due |= batch.iter().map(Frame::bytes).sum::<usize>() >= BIG_FRAME;
        batch.clear();
    }
}

/// Standard output without the standard library's buffer where there is a file descriptor
/// (its stdout is line-buffered, and cut every message at its header's line breaks). When it
/// is a pipe, the pipe is made to hold a megabyte: a hub's answer of a few megabytes then
/// crosses in a few turns of the client's reading, not in forty.
fn raw_stdout() -> Box<dyn std::io::Write + Send> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        if let Ok(fd) = std::io::stdout().as_fd().try_clone_to_owned() {
            #[cfg(target_os = "linux")]
            // SAFETY: `fcntl` with `F_SETPIPE_SZ` only resizes the pipe's buffer (failing on a
            // descriptor that is no pipe, or past the system's limit, which leaves it as it was);
            // `fd` is an open descriptor we own.
            unsafe {
                use std::os::fd::AsRawFd;
                libc::fcntl(fd.as_raw_fd(), libc::F_SETPIPE_SZ, PIPE_BYTES);
            }
            return Box::new(std::fs::File::from(fd));
        }
    }
    Box::new(std::io::stdout())
}

/// How big the output pipe is made (the most Linux allows without privileges by default).
#[cfg(target_os = "linux")]
const PIPE_BYTES: libc::c_int = 1 << 20;

/// How many messages wait at most for the output: then the server waits for the client to
/// read.
pub(super) const FRAMES_WAITING: usize = 64;

/// After writing this many bytes at once, the memory freed meanwhile is given back to the
/// system (see `give_back_freed_memory`): a hub's answer and what went into making it...
const BIG_FRAME: usize = 1 << 20;

/// ...once the output has been quiet this long. Giving it back takes a millisecond or more,
/// holding the allocator's locks against the requests that come next (the user is still
/// looking around: completion, another hub's references), and those would then take fresh
/// pages from the system for what the freed memory would have held.
const TRIM_WHEN_QUIET: std::time::Duration = std::time::Duration::from_secs(1);

/// A message on its way to the client: its header and body, in pieces written one after the
/// other (a big answer's pieces are moved here, never copied into one buffer).
#[derive(Debug, Default)]
pub struct Frame(Vec<Vec<u8>>);

impl Frame {
    /// The message whose body is `parts` one after the other.
    pub fn new(parts: Vec<Vec<u8>>) -> Frame {
        let len: usize = parts.iter().map(Vec::len).sum();
        let mut pieces = Vec::with_capacity(parts.len() + 1);
        pieces.push(format!("Content-Length: {len}\r\n\r\n").into_bytes());
        pieces.extend(parts);
        Frame(pieces)
    }

    /// Bytes, header included.
    fn bytes(&self) -> usize {
        self.0.iter().map(Vec::len).sum()
    }
}

/// Where the server's messages go.
pub type Frames = tokio::sync::mpsc::Sender<Frame>;

/// Writes every piece of `frames` to `out`, in as few calls as the system allows.
fn write_frames_blocking(out: &mut dyn std::io::Write, frames: &[Frame]) -> std::io::Result<()> {
    use std::io::{ErrorKind, IoSlice};
    let mut slices: Vec<IoSlice> = frames
        .iter()
        .flat_map(|f| &f.0)
        .filter(|p| !p.is_empty())
        .map(|p| IoSlice::new(p))
        .collect();
    let mut left = &mut slices[..];
    while !left.is_empty() {
        match out.write_vectored(left) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut left, n),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    out.flush()
}

/// Writes the messages that come through `frames` to `out`, until every sender is gone: the
/// output of a server that serves over a stream (see `lsp::serve`).
pub async fn write_frames<O: AsyncWrite + Unpin>(
    mut frames: tokio::sync::mpsc::Receiver<Frame>,
    mut out: O,
) {
    while let Some(frame) = frames.recv().await {
        for part in &frame.0 {
            if out.write_all(part).await.is_err() {
                return;
            }
        }
        if out.flush().await.is_err() {
            return;
        }
    }
}

/// A blocking reader as an `AsyncRead` whose reads block: only for a thread of its own.
struct Blocking<R>(R);

impl<R: std::io::Read + Unpin> AsyncRead for Blocking<R> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let n = std::io::Read::read(&mut self.0, buf.initialize_unfilled())?;
        buf.advance(n);
        std::task::Poll::Ready(Ok(()))
    }
}

/// The method of the requests that stand for broken messages: answered with the error in
/// their params.
pub const INVALID_MESSAGE: &str = "wikilsp/invalidMessage";

/// Longest header line read (a longer one is garbage).
const MAX_HEADER_LINE: u64 = 8 * 1024;

/// Copies LSP messages from `input` to `output` until `input` ends, each framed with only its
/// `Content-Length`; a message tower-lsp could not decode becomes an [`INVALID_MESSAGE`]
/// request.
///
/// Changes of one document that are already waiting, one after the other, are sent on as one
/// `didChange` with all their changes in order (the same edit): when the client types faster
/// than the server reads, the server catches up in one step rather than message by message,
/// and a request behind them waits that much less.
pub async fn sanitize<I, O>(input: I, mut output: O)
where
    I: AsyncRead + Unpin,
    O: AsyncWrite + Unpin,
{
    let mut reader = BufReader::with_capacity(64 * 1024, input);
    let mut held: Option<HeldChange> = None;
    loop {
        // A change is held only while the next message is already here.
        if held.is_some() && !frame_waiting(reader.buffer()) {
            let change = held.take().expect("checked");
            if write_frame(&mut output, &change.body()).await.is_err() {
                return;
            }
        }
        let length = match read_headers(&mut reader).await {
            Headers::End => break,
            Headers::Length(n) => n,
            Headers::Invalid(why) => {
                tracing::warn!("a message with bad headers ({why}); skipped");
                let stand_in = invalid(Id::Null, ErrorCode::ParseError, why);
                if flush_held(&mut output, &mut held).await.is_err()
                    || write_frame(&mut output, &stand_in).await.is_err()
                {
                    return;
                }
                continue;
            }
        };
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).await.is_err() {
            break;
        }
        let frame = match check(&body) {
            Ok(()) => body,
            Err((id, code, why)) => {
                tracing::warn!("an invalid message ({why}); answered with an error");
                invalid(id, code, why)
            }
        };
        if let Some(change) = HeldChange::read(&frame) {
            match &mut held {
                Some(h) if h.takes(&change) => h.merge(change),
                _ => {
                    if flush_held(&mut output, &mut held).await.is_err() {
                        return;
                    }
                    held = Some(change);
                }
            }
            continue;
        }
        if flush_held(&mut output, &mut held).await.is_err()
            || write_frame(&mut output, &frame).await.is_err()
        {
            return;
        }
    }
    let _ = flush_held(&mut output, &mut held).await;
}

/// At most this many changes go into one merged `didChange`.
const MAX_MERGED: usize = 1_000;

/// A `didChange` not sent on yet, to which the next ones of its document are added.
struct HeldChange {
    uri: String,
    version: i64,
    changes: Vec<serde_json::Value>,
    message: serde_json::Value,
}

impl HeldChange {
    fn read(body: &[u8]) -> Option<HeldChange> {
        // Most messages are not changes: no parse for them.
        memchr::memmem::find(body, b"\"textDocument/didChange\"")?;
        let mut message: serde_json::Value = serde_json::from_slice(body).ok()?;
        if message.get("method")? != "textDocument/didChange" || message.get("id").is_some() {
            return None;
        }
        let params = message.get_mut("params")?;
        let uri = params.pointer("/textDocument/uri")?.as_str()?.to_owned();
        let version = params.pointer("/textDocument/version")?.as_i64()?;
        let changes = match params.get_mut("contentChanges")?.take() {
            serde_json::Value::Array(changes) => changes,
            _ => return None,
        };
        Some(HeldChange {
            uri,
            version,
            changes,
            message,
        })
    }

    /// Whether `next` can follow in the same message: same document, a newer version (one
    /// that goes backwards stays a message of its own, for the server to see).
    fn takes(&self, next: &HeldChange) -> bool {
        next.uri == self.uri
            && next.version > self.version
            && self.changes.len() + next.changes.len() <= MAX_MERGED
    }

    fn merge(&mut self, next: HeldChange) {
        self.version = next.version;
        self.changes.extend(next.changes);
    }

    fn body(mut self) -> Vec<u8> {
        self.message["params"]["textDocument"]["version"] = self.version.into();
        self.message["params"]["contentChanges"] = serde_json::Value::Array(self.changes);
        serde_json::to_vec(&self.message).expect("a JSON value serializes")
    }
}

async fn flush_held<O: AsyncWrite + Unpin>(
    output: &mut O,
    held: &mut Option<HeldChange>,
) -> std::io::Result<()> {
    match held.take() {
        Some(change) => write_frame(output, &change.body()).await,
        None => Ok(()),
    }
}

/// Whether `buffer` starts with a whole message (headers and body), blank lines aside.
fn frame_waiting(buffer: &[u8]) -> bool {
    let Some(end) = memchr::memmem::find(buffer, b"\r\n\r\n") else {
        return false;
    };
    let headers = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
    let length = headers.lines().find_map(|l| {
        l.trim()
            .strip_prefix("content-length:")
            .and_then(|v| v.trim().parse::<usize>().ok())
    });
    length.is_some_and(|n| buffer.len() >= end + 4 + n)
}

pub(super) enum Headers {
    Length(usize),
    Invalid(String),
    End,
}

/// Reads one header block. Blank lines before it are skipped; junk before a `Content-Length`
/// header on its line is dropped, as tower-lsp's reader skips to the next one.
pub(super) async fn read_headers<R: AsyncBufReadExt + Unpin>(reader: &mut R) -> Headers {
    let mut length: Option<Result<usize, String>> = None;
    let mut lines = 0;
    loop {
        let mut line = Vec::new();
        match (&mut *reader)
            .take(MAX_HEADER_LINE)
            .read_until(b'\n', &mut line)
            .await
        {
            Ok(0) | Err(_) => return Headers::End,
            Ok(_) => {}
        }
        let complete = line.ends_with(b"\n");
        while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            line.pop();
        }
        if line.is_empty() && complete {
            if lines == 0 {
                continue;
            }
            return match length {
                Some(Ok(n)) => Headers::Length(n),
                Some(Err(why)) => Headers::Invalid(why),
                None => Headers::Invalid("no Content-Length header".to_owned()),
            };
        }
        lines += 1;
        if !complete {
            // A header line too long to be one: junk up to the next line.
            length = Some(Err("a header line too long".to_owned()));
            continue;
        }
        let text = String::from_utf8_lossy(&line);
        const NAME: &str = "content-length:";
        if let Some(at) = text.to_ascii_lowercase().find(NAME)
            && let Some(value) = text.get(at + NAME.len()..)
        {
            length = Some(
                value
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| format!("a bad Content-Length: {:?}", value.trim())),
            );
        }
        // Other headers (Content-Type) are not needed: the body is UTF-8 JSON or refused.
    }
}

/// The shape tower-lsp's `Request` reads (every message it takes reads as one): `jsonrpc`
/// must be "2.0", `method` a string, `id` a number, string or null; `params` anything.
#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(borrow)]
    jsonrpc: Cow<'a, str>,
    #[serde(borrow, default)]
    #[allow(dead_code)]
    method: Cow<'a, str>,
    #[serde(default)]
    #[allow(dead_code)]
    params: Option<serde::de::IgnoredAny>,
    #[serde(default, deserialize_with = "some")]
    #[allow(dead_code)]
    id: Option<Id>,
}

fn some<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// Whether tower-lsp will decode this body; if not, the id to answer (when one can be read)
/// and the error.
fn check(body: &[u8]) -> Result<(), (Id, ErrorCode, String)> {
    if body.is_empty() {
        return Ok(());
    }
    match serde_json::from_slice::<Probe>(body) {
        Ok(p) if p.jsonrpc == "2.0" => return Ok(()),
        Ok(p) => {
            return Err((
                p.id.unwrap_or(Id::Null),
                ErrorCode::InvalidRequest,
                format!("jsonrpc must be \"2.0\", not {:?}", p.jsonrpc),
            ));
        }
        Err(_) => {}
    }
    let value: serde_json::Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return Err((Id::Null, ErrorCode::ParseError, format!("not JSON: {e}"))),
    };
    // JSON, but not a message: answer its id if it has a usable one.
    let id = value
        .get("id")
        .and_then(|id| Id::deserialize(id).ok())
        .unwrap_or(Id::Null);
    Err((
        id,
        ErrorCode::InvalidRequest,
        "not a JSON-RPC 2.0 message".to_owned(),
    ))
}

/// The body of the request that stands for a broken message.
fn invalid(id: Id, code: ErrorCode, message: String) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "jsonrpc": "2.0",
        "id": id,
        "method": INVALID_MESSAGE,
        "params": { "code": code.code(), "message": message },
    }))
    .expect("a JSON value serializes")
}

pub(super) async fn write_frame<O: AsyncWrite + Unpin>(
    output: &mut O,
    body: &[u8],
) -> std::io::Result<()> {
    output
        .write_all(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes())
        .await?;
    output.write_all(body).await?;
    output.flush().await
}

/// The answer to an [`INVALID_MESSAGE`] request: the error it carries.
pub fn invalid_message_error(params: &serde_json::Value) -> Error {
    Error {
        code: ErrorCode::from(params["code"].as_i64().unwrap_or(-32600)),
        message: Cow::Owned(format!(
            "wikilsp: {}",
            params["message"].as_str().unwrap_or("an invalid message")
        )),
        data: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The output thread writes every message whole and in order, a big answer's pieces one
    /// after the other, goes on after the quiet that follows a big one (when it gives memory
    /// back), and ends when the senders are gone.
    #[test]
    fn the_output_writes_every_message_and_goes_on_after_a_quiet() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (frames, waiting) = tokio::sync::mpsc::channel::<Frame>(FRAMES_WAITING);
        let clock = runtime.handle().clone();
        let quiet = std::time::Duration::from_millis(20);
        let writer = std::thread::spawn(move || {
            let mut out = Vec::new();
            write_until_closed(waiting, &mut out, &clock, quiet);
            out
        });
        let big: Vec<Vec<u8>> = (0..3).map(|i| vec![b'a' + i; BIG_FRAME / 2]).collect();
        frames.blocking_send(Frame::new(big.clone())).unwrap();
        std::thread::sleep(quiet * 5);
        frames
            .blocking_send(Frame::new(vec![b"{}".to_vec()]))
            .unwrap();
        frames
            .blocking_send(Frame::new(vec![b"[".to_vec(), b"]".to_vec()]))
            .unwrap();
        drop(frames);
        let out = writer.join().unwrap();
        let mut expected = format!("Content-Length: {}\r\n\r\n", 3 * (BIG_FRAME / 2)).into_bytes();
        expected.extend(big.concat());
        expected.extend(b"Content-Length: 2\r\n\r\n{}Content-Length: 2\r\n\r\n[]");
        assert!(out == expected, "{} bytes written", out.len());
    }

    async fn run(input: &[u8]) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        sanitize(input, &mut out).await;
        let mut reader = &out[..];
        let mut messages = Vec::new();
        while !reader.is_empty() {
            let text = std::str::from_utf8(reader).unwrap();
            let header_end = text.find("\r\n\r\n").unwrap();
            let len: usize = text["Content-Length: ".len()..header_end].parse().unwrap();
            let body = &reader[header_end + 4..header_end + 4 + len];
            messages.push(serde_json::from_slice(body).unwrap());
            reader = &reader[header_end + 4 + len..];
        }
        messages
    }

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    #[tokio::test]
    async fn good_messages_pass_unchanged_and_bad_ones_become_error_requests() {
        let good = r#"{"jsonrpc":"2.0","id":1,"method":"textDocument/hover","params":{}}"#;
        let input = [
            frame(good),
            frame("{ not json"),
            frame(r#"{"jsonrpc":"1.0","id":7,"method":"x"}"#),
            frame(r#"{"jsonrpc":"2.0","id":{"a":1},"method":"x"}"#),
            "Content-Length: zz\r\n\r\n".to_owned(),
            "garbage line\r\n\r\n".to_owned(),
            format!(
                "Content-Type: application/vscode-jsonrpc; charset=UTF-8\r\n{}",
                frame(good)
            ),
            format!("junk{}", frame(good)),
        ]
        .concat();
        let out = run(input.as_bytes()).await;
        let good: serde_json::Value = serde_json::from_str(good).unwrap();
        assert_eq!(out[0], good);
        assert_eq!(out[1]["method"], INVALID_MESSAGE);
        assert_eq!(out[1]["id"], serde_json::Value::Null);
        assert_eq!(out[1]["params"]["code"], -32700);
        assert_eq!(out[2]["id"], 7);
        assert_eq!(out[2]["params"]["code"], -32600);
        assert_eq!(out[3]["id"], serde_json::Value::Null);
        assert_eq!(out[3]["params"]["code"], -32600);
        assert_eq!(out[4]["params"]["code"], -32700);
        assert_eq!(out[5]["params"]["code"], -32700);
        assert_eq!(out[6], good);
        assert_eq!(out[7], good);
        assert_eq!(out.len(), 8);
    }

    fn change(uri: &str, version: i64, text: &str) -> String {
        frame(
            &serde_json::to_string(&json!({
                "jsonrpc": "2.0", "method": "textDocument/didChange",
                "params": { "textDocument": { "uri": uri, "version": version },
                            "contentChanges": [{ "text": text }] },
            }))
            .unwrap(),
        )
    }

    #[tokio::test]
    async fn changes_already_waiting_are_merged_in_order() {
        let hover = r#"{"jsonrpc":"2.0","id":1,"method":"textDocument/hover","params":{}}"#;
        let input = [
            change("file:///a.md", 2, "x"),
            change("file:///a.md", 3, "y"),
            change("file:///a.md", 4, "z"),
            frame(hover),
            change("file:///a.md", 5, "after the request"),
            change("file:///b.md", 2, "another document"),
            change("file:///b.md", 1, "a version going back"),
        ]
        .concat();
        let out = run(input.as_bytes()).await;
        let texts = |m: &serde_json::Value| -> Vec<String> {
            m["params"]["contentChanges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["text"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(out.len(), 5, "{out:#?}");
        assert_eq!(texts(&out[0]), ["x", "y", "z"]);
        assert_eq!(out[0]["params"]["textDocument"]["version"], 4);
        assert_eq!(out[1]["method"], "textDocument/hover");
        assert_eq!(texts(&out[2]), ["after the request"]);
        assert_eq!(out[3]["params"]["textDocument"]["uri"], "file:///b.md");
        assert_eq!(out[4]["params"]["textDocument"]["version"], 1);
    }

    #[tokio::test]
    async fn a_change_is_not_held_while_waiting_for_more_input() {
        let (mut client, server_in) = tokio::io::duplex(1 << 16);
        let (out_writer, mut out_reader) = tokio::io::duplex(1 << 16);
        let pump = tokio::spawn(sanitize(server_in, out_writer));
        client
            .write_all(change("file:///a.md", 2, "x").as_bytes())
            .await
            .unwrap();
        // Nothing follows, and the input stays open: the change must come through anyway.
        let mut got = vec![0u8; 16];
        tokio::time::timeout(
            std::time::Duration::from_secs(5),
            out_reader.read_exact(&mut got),
        )
        .await
        .expect("the change came through")
        .unwrap();
        assert!(got.starts_with(b"Content-Length: "));
        drop(client);
        pump.await.unwrap();
    }

    #[tokio::test]
    async fn a_message_cut_short_ends_the_input() {
        let out = run(b"Content-Length: 100\r\n\r\n{\"jsonrpc\"").await;
        assert!(out.is_empty());
    }
}
