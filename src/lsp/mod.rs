//! The protocol layer: tower-lsp glue, document sync, indexing with progress, file watching,
//! and the translation of `ide` results into LSP types. Only this module knows LSP.

pub mod convert;
mod diagnostics;
mod indexing;
mod raw;
mod stale;
mod state;
mod transport;

pub use state::apply_change;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite};
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer, LspService, Server};

use crate::config::{self, Config};
use crate::ide::{self, FilePosition};
use crate::syntax;
use convert::Encoding;
use diagnostics::DiagnosticsWorker;
use stale::{Edits, Scope};
use state::{Snapshot, State, uri_to_path};

/// What the client told us it can do, as far as we care.
#[derive(Debug, Clone, Copy, Default)]
struct ClientCaps {
    snippets: bool,
    work_done_progress: bool,
    dynamic_file_watching: bool,
    markdown_hover: bool,
    /// VS Code (or a fork): its `editor.action.showReferences` shows a code lens's links.
    vscode: bool,
    code_lens_refresh: bool,
}

pub struct WikiLsp {
    client: Client,
    state: Arc<State>,
    caps: Mutex<ClientCaps>,
    diagnostics: DiagnosticsWorker,
    /// Keeps our own file watcher alive when the client cannot watch for us.
    watcher: Mutex<Option<indexing::Watcher>>,
    /// Problems found in the configuration at start, shown once the client is ready.
    config_problems: Mutex<Vec<String>>,
    /// The client's settings (`initializationOptions`, then `didChangeConfiguration`), which
    /// win over `.wikilsp.toml`.
    client_settings: Mutex<Option<serde_json::Value>>,
    /// Big answers written as JSON, waiting for their placeholders (see [`raw`]).
    raw: Arc<raw::RawAnswers>,
    /// Set by `shutdown`: the exit code depends on it.
    shut_down: Arc<AtomicBool>,
    /// The client's protocol problems already logged to it, by kind and URI: each is logged
    /// once, however often the client repeats it.
    logged: Mutex<std::collections::HashSet<(&'static str, String)>>,
    /// The editor's edits, for telling which requests they made stale.
    edits: Edits,
    /// Requests dropped (cancelled, or made stale) before their work began, which was then
    /// skipped.
    skipped: Arc<AtomicU64>,
    /// Test hook (`wikilsp/debugDelay`): milliseconds every request waits before its work,
    /// so that a test can change or cancel what is still in flight.
    test_delay: Arc<AtomicU64>,
}

/// How a session over the protocol ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// `shutdown`, then `exit` (or the input closed): the process exits with code 0.
    Clean,
    /// `exit` or the end of the input without `shutdown` first: the protocol asks for exit
    /// code 1.
    WithoutShutdown,
}

impl Ending {
    pub fn exit_code(self) -> std::process::ExitCode {
        match self {
            Ending::Clean => std::process::ExitCode::SUCCESS,
            Ending::WithoutShutdown => std::process::ExitCode::from(1),
        }
    }
}

/// How many requests and notifications are served at once. A request runs on a snapshot in
/// a blocking task, so slow ones (references on a huge vault, a big rename) only hold their
/// slot; with tower-lsp's default of 4, four of them stopped every other message, typing
/// included.
const CONCURRENCY: usize = 64;

/// Set in the environment, it gives a release build the test requests of a debug build
/// (`wikilsp/debugState` and the like), so that the tests can measure a release server.
pub const TEST_METHODS_VAR: &str = "WIKILSP_TEST_METHODS";

/// Serves the protocol over the given streams until the client exits (or the input ends).
pub async fn serve<I, O>(input: I, output: O) -> Ending
where
    I: AsyncRead + Unpin + Send + 'static,
    O: AsyncWrite + Unpin,
{
    // tower-lsp reads what the sanitizer lets through, in a pipe that ends when the input ends.
    // The sanitizer is a task of its own: tower-lsp decodes and runs every message on one task,
    // which has enough to do.
    let (pipe_in, pipe_out) = tokio::io::duplex(1 << 20);
    let pump = tokio::spawn(transport::sanitize(input, pipe_in));
    let (frames, waiting) = tokio::sync::mpsc::channel(transport::FRAMES_WAITING);
    let (ending, ()) = tokio::join!(
        serve_sanitized(pipe_out, frames),
        transport::write_frames(waiting, output)
    );
    pump.abort();
    ending
}

/// [`serve`] for an input already through `transport::sanitize`, its messages sent to
/// `output`.
async fn serve_sanitized<I>(input: I, output: transport::Frames) -> Ending
where
    I: AsyncRead + Unpin,
{
    let shut_down = Arc::new(AtomicBool::new(false));
    let flag = shut_down.clone();
    let raw = Arc::new(raw::RawAnswers::default());
    let answers = raw.clone();
    let mut builder =
        LspService::build(move |client| WikiLsp::new(client, flag.clone(), answers.clone()));
    if cfg!(debug_assertions) || std::env::var_os(TEST_METHODS_VAR).is_some() {
        // Hooks for the tests: a panic inside a request (the server must go on), a slow
        // request (to cancel), and a look at the server's own state.
        builder = builder
            .custom_method("wikilsp/debugPanic", WikiLsp::debug_panic)
            .custom_method("wikilsp/debugSleep", WikiLsp::debug_sleep)
            .custom_method("wikilsp/debugDelay", WikiLsp::debug_delay)
            .custom_method("wikilsp/debugState", WikiLsp::debug_state)
            .custom_method("wikilsp/debugStats", WikiLsp::debug_stats)
            .custom_method("wikilsp/debugHoldIndexing", WikiLsp::debug_hold_indexing);
    }
    builder = builder.custom_method(transport::INVALID_MESSAGE, WikiLsp::invalid_message);
    let (service, socket) = builder.finish();
    // tower-lsp writes into a pipe; what comes out goes through `raw::splice` to the client.
    let (to_splice, from_server) = tokio::io::duplex(1 << 20);
    let serving = async move {
        Server::new(input, to_splice, socket)
            .concurrency_level(CONCURRENCY)
            .serve(service)
            .await;
        // Dropping the pipe's end here ends the splice once it has passed everything on.
    };
    tokio::join!(serving, raw::splice(from_server, output, raw));
    if shut_down.load(Ordering::SeqCst) {
        Ending::Clean
    } else {
        tracing::warn!("the client left without a shutdown request");
        Ending::WithoutShutdown
    }
}

