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
    println!("{}", rss());
    unsafe extern "C" {
        fn malloc_trim(pad: usize) -> i32;
        fn malloc_stats();
    }
    unsafe { malloc_stats() };
    unsafe { malloc_trim(0) };
    println!("after trim: {}", rss());
    drop(vault);
}

#[allow(dead_code)]
fn rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("VmRSS") || l.starts_with("VmHWM"))
        .collect::<Vec<_>>()
        .join(" ")
}
