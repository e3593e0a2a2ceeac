//! Times completion of a two-letter query in a folder's vault (a profiling aid:
//! `cargo run --release --example completion_profile -- DIR [QUERY]`).
use std::time::Instant;
use wikilsp::config::Config;
use wikilsp::ide::{CompletionContext, FilePosition, completion};
use wikilsp::syntax::parse_note;
use wikilsp::vault::{Detail, Vault, scan_folders};

fn main() {
    wikilsp::tune_allocator();
    let mut args = std::env::args().skip(1);
    let root = std::path::PathBuf::from(args.next().expect("a folder"));
    let query = args.next().unwrap_or_else(|| "ma".to_string());
    let root = root.canonicalize().unwrap();
    let (notes, _) = scan_folders(
        std::slice::from_ref(&root),
        &Config::default(),
        Detail::Index,
        &|_, _| {},
    );
    let mut vault = Vault::from_scan(vec![root.clone()], notes);
    let path = root.join("completion_profile_note.md");
    let text = format!("Typing [[{query}");
    let id = vault.update(&path, parse_note(&text), Some(text.clone().into()));
    let mut times = Vec::new();
    let mut items = 0;
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(50);
    for _ in 0..runs {
        let t = Instant::now();
        let list = completion(
            &vault,
            FilePosition {
                note: id,
                offset: text.len() as u32,
            },
            CompletionContext::default(),
        );
        times.push(t.elapsed());
        items = list.map_or(0, |l| l.items.len());
    }
    times.sort();
    println!(
        "{} names; {items} items for {query:?}: median {:?}, p95 {:?}",
        vault.name_table().entries().len(),
        times[times.len() / 2],
        times[times.len() * 95 / 100]
    );
}
