//! eligo against the independent DuckDB implementation of the general criteria
//! (`bench/reference/`), patient by patient, on the shipped sample extract; the reference's own
//! hand-worked tests, and those of the benchmark's A/B script (`bench/ab.py`). Needs python3
//! with duckdb, pyarrow and pytest: without them the tests print a note and pass, except under
//! CI, where they fail.

mod common;

use std::path::Path;
use std::process::Command;

fn python_ready() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import duckdb, pyarrow, pytest"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs python3 with duckdb, pyarrow and pytest (see .ci/run)"
        );
        eprintln!("note: python3 with duckdb, pyarrow and pytest not found; skipping");
    }
    ok
}

/// Runs pytest on `path` (from the repository's root) and asserts that it passes.
fn assert_pytest_passes(path: &str) {
    let output = Command::new("python3")
        .args(["-m", "pytest", path, "-q", "-p", "no:cacheprovider"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn reference_implementation_passes_its_own_tests() {
    if python_ready() {
        assert_pytest_passes("bench/reference");
    }
}

/// What `bench/ab.py` reports of its rounds (medians, ratios to the floor and to the first
/// build, the builds' order by round), checked by hand.
#[test]
fn ab_script_passes_its_own_tests() {
    if python_ready() {
        assert_pytest_passes("bench/test_ab.py");
    }
}

/// Runs eligo (with `pipeline`, else the shipped definition) and the DuckDB reference on the
/// sample extract and asserts that `compare.py` finds them equal patient by patient.
fn assert_agrees_with_duckdb_on_the_sample(pipeline: Option<&Path>) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut eligo = common::eligo();
    eligo.args(["--quiet", "run", "--as-of", "2026-01-15", "--restricted"]);
    if let Some(pipeline) = pipeline {
        eligo.arg("--pipeline").arg(pipeline);
    }
    let status = eligo.arg("--out").arg(&out).status().unwrap();
    assert!(status.success());
    let duckdb = dir.path().join("duckdb.parquet");
    let root = env!("CARGO_MANIFEST_DIR");
    let status = Command::new("python3")
        .args([
            "bench/reference/evaluate.py",
            "data-samples",
            "--as-of",
            "2026-01-15",
            "--out",
        ])
        .arg(&duckdb)
        .current_dir(root)
        .status()
        .unwrap();
    assert!(status.success());
    let output = Command::new("python3")
        .arg("bench/reference/compare.py")
        .arg(out.join("restricted/patients.parquet"))
        .arg(&duckdb)
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "eligo and DuckDB disagree:\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn eligo_agrees_with_duckdb_patient_by_patient_on_the_sample() {
    if !python_ready() {
        return;
    }
    assert_agrees_with_duckdb_on_the_sample(None);
}

/// The benchmark's `eligo-general` engine: `bench/general_only.py` keeps the 25 general criteria
/// of the spec and drops every drug, cohort and cohort criterion, and what remains still agrees
/// with the reference.
#[test]
fn general_criteria_alone_agree_with_duckdb_on_the_sample() {
    if !python_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let general = dir.path().join("general.toml");
    let root = env!("CARGO_MANIFEST_DIR");
    let status = Command::new("python3")
        .args(["bench/general_only.py", "pipelines/impress-norway.toml"])
        .arg(&general)
        .current_dir(root)
        .status()
        .unwrap();
    assert!(status.success());
    let check = common::eligo()
        .args(["check", "--pipeline"])
        .arg(&general)
        .output()
        .unwrap();
    assert!(check.status.success());
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(
        said.contains("25 criteria, 0 cohorts (0 drugs, 0 drug criteria, 0 cohort criteria)"),
        "{said}"
    );
    assert_agrees_with_duckdb_on_the_sample(Some(&general));
}