/// Serves over stdin/stdout on a new runtime (the `wikilsp` command); the exit code follows
/// the protocol (0 after `shutdown`, else 1).
pub fn run_stdio() -> std::process::ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("cannot start the async runtime");
    let (ending, written) = runtime.block_on(async {
        let (input, output, written) = transport::stdio();
        (serve_sanitized(input, output).await, written)
    });
    // What the server wrote is on its way out (the stream closed with the server): let the
    // thread finish writing it, unless the client no longer reads.
    let _ = written.recv_timeout(std::time::Duration::from_secs(2));
    // Dropping the runtime would wait for every blocking task: a scan of a huge vault, a long
    // request. The client is gone; so do we.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    ending.exit_code()
}

impl WikiLsp {
    fn new(client: Client, shut_down: Arc<AtomicBool>, raw: Arc<raw::RawAnswers>) -> WikiLsp {
        let state = Arc::new(State::default());
        WikiLsp {
            raw,
            diagnostics: DiagnosticsWorker::start(client.clone(), state.clone()),
            client,
            state,
            caps: Mutex::new(ClientCaps::default()),
            watcher: Mutex::new(None),
            config_problems: Mutex::default(),
            client_settings: Mutex::default(),
            shut_down,
            logged: Mutex::default(),
            edits: Edits::default(),
            skipped: Arc::default(),
            test_delay: Arc::default(),
        }
    }

    /// Logs a problem with the client's messages: to stderr always, to the client
    /// (`window/logMessage`) the first time this kind of problem happens to this URI.
    async fn client_problem(
        &self,
        kind: &'static str,
        uri: &str,
        level: MessageType,
        text: String,
    ) {
        tracing::warn!("{text}");
        let first = self.logged.lock().unwrap().insert((kind, uri.to_owned()));
        if first {
            self.client
                .log_message(level, format!("wikilsp: {text}"))
                .await;
        }
    }

    fn caps(&self) -> ClientCaps {
        *self.caps.lock().unwrap()
    }

