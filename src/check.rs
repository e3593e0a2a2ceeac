//! `wikilsp check`: the server's diagnostics for a whole vault, printed in the style of rustc
//! (or as JSON for CI), with an exit code for scripts.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::config::{self, Config};
use crate::ide::{self, Severity};
use crate::vault::{Detail, Vault, scan_folders};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

/// The least severity that fails the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Threshold {
    Error,
    Warning,
    Hint,
    /// Never fail.
    Never,
}

/// Arguments of `wikilsp check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The vault folder (default: the current folder).
    pub path: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Exit with 1 when a finding of this severity or worse is found.
    #[arg(long = "fail-on", value_enum, default_value = "warning")]
    pub fail_on: Threshold,
}

/// One finding, located for people.
#[derive(Debug, Clone, serde::Serialize)]
struct Finding {
    path: String,
    /// 1-based line and column (in characters).
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    severity: &'static str,
    code: &'static str,
    message: String,
    #[serde(skip)]
    rank: Severity,
    #[serde(skip)]
    snippet: String,
}

pub fn run(args: CheckArgs) -> ExitCode {
    let root = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    if !root.is_dir() {
        eprintln!("error: {} is not a folder", root.display());
        return ExitCode::from(2);
    }
    let root = std::path::absolute(&root).unwrap_or(root);
    // The vault's own configuration, as the server reads it.
    let mut config = Config::default();
    if let Ok(text) = std::fs::read_to_string(root.join(config::FILE_NAME)) {
        let (c, problems) = Config::from_toml(&text);
        for p in problems {
            eprintln!("warning: {p}");
        }
        config = c;
    }
    let (notes, errors) = scan_folders(
        std::slice::from_ref(&root),
        &config,
        Detail::Full,
        &|_, _| {},
    );
    for e in &errors {
        match e.kind {
            crate::vault::ScanProblem::Skipped => eprintln!("warning: skipped {e}"),
            crate::vault::ScanProblem::Lossy => eprintln!("warning: {e}"),
            crate::vault::ScanProblem::Vanished => {}
        }
    }
    let mut vault = Vault::from_scan(vec![root.clone()], notes);
    vault.set_config(std::sync::Arc::new(config));
    let mut findings = Vec::new();
    let mut notes: Vec<_> = vault.notes().collect();
    notes.sort_by(|a, b| a.1.rel_path().cmp(b.1.rel_path()));
    for (id, note) in notes {
        let diags = ide::diagnostics(
            &vault,
            id,
            // Mentions are an editing aid, not a problem of the vault.
            ide::DiagnosticsOptions {
                check_links: true,
                unlinked_mentions: false,
            },
        );
        if diags.is_empty() {
            continue;
        }
        let Some(text) = vault.text(id) else { continue };
        for d in diags {
            findings.push(locate(note.rel_path(), &text, d));
        }
    }
    let count = |s: Severity| findings.iter().filter(|f| f.rank == s).count();
    let (errors_n, warnings_n, hints_n) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Hint) + count(Severity::Information),
    );
    match args.format {
        Format::Human => {
            let mut out = String::new();
            for f in &findings {
                render_human(&mut out, f);
            }
            let _ = writeln!(
                out,
                "checked {} notes in {}: {} {}, {} {}, {} {}",
                vault.len(),
                display_root(&root),
                errors_n,
                plural(errors_n, "error"),
                warnings_n,
                plural(warnings_n, "warning"),
                hints_n,
                plural(hints_n, "hint"),
            );
            print!("{out}");
        }
        Format::Json => {
            let json = serde_json::json!({
                "root": root,
                "notes": vault.len(),
                "errors": errors_n,
                "warnings": warnings_n,
                "hints": hints_n,
                "findings": findings,
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&json).unwrap_or_default()
            );
        }
    }
    let failed = match args.fail_on {
        Threshold::Never => false,
        Threshold::Error => errors_n > 0,
        Threshold::Warning => errors_n + warnings_n > 0,
        Threshold::Hint => !findings.is_empty(),
    };
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_owned()
    } else {
        format!("{word}s")
    }
}

fn display_root(root: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| root.strip_prefix(cwd).ok().map(|p| p.display().to_string()))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| root.display().to_string())
}

/// 1-based line and character column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..line_start].matches('\n').count() + 1;
    let col = text[line_start..offset].chars().count() + 1;
    (line, col, line_start)
}

fn locate(path: &str, text: &str, d: ide::Diagnostic) -> Finding {
    let (line, column, line_start) = line_col(text, d.range.start as usize);
    let (end_line, end_column, _) = line_col(text, d.range.end as usize);
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    let snippet = text[line_start..line_end].trim_end_matches('\r').to_owned();
    Finding {
        path: path.to_owned(),
        line,
        column,
        end_line,
        end_column,
        severity: match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "info",
            Severity::Hint => "hint",
        },
        code: d.code,
        message: d.message,
        rank: d.severity,
        snippet,
    }
}

/// Notes hold long paragraphs on one line: show a window of the line around the finding.
fn render_human(out: &mut String, f: &Finding) {
    const BEFORE: usize = 40;
    const WIDTH: usize = 100;
    let chars: Vec<char> = f.snippet.chars().collect();
    let start = f.column - 1;
    let len = if f.end_line == f.line {
        (f.end_column.saturating_sub(f.column)).max(1)
    } else {
        chars.len().saturating_sub(start).max(1)
    };
    let from = start.saturating_sub(BEFORE);
    let to = (from + WIDTH).max(start + len).min(chars.len());
    let mut shown: String = chars[from.min(chars.len())..to].iter().collect();
    let mut caret_at = start - from;
    if from > 0 {
        shown.insert(0, '…');
        caret_at += 1;
    }
    if to < chars.len() {
        shown.push('…');
    }
    let num = f.line.to_string();
    let pad = " ".repeat(num.len());
    let _ = writeln!(out, "{}[{}]: {}", f.severity, f.code, f.message);
    let _ = writeln!(out, "{pad}--> {}:{}:{}", f.path, f.line, f.column);
    let _ = writeln!(out, "{pad} |");
    let _ = writeln!(out, "{num} | {shown}");
    let _ = writeln!(
        out,
        "{pad} | {}{}",
        " ".repeat(caret_at),
        "^".repeat(len.min(WIDTH))
    );
    let _ = writeln!(out);
}
