//! The temporary and lock files this process has open, so that a signal that ends it can still
//! remove them (a `Drop` does not run when the process exits from a signal handler).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

static LIVE: Mutex<BTreeMap<u64, PathBuf>> = Mutex::new(BTreeMap::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// A registered path; unregisters when dropped (the owner removes or persists the file itself).
#[derive(Debug)]
pub(super) struct Registration(u64);

pub(super) fn register(path: &Path) -> Registration {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    live().insert(id, path.to_path_buf());
    Registration(id)
}

impl Drop for Registration {
    fn drop(&mut self) {
        live().remove(&self.0);
    }
}

fn live() -> std::sync::MutexGuard<'static, BTreeMap<u64, PathBuf>> {
    // A panic while holding the lock leaves a consistent map (each step is one insert/remove).
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes every temporary and lock file this process still has open, and returns how many it
/// removed. For a signal handler that is about to end the process: files removed here are not
/// renamed into place afterwards, so call it only when the process is going away.
pub fn remove_registered_temp_files() -> usize {
    let mut live = live();
    let removed = live
        .values()
        .filter(|path| fs::remove_file(path).is_ok())
        .count();
    live.clear();
    removed
}
