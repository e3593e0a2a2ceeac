//! The diagnostics of one note: what the parser saw, plus what only the vault can tell (links
//! that lead nowhere, or to several notes, or to a missing heading).

use crate::config::Level;
use crate::syntax::{ProblemKind, TextRange};
use crate::vault::{NoteId, Resolution, Vault};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    Information,
    Hint,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub range: TextRange,
    pub severity: Severity,
    /// Stable code, e.g. `broken-link`.
    pub code: &'static str,
    pub message: String,
}

fn severity_of(kind: ProblemKind) -> Severity {
    match kind {
        ProblemKind::EmptyLink | ProblemKind::UnclosedLink | ProblemKind::BadFrontmatter => {
            Severity::Error
        }
        ProblemKind::TimestampMismatch
        | ProblemKind::InvalidTimestamp
        | ProblemKind::MalformedTimestamp => Severity::Warning,
    }
}

/// What [`diagnostics`] looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiagnosticsOptions {
    /// Judge links (off while the vault is still being indexed, when a missing note may only
    /// not be read yet).
    pub check_links: bool,
    /// Report `unlinked-mention` hints: plain text naming another note.
    pub unlinked_mentions: bool,
}

impl Default for DiagnosticsOptions {
    fn default() -> Self {
        DiagnosticsOptions {
            check_links: true,
            unlinked_mentions: true,
        }
    }
}

/// Every diagnostic of the note, ordered by position.
pub fn diagnostics(vault: &Vault, id: NoteId, options: DiagnosticsOptions) -> Vec<Diagnostic> {
    let check_links = options.check_links;
    let Some(note) = vault.note(id) else {
        return Vec::new();
    };
    let parsed = &note.parsed;
    let mut out: Vec<Diagnostic> = parsed
        .problems
        .iter()
        .map(|p| Diagnostic {
            range: p.range,
            severity: severity_of(p.kind),
            code: p.kind.code(),
            message: p.message.clone(),
        })
        .collect();

    for link in parsed.links.iter().filter(|_| check_links) {
        // An unclosed link's target is whatever follows on the line: judging it would only
        // repeat the unclosed-link error with a confusing message.
        if !link.closed() || (link.target.is_empty() && !link.has_heading()) {
            continue;
        }
        let target = if link.target.is_empty() {
            Resolution::Note(id)
        } else {
            vault.resolve(&link.target, note.path())
        };
        match target {
            Resolution::Missing => out.push(Diagnostic {
                range: link.target_range(),
                severity: Severity::Warning,
                code: "broken-link",
                message: format!("no note for \"{}\" yet", link.target),
            }),
            Resolution::Ambiguous(ids) => {
                let paths: Vec<&str> = ids
                    .iter()
                    .filter_map(|i| vault.note(*i))
                    .map(|n| n.rel_path())
                    .collect();
                out.push(Diagnostic {
                    range: link.target_range(),
                    severity: Severity::Warning,
                    code: "ambiguous-link",
                    message: format!(
                        "\"{}\" could mean any of: {}",
                        link.target,
                        paths.join(", ")
                    ),
                })
            }
            Resolution::Note(target) => {
                let Some((heading, range)) = parsed.link_heading(link) else {
                    continue;
                };
                if vault.find_heading(target, heading).is_none() {
                    let name = vault.note(target).map(|n| n.stem()).unwrap_or("");
                    out.push(Diagnostic {
                        range,
                        severity: Severity::Warning,
                        code: "missing-heading",
                        message: format!("\"{name}\" has no heading \"{heading}\""),
                    });
                }
            }
        }
    }

    if parsed.video_id().is_none_or(|v| v.trim().is_empty())
        && let Some(first) = parsed.timestamps.first()
    {
        let n = parsed.timestamps.len();
        out.push(Diagnostic {
            range: first.range,
            severity: Severity::Hint,
            code: "timestamp-without-video",
            message: if n == 1 {
                "this note has a timestamp but no videoId in its frontmatter".to_owned()
            } else {
                format!("this note has {n} timestamps but no videoId in its frontmatter")
            },
        });
    }
    if options.unlinked_mentions && vault.config().unlinked_mentions && check_links {
        for m in super::unlinked::unlinked_mentions(vault, id) {
            out.push(Diagnostic {
                range: m.range,
                severity: Severity::Hint,
                code: "unlinked-mention",
                message: format!(
                    "\"{}\" names the note \"{}\": link it?",
                    m.text, m.link_target
                ),
            });
        }
    }
    // The vault's configuration may make a code louder, quieter or silent.
    let config = vault.config();
    out.retain_mut(|d| {
        let level = config.level(d.code, level_of(d.severity));
        match level {
            Level::Off => false,
            Level::Error => set(&mut d.severity, Severity::Error),
            Level::Warning => set(&mut d.severity, Severity::Warning),
            Level::Info => set(&mut d.severity, Severity::Information),
            Level::Hint => set(&mut d.severity, Severity::Hint),
        }
    });
    out.sort_by_key(|d| (d.range.start, d.range.end));
    out
}

fn set(severity: &mut Severity, to: Severity) -> bool {
    *severity = to;
    true
}

fn level_of(severity: Severity) -> Level {
    match severity {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
        Severity::Information => Level::Info,
        Severity::Hint => Level::Hint,
    }
}
