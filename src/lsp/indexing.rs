//! Indexing the workspace folders in the background with `$/progress`, and watching them for
//! changes made outside the editor when the client cannot watch for us.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher as _};
use tower_lsp_server::Client;
use tower_lsp_server::ls_types::{MessageType, ProgressToken};

use super::diagnostics::DiagnosticsWorker;
use super::state::State;
use crate::vault::{ScanError, ScanProblem, Vault};

/// Scans every workspace folder on all cores, then installs the new index in one step.
/// Requests keep being answered from the previous snapshot (with the open notes) meanwhile.
pub fn start(
    client: Client,
    state: Arc<State>,
    diagnostics: DiagnosticsWorker,
    progress: bool,
    code_lens_refresh: bool,
) {
    tokio::spawn(async move {
        let roots = state.roots();
        if roots.is_empty() {
            return;
        }
        let started = Instant::now();
        state.begin_scan();
        let counters = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
        let token = ProgressToken::String("wikilsp/indexing".to_owned());
        let ongoing = if progress
            && client
                .create_work_done_progress(token.clone())
                .await
                .is_ok()
        {
            Some(
                client
                    .progress(token, "Indexing notes")
                    .with_percentage(0)
                    .with_message("listing notes")
                    .begin()
                    .await,
            )
        } else {
            None
        };
        let scan = {
            let counters = counters.clone();
            let roots = roots.clone();
            let config = state.config();
            tokio::task::spawn_blocking(move || {
                let t = Instant::now();
                let (vault, errors) = Vault::index_folders(roots, &config, &|done, total| {
                    counters.0.store(done, Ordering::Relaxed);
                    counters.1.store(total, Ordering::Relaxed);
                });
                tracing::debug!(took = ?t.elapsed(), "scanned and indexed");
                (vault, errors)
            })
        };
        tokio::pin!(scan);
        let result = loop {
            tokio::select! {
                r = &mut scan => break r,
                _ = tokio::time::sleep(Duration::from_millis(100)) => {
                    if let Some(p) = &ongoing {
                        let done = counters.0.load(Ordering::Relaxed);
                        let total = counters.1.load(Ordering::Relaxed).max(1);
                        p.report_with_message(format!("{done}/{total} notes"), (done * 100 / total) as u32).await;
                    }
                }
            }
        };
        // Only tests hold the index back (see `wikilsp/debugHoldIndexing`).
        let _ = state.index_hold.subscribe().wait_for(|held| !held).await;
        let (vault, errors) = match result {
            Ok(r) => r,
            Err(e) => {
                tracing::error!("indexing failed: {e}");
                state.end_scan();
                state.mark_indexed();
                diagnostics.refresh();
                client
                    .show_message(
                        MessageType::ERROR,
                        "wikilsp: indexing failed; see the server log",
                    )
                    .await;
                return;
            }
        };
        let count = vault.len();
        if state.roots() != roots {
            // The folders changed while we scanned; a newer indexing run is under way.
            return;
        }
        state.install_vault(vault);
        // What changed on disk while we scanned, read again over the new index.
        let again = state.end_scan();
        if !again.is_empty() {
            let state = state.clone();
            if let Ok(c) = tokio::task::spawn_blocking(move || state.disk_changed(&again)).await {
                log_problems(&client, &c.problems).await;
            }
        }
        diagnostics.refresh();
        // The completion tables are built on first use, which at 100,000 notes is 40 ms of
        // the first `[[` typed: built now instead, off the async threads.
        let snapshot = state.snapshot();
        tokio::task::spawn_blocking(move || {
            snapshot.vault.name_table();
            snapshot.vault.missing_table();
            give_back_freed_memory();
        });
        let elapsed = started.elapsed();
        let summary = format!("indexed {count} notes in {} ms", elapsed.as_millis());
        tracing::info!("{summary} ({} files skipped)", errors.len());
        if let Some(p) = ongoing {
            p.finish_with_message(summary.clone()).await;
        }
        log_problems(&client, &errors).await;
        client.log_message(MessageType::INFO, &summary).await;
        if code_lens_refresh {
            // Backlink counts shown before the index was complete are stale now.
            let _ = client.code_lens_refresh().await;
        }
    });
}

