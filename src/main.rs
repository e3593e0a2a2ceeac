//! The command line: `wikilsp` serves over stdio; `check` and `bench` are batch jobs.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "wikilsp",
    version,
    about = "Language server for wiki-linked markdown notes"
)]
struct Cli {
    /// Accepted for editors that add it (vscode-languageclient does); stdio is the only transport.
    #[arg(long, global = true, hide = true)]
    stdio: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the language server protocol over stdin/stdout (the default).
    Serve,
    /// Check a whole vault with the server's diagnostics (exit 1 on findings).
    Check(wikilsp::check::CheckArgs),
    /// Benchmark the server over the real protocol on a generated vault.
    Bench(wikilsp::bench::BenchArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    wikilsp::tune_allocator();
    match cli.command {
        None | Some(Command::Serve) => {
            init_logging();
            wikilsp::lsp::run_stdio()
        }
        Some(Command::Check(args)) => wikilsp::check::run(args),
        Some(Command::Bench(args)) => wikilsp::bench::run(args),
    }
}

/// Logs go to stderr (stdout carries the protocol); `WIKILSP_LOG` or `RUST_LOG` set the level.
fn init_logging() {
    let filter = std::env::var("WIKILSP_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "wikilsp=warn".to_owned());
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .init();
}
