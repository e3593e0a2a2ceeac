//! Indexes a folder the way the server does and prints the time of each phase (a profiling aid:
//! `cargo run --release --example index_profile -- DIR`, or under `valgrind --tool=callgrind`).
use std::time::Instant;
use wikilsp::config::Config;
use wikilsp::vault::{Detail, Vault, scan_folders};

fn main() {
    let root = std::path::PathBuf::from(std::env::args().nth(1).expect("a folder"));
    let root = root.canonicalize().unwrap();
    let t = Instant::now();
    let (notes, errors) = scan_folders(
        std::slice::from_ref(&root),
        &Config::default(),
        Detail::Index,
        &|_, _| {},
    );
    let scanned = t.elapsed();
    let vault = Vault::from_scan(vec![root], notes);
    let built = t.elapsed() - scanned;
    println!(
        "{} notes, {} errors: scan {:?}, build {:?}",
        vault.len(),
        errors.len(),
        scanned,
        built
    );
    // The peak memory of the process (Linux).
    if let Ok(status) = std::fs::read_to_string("/proc/self/status")
        && let Some(peak) = status.lines().find(|l| l.starts_with("VmHWM"))
    {
        println!("{}", peak.split_whitespace().collect::<Vec<_>>().join(" "));
    }
}
