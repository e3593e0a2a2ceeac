//! Indexes a folder and prints where the index's memory goes, by part (a profiling aid:
//! `cargo run --release --example memory_profile -- DIR`).
use std::collections::HashSet;
use wikilsp::config::Config;
use wikilsp::syntax::Link;
use wikilsp::vault::{Detail, Vault, scan_folders};

fn rss(label: &str) {
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        let pick = |k: &str| {
            status
                .lines()
                .find(|l| l.starts_with(k))
                .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                .unwrap_or_default()
        };
        println!("{label}: {} {}", pick("VmRSS"), pick("VmHWM"));
    }
}

#[repr(C)]
struct MallInfo2 {
    arena: usize,
    ordblks: usize,
    smblks: usize,
    hblks: usize,
    hblkhd: usize,
    usmblks: usize,
    fsmblks: usize,
    uordblks: usize,
    fordblks: usize,
    keepcost: usize,
}
unsafe extern "C" {
    fn malloc_trim(pad: usize) -> i32;
    fn mallinfo2() -> MallInfo2;
}
fn heap(label: &str) {
    let m = unsafe { mallinfo2() };
    println!(
        "{label}: heap arena {} MB mmapped {} MB in use {} MB free {} MB",
        m.arena >> 20,
        m.hblkhd >> 20,
        m.uordblks >> 20,
        m.fordblks >> 20
    );
}

fn main() {
    wikilsp::tune_allocator();
    let root = std::path::PathBuf::from(std::env::args().nth(1).expect("a folder"));
    let root = root.canonicalize().unwrap();
    rss("start");
    let (notes, _) = scan_folders(
        std::slice::from_ref(&root),
        &Config::default(),
        Detail::Index,
        &|_, _| {},
    );
    rss("scanned");
    heap("scanned");
    let vault = Vault::from_scan(vec![root], notes);
    rss("built");
    heap("built");
    unsafe { malloc_trim(0) };
    rss("built+trim");
    let mb = |b: usize| b as f64 / 1e6;
    let (mut links, mut link_n, mut keys, mut heads, mut lines, mut cols, mut strs, mut fm) =
        (0, 0, 0, 0, 0, 0, 0, 0);
    let mut names = HashSet::new();
    let mut name_bytes = 0;
    // A heap block as glibc lays it out: an 8-byte header, rounded up to 16, 32 at least.
    let block = |n: usize| {
        if n == 0 {
            0
        } else {
            (n + 8).div_ceil(16).max(2) * 16
        }
    };
    let (mut note_allocated, mut note_blocks, mut spilled) = (0, 0, 0);
    for (_, n) in vault.notes() {
        let p = &n.parsed;
        links += p.links.capacity() * std::mem::size_of::<Link>()
            + p.link_headings.capacity() * std::mem::size_of::<wikilsp::syntax::LinkHeading>();
        link_n += p.links.len();
        keys += n.link_keys.len() * 4;
        heads += p.headings.capacity() * std::mem::size_of::<wikilsp::syntax::Heading>()
            + p.headings.iter().map(|h| h.text.capacity()).sum::<usize>();
        lines += p.lines.heap_bytes();
        cols += p.lines.column_bytes();
        // What the note owns: itself and its parse (each in an `Arc`: two counts more), and
        // its path, keys and any spilled names. Its link keys are counted above.
        let owned = n.heap_blocks();
        let (note, parsed) = (
            std::mem::size_of::<wikilsp::vault::Note>(),
            std::mem::size_of::<wikilsp::syntax::ParsedNote>(),
        );
        strs += note + parsed + owned.iter().map(|b| b.1).sum::<usize>();
        note_allocated +=
            block(16 + note) + block(16 + parsed) + owned.iter().map(|b| block(b.1)).sum::<usize>();
        note_blocks += 2 + owned.len();
        spilled += owned.iter().any(|b| b.0 == "spilled names") as usize;
        if let Some(f) = &p.frontmatter {
            fm += std::mem::size_of::<wikilsp::syntax::Frontmatter>()
                + f.title.as_ref().map_or(0, |t| t.capacity())
                + f.video_id.as_ref().map_or(0, |t| t.capacity())
                + f.aliases.iter().map(|a| a.capacity() + 24).sum::<usize>();
        }
        for l in &p.links {
            for name in std::iter::once(&l.target).chain(p.link_heading(l).map(|h| h.0)) {
                if names.insert(name.as_ptr() as usize) {
                    name_bytes += name.len() + 8;
                }
            }
        }
    }
    println!("{} notes, {} links", vault.len(), link_n);
    let mut maps = 0;
    for (name, keys, bytes) in vault.map_memory() {
        maps += bytes;
        println!("map {name:14} {keys:8} keys {:8.1} MB", mb(bytes));
    }
    println!("maps total {:.1} MB", mb(maps));
    println!(
        "sizes: Note {} ParsedNote {} Frontmatter {} Heading {} LineMap {} KeyLinks {}",
        std::mem::size_of::<wikilsp::vault::Note>(),
        std::mem::size_of::<wikilsp::syntax::ParsedNote>(),
        std::mem::size_of::<wikilsp::syntax::Frontmatter>(),
        std::mem::size_of::<wikilsp::syntax::Heading>(),
        std::mem::size_of::<wikilsp::syntax::LineMap>(),
        std::mem::size_of::<wikilsp::vault::KeyLinks>(),
    );
    println!(
        "links          {:8.1} MB ({} B each)",
        mb(links),
        std::mem::size_of::<Link>()
    );
    println!("link keys      {:8.1} MB", mb(keys));
    println!("headings       {:8.1} MB", mb(heads));
    println!(
        "line maps      {:8.1} MB (of which columns {:.1} MB)",
        mb(lines),
        mb(cols)
    );
    println!("note strings   {:8.1} MB", mb(strs));
    println!(
        "  allocated    {:8.1} MB in {} blocks (headers and rounding; {} notes spilled names)",
        mb(note_allocated),
        note_blocks,
        spilled
    );
    println!("frontmatter    {:8.1} MB", mb(fm));
    println!(
        "distinct names {:8.1} MB ({} names)",
        mb(name_bytes),
        names.len()
    );
    let t = std::time::Instant::now();
    let table = vault.name_table();
    println!(
        "name table: {} entries in {:?}",
        table.entries().len(),
        t.elapsed()
    );
    rss("with name table");
    let t = std::time::Instant::now();
    let _missing = vault.missing_table();
    println!("missing table in {:?}", t.elapsed());
    rss("with missing table");
    let t = std::time::Instant::now();
    let _matcher = vault.mention_matcher();
    println!("mention matcher in {:?}", t.elapsed());
    rss("with mention matcher");
}