    /// Runs a read-only feature on the current snapshot, off the async threads. A panic inside
    /// is logged and answered with an error; the server goes on.
    ///
    /// An edit within `scope` while the work runs answers the request `ContentModified` at
    /// once (see [`stale`]). A request no longer wanted when its turn on a blocking thread
    /// comes (cancelled by the client, which drops this future, or stale) is not computed.
    async fn read<T, F>(&self, what: &'static str, scope: Scope, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(Arc<Snapshot>) -> T + Send + 'static,
    {
        // What the request sees is taken now, in the order of the messages (an O(1) capture);
        // making it a snapshot, which may parse a document just changed, is done with the
        // request, off the thread that reads every message.
        let capture = self.state.capture();
        let mut mark = self.edits.mark(scope);
        let state = self.state.clone();
        let asked = std::time::Instant::now();
        let unwanted = SetOnDrop(Arc::new(AtomicBool::new(false)));
        let dropped = unwanted.0.clone();
        let skipped = self.skipped.clone();
        let delay = self.test_delay.load(Ordering::Relaxed);
        let answer = tokio::task::spawn_blocking(move || {
            if delay > 0 {
                std::thread::sleep(std::time::Duration::from_millis(delay));
            }
            if dropped.load(Ordering::Acquire) {
                skipped.fetch_add(1, Ordering::Relaxed);
                tracing::debug!("{what}: no longer wanted when its turn came; not computed");
                return None;
            }
            let started = asked.elapsed();
            let v = f(state.resolve(capture));
            Some((v, started, asked.elapsed()))
        });
        let answer = tokio::select! {
            biased;
            _ = mark.stale(&self.edits) => None,
            answer = answer => Some(answer),
        };
        match answer {
            Some(Ok(Some((v, started, done)))) if !mark.is_stale(&self.edits) => {
                // `WIKILSP_LOG=wikilsp=debug` shows where a slow answer spent its time (the
                // answer's encoding and writing come after this).
                tracing::debug!(?started, ?done, "{what}");
                Ok(v)
            }
            Some(Err(e)) => {
                tracing::error!("{what} failed: {e}");
                Err(Error {
                    code: ErrorCode::InternalError,
                    message: format!(
                        "wikilsp: {what} failed with an internal error (see the server log)"
                    )
                    .into(),
                    data: None,
                })
            }
            // Stale (the work is then skipped if it has not begun, or its answer dropped).
            _ => {
                tracing::debug!("{what}: an edit made it stale; answered ContentModified");
                Err(Error {
                    code: ErrorCode::ContentModified,
                    message: format!(
                        "wikilsp: the document changed while {what} was being worked out"
                    )
                    .into(),
                    data: None,
                })
            }
        }
    }
}

/// Sets its flag when dropped: when a request's future ends, answered or dropped by
/// tower-lsp on `$/cancelRequest`, its work is no longer wanted.
struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// `edit` as it goes to the client: with many text edits, written as JSON here and the answer
/// a placeholder (see [`raw`]).
fn raw_edit(raw: &raw::RawAnswers, edit: WorkspaceEdit) -> WorkspaceEdit {
    let edits: usize = match &edit.document_changes {
        Some(DocumentChanges::Operations(ops)) => ops
            .iter()
            .map(|op| match op {
                DocumentChangeOperation::Edit(e) => e.edits.len(),
                DocumentChangeOperation::Op(_) => 1,
            })
            .sum(),
        _ => 0,
    };
    raw.answer(edit, edits, edit_placeholder)
}

/// The answer tower-lsp is given for an edit written by [`raw`]: it carries the marker.
fn edit_placeholder(marker: &str) -> Option<WorkspaceEdit> {
    Some(WorkspaceEdit {
        changes: Some([(marker.parse().ok()?, Vec::new())].into_iter().collect()),
        ..Default::default()
    })
}

/// [`workspace_edit`] written as JSON at once, for a rename of many edits (a hub's has one per
/// link to it): the same answer without an `lsp_types` value per edit to make, serialize and
/// free. `None` when [`workspace_edit`] would give none (a note gone, a range not placed).
fn workspace_edit_json(
    snap: &Snapshot,
    vault: &crate::vault::Vault,
    edit: &ide::RenameEdit,
) -> Option<Vec<u8>> {
    let edits: usize = edit.text_edits.iter().map(|(_, e)| e.len()).sum();
    let mut out = Vec::with_capacity(edits * 150 + edit.text_edits.len() * 100 + 64);
    out.extend_from_slice(b"{\"documentChanges\":[");
    let mut first = true;
    let mut failed = false;
    let mut number = itoa::Buffer::new();
    vault.for_each_note_ahead(
        &edit.text_edits,
        |e| e.0,
        |(id, edits), note| {
            if failed {
                return;
            }
            if !std::mem::take(&mut first) {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"textDocument\":{\"uri\":");
            failed |= !state::write_uri_json(note.path(), &mut out);
            out.extend_from_slice(b",\"version\":");
            failed |= serde_json::to_writer(&mut out, &snap.version_of(note.path())).is_err();
            out.extend_from_slice(b"},\"edits\":[");
            let mut view = None;
            for (k, e) in edits.iter().enumerate() {
                let Some(range) = snap.range_in(vault, *id, e.range, &mut view) else {
                    failed = true;
                    return;
                };
                if k > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(b"{\"range\":");
                state::write_range_json(&mut out, range, &mut number);
                out.extend_from_slice(b",\"newText\":");
                failed |= serde_json::to_writer(&mut out, &e.new_text).is_err();
                out.push(b'}');
            }
            out.extend_from_slice(b"]}");
        },
    );
    // `for_each_note_ahead` skips notes that are gone; `workspace_edit` gives up on them.
    if failed
        || edit
            .text_edits
            .iter()
            .any(|(id, _)| vault.note(*id).is_none())
    {
        return None;
    }
    for (id, new_path) in &edit.file_renames {
        let note = vault.note(*id)?;
        let op = DocumentChangeOperation::Op(ResourceOp::Rename(RenameFile {
            old_uri: state::path_to_uri(note.path())?,
            new_uri: state::path_to_uri(new_path)?,
            options: None,
            annotation_id: None,
        }));
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
        serde_json::to_writer(&mut out, &op).ok()?;
    }
    if first {
        return None;
    }
    out.extend_from_slice(b"]}");
    Some(out)
}

fn position_in(
    snapshot: &Snapshot,
    doc: &TextDocumentIdentifier,
    pos: Position,
) -> Option<(FilePosition, state::RequestView)> {
    let view = snapshot.file(&doc.uri)?;
    let offset = view
        .file
        .lines
        .offset(&view.file.text, pos, snapshot.encoding);
    Some((
        FilePosition {
            note: view.file.id,
            offset,
        },
        view,
    ))
}

/// A `willRenameFiles` filter for files on disk.
fn file_filter(glob: &str, kind: FileOperationPatternKind) -> FileOperationFilter {
    FileOperationFilter {
        scheme: Some("file".into()),
        pattern: FileOperationPattern {
            glob: glob.into(),
            matches: Some(kind),
            options: None,
        },
    }
}

/// A rename as the protocol writes it: first the text edits of each note (at its current
/// path, with the version of an open document, null for a closed one), then the file moves, so
/// that edits apply before their file moves. Sent as `documentChanges` whatever the client
/// announced (Neovim applies them without announcing it).
fn workspace_edit(
    snap: &Snapshot,
    vault: &crate::vault::Vault,
    edit: ide::RenameEdit,
) -> Option<WorkspaceEdit> {
    let mut ops = Vec::new();
    for (id, edits) in edit.text_edits {
        let note = vault.note(id)?;
        let uri = state::path_to_uri(note.path())?;
        // Closed notes are placed from the index's line map where it can; their files are
        // read only for ranges on lines it cannot place.
        let mut view = None;
        let edits = edits
            .into_iter()
            .map(|e| {
                Some(OneOf::Left(TextEdit {
                    range: snap.range_in(vault, id, e.range, &mut view)?,
                    new_text: e.new_text,
                }))
            })
            .collect::<Option<Vec<_>>>()?;
        ops.push(DocumentChangeOperation::Edit(TextDocumentEdit {
            text_document: OptionalVersionedTextDocumentIdentifier {
                uri,
                version: snap.version_of(note.path()),
            },
            edits,
        }));
    }
    for (id, new_path) in edit.file_renames {
        let note = vault.note(id)?;
        ops.push(DocumentChangeOperation::Op(ResourceOp::Rename(
            RenameFile {
                old_uri: state::path_to_uri(note.path())?,
                new_uri: state::path_to_uri(&new_path)?,
                options: None,
                annotation_id: None,
            },
        )));
    }
    if ops.is_empty() {
        return None;
    }
    Some(WorkspaceEdit {
        document_changes: Some(DocumentChanges::Operations(ops)),
        ..Default::default()
    })
}

impl LanguageServer for WikiLsp {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let caps = &params.capabilities;
        let encoding = Encoding::negotiate(
            caps.general
                .as_ref()
                .and_then(|g| g.position_encodings.as_deref()),
        );
        self.state.set_encoding(encoding);
        let td = caps.text_document.as_ref();
        *self.caps.lock().unwrap() = ClientCaps {
            snippets: td
                .and_then(|t| t.completion.as_ref())
                .and_then(|c| c.completion_item.as_ref())
                .and_then(|i| i.snippet_support)
                .unwrap_or(false),
            work_done_progress: caps
                .window
                .as_ref()
                .and_then(|w| w.work_done_progress)
                .unwrap_or(false),
            dynamic_file_watching: caps
                .workspace
                .as_ref()
                .and_then(|w| w.did_change_watched_files.as_ref())
                .and_then(|d| d.dynamic_registration)
                .unwrap_or(false),
            markdown_hover: td
                .and_then(|t| t.hover.as_ref())
                .and_then(|h| h.content_format.as_ref())
                .is_none_or(|f| f.is_empty() || f.contains(&MarkupKind::Markdown)),
            vscode: params.client_info.as_ref().is_some_and(|c| {
                let name = c.name.to_lowercase();
                name.contains("visual studio code")
                    || name.contains("code-server")
                    || name.contains("vscodium")
            }),
            code_lens_refresh: caps
                .workspace
                .as_ref()
                .and_then(|w| w.code_lens.as_ref())
                .and_then(|c| c.refresh_support)
                .unwrap_or(false),
        };

