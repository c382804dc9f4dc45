//! A run killed at any point leaves the output folder as it was (the previous complete report)
//! or replaced by the new complete one, never partial; the next run clears what a killed run
//! left beside it.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::eligo;

const FILES: [&str; 7] = [
    "attrition.csv",
    "criteria.csv",
    "cohorts.csv",
    "strata.csv",
    "data_quality.csv",
    "report.html",
    "manifest.json",
];

/// The as-of date recorded in a complete report folder; panics on a partial one.
fn complete_as_of(out: &Path) -> String {
    for file in FILES {
        assert!(
            out.join(file).is_file(),
            "{} is missing: partial report",
            file
        );
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap())
            .expect("manifest.json is complete JSON");
    manifest["as_of"].as_str().unwrap().to_string()
}

#[test]
fn killed_runs_leave_the_old_report_or_the_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("extract");
    let out = dir.path().join("reports");
    let status = eligo()
        .args([
            "--quiet",
            "synth",
            "--patients",
            "1500",
            "--seed",
            "5",
            "--out",
        ])
        .arg(&data)
        .status()
        .unwrap();
    assert!(status.success());
    let run = |as_of: &str| {
        let mut cmd = eligo();
        cmd.args(["--quiet", "run", "--as-of", as_of, "--data"])
            .arg(&data)
            .arg("--out")
            .arg(&out)
            .stdout(std::process::Stdio::null());
        cmd
    };
    // The old, complete report; and how long a whole run takes here.
    let started = Instant::now();
    assert!(run("2025-12-31").status().unwrap().success());
    let whole = started.elapsed();
    assert_eq!(complete_as_of(&out), "2025-12-31");

    // Kill new runs at fractions of a whole run: before reading, while evaluating, while writing.
    let mut replaced = false;
    for tenth in [1u32, 3, 5, 7, 8, 9, 10, 11] {
        let mut child = run("2026-01-15").spawn().unwrap();
        std::thread::sleep(whole * tenth / 10);
        let _ = child.kill();
        let _ = child.wait();
        let as_of = complete_as_of(&out);
        assert!(
            as_of == "2025-12-31" || as_of == "2026-01-15",
            "after a kill at {tenth}/10 of a run: a report as of {as_of}"
        );
        replaced |= as_of == "2026-01-15";
        if replaced {
            // Once replaced, later kills must keep the new report.
            assert_eq!(as_of, "2026-01-15");
        }
    }
    // A run that completes clears the staging folders that killed runs left beside the target.
    let deadline = Instant::now() + Duration::from_secs(600);
    assert!(run("2026-01-16").status().unwrap().success() && Instant::now() < deadline);
    assert_eq!(complete_as_of(&out), "2026-01-16");
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".eligo-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "left beside the target: {leftovers:?}"
    );
}
