//! The extract contract, rule by rule: `eligo check --data` on small extracts written with
//! arrow-rs into temporary folders. Each broken rule gives exit 1 and a message naming the file,
//! the column and the rule; valid variants (timestamps, string ids, partitions) are accepted.

#[path = "../fixtures/mod.rs"]
mod fixtures;

mod accepted;
mod findings;
mod rejected;

use std::path::Path;

use assert_cmd::Command;

/// Runs `eligo --quiet check --data DIR`: (exit code, stdout, stderr).
pub fn check(dir: &Path) -> (i32, String, String) {
    let out = Command::cargo_bin("eligo")
        .unwrap()
        .args(["--quiet", "check", "--data"])
        .arg(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts exit 1 and that stderr holds every one of `parts`; returns stderr.
pub fn assert_rejected(dir: &Path, parts: &[&str]) -> String {
    let (code, _, stderr) = check(dir);
    assert_eq!(code, 1, "expected exit 1, stderr: {stderr}");
    for part in parts {
        assert!(stderr.contains(part), "missing {part:?} in: {stderr}");
    }
    stderr
}