        let mut roots: Vec<PathBuf> = params
            .workspace_folders
            .iter()
            .flatten()
            .filter_map(|f| uri_to_path(&f.uri))
            .collect();
        // Older clients name the folder by `rootUri`, the oldest by `rootPath`.
        #[allow(deprecated)]
        if roots.is_empty() {
            if let Some(p) = params.root_uri.as_ref().and_then(uri_to_path) {
                roots.push(p);
            } else if let Some(p) = params.root_path.as_deref().filter(|p| !p.is_empty()) {
                roots.push(PathBuf::from(p));
            }
        }
        tracing::info!(?roots, ?encoding, "initialize");
        *self.client_settings.lock().unwrap() = params.initialization_options.clone();
        let (config, problems) = self.load_config(&roots);
        *self.config_problems.lock().unwrap() = problems;
        self.state.set_config(Arc::new(config));
        self.state.set_roots(roots);

        Ok(InitializeResult {
            server_info: Some(ServerInfo {
                name: "wikilsp".to_owned(),
                version: Some(env!("CARGO_PKG_VERSION").to_owned()),
            }),
            capabilities: ServerCapabilities {
                position_encoding: Some(encoding.kind()),
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::INCREMENTAL),
                        ..Default::default()
                    },
                )),
                definition_provider: Some(OneOf::Left(true)),
                code_action_provider: Some(CodeActionProviderCapability::Options(
                    CodeActionOptions {
                        code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                        ..Default::default()
                    },
                )),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                references_provider: Some(OneOf::Left(true)),
                document_symbol_provider: Some(OneOf::Left(true)),
                workspace_symbol_provider: Some(OneOf::Left(true)),
                document_link_provider: Some(DocumentLinkOptions {
                    resolve_provider: Some(false),
                    work_done_progress_options: Default::default(),
                }),
                folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
                code_lens_provider: Some(CodeLensOptions {
                    resolve_provider: Some(false),
                }),
                completion_provider: Some(CompletionOptions {
                    trigger_characters: Some(vec!["[".into(), "#".into(), "|".into()]),
                    resolve_provider: Some(true),
                    ..Default::default()
                }),
                rename_provider: Some(OneOf::Right(RenameOptions {
                    prepare_provider: Some(true),
                    work_done_progress_options: Default::default(),
                })),
                workspace: Some(WorkspaceServerCapabilities {
                    workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                        supported: Some(true),
                        change_notifications: Some(OneOf::Left(true)),
                    }),
                    file_operations: Some(WorkspaceFileOperationsServerCapabilities {
                        will_rename: Some(FileOperationRegistrationOptions {
                            filters: vec![
                                file_filter("**/*.{md,markdown}", FileOperationPatternKind::File),
                                file_filter("**", FileOperationPatternKind::Folder),
                            ],
                        }),
                        ..Default::default()
                    }),
                }),
                ..Default::default()
            },
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        let problems = std::mem::take(&mut *self.config_problems.lock().unwrap());
        self.report_config_problems(problems).await;
        let caps = self.caps();
        if caps.dynamic_file_watching {
            let config = self.state.config();
            let watchers = config
                .extensions
                .iter()
                .map(|ext| FileSystemWatcher {
                    glob_pattern: GlobPattern::String(format!("**/*.{ext}")),
                    kind: None,
                })
                .chain(std::iter::once(FileSystemWatcher {
                    // A deleted folder takes its notes with it.
                    glob_pattern: GlobPattern::String("**/*".into()),
                    kind: Some(WatchKind::Delete),
                }))
                .collect();
            let registration = Registration {
                id: "wikilsp-watch".into(),
                method: "workspace/didChangeWatchedFiles".into(),
                register_options: Some(json!(DidChangeWatchedFilesRegistrationOptions {
                    watchers
                })),
            };
            if let Err(e) = self.client.register_capability(vec![registration]).await {
                tracing::warn!("the client refused to watch files ({e}); watching them myself");
                self.start_own_watcher();
            }
        } else {
            self.start_own_watcher();
        }
        self.start_indexing();
    }

    async fn shutdown(&self) -> Result<()> {
        self.shut_down.store(true, Ordering::SeqCst);
        self.watcher.lock().unwrap().take();
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let doc = params.text_document;
        if self.state.open(doc.uri.clone(), doc.version, doc.text) {
            self.diagnostics.refresh();
        } else {
            tracing::info!(uri = doc.uri.as_str(), "not a file on disk; ignored");
        }
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        // Applied before the first await, so edits apply in the order they arrived.
        let doc = params.text_document;
        let report = self
            .state
            .change(&doc.uri, doc.version, params.content_changes);
        if !matches!(report.changed, state::Changed::Ignored) {
            self.edits.edited(&doc.uri);
        }
        let uri = doc.uri.as_str();
        match &report.changed {
            state::Changed::Applied => {}
            state::Changed::OpenedFromDisk => {
                self.client_problem(
                    "change-unopened",
                    uri,
                    MessageType::INFO,
                    format!("{uri} was changed without being opened: opened from its file"),
                )
                .await;
            }
            state::Changed::Moved { from } => {
                self.client_problem(
                    "change-moved",
                    uri,
                    MessageType::INFO,
                    format!(
                        "{uri} was changed without being opened after {} moved there: the open document follows its file",
                        from.as_str()
                    ),
                )
                .await;
            }
            state::Changed::Ignored => {
                self.client_problem(
                    "change-unknown",
                    uri,
                    MessageType::WARNING,
                    format!("a change of {uri}, which is neither open nor a file: ignored"),
                )
                .await;
                return;
            }
        }
        self.diagnostics.refresh();
        if let Some((old, new)) = report.version_backwards {
            self.client_problem(
                "version-backwards",
                uri,
                MessageType::WARNING,
                format!("the version of {uri} went from {old} to {new}; the change was applied"),
            )
            .await;
        }
        if report.reversed_ranges > 0 {
            self.client_problem(
                "reversed-range",
                uri,
                MessageType::WARNING,
                format!(
                    "a change of {uri} has a range that ends before it starts: applied to the text between its ends"
                ),
            )
            .await;
        }
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        self.state.close(&params.text_document.uri);
        self.edits.closed(&params.text_document.uri);
        self.diagnostics.refresh();
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        // Clients that only announce a change (null settings) keep the settings they sent.
        if !params.settings.is_null() {
            *self.client_settings.lock().unwrap() = Some(params.settings);
        }
        let roots = self.state.roots();
        let (config, problems) = self.load_config(&roots);
        self.report_config_problems(problems).await;
        let old = self.state.config();
        if *old == config {
            return;
        }
        let rescan = old.extensions != config.extensions || old.ignore != config.ignore;
        self.state.set_config(Arc::new(config));
        if rescan {
            self.start_indexing();
        }
        self.diagnostics.refresh();
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let paths: Vec<PathBuf> = params
            .changes
            .iter()
            .filter_map(|c| uri_to_path(&c.uri))
            .collect();
        let state = self.state.clone();
        let changes = tokio::task::spawn_blocking(move || state.disk_changed(&paths)).await;
        if let Ok(c) = changes {
            if c.updated + c.removed > 0 {
                self.diagnostics.refresh();
            }
            indexing::log_problems(&self.client, &c.problems).await;
        }
    }

    async fn did_change_workspace_folders(&self, params: DidChangeWorkspaceFoldersParams) {
        let mut roots = self.state.roots();
        let removed: Vec<PathBuf> = params
            .event
            .removed
            .iter()
            .filter_map(|f| uri_to_path(&f.uri))
            .collect();
        roots.retain(|r| !removed.contains(r));
        for f in &params.event.added {
            if let Some(p) = uri_to_path(&f.uri)
                && !roots.contains(&p)
            {
                roots.push(p);
            }
        }
        self.state.set_roots(roots);
        if self.watcher.lock().unwrap().is_some() {
            self.start_own_watcher();
        }
        self.start_indexing();
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let p = params.text_document_position_params;
        self.read(
            "definition",
            Scope::Document(p.text_document.uri.clone()),
            move |snap| {
                let (pos, view) = position_in(&snap, &p.text_document, p.position)?;
                let locations = snap.locations(&view.vault, &ide::definition(&view.vault, pos));
                match locations.len() {
                    0 => None,
                    1 => Some(GotoDefinitionResponse::Scalar(
                        locations.into_iter().next()?,
                    )),
                    _ => Some(GotoDefinitionResponse::Array(locations)),
                }
            },
        )
        .await
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let p = params.text_document_position_params;
        let markdown = self.caps().markdown_hover;
        self.read(
            "hover",
            Scope::Document(p.text_document.uri.clone()),
            move |snap| {
                let (pos, view) = position_in(&snap, &p.text_document, p.position)?;
                let mut h = ide::hover(&view.vault, pos)?;
                if h.target_missing && !snap.indexed {
                    // The note may exist and not be read yet: saying it does not would mislead.
                    h.contents = "wikilsp is still reading the workspace's notes: this link's \
                              note is not among those read so far."
                        .to_owned();
                }
                let view = view.file;
                Some(Hover {
                    contents: HoverContents::Markup(MarkupContent {
                        kind: if markdown {
                            MarkupKind::Markdown
                        } else {
                            MarkupKind::PlainText
                        },
                        value: h.contents,
                    }),
                    range: Some(view.lines.range(&view.text, h.range, snap.encoding)),
                })
            },
        )
        .await
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let p = params.text_document_position;
        let ctx = ide::CompletionContext {
            snippets: self.caps().snippets,
            limit: 200,
        };
        let raw = self.raw.clone();
        self.read(
            "completion",
            Scope::Document(p.text_document.uri.clone()),
            move |snap| {
                let (pos, view) = position_in(&snap, &p.text_document, p.position)?;
                let list = ide::completion(&view.vault, pos, ctx)?;
                let view = view.file;
                let items: Vec<CompletionItem> = list
                    .items
                    .into_iter()
                    .enumerate()
                    .map(|(rank, item)| {
                        let range = view.lines.range(&view.text, item.edit_range, snap.encoding);
                        CompletionItem {
                            kind: Some(match item.kind {
                                ide::CompletionItemKind::Note => CompletionItemKind::FILE,
                                ide::CompletionItemKind::MissingTarget => {
                                    CompletionItemKind::REFERENCE
                                }
                                ide::CompletionItemKind::Heading => CompletionItemKind::MODULE,
                                ide::CompletionItemKind::Display => CompletionItemKind::TEXT,
                            }),
                            detail: Some(item.detail.clone()),
                            label_details: Some(CompletionItemLabelDetails {
                                detail: None,
                                description: Some(item.detail),
                            }),
                            label: item.label,
                            sort_text: Some(format!("{rank:04}")),
                            filter_text: Some(item.filter_text),
                            insert_text_format: Some(if item.is_snippet {
                                InsertTextFormat::SNIPPET
                            } else {
                                InsertTextFormat::PLAIN_TEXT
                            }),
                            text_edit: Some(CompletionTextEdit::Edit(TextEdit {
                                range,
                                new_text: item.insert_text,
                            })),
                            data: item.note_path.map(|p| json!({ "path": p })),
                            ..Default::default()
                        }
                    })
                    .collect();
                let count = items.len();
                let list = CompletionList {
                    // While the vault is being read, an answer knows only the notes read so
                    // far: marked incomplete, the editor asks again as the user types on,
                    // instead of filtering this answer and never offering the notes read since.
                    is_incomplete: list.incomplete || !snap.indexed,
                    items,
                };
                let is_incomplete = list.is_incomplete;
                let list = raw.answer(list, count, |marker| {
                    Some(CompletionList {
                        is_incomplete,
                        items: vec![CompletionItem {
                            label: marker.to_owned(),
                            ..Default::default()
                        }],
                    })
                });
                Some(CompletionResponse::List(list))
            },
        )
        .await
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let p = params.text_document_position;
        let include = params.context.include_declaration;
        let raw = self.raw.clone();
        self.read("references", Scope::Workspace, move |snap| {
            let (pos, view) = position_in(&snap, &p.text_document, p.position)?;
            let Some(found) = ide::references_to(&view.vault, pos, include) else {
                return Some(Vec::new());
            };
            // Many are written as JSON at once, straight from the index (see [`raw`]).
            let many = found.declaration.is_some() as usize + found.links_at_most(&view.vault);
            if many >= raw::RAW_MIN_ITEMS {
                let (json, _) = snap.references_json(&view.vault, &found);
                let placeholder = raw.stash(json, |marker| {
                    Some(vec![Location {
                        uri: marker.parse().ok()?,
                        range: Range::default(),
                    }])
                });
                if placeholder.is_some() {
                    return placeholder;
                }
            }
            Some(snap.locations(&view.vault, &found.all(&view.vault)))
        })
        .await
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        self.read(
            "document symbols",
            Scope::Document(params.text_document.uri.clone()),
            move |snap| {
                let view = snap.file(&params.text_document.uri)?;
                let file = &view.file;
                let symbols = ide::document_symbols(&view.vault, file.id, file.text.len() as u32);
                fn convert(
                    s: ide::DocumentSymbol,
                    file: &state::FileView,
                    enc: convert::Encoding,
                ) -> DocumentSymbol {
                    #[allow(deprecated)]
                    DocumentSymbol {
                        name: s.name,
                        detail: None,
                        kind: match s.kind {
                            ide::SymbolKind::Note => SymbolKind::FILE,
                            ide::SymbolKind::Heading => SymbolKind::STRING,
                        },
                        tags: None,
                        deprecated: None,
                        range: file.lines.range(&file.text, s.range, enc),
                        selection_range: file.lines.range(&file.text, s.selection, enc),
                        children: Some(
                            s.children
                                .into_iter()
                                .map(|c| convert(c, file, enc))
                                .collect(),
                        ),
                    }
                }
                Some(DocumentSymbolResponse::Nested(
                    symbols
                        .into_iter()
                        .map(|s| convert(s, file, snap.encoding))
                        .collect(),
                ))
            },
        )
        .await
    }

    async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<WorkspaceSymbolResponse>> {
        self.read("workspace symbols", Scope::Workspace, move |snap| {
            let found = ide::workspace_symbols(&snap.vault, &params.query, 200);
            #[allow(deprecated)]
            let symbols = found
                .into_iter()
                .filter_map(|s| {
                    Some(SymbolInformation {
                        name: s.name,
                        kind: match s.kind {
                            ide::SymbolKind::Note => SymbolKind::FILE,
                            ide::SymbolKind::Heading => SymbolKind::STRING,
                        },
                        tags: None,
                        deprecated: None,
                        location: snap.location(s.location)?,
                        container_name: Some(s.container),
                    })
                })
                .collect();
            Some(WorkspaceSymbolResponse::Flat(symbols))
        })
        .await
    }

    async fn document_link(&self, params: DocumentLinkParams) -> Result<Option<Vec<DocumentLink>>> {
        self.read(
            "document links",
            Scope::Document(params.text_document.uri.clone()),
            move |snap| {
                let view = snap.file(&params.text_document.uri)?;
                let file = &view.file;
                let links = ide::document_links(&view.vault, file.id)
                    .into_iter()
                    .filter_map(|l| {
                        let target = match l.target {
                            ide::LinkTarget::Url(url) => url.parse().ok()?,
                            ide::LinkTarget::Note { note, heading } => {
                                let n = view.vault.note(note)?;
                                let uri = state::path_to_uri(n.path())?;
                                match heading
                                    .and_then(|h| n.parsed.headings.iter().find(|x| x.range == h))
                                {
                                    // Editors open `file:…#L12` at that line.
                                    Some(h) => {
                                        format!("{}#L{}", uri.as_str(), h.line + 1).parse().ok()?
                                    }
                                    None => uri,
                                }
                            }
                        };
                        Some(DocumentLink {
                            range: file.lines.range(&file.text, l.range, snap.encoding),
                            target: Some(target),
                            tooltip: None,
                            data: None,
                        })
                    })
                    .collect();
                Some(links)
            },
        )
        .await
    }

    async fn folding_range(&self, params: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        self.read(
            "folding ranges",
            Scope::Document(params.text_document.uri.clone()),
            move |snap| {
                let view = snap.file(&params.text_document.uri)?;
                let file = &view.file;
                let ranges = ide::folding_ranges(&view.vault, file.id)
                    .into_iter()
                    .filter_map(|(r, kind)| {
                        let start = file.lines.position(&file.text, r.start, snap.encoding);
                        let end = file.lines.position(&file.text, r.end, snap.encoding);
                        // A range that ends at the start of a line ends on the line before.
                        let end_line = if end.character == 0 {
                            end.line.checked_sub(1)?
                        } else {
                            end.line
                        };
                        (end_line > start.line).then(|| FoldingRange {
                            start_line: start.line,
                            end_line,
                            kind: Some(match kind {
                                ide::FoldKind::Frontmatter => FoldingRangeKind::Comment,
                                ide::FoldKind::Section => FoldingRangeKind::Region,
                            }),
                            ..Default::default()
                        })
                    })
                    .collect();
                Some(ranges)
            },
        )
        .await
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        let vscode = self.caps().vscode;
        self.read(
            "code lens",
            Scope::Document(params.text_document.uri.clone()),
            move |snap| {
                let uri = params.text_document.uri;
                let view = snap.file(&uri)?;
                let file = &view.file;
                let lens = ide::backlinks_lens(&view.vault, file.id)?;
                let range = file.lines.range(&file.text, lens.range, snap.encoding);
                // VS Code shows locations with its own command; other clients get ours, which
                // their wikilsp plugin maps to their references view.
                let command = if vscode {
                    let locations = snap.locations(&view.vault, &lens.links);
                    Command {
                        title: lens.title,
                        command: "editor.action.showReferences".to_owned(),
                        arguments: Some(vec![json!(uri), json!(range.start), json!(locations)]),
                    }
                } else {
                    Command {
                        title: lens.title,
                        command: "wikilsp.showReferences".to_owned(),
                        arguments: Some(vec![json!(uri), json!(range.start)]),
                    }
                };
                Some(vec![CodeLens {
                    range,
                    command: Some(command),
                    data: None,
                }])
            },
        )
        .await
    }

    async fn prepare_rename(
        &self,
        p: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        self.read(
            "prepare rename",
            Scope::Document(p.text_document.uri.clone()),
            move |snap| {
                let (pos, view) = position_in(&snap, &p.text_document, p.position)?;
                let r = ide::prepare_rename(&view.vault, pos)?;
                let file = view.file;
                Some(PrepareRenameResponse::RangeWithPlaceholder {
                    range: file.lines.range(&file.text, r.range, snap.encoding),
                    placeholder: r.placeholder,
                })
            },
        )
        .await
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let p = params.text_document_position;
        let new_name = params.new_name;
        let raw = self.raw.clone();
        let answer = self
            .read(
                "rename",
                Scope::Document(p.text_document.uri.clone()),
                move |snap| {
                    let Some((pos, view)) = position_in(&snap, &p.text_document, p.position) else {
                        return Ok((None, Vec::new()));
                    };
                    let edit = ide::rename(&view.vault, pos, &new_name)?;
                    let moves: Vec<(PathBuf, PathBuf)> = edit
                        .file_renames
                        .iter()
                        .filter_map(|(id, new)| {
                            Some((view.vault.note(*id)?.path().to_path_buf(), new.clone()))
                        })
                        .collect();
                    let items = edit.file_renames.len()
                        + edit.text_edits.iter().map(|(_, e)| e.len()).sum::<usize>();
                    // Many edits are written as JSON at once (see [`raw`]).
                    if items >= raw::RAW_MIN_ITEMS {
                        let json = workspace_edit_json(&snap, &view.vault, &edit);
                        if let Some(placeholder) =
                            json.and_then(|j| raw.stash(vec![j], edit_placeholder))
                        {
                            return Ok((Some(placeholder), moves));
                        }
                    }
                    Ok((
                        workspace_edit(&snap, &view.vault, edit).map(|e| raw_edit(&raw, e)),
                        moves,
                    ))
                },
            )
            .await?;
        let answer = answer.map(|(edit, moves)| {
            self.state.expect_moves(moves);
            edit
        });
        answer.map_err(|e: ide::RenameError| Error {
            // RequestFailed: the request was valid, but the rename cannot be done.
            code: ErrorCode::ServerError(-32803),
            message: e.0.into(),
            data: None,
        })
    }

    async fn will_rename_files(&self, params: RenameFilesParams) -> Result<Option<WorkspaceEdit>> {
        self.read("will rename files", Scope::Never, move |snap| {
            let renames: Vec<(PathBuf, PathBuf)> = params
                .files
                .iter()
                .filter_map(|f| {
                    let old = f.old_uri.parse::<Uri>().ok()?;
                    let new = f.new_uri.parse::<Uri>().ok()?;
                    Some((uri_to_path(&old)?, uri_to_path(&new)?))
                })
                .collect();
            let edit = ide::will_rename_files(&snap.vault, &renames);
            (workspace_edit(&snap, &snap.vault, edit), renames)
        })
        .await
        .map(|(edit, renames)| {
            self.state.expect_moves(renames);
            edit
        })
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        if params
            .context
            .only
            .as_ref()
            .is_some_and(|only| !only.iter().any(|k| k.as_str().starts_with("quickfix")))
        {
            return Ok(None);
        }
        self.read(
            "code action",
            Scope::Document(params.text_document.uri.clone()),
            move |snap| {
                let uri = params.text_document.uri;
                let view = snap.file(&uri)?;
                let file = &view.file;
                let a = file
                    .lines
                    .offset(&file.text, params.range.start, snap.encoding);
                let b = file
                    .lines
                    .offset(&file.text, params.range.end, snap.encoding);
                // A range that ends before it starts means the text between its ends.
                let range = syntax::TextRange {
                    start: a.min(b),
                    end: a.max(b),
                };
                let options = ide::DiagnosticsOptions {
                    check_links: snap.indexed,
                    ..Default::default()
                };
                let version = snap.docs.get(&uri).map(|d| d.version);
                let actions = ide::code_actions(&view.vault, file.id, range, options)
                    .into_iter()
                    .filter_map(|a| {
                        let diag_range =
                            file.lines
                                .range(&file.text, a.diagnostic_range, snap.encoding);
                        let diagnostic = params.context.diagnostics.iter().find(|d| {
                            d.range == diag_range
                                && d.code == Some(NumberOrString::String(a.diagnostic_code.into()))
                        });
                        let mut ops = Vec::new();
                        if let Some((path, _)) = &a.edit.create {
                            ops.push(DocumentChangeOperation::Op(ResourceOp::Create(
                                CreateFile {
                                    uri: state::path_to_uri(path)?,
                                    // Not `ignoreIfExists`: Neovim then creates nothing.
                                    options: Some(CreateFileOptions {
                                        overwrite: Some(false),
                                        ignore_if_exists: None,
                                    }),
                                    annotation_id: None,
                                },
                            )));
                        }
                        // One TextDocumentEdit per file, in the order files first appear.
                        let mut docs: Vec<TextDocumentEdit> = Vec::new();
                        for e in a.edit.edits {
                            let (edit_uri, edit_version, range) = match &e.target {
                                ide::EditTarget::Note(id) if *id == file.id => (
                                    uri.clone(),
                                    version,
                                    file.lines.range(&file.text, e.range, snap.encoding),
                                ),
                                ide::EditTarget::Note(_) => return None,
                                ide::EditTarget::NewFile(path) => {
                                    (state::path_to_uri(path)?, None, Range::default())
                                }
                            };
                            let edit = OneOf::Left(TextEdit {
                                range,
                                new_text: e.new_text,
                            });
                            match docs.iter_mut().find(|d| d.text_document.uri == edit_uri) {
                                Some(d) => d.edits.push(edit),
                                None => docs.push(TextDocumentEdit {
                                    text_document: OptionalVersionedTextDocumentIdentifier {
                                        uri: edit_uri,
                                        version: edit_version,
                                    },
                                    edits: vec![edit],
                                }),
                            }
                        }
                        ops.extend(docs.into_iter().map(DocumentChangeOperation::Edit));
                        Some(CodeActionOrCommand::CodeAction(CodeAction {
                            title: a.title,
                            kind: Some(CodeActionKind::QUICKFIX),
                            diagnostics: diagnostic.map(|d| vec![d.clone()]),
                            edit: Some(WorkspaceEdit {
                                document_changes: Some(DocumentChanges::Operations(ops)),
                                ..Default::default()
                            }),
                            is_preferred: a.preferred.then_some(true),
                            ..Default::default()
                        }))
                    })
                    .collect::<Vec<_>>();
                (!actions.is_empty()).then_some(actions)
            },
        )
        .await
    }

    async fn completion_resolve(&self, mut item: CompletionItem) -> Result<CompletionItem> {
        let path = item
            .data
            .as_ref()
            .and_then(|d| d.get("path"))
            .and_then(|p| p.as_str())
            .map(PathBuf::from);
        let Some(path) = path else { return Ok(item) };
        let heading = (item.kind == Some(CompletionItemKind::MODULE)).then(|| item.label.clone());
        let preview = self
            .read("completion resolve", Scope::Never, move |snap| {
                let id = snap.vault.note_by_path(&path)?;
                ide::note_preview(&snap.vault, id, heading.as_deref())
            })
            .await?;
        if let Some(value) = preview {
            item.documentation = Some(Documentation::MarkupContent(MarkupContent {
                kind: MarkupKind::Markdown,
                value,
            }));
        }
        Ok(item)
    }
}

