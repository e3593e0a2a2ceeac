//! Times backlinks of the most linked note of a folder (a profiling aid:
//! `cargo run --release --example references_profile -- DIR`).
use std::time::Instant;
use wikilsp::config::Config;
use wikilsp::ide::{FilePosition, references};
use wikilsp::vault::{Detail, Vault, scan_folders};

fn main() {
    wikilsp::tune_allocator();
    let root = std::path::PathBuf::from(std::env::args().nth(1).expect("a folder"));
    let root = root.canonicalize().unwrap();
    let (notes, _) = scan_folders(
        std::slice::from_ref(&root),
        &Config::default(),
        Detail::Index,
        &|_, _| {},
    );
    let vault = Vault::from_scan(vec![root], notes);
    let best = vault
        .notes()
        .map(|(id, n)| (vault.link_count(n), id))
        .max()
        .unwrap();
    println!("note {:?} with {} links by name", best.1, best.0);
    let mut times = Vec::new();
    let mut found = 0;
    let mut placed = 0;
    for _ in 0..50 {
        let t = Instant::now();
        let refs = references(
            &vault,
            FilePosition {
                note: best.1,
                offset: 0,
            },
            false,
        );
        times.push(t.elapsed());
        found = refs.len();
        placed = refs
            .iter()
            .filter(|r| {
                vault
                    .note(r.note)
                    .unwrap()
                    .parsed
                    .lines
                    .utf16_range(r.range)
                    .is_some()
            })
            .count();
    }
    times.sort();
    let mut back = Vec::new();
    let runs: usize = std::env::var("RUNS").map_or(50, |r| r.parse().unwrap());
    for _ in 0..runs {
        let t = Instant::now();
        let b = vault.backlinks(best.1);
        back.push(t.elapsed());
        std::hint::black_box(b);
    }
    back.sort();
    println!("backlinks alone: median {:?}", back[runs / 2]);
    println!(
        "{found} references ({placed} placed without the text): median {:?}, p95 {:?}",
        times[25], times[47]
    );
}
