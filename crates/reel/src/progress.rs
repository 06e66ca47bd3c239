//! Export progress and abort state shared between the export thread and the UI.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

/// Progress of one export: written by the export thread, polled by the UI.
///
/// All fields are atomics, so one `&Progress` (or an `Arc`) can be
/// shared freely between threads.
#[derive(Debug)]
pub struct Progress {
    total: AtomicU64,
    done: AtomicU64,
    abort: AtomicBool,
    finished: AtomicBool,
    started: Instant,
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress {
    /// Fresh progress: nothing done, not aborted, total unknown (0).
    pub fn new() -> Self {
        Progress {
            total: AtomicU64::new(0),
            done: AtomicU64::new(0),
            abort: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            started: Instant::now(),
        }
    }

    /// Sets the number of frames expected.
    pub fn set_total(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
    }

    /// Frames expected.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// Records one more frame completely written.
    pub fn frame_done(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
    }

    /// Frames completely written so far.
    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    /// Asks the export to stop after the frames in hand.
    pub fn request_abort(&self) {
        self.abort.store(true, Ordering::SeqCst);
    }

    /// Whether an abort was requested.
    pub fn abort_requested(&self) -> bool {
        self.abort.load(Ordering::SeqCst)
    }

    /// Marks the export as over (finished, failed or aborted).
    pub fn mark_finished(&self) {
        self.finished.store(true, Ordering::SeqCst);
    }

    /// Whether the export is over.
    pub fn is_finished(&self) -> bool {
        self.finished.load(Ordering::SeqCst)
    }

    /// When this progress was created.
    pub fn started(&self) -> Instant {
        self.started
    }
}