impl WikiLsp {
    /// The configuration: defaults, then the first folder's `.wikilsp.toml`, then the client's
    /// settings. Returns the problems found, one sentence each.
    fn load_config(&self, roots: &[PathBuf]) -> (Config, Vec<String>) {
        let mut problems = Vec::new();
        let mut config = Config::default();
        if let Some(root) = roots.first() {
            let file = root.join(config::FILE_NAME);
            if let Ok(text) = std::fs::read_to_string(&file) {
                let (c, p) = Config::from_toml(&text);
                config = c;
                problems.extend(p);
            }
        }
        if let Some(settings) = self.client_settings.lock().unwrap().as_ref() {
            problems.extend(config.merge_json(settings));
        }
        (config, problems)
    }

    async fn report_config_problems(&self, problems: Vec<String>) {
        if problems.is_empty() {
            return;
        }
        for p in &problems {
            tracing::warn!("configuration: {p}");
        }
        let text = format!(
            "wikilsp: ignored in the configuration: {}",
            problems.join("; ")
        );
        self.client.show_message(MessageType::WARNING, text).await;
    }

    async fn debug_panic(&self, _: serde_json::Value) -> Result<serde_json::Value> {
        self.read("debug panic", Scope::Never, |_| -> serde_json::Value {
            panic!("a deliberate panic (wikilsp/debugPanic)")
        })
        .await
    }

