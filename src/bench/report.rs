//! The bench's output: targets, the table of figures against them, and the JSON form.

use std::time::Duration;

use serde_json::{Value, json};

use super::measure::{Figures, IndexMethod, Stats};

/// What was measured on, for the heading and the JSON.
pub struct Context {
    pub notes: usize,
    pub seed: u64,
    pub iterations: usize,
    pub vault_bytes: u64,
    pub links: usize,
    pub broken_links: usize,
    pub generate: Duration,
    /// The best of [`Context::rg_runs`]; `None` when rg is not installed.
    pub rg: Option<Duration>,
    /// Each run of `rg`, in order.
    pub rg_runs: Vec<Duration>,
    pub server_cmd: String,
    pub compare_cmd: Option<String>,
}

/// The targets of issue 5 (2-core machine, warm page cache): one set for vaults of up to
/// 10,000 notes, one for larger vaults up to 100,000 notes (~600 MB of text).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Tier {
    Notes10k,
    Notes100k,
}

impl Tier {
    pub fn of(notes: usize) -> Tier {
        if notes <= 10_000 {
            Tier::Notes10k
        } else {
            Tier::Notes100k
        }
    }

    fn label(self) -> &'static str {
        match self {
            Tier::Notes10k => "10,000",
            Tier::Notes100k => "100,000",
        }
    }
}

/// Index time over `rg -c '\[\['` on the same vault: a target for the large tier only.
const RG_RATIO_LIMIT: [Option<f64>; 2] = [None, Some(3.0)];

/// A figure with its target in each [`Tier`] (`None`: measured, no target).
struct Row {
    key: &'static str,
    name: &'static str,
    unit: Unit,
    limits: [Option<f64>; 2],
    value: fn(&Figures) -> Option<f64>,
    stats: Option<fn(&Figures) -> Stats>,
}

#[derive(Clone, Copy)]
enum Unit {
    Ms,
    Mb,
}

const ROWS: &[Row] = &[
    Row {
        key: "index",
        name: "index complete",
        unit: Unit::Ms,
        limits: [Some(250.0), Some(2500.0)],
        value: |f| Some(ms(f.index)),
        stats: None,
    },
    Row {
        key: "completion",
        name: "completion p95",
        unit: Unit::Ms,
        limits: [Some(5.0), Some(10.0)],
        value: |f| Some(ms(f.completion.p95)),
        stats: Some(|f| f.completion),
    },
    Row {
        key: "definition",
        name: "definition p95",
        unit: Unit::Ms,
        limits: [Some(1.0), Some(2.0)],
        value: |f| Some(ms(f.definition.p95)),
        stats: Some(|f| f.definition),
    },
    Row {
        key: "hover",
        name: "hover p95",
        unit: Unit::Ms,
        limits: [Some(1.0), Some(2.0)],
        value: |f| Some(ms(f.hover.p95)),
        stats: Some(|f| f.hover),
    },
    Row {
        key: "references",
        name: "references p95",
        unit: Unit::Ms,
        limits: [Some(5.0), Some(20.0)],
        value: |f| Some(ms(f.references.p95)),
        stats: Some(|f| f.references),
    },
    Row {
        key: "rename",
        name: "rename p95",
        unit: Unit::Ms,
        limits: [Some(100.0), None],
        value: |f| Some(ms(f.rename.p95)),
        stats: Some(|f| f.rename),
    },
    Row {
        key: "diagnostics",
        name: "change→diagnostics p95",
        unit: Unit::Ms,
        limits: [Some(10.0), Some(10.0)],
        value: |f| (f.diagnostics.n > 0).then(|| ms(f.diagnostics.p95)),
        stats: Some(|f| f.diagnostics),
    },
    Row {
        key: "peak_rss",
        name: "peak RSS",
        unit: Unit::Mb,
        limits: [Some(80.0), Some(400.0)],
        value: |f| f.peak_rss_mb,
        stats: None,
    },
];

impl Row {
    fn limit(&self, tier: Tier) -> Option<f64> {
        self.limits[tier as usize]
    }

    /// `None` when the figure was not measured or has no target in `tier`.
    fn passes(&self, f: &Figures, tier: Tier) -> Option<bool> {
        Some((self.value)(f)? <= self.limit(tier)?)
    }

    fn target(&self, tier: Tier) -> String {
        self.limit(tier).map_or_else(
            || "none".to_string(),
            |l| format!("≤ {}", fmt(l, self.unit)),
        )
    }
}

fn rg_ratio(ctx: &Context, f: &Figures) -> Option<f64> {
    ctx.rg
        .map(|rg| f.index.as_secs_f64() / rg.as_secs_f64().max(1e-9))
}

