//! `wikilsp bench`: generates a vault and measures the server over the real protocol.

/// Arguments of `wikilsp bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {}

pub fn run(_args: BenchArgs) -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}
