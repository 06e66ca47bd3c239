//! One export per target at a time: an advisory lock on a hidden file beside the target.

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::cleanup::{self, Registration};
use super::OutputError;

/// What a target's lock file is called, beside the target: `.NAME.reel-lock`.
pub(super) fn lock_path(dir: &Path, target_name: &str) -> PathBuf {
    dir.join(format!(".{target_name}.reel-lock"))
}

/// An exclusive lock on one export target, held until dropped.
///
/// The lock is `flock` on `.NAME.reel-lock` in the target's directory: the kernel releases it
/// when the holder dies, however it dies, so a lock file left by a killed export locks nothing
/// and is taken over (and removed) by the next export. The file is removed when the lock is
/// dropped, and by the signal cleanup.
#[derive(Debug)]
pub struct TargetLock {
    file: Option<File>,
    path: PathBuf,
    _registration: Registration,
}

impl TargetLock {
    /// Takes the lock of `target` (a movie file or a sequence's pattern in `dir`), or reports
    /// that another export holds it. Never waits.
    pub fn acquire(
        dir: &Path,
        target_name: &str,
        target: &Path,
    ) -> Result<TargetLock, OutputError> {
        let path = lock_path(dir, target_name);
        loop {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(OutputError::io(target))?;
            match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => {}
                Err(rustix::io::Errno::WOULDBLOCK) => {
                    return Err(OutputError::Busy {
                        path: target.to_path_buf(),
                        lock: path,
                    })
                }
                Err(e) => return Err(OutputError::io(target)(e.into())),
            }
            // The previous holder may have removed the file between our open and our lock:
            // then we hold a lock on a file nobody else can find, and must start again.
            let ours = file.metadata().map_err(OutputError::io(target))?;
            match fs::metadata(&path) {
                Ok(now) if now.dev() == ours.dev() && now.ino() == ours.ino() => {
                    let registration = cleanup::register(&path);
                    return Ok(TargetLock {
                        file: Some(file),
                        path,
                        _registration: registration,
                    });
                }
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(OutputError::io(target)(e)),
            }
        }
    }
}

impl Drop for TargetLock {
    fn drop(&mut self) {
        // Remove while still holding the lock, so no one locks the file we are removing.
        let _ = fs::remove_file(&self.path);
        drop(self.file.take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_a_target_is_refused_at_once_and_free_after_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.mov");
        let first = TargetLock::acquire(dir.path(), "out.mov", &target).unwrap();
        let err = TargetLock::acquire(dir.path(), "out.mov", &target).unwrap_err();
        assert!(matches!(err, OutputError::Busy { .. }), "{err}");
        assert!(err.to_string().contains("out.mov"), "{err}");
        drop(first);
        assert!(
            !lock_path(dir.path(), "out.mov").exists(),
            "the lock file is removed with the lock"
        );
        TargetLock::acquire(dir.path(), "out.mov", &target).unwrap();
    }

    #[test]
    fn a_lock_file_left_by_a_killed_export_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.mov");
        fs::write(lock_path(dir.path(), "out.mov"), b"").unwrap();
        let lock = TargetLock::acquire(dir.path(), "out.mov", &target).unwrap();
        drop(lock);
        assert!(!lock_path(dir.path(), "out.mov").exists());
    }

    #[test]
    fn locks_on_different_targets_in_one_directory_do_not_conflict() {
        let dir = tempfile::tempdir().unwrap();
        let _a = TargetLock::acquire(dir.path(), "a.mov", &dir.path().join("a.mov")).unwrap();
        let _b = TargetLock::acquire(dir.path(), "b.mov", &dir.path().join("b.mov")).unwrap();
    }
}