    /// How many notes the process parsed and what the index holds (tests of incremental
    /// updates and of memory).
    async fn debug_stats(&self, _: serde_json::Value) -> Result<serde_json::Value> {
        let skipped = self.skipped.clone();
        self.read("debug stats", Scope::Never, move |snap| {
            json!({
                "skipped": skipped.load(Ordering::Relaxed),
                "parses": crate::syntax::parse_count(),
                "indexed": snap.indexed,
                "vault": snap.vault.memory_report(),
            })
        })
        .await
    }

    /// `{"hold": true}` keeps a finished index from being installed until `{"hold": false}`;
    /// sent between `initialize` and `initialized`, it lets tests ask while indexing.
    async fn debug_hold_indexing(&self, params: serde_json::Value) -> Result<serde_json::Value> {
        let hold = params["hold"].as_bool().unwrap_or(false);
        self.state.index_hold.send_replace(hold);
        Ok(json!(hold))
    }

    /// Stands for a message the client sent broken (see `transport`): answered with its error.
    async fn invalid_message(&self, params: serde_json::Value) -> Result<serde_json::Value> {
        Err(transport::invalid_message_error(&params))
    }

    /// A request that takes `ms` milliseconds: of a blocking thread, as a long one does, with
    /// `"blocking": true`; else of an async wait (which a cancellation ends at once).
    /// `{"ms": N}`: every request from now on waits N milliseconds on its blocking thread
    /// before its work (0 ends that), so that a test can edit or cancel while it is in flight.
    async fn debug_delay(&self, params: serde_json::Value) -> Result<serde_json::Value> {
        let ms = params.get("ms").and_then(|v| v.as_u64()).unwrap_or(0);
        self.test_delay.store(ms, Ordering::Relaxed);
        Ok(json!(ms))
    }

