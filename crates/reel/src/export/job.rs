//! An export running on its own thread: progress polled and abort
//! requested from any thread, a typed result at the end.

use std::sync::Arc;
use std::thread::JoinHandle;

use super::{export, ExportFailure, ExportReport, ExportTarget, PipelineConfig};
use crate::cache::FrameInput;
use crate::progress::Progress;

/// An export started on a background thread by [`ExportJob::start`].
///
/// Dropping the job without [`wait`](ExportJob::wait)ing lets the export
/// run to its end unobserved; [`abort`](ExportJob::abort) first to stop it.
#[derive(Debug)]
pub struct ExportJob {
    progress: Arc<Progress>,
    thread: JoinHandle<Result<ExportReport, ExportFailure>>,
}

impl ExportJob {
    /// Starts exporting every intact frame of `input` to `target`.
    ///
    /// # Errors
    ///
    /// Only if the thread cannot be spawned; every export error comes from
    /// [`wait`](ExportJob::wait).
    pub fn start(
        input: FrameInput,
        target: ExportTarget,
        config: PipelineConfig,
    ) -> std::io::Result<ExportJob> {
        let progress = Arc::new(Progress::new());
        let shared = Arc::clone(&progress);
        let thread = std::thread::Builder::new()
            .name("reel-export".into())
            .spawn(move || export(input, &target, config, &shared))?;
        Ok(ExportJob { progress, thread })
    }

    /// The export's progress: frames done and expected, whether it is over.
    /// Clone the `Arc` to poll it from another thread.
    pub fn progress(&self) -> &Arc<Progress> {
        &self.progress
    }

    /// Asks the export to stop after the frames in hand; [`wait`](ExportJob::wait)
    /// then gives a report with `aborted` set.
    pub fn abort(&self) {
        self.progress.request_abort();
    }

    /// Whether the export is over (finished, failed or aborted).
    pub fn is_finished(&self) -> bool {
        self.progress.is_finished()
    }

    /// Waits for the export to end and gives its result.
    ///
    /// # Panics
    ///
    /// If the export thread panicked (the panic is passed on).
    pub fn wait(self) -> Result<ExportReport, ExportFailure> {
        match self.thread.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}
