//! Runs work on a background thread while the main thread polls its
//! progress on a repeating timer and draws an `indicatif` bar.
//!
//! This is the only place that knows how the polling is scheduled.

use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use reel::progress::ExportProgress;

/// How often the main thread polls the progress.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Runs `work` on a background thread; shows a bar labelled `label` unless
/// `quiet`; returns what `work` returned.
pub fn run_with_progress<T: Send>(
    label: &str,
    progress: Arc<ExportProgress>,
    quiet: bool,
    work: impl FnOnce() -> T + Send,
) -> T {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} frames, {per_sec}, ETA {eta}",
            )
            .expect("valid template"),
        );
        bar.set_message(label.to_string());
        bar
    };
    std::thread::scope(|scope| {
        let worker_progress = Arc::clone(&progress);
        let worker = scope.spawn(move || {
            // Marks the progress finished however `work` ends (even by panic),
            // so the polling below always stops.
            struct Finish(Arc<ExportProgress>);
            impl Drop for Finish {
                fn drop(&mut self) {
                    self.0.mark_finished();
                }
            }
            let _finish = Finish(worker_progress);
            work()
        });
        poll_until_finished(&progress, || {
            bar.set_length(progress.total());
            bar.set_position(progress.done());
        });
        bar.set_length(progress.total());
        bar.set_position(progress.done());
        bar.finish_and_clear();
        worker.join().expect("export thread panicked")
    })
}

/// Calls `update` every [`POLL_INTERVAL`] until `progress` is finished.
fn poll_until_finished(progress: &ExportProgress, mut update: impl FnMut()) {
    while !progress.is_finished() {
        update();
        std::thread::sleep(POLL_INTERVAL);
    }
}
