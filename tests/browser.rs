//! The HTML report in a real browser: headless Chromium renders a fresh report of the shipped
//! sample to a PNG offline, with no console errors (`tests/browser/render.sh`). Where Chromium is
//! not installed (`apt-get install chromium`), the test prints a note and passes.

mod common;

use std::process::Command;

#[test]
fn report_renders_offline_without_console_errors() {
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .any(|b| {
            Command::new("which")
                .arg(b)
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
        });
    if !chromium {
        eprintln!("note: no chromium found; skipping the browser check");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("reports");
    let status = common::eligo()
        .args(["--quiet", "run", "--out"])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let png = dir.path().join("report.png");
    let output = Command::new("bash")
        .arg("tests/browser/render.sh")
        .arg(out.join("report.html"))
        .arg(&png)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // A real picture, not an empty page: a 1280-pixel-wide PNG of some size.
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    assert!(
        bytes.len() > 50_000,
        "a suspiciously small screenshot: {} bytes",
        bytes.len()
    );
}
