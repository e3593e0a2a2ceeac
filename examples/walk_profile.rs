//! temp
fn main() {
    let root = std::path::PathBuf::from(std::env::args().nth(1).unwrap())
        .canonicalize()
        .unwrap();
    let t = std::time::Instant::now();
    let errors = std::sync::Mutex::new(Vec::new());
    let ru0 = rusage();
    let v = wikilsp::vault::list_notes(&root, &root, &wikilsp::config::Config::default(), &errors);
    let ru1 = rusage();
    println!(
        "{} in {:?}, cpu user {:.3} sys {:.3}",
        v.len(),
        t.elapsed(),
        ru1.0 - ru0.0,
        ru1.1 - ru0.1
    );
}
fn rusage() -> (f64, f64) {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap();
    let f: Vec<&str> = s.rsplit(')').next().unwrap().split_whitespace().collect();
    (
        f[11].parse::<f64>().unwrap() / 100.0,
        f[12].parse::<f64>().unwrap() / 100.0,
    )
}