/// Returns to the system the memory the process has freed but the allocator still holds.
///
/// glibc's allocator keeps what a thread frees for that thread's next allocations, in one
/// arena per thread: the scan's file buffers and the build's temporary tables, freed on a dozen
/// threads, stayed in the process (at 100,000 notes, 30-40 MB of its peak), and so did each big
/// answer's buffers on the thread that wrote it. Called after indexing, and once the output
/// has been quiet for a second after an answer of a megabyte or more (see
/// `transport::TRIM_WHEN_QUIET`); 0.5-3 ms at 100,000 notes. Other allocators return memory
/// their own way: there it does nothing.
pub(super) fn give_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let t = std::time::Instant::now();
        // SAFETY: `malloc_trim` only releases free memory of glibc's own arenas; no pointer
        // the program holds is touched.
        unsafe {
            libc::malloc_trim(0);
        }
        tracing::debug!(took = ?t.elapsed(), "freed memory given back");
    }
}

/// How many problems of one scan are logged one by one; the rest are counted.
const PROBLEMS_LOGGED: usize = 50;

/// Tells the user (`window/logMessage`) about the files that could not be read, or only with
/// losses: once each, as warnings; a file that vanished before it was read is information.
pub async fn log_problems(client: &Client, problems: &[ScanError]) {
    for (i, e) in problems.iter().enumerate() {
        let path = e.path.display();
        let (level, text) = match e.kind {
            ScanProblem::Skipped => (
                MessageType::WARNING,
                format!("skipped {path}: {}", e.message),
            ),
            ScanProblem::Lossy => (MessageType::WARNING, format!("{path}: {}", e.message)),
            ScanProblem::Vanished => (MessageType::INFO, format!("{path}: {}", e.message)),
        };
        if e.kind == ScanProblem::Vanished {
            tracing::info!("{text}");
        } else {
            tracing::warn!("{text}");
        }
        if i < PROBLEMS_LOGGED {
            client.log_message(level, format!("wikilsp: {text}")).await;
        }
    }
    if problems.len() > PROBLEMS_LOGGED {
        let more = problems.len() - PROBLEMS_LOGGED;
        client
            .log_message(
                MessageType::WARNING,
                format!(
                    "wikilsp: {more} more files could not be read as notes (see the server's log)"
                ),
            )
            .await;
    }
}

/// Our own watcher of the workspace folders (Neovim on Linux, for one, does not watch files
/// for its servers). Bursts of events (a `git pull`) are applied in batches.
pub struct Watcher {
    _inner: notify::RecommendedWatcher,
}

impl Watcher {
    pub fn start(
        roots: &[PathBuf],
        client: Client,
        state: Arc<State>,
        diagnostics: DiagnosticsWorker,
    ) -> Option<Watcher> {
        if roots.is_empty() {
            return None;
        }
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<PathBuf>();
        let handler = move |event: notify::Result<notify::Event>| match event {
            Ok(event) => {
                if matches!(event.kind, notify::EventKind::Access(_)) {
                    return;
                }
                for path in event.paths {
                    let _ = tx.send(path);
                }
            }
            Err(e) => tracing::warn!("file watcher: {e}"),
        };
        // Symbolic links are not followed: one to `/` would have us watch the whole system.
        let config = notify::Config::default().with_follow_symlinks(false);
        let mut inner = match notify::RecommendedWatcher::new(handler, config) {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(
                    "cannot watch the workspace folders ({e}); changes made outside the editor will not be seen"
                );
                return None;
            }
        };
        for root in roots {
            if let Err(e) = inner.watch(root, RecursiveMode::Recursive) {
                tracing::warn!(root = %root.display(), "cannot watch folder: {e}");
            }
        }
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                // Let a burst settle, then take it whole.
                tokio::time::sleep(Duration::from_millis(30)).await;
                let mut paths = vec![first];
                while let Ok(p) = rx.try_recv() {
                    paths.push(p);
                }
                paths.sort();
                paths.dedup();
                let state = state.clone();
                let changed = tokio::task::spawn_blocking(move || state.disk_changed(&paths)).await;
                if let Ok(c) = changed {
                    log_problems(&client, &c.problems).await;
                    if c.updated + c.removed > 0 {
                        diagnostics.refresh();
                    }
                }
            }
        });
        Some(Watcher { _inner: inner })
    }
}
