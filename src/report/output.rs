//! The output folder, replaced as a whole: files are written into a temporary folder beside the
//! target, which replaces the target only on [`OutputFolder::commit`], in one atomic exchange
//! (Linux `renameat2(RENAME_EXCHANGE)`). A run that fails or is killed leaves the previous reports
//! as they were; the staging folders a killed run leaves beside the target
//! (`.eligo-tmp-NAME-*`) are removed by the next run into the same target.

use std::path::{Path, PathBuf};

use super::ReportError;

/// A temporary folder that becomes `target` on commit; removed if dropped uncommitted.
#[derive(Debug)]
pub struct OutputFolder {
    temp: tempfile::TempDir,
    target: PathBuf,
}

impl OutputFolder {
    /// Creates the temporary folder in the target's parent (same file system, so the final
    /// rename is atomic). The parent is created if needed.
    pub fn create(target: &Path) -> Result<OutputFolder, ReportError> {
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let write_error = |source| ReportError::Write {
            path: target.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(&parent).map_err(write_error)?;
        let prefix = staging_prefix(target);
        remove_stale(&parent, &prefix);
        let temp = tempfile::Builder::new()
            .prefix(&prefix)
            .tempdir_in(&parent)
            .map_err(write_error)?;
        Ok(OutputFolder {
            temp,
            target: target.to_path_buf(),
        })
    }

    /// Where to write the files.
    pub fn path(&self) -> &Path {
        self.temp.path()
    }

    /// Replaces the target with the written folder. An existing target is first renamed aside
    /// (POSIX rename cannot replace a non-empty folder), then removed; if the final rename fails,
    /// the old target is put back.
    pub fn commit(self) -> Result<(), ReportError> {
        let target = self.target.clone();
        let write_error = |source| ReportError::Write {
            path: target.clone(),
            source,
        };
        let written = self.temp.keep();
        if target.exists() {
            match exchange(&written, &target) {
                // `written` now holds the old reports.
                Ok(()) => {
                    return std::fs::remove_dir_all(&written).map_err(|source| {
                        ReportError::Write {
                            path: written.clone(),
                            source,
                        }
                    });
                }
                Err(e) if exchange_unsupported(&e) => {}
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&written);
                    return Err(write_error(e));
                }
            }
        }
        // No target yet, or no atomic exchange here: move the old target aside, then rename.
        let aside = if target.exists() {
            let parent = written.parent().unwrap_or(Path::new("."));
            let aside = tempfile::Builder::new()
                .prefix(&staging_prefix(&target))
                .tempdir_in(parent)
                .map_err(write_error)?
                .keep();
            // The placeholder folder is empty: rename(2) replaces an empty folder.
            if let Err(e) = std::fs::rename(&target, &aside) {
                let _ = std::fs::remove_dir(&aside);
                let _ = std::fs::remove_dir_all(&written);
                return Err(write_error(e));
            }
            Some(aside)
        } else {
            None
        };
        if let Err(e) = std::fs::rename(&written, &target) {
            if let Some(aside) = &aside {
                let _ = std::fs::rename(aside, &target);
            }
            let _ = std::fs::remove_dir_all(&written);
            return Err(write_error(e));
        }
        if let Some(aside) = aside {
            std::fs::remove_dir_all(&aside).map_err(|source| ReportError::Write {
                path: aside.clone(),
                source,
            })?;
        }
        Ok(())
    }
}

/// `.eligo-tmp-NAME-`: staging folders of the target `.../NAME`.
fn staging_prefix(target: &Path) -> String {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".eligo-tmp-{name}-")
}

/// Removes staging folders that killed runs into the same target left behind.
fn remove_stale(parent: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(prefix) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Swaps two paths atomically.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let a = CString::new(a.as_os_str().as_bytes())?;
    let b = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both paths are valid NUL-terminated strings that outlive the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

/// The kernel or file system cannot exchange: fall back to rename-aside.
#[cfg(target_os = "linux")]
fn exchange_unsupported(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS))
}

#[cfg(not(target_os = "linux"))]
fn exchange_unsupported(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::Unsupported
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".eligo-"))
            .collect();
        names.sort();
        names
    }

    #[test]
    fn commit_replaces_and_drop_keeps_the_old_folder() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("reports");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("old.csv"), "old").unwrap();

        // A run that fails after writing part of its files: dropped without commit.
        let failed = OutputFolder::create(&target).unwrap();
        std::fs::write(failed.path().join("attrition.csv"), "half").unwrap();
        drop(failed);
        assert_eq!(
            std::fs::read_to_string(target.join("old.csv")).unwrap(),
            "old"
        );
        assert!(!target.join("attrition.csv").exists());
        assert!(leftovers(root.path()).is_empty());

        // A run that completes: the target holds exactly the new files.
        let done = OutputFolder::create(&target).unwrap();
        std::fs::write(done.path().join("attrition.csv"), "new").unwrap();
        done.commit().unwrap();
        assert!(!target.join("old.csv").exists());
        assert_eq!(
            std::fs::read_to_string(target.join("attrition.csv")).unwrap(),
            "new"
        );
        assert!(leftovers(root.path()).is_empty());
    }

    #[test]
    fn commit_creates_a_missing_target_and_parent() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("nightly").join("2026-11-25");
        let out = OutputFolder::create(&target).unwrap();
        std::fs::write(out.path().join("a.csv"), "x").unwrap();
        out.commit().unwrap();
        assert_eq!(std::fs::read_to_string(target.join("a.csv")).unwrap(), "x");
        assert!(leftovers(&root.path().join("nightly")).is_empty());
    }
}
