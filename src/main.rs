//! The command line: `wikilsp` serves over stdio; `check` and `bench` are batch jobs.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "wikilsp", version, about = "Language server for wiki-linked markdown notes")]
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
    /// Benchmark the server over the real protocol on a generated vault.
    Bench(wikilsp::bench::BenchArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None | Some(Command::Serve) => std::process::ExitCode::SUCCESS,
        Some(Command::Bench(args)) => wikilsp::bench::run(args),
    }
}
