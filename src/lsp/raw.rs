//! Big answers written as JSON by wikilsp itself and spliced into the output stream.
//!
//! tower-lsp turns every answer into a `serde_json::Value` tree before writing it: for a
//! location that is a dozen allocations (each key of each object is a `String`), and for the
//! 17,000 backlinks of a hub note in a 100,000-note vault it took longer than finding them.
//! So a handler with a big answer writes its JSON at once ([`RawAnswers::stash`]), answers
//! tower-lsp with a placeholder that carries a marker, and [`splice`], which every message
//! from tower-lsp passes through, puts the JSON in the placeholder's place. The marker holds a
//! number chosen at start-up, so no text of a note can look like one.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::io::{AsyncRead, AsyncReadExt, BufReader};

use super::transport::{Frame, Frames, Headers, read_headers};

/// Answers shorter than this many items go the usual way: the placeholder costs a parse.
pub const RAW_MIN_ITEMS: usize = 64;

/// How many stashed answers wait at most: one whose placeholder never comes (the request was
/// cancelled, so tower-lsp answered with an error) is dropped when newer ones push it out.
const WAITING_MAX: usize = 8;

const MARKER_PREFIX: &str = "wikilsp-raw:";

#[derive(Debug)]
pub struct RawAnswers {
    nonce: u64,
    next: AtomicU64,
    waiting: Mutex<VecDeque<(String, Vec<Vec<u8>>)>>,
    /// `waiting.len()`, read without the lock for every message.
    count: AtomicUsize,
}

impl Default for RawAnswers {
    fn default() -> Self {
        let time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let nonce = time ^ (u64::from(std::process::id()) << 32) ^ 0x9e37_79b9_7f4a_7c15;
        RawAnswers {
            nonce,
            next: AtomicU64::new(0),
            waiting: Mutex::default(),
            count: AtomicUsize::new(0),
        }
    }
}

impl RawAnswers {
    /// `value` as it goes to the client: when it holds `items` of at least [`RAW_MIN_ITEMS`],
    /// its JSON is stashed and the answer is the placeholder `placeholder` makes of the marker.
    pub fn answer<T: serde::Serialize>(
        &self,
        value: T,
        items: usize,
        placeholder: impl FnOnce(&str) -> Option<T>,
    ) -> T {
        if items < RAW_MIN_ITEMS {
            return value;
        }
        let Ok(json) = serde_json::to_vec(&value) else {
            return value;
        };
        self.stash(vec![json], placeholder).unwrap_or(value)
    }

    /// Keeps `json` (the whole `result` of an answer, in pieces to be written one after the
    /// other) for the placeholder that `placeholder`
    /// makes of its marker (which it must carry as a string; a URI works: `wikilsp-raw:…` is
    /// one), and returns that placeholder. Nothing is kept when it makes none.
    pub fn stash<T>(
        &self,
        json: Vec<Vec<u8>>,
        placeholder: impl FnOnce(&str) -> Option<T>,
    ) -> Option<T> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let marker = format!("{MARKER_PREFIX}{:x}-{n}", self.nonce);
        let answer = placeholder(&marker)?;
        let mut waiting = self.waiting.lock().unwrap();
        if waiting.len() >= WAITING_MAX {
            waiting.pop_front();
        }
        waiting.push_back((marker, json));
        self.count.store(waiting.len(), Ordering::Release);
        Some(answer)
    }

    fn take(&self, marker: &[u8]) -> Option<Vec<Vec<u8>>> {
        let mut waiting = self.waiting.lock().unwrap();
        let i = waiting.iter().position(|(m, _)| m.as_bytes() == marker)?;
        let (_, json) = waiting.remove(i)?;
        self.count.store(waiting.len(), Ordering::Release);
        Some(json)
    }

    /// `body` with its `result` replaced by the stashed JSON whose marker it carries; `None`
    /// when it carries none.
    fn splice(&self, body: &[u8]) -> Option<Spliced> {
        if self.count.load(Ordering::Acquire) == 0 {
            return None;
        }
        let at = memchr::memmem::find(body, MARKER_PREFIX.as_bytes())?;
        let len = body[at..].iter().position(|&b| b == b'"')?;
        let json = self.take(&body[at..at + len])?;
        // The placeholder answer is small: reading it whole is cheap.
        let message: serde_json::Value = serde_json::from_slice(body).ok()?;
        let id = serde_json::to_vec(message.get("id")?).ok()?;
        Some(Spliced { json, id })
    }
}