    async fn debug_sleep(&self, params: serde_json::Value) -> Result<serde_json::Value> {
        let ms = params.get("ms").and_then(|v| v.as_u64()).unwrap_or(1000);
        let duration = std::time::Duration::from_millis(ms);
        if params.get("blocking").and_then(|v| v.as_bool()) == Some(true) {
            self.read("debug sleep", Scope::Never, move |_| {
                std::thread::sleep(duration)
            })
            .await?;
        } else {
            tokio::time::sleep(duration).await;
        }
        Ok(json!({ "slept": ms }))
    }

    /// What the server holds: its notes, the open documents (with the text of the one named
    /// by `uri`, if any), how much note text it keeps, and the process's memory.
    async fn debug_state(&self, params: serde_json::Value) -> Result<serde_json::Value> {
        let uri = params
            .get("uri")
            .and_then(|u| u.as_str())
            .and_then(|u| u.parse::<Uri>().ok());
        self.read("debug state", Scope::Never, move |snap| {
            snap.debug_state(uri.as_ref())
        })
        .await
    }

    fn start_own_watcher(&self) {
        let roots = self.state.roots();
        let watcher = indexing::Watcher::start(
            &roots,
            self.client.clone(),
            self.state.clone(),
            self.diagnostics.clone(),
        );
        *self.watcher.lock().unwrap() = watcher;
    }

    fn start_indexing(&self) {
        indexing::start(
            self.client.clone(),
            self.state.clone(),
            self.diagnostics.clone(),
            self.caps().work_done_progress,
            self.caps().code_lens_refresh,
        );
    }
}
