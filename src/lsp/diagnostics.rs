//! Publishing diagnostics: one task recomputes the open notes' diagnostics whenever the vault
//! changed, on the newest snapshot, and publishes only what changed. Being the only publisher,
//! it never sends stale diagnostics after newer ones.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Notify;
use tower_lsp_server::Client;
use tower_lsp_server::ls_types::{Diagnostic, DiagnosticSeverity, NumberOrString, Uri};

use super::state::{Snapshot, State};
use crate::ide;

#[derive(Clone)]
pub struct DiagnosticsWorker {
    wake: Arc<Notify>,
}

impl DiagnosticsWorker {
    pub fn start(client: Client, state: Arc<State>) -> DiagnosticsWorker {
        let wake = Arc::new(Notify::new());
        let worker = DiagnosticsWorker { wake: wake.clone() };
        tokio::spawn(async move {
            let mut published: HashMap<Uri, (i32, Vec<Diagnostic>)> = HashMap::new();
            let mut seen_revision = None;
            // When the last round ended and how long it took, if changes came in during it.
            let mut last: Option<(std::time::Instant, std::time::Duration)> = None;
            loop {
                wake.notified().await;
                // While changes keep coming faster than rounds end (fast typing, a burst),
                // work at most half the time: each round is outdated before it ends, and the
                // cores are better spent on the requests. After a round that no change
                // overtook, the next change is served at once.
                if let Some((end, took)) = last {
                    let since = end.elapsed();
                    if since < took {
                        tokio::time::sleep(took - since).await;
                    }
                }
                let started = std::time::Instant::now();
                let changes_before = state.change_count();
                // The snapshot may have to parse documents changed since the last one: off
                // the async threads too.
                let computing = state.clone();
                let computed = tokio::task::spawn_blocking(move || {
                    let snap = computing.snapshot();
                    if seen_revision == Some(snap.revision) {
                        return None;
                    }
                    Some((snap.revision, compute(&snap)))
                })
                .await;
                // Overtaken: changes came in while this round computed (counted before it is
                // published: the change a client sends once it sees the diagnostics is no sign
                // of a burst).
                let overtaken = state.change_count() > changes_before;
                let computed = match computed {
                    Ok(Some((revision, c))) => {
                        seen_revision = Some(revision);
                        c
                    }
                    Ok(None) => {
                        last = None;
                        continue;
                    }
                    Err(e) => {
                        tracing::error!("computing diagnostics failed: {e}");
                        continue;
                    }
                };
                let gone: Vec<Uri> = published
                    .keys()
                    .filter(|u| !computed.contains_key(*u))
                    .cloned()
                    .collect();
                for uri in gone {
                    published.remove(&uri);
                    client.publish_diagnostics(uri, Vec::new(), None).await;
                }
                for (uri, (version, diags)) in computed {
                    if published.get(&uri).is_some_and(|p| p.1 == diags) {
                        continue;
                    }
                    client
                        .publish_diagnostics(uri.clone(), diags.clone(), Some(version))
                        .await;
                    published.insert(uri, (version, diags));
                }
                last = overtaken.then(|| (std::time::Instant::now(), started.elapsed()));
            }
        });
        worker
    }

    /// Asks for the open notes' diagnostics to be brought up to date.
    pub fn refresh(&self) {
        self.wake.notify_one();
    }
}

fn compute(snap: &Snapshot) -> HashMap<Uri, (i32, Vec<Diagnostic>)> {
    let mut out = HashMap::new();
    for (uri, doc) in snap.docs.iter() {
        let Some(id) = snap.vault.note_by_path(&doc.path) else {
            continue;
        };
        let diags = ide::diagnostics(
            &snap.vault,
            id,
            ide::DiagnosticsOptions {
                check_links: snap.indexed,
                ..Default::default()
            },
        )
        .into_iter()
        .map(|d| Diagnostic {
            range: doc.lines.range(&doc.text, d.range, snap.encoding),
            severity: Some(match d.severity {
                ide::Severity::Error => DiagnosticSeverity::ERROR,
                ide::Severity::Warning => DiagnosticSeverity::WARNING,
                ide::Severity::Information => DiagnosticSeverity::INFORMATION,
                ide::Severity::Hint => DiagnosticSeverity::HINT,
            }),
            code: Some(NumberOrString::String(d.code.to_owned())),
            source: Some("wikilsp".to_owned()),
            message: d.message,
            ..Default::default()
        })
        .collect();
        out.insert(uri.clone(), (doc.version, diags));
    }
    out
}