fn rg_passes(ctx: &Context, f: &Figures) -> Option<bool> {
    Some(rg_ratio(ctx, f)? <= RG_RATIO_LIMIT[Tier::of(ctx.notes) as usize]?)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn fmt(v: f64, unit: Unit) -> String {
    match unit {
        Unit::Mb => format!("{v:.1} MB"),
        Unit::Ms if v >= 1000.0 => format!("{:.2} s", v / 1000.0),
        Unit::Ms if v >= 100.0 => format!("{v:.0} ms"),
        Unit::Ms => format!("{v:.2} ms"),
    }
}

fn fmt_opt(v: Option<f64>, unit: Unit) -> String {
    v.map_or_else(|| "n/a".to_string(), |v| fmt(v, unit))
}

/// Whether every figure meets its target (an unmeasurable one, like RSS off Linux, does not count).
pub fn all_pass(ctx: &Context, f: &Figures) -> bool {
    let tier = Tier::of(ctx.notes);
    ROWS.iter().all(|r| r.passes(f, tier) != Some(false)) && rg_passes(ctx, f) != Some(false)
}

pub fn print_table(ctx: &Context, primary: &Figures, compare: Option<&Figures>) {
    println!(
        "wikilsp bench: {} notes ({:.1} MB, {} links, {:.1}% broken; generated in {:.2} s), seed {}, {} iterations",
        ctx.notes,
        ctx.vault_bytes as f64 / 1e6,
        ctx.links,
        100.0 * ctx.broken_links as f64 / ctx.links.max(1) as f64,
        ctx.generate.as_secs_f64(),
        ctx.seed,
        ctx.iterations,
    );
    println!("server:  {}", ctx.server_cmd);
    if let Some(c) = &ctx.compare_cmd {
        println!("compare: {c}   (ratio = server / compare; below 1 means the server is faster)");
    }
    let tier = Tier::of(ctx.notes);
    println!(
        "targets: issue 5, for vaults of up to {} notes on a 2-core machine",
        tier.label()
    );
    println!();

    let mut header = format!(
        "{:<24} {:>10}  {:<10} {:<6}",
        "figure", "value", "target", "result"
    );
    if compare.is_some() {
        header.push_str(&format!(" {:>10} {:>7}", "compare", "ratio"));
    }
    header.push_str("  detail");
    println!("{header}");
    println!("{}", "-".repeat(header.chars().count() + 30));

    for row in ROWS {
        let value = (row.value)(primary);
        let verdict = match row.passes(primary, tier) {
            Some(true) => "PASS",
            Some(false) => "over",
            None => "n/a",
        };
        let mut line = format!(
            "{:<24} {:>10}  {:<10} {:<6}",
            row.name,
            fmt_opt(value, row.unit),
            row.target(tier),
            verdict
        );
        if let Some(c) = compare {
            let other = (row.value)(c);
            line.push_str(&format!(
                " {:>10} {:>7}",
                fmt_opt(other, row.unit),
                fmt_ratio(value, other)
            ));
        }
        line.push_str("  ");
        line.push_str(&detail(row, primary));
        println!("{}", line.trim_end());
    }

    match (ctx.rg, rg_ratio(ctx, primary)) {
        (Some(rg), Some(ratio)) => {
            let limit = RG_RATIO_LIMIT[tier as usize];
            let verdict = match rg_passes(ctx, primary) {
                Some(true) => "PASS",
                Some(false) => "over",
                None => "n/a",
            };
            println!(
                "{:<24} {:>10}  {:<10} {:<6}  rg -c '\\[\\[' took {} on the same vault{}",
                "index / rg",
                format!("{ratio:.2}×"),
                limit.map_or_else(|| "none".to_string(), |l| format!("≤ {l:.1}×")),
                verdict,
                fmt(ms(rg), Unit::Ms),
                match ctx.rg_runs.len() {
                    0 | 1 => String::new(),
                    n => format!(", best of {n} ({})", runs(&ctx.rg_runs)),
                },
            );
        }
        _ => println!("index / rg: skipped (rg is not on PATH)"),
    }
    for (label, f) in std::iter::once(("server", primary)).chain(compare.map(|c| ("compare", c))) {
        for w in &f.warnings {
            println!("warning ({label}): {w}");
        }
        if let Some(e) = &f.shutdown_error {
            let what = if label == "server" {
                "FAILURE"
            } else {
                "warning"
            };
            println!("{what} ({label}): unclean shutdown: {e}");
        }
    }
}

fn detail(row: &Row, f: &Figures) -> String {
    match (row.key, row.stats) {
        ("index", _) => {
            let method = match &f.index_method {
                IndexMethod::Progress { title } => format!("via $/progress end ({title:?})"),
                IndexMethod::DefinitionPoll => "via definition poll (no progress sent)".to_string(),
            };
            match f.index_runs.len() {
                0 | 1 => method,
                n => format!("best of {n} ({}), {method}", runs(&f.index_runs)),
            }
        }
        (_, Some(stats)) if stats(f).n == 0 => "not measured".to_string(),
        (key, Some(stats)) => {
            let s = stats(f);
            let extra = match key {
                "completion" => format!(", {} items", f.completion_items),
                "definition" => format!(", found {}/{}", f.definition_found, s.n),
                "hover" => format!(", answered {}/{}", f.hover_found, s.n),
                "references" => format!(", {} links", f.references_found),
                "rename" => format!(", {} link edits", f.rename_edits),
                _ => String::new(),
            };
            format!(
                "median {}, max {}{extra}",
                fmt(ms(s.median), Unit::Ms),
                fmt(ms(s.max), Unit::Ms)
            )
        }
        _ => String::new(),
    }
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

fn fmt_ratio(a: Option<f64>, b: Option<f64>) -> String {
    ratio(a, b).map_or_else(|| "n/a".to_string(), |r| format!("{r:.2}"))
}

/// Times of runs, in order: "1.41, 1.52, 1.39 s" (or in ms when under a second).
fn runs(times: &[Duration]) -> String {
    let secs = times.iter().all(|t| t.as_secs_f64() >= 1.0);
    let each: Vec<String> = times
        .iter()
        .map(|t| match secs {
            true => format!("{:.2}", t.as_secs_f64()),
            false => format!("{:.0}", ms(*t)),
        })
        .collect();
    format!("{} {}", each.join(", "), if secs { "s" } else { "ms" })
}

fn stats_json(s: Stats) -> Value {
    json!({"n": s.n, "median": ms(s.median), "p95": ms(s.p95), "max": ms(s.max)})
}

fn figures_json(ctx: &Context, cmd: &str, f: &Figures) -> Value {
    let tier = Tier::of(ctx.notes);
    let method = match &f.index_method {
        IndexMethod::Progress { title } => json!({"kind": "progress", "title": title}),
        IndexMethod::DefinitionPoll => json!({"kind": "definition_poll"}),
    };
    let pass: serde_json::Map<String, Value> = ROWS
        .iter()
        .map(|r| (r.key.to_string(), json!(r.passes(f, tier))))
        .collect();
    json!({
        "command": cmd,
        "index_ms": ms(f.index),
        "index_runs_ms": f.index_runs.iter().map(|t| ms(*t)).collect::<Vec<_>>(),
        "index_method": method,
        "completion_ms": stats_json(f.completion),
        "definition_ms": stats_json(f.definition),
        "hover_ms": stats_json(f.hover),
        "references_ms": stats_json(f.references),
        "references_found": f.references_found,
        "rename_ms": stats_json(f.rename),
        "rename_edits": f.rename_edits,
        "diagnostics_ms": stats_json(f.diagnostics),
        "peak_rss_mb": f.peak_rss_mb,
        "completion_items": f.completion_items,
        "definition_found": f.definition_found,
        "hover_found": f.hover_found,
        "pass": pass,
        "index_over_rg": rg_ratio(ctx, f),
        "all_pass": all_pass(ctx, f),
        "warnings": f.warnings,
        "shutdown_error": f.shutdown_error,
    })
}

/// One object with every figure; ratios are server / compare per targeted figure.
pub fn to_json(ctx: &Context, primary: &Figures, compare: Option<&Figures>) -> Value {
    let ratios = compare.map(|c| {
        ROWS.iter()
            .map(|r| {
                (
                    r.key.to_string(),
                    json!(ratio((r.value)(primary), (r.value)(c))),
                )
            })
            .collect::<serde_json::Map<_, _>>()
    });
    let tier = Tier::of(ctx.notes);
    let mut targets: serde_json::Map<String, Value> = ROWS
        .iter()
        .map(|r| (r.key.to_string(), json!(r.limit(tier))))
        .collect();
    targets.insert(
        "index_over_rg".to_string(),
        json!(RG_RATIO_LIMIT[tier as usize]),
    );
    json!({
        "notes": ctx.notes,
        "seed": ctx.seed,
        "iterations": ctx.iterations,
        "vault_bytes": ctx.vault_bytes,
        "links": ctx.links,
        "broken_links": ctx.broken_links,
        "generate_ms": ms(ctx.generate),
        "rg_ms": ctx.rg.map(ms),
        "rg_runs_ms": ctx.rg_runs.iter().map(|t| ms(*t)).collect::<Vec<_>>(),
        "tier": tier.label(),
        "targets": targets,
        "server": figures_json(ctx, &ctx.server_cmd, primary),
        "compare": compare.zip(ctx.compare_cmd.as_deref()).map(|(c, cmd)| figures_json(ctx, cmd, c)),
        "ratios": ratios,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_read_in_seconds_only_when_all_take_one() {
        let ms = Duration::from_millis;
        assert_eq!(runs(&[ms(1340), ms(1470), ms(1510)]), "1.34, 1.47, 1.51 s");
        assert_eq!(runs(&[ms(1340), ms(990)]), "1340, 990 ms");
        assert_eq!(runs(&[ms(51)]), "51 ms");
    }
}
