//! `wikilsp check`: the command line over the example vault and small fixture vaults.
mod common;
use common::Fixture;
use std::process::{Command, Output};

fn check(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wikilsp"))
        .arg("check")
        .args(args)
        .output()
        .expect("run wikilsp check")
}

fn example_vault() -> String {
    format!("{}/examples/vault", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_example_vault_reports_its_eight_deliberate_problems() {
    let out = check(&[&example_vault()]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let summary = stdout.lines().last().unwrap();
    assert!(
        summary.starts_with("checked 23 notes in ")
            && summary.ends_with(": 1 error, 6 warnings, 1 hint"),
        "{stdout}"
    );
    // One block per finding, in the style of rustc.
    assert!(stdout.contains(
        "warning[broken-link]: no note for \"zodiacal_light\" yet\n  --> backyard_photons/dark_adaptation_and_averted_vision.md:26:72\n"
    ), "{stdout}");
    assert!(
        stdout.contains(
            "error[empty-link]: empty link\n  --> backyard_photons/the_messier_marathon.md:23:35\n"
        ),
        "{stdout}"
    );
    // The caret sits under the finding.
    let block = stdout
        .split("\n\n")
        .find(|b| b.contains("[empty-link]"))
        .unwrap();
    let lines: Vec<&str> = block.lines().collect();
    let source = lines[3];
    let caret = lines[4];
    let at = caret.find('^').unwrap();
    assert_eq!(&source[at..at + 4], "[[]]", "{block}");
    assert_eq!(caret.matches('^').count(), 4, "{block}");
}

#[test]
fn json_output_lists_every_finding_with_its_position() {
    let out = check(&[&example_vault(), "--format", "json", "--fail-on", "never"]);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["notes"], 23);
    assert_eq!(
        (
            json["errors"].as_u64(),
            json["warnings"].as_u64(),
            json["hints"].as_u64()
        ),
        (Some(1), Some(6), Some(1))
    );
    let codes: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "timestamp-mismatch",
            "broken-link",
            "malformed-timestamp",
            "timestamp-without-video",
            "empty-link",
            "broken-link",
            "invalid-timestamp",
            "broken-link"
        ]
    );
    let first = &json["findings"][0];
    assert_eq!(
        first["path"],
        "backyard_photons/choosing_a_first_telescope.md"
    );
    assert_eq!(
        (first["line"].as_u64(), first["column"].as_u64()),
        (Some(25), Some(363))
    );
}

#[test]
fn the_threshold_decides_the_exit_code() {
    assert_eq!(
        check(&[&example_vault(), "--fail-on", "error"])
            .status
            .code(),
        Some(1)
    );
    let fx = Fixture::new(
        "//- /a.md\n# A\nSee [[b]] <a class=\"yt-timestamp\" data-t=\"00:01:00\">[00:01:00]</a>\n//- /b.md\n# B\n",
    );
    let root = fx.root().to_str().unwrap().to_owned();
    // Only a hint (a timestamp in a note without videoId): fine unless hints fail the check.
    assert_eq!(check(&[&root]).status.code(), Some(0));
    assert_eq!(check(&[&root, "--fail-on", "hint"]).status.code(), Some(1));
    assert_eq!(check(&["/no/such/folder"]).status.code(), Some(2));
}
