//! Indexes a folder the way the server does and prints the time it took (a profiling aid:
//! `cargo run --release --example index_profile -- DIR`, or under `valgrind --tool=callgrind`).
//! With `WIKILSP_LOG=wikilsp=debug` it also prints the phases of the build.
use std::time::Instant;
use wikilsp::config::Config;
use wikilsp::vault::Vault;

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("WIKILSP_LOG"))
        .with_writer(std::io::stderr)
        .init();
    wikilsp::tune_allocator();
    let root = std::path::PathBuf::from(std::env::args().nth(1).expect("a folder"));
    let root = root.canonicalize().unwrap();
    let t = Instant::now();
    let first = std::sync::OnceLock::new();
    let (vault, errors) = Vault::index_folders(vec![root], &Config::default(), &|_, _| {
        first.get_or_init(|| t.elapsed());
    });
    println!(
        "{} notes, {} errors: first note read after {:?}, indexed in {:?}",
        vault.len(),
        errors.len(),
        first.get().copied().unwrap_or_default(),
        t.elapsed(),
    );
    // Dropping the vault is not part of indexing: left to the end of the process, and out of
    // a profile.
    std::mem::forget(vault);
    // The peak memory of the process (Linux).
    if let Ok(status) = std::fs::read_to_string("/proc/self/status")
        && let Some(peak) = status.lines().find(|l| l.starts_with("VmHWM"))
    {
        println!("{}", peak.split_whitespace().collect::<Vec<_>>().join(" "));
    }
}