/// An answer with its stashed JSON, written in pieces (a hub's JSON is megabytes: copying it
/// into one message first cost a copy and fresh pages).
struct Spliced {
    json: Vec<Vec<u8>>,
    id: Vec<u8>,
}

impl Spliced {
    /// The body's pieces, laid out as tower-lsp lays out its answers.
    fn parts(self) -> Vec<Vec<u8>> {
        let mut parts = Vec::with_capacity(self.json.len() + 2);
        parts.push(br#"{"jsonrpc":"2.0","result":"#.to_vec());
        parts.extend(self.json);
        let mut end = br#","id":"#.to_vec();
        end.extend(self.id);
        end.push(b'}');
        parts.push(end);
        parts
    }

    #[cfg(test)]
    fn into_bytes(self) -> Vec<u8> {
        self.parts().concat()
    }
}

/// Passes tower-lsp's messages from `from` on to `to`, putting stashed answers in place of
/// their placeholders, until `from` ends.
pub async fn splice<R>(from: R, to: Frames, raw: std::sync::Arc<RawAnswers>)
where
    R: AsyncRead + Unpin,
{
    let mut reader = BufReader::with_capacity(64 * 1024, from);
    loop {
        let length = match read_headers(&mut reader).await {
            Headers::Length(n) => n,
            // tower-lsp writes nothing but well-framed messages.
            Headers::End | Headers::Invalid(_) => break,
        };
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).await.is_err() {
            break;
        }
        let frame = match raw.splice(&body) {
            Some(spliced) => Frame::new(spliced.parts()),
            None => Frame::new(vec![body]),
        };
        if to.send(frame).await.is_err() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_placeholder_gets_the_stashed_result_and_keeps_its_id() {
        let raw = RawAnswers::default();
        let marker = raw
            .stash(
                vec![br#"[{"uri":"#.to_vec(), br#""file:///a.md"}]"#.to_vec()],
                |m| Some(m.to_owned()),
            )
            .unwrap();
        let body = format!(r#"{{"jsonrpc":"2.0","result":[{{"uri":"{marker}"}}],"id":7}}"#);
        let out = raw.splice(body.as_bytes()).unwrap().into_bytes();
        let out: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            out,
            serde_json::json!({"jsonrpc": "2.0", "id": 7, "result": [{"uri": "file:///a.md"}]})
        );
        // Taken once.
        assert!(raw.splice(body.as_bytes()).is_none());
    }

    #[test]
    fn other_messages_and_unknown_markers_pass_unchanged() {
        let raw = RawAnswers::default();
        assert!(
            raw.splice(br#"{"jsonrpc":"2.0","result":null,"id":1}"#)
                .is_none()
        );
        raw.stash(vec![b"[]".to_vec()], |m| Some(m.to_owned()));
        let body = br#"{"jsonrpc":"2.0","result":"wikilsp-raw:0-0","id":1}"#;
        assert!(raw.splice(body).is_none());
    }

    #[test]
    fn small_answers_and_refused_placeholders_keep_nothing() {
        let raw = RawAnswers::default();
        let few = vec![1; RAW_MIN_ITEMS - 1];
        assert_eq!(
            raw.answer(few.clone(), few.len(), |_| Some(Vec::new())),
            few
        );
        let many = vec![1; RAW_MIN_ITEMS];
        assert_eq!(raw.answer(many.clone(), many.len(), |_| None), many);
        assert_eq!(raw.count.load(Ordering::Acquire), 0);
        assert_eq!(raw.answer(many.clone(), many.len(), |_| Some(vec![7])), [7]);
        assert_eq!(raw.count.load(Ordering::Acquire), 1);
    }

    #[test]
    fn old_answers_are_dropped_when_many_wait() {
        let raw = RawAnswers::default();
        let first = raw
            .stash(vec![b"1".to_vec()], |m| Some(m.to_owned()))
            .unwrap();
        for _ in 0..WAITING_MAX {
            raw.stash(vec![b"2".to_vec()], |m| Some(m.to_owned()));
        }
        let body = format!(r#"{{"jsonrpc":"2.0","result":"{first}","id":1}}"#);
        assert!(raw.splice(body.as_bytes()).is_none());
    }
}
