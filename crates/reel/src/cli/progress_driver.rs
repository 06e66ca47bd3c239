//! Runs work on a background thread while the main thread runs a
//! [`runloop::RunLoop`] whose repeating timer polls the progress and draws
//! an `indicatif` bar — the Cocoa shape of a background export with a UI.
//!
//! This is the only place that knows how the polling is scheduled.

use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use reel::Progress;
use runloop::{Mode, RunLoop, RunLoopHandle, Timer};

/// How often the main thread polls the progress.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Runs `work` on a background thread; shows a bar labelled `label` unless
/// `quiet`; returns what `work` returned.
pub fn run_with_progress<T: Send>(
    label: &str,
    progress: Arc<Progress>,
    quiet: bool,
    work: impl FnOnce() -> T + Send,
) -> T {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        bar.set_style(style(true));
        bar.set_message(label.to_string());
        bar
    };
    let run_loop = RunLoop::current();
    let work_slot = std::sync::Mutex::new(Some(work));
    std::thread::scope(|scope| {
        let done = Finished {
            progress: Arc::clone(&progress),
            run_loop: run_loop.handle(),
        };
        // `work` waits here until its thread takes it: if no thread can be started, it runs on
        // this one, without a progress bar, instead of the export failing.
        let slot = &work_slot;
        let worker = std::thread::Builder::new()
            .name("reel-export".into())
            .spawn_scoped(scope, move || {
                // Dropped however `work` ends (even by panic): marks the progress
                // finished and stops the main thread's loop.
                let _done = done;
                take(slot).expect("the work is taken once")()
            });
        let worker = match worker {
            Ok(worker) => worker,
            Err(e) => {
                eprintln!("reel: note: cannot start a background thread ({e}); working without a progress bar");
                bar.finish_and_clear();
                let result = take(slot).expect("the thread never started")();
                progress.mark_finished();
                return result;
            }
        };

        let (timer_bar, timer_progress) = (bar.clone(), Arc::clone(&progress));
        let mut total_known = true;
        let poll = Timer::repeating(POLL_INTERVAL, move |_| {
            let total = timer_progress.total();
            // A cache being followed has no total yet: count frames so far instead.
            if (total > 0) != total_known {
                total_known = total > 0;
                timer_bar.set_style(style(total_known));
            }
            timer_bar.set_length(total);
            timer_bar.set_position(timer_progress.done());
            if timer_progress.is_finished() {
                RunLoop::current().stop();
            }
        });
        run_loop.add_timer(&poll, &Mode::DEFAULT);
        // `run` returns when the worker's stop arrives (or the timer sees the
        // export finished); `Finished` is set before the stop is sent.
        while !progress.is_finished() {
            run_loop.run();
        }
        poll.invalidate();
        bar.set_length(progress.total());
        bar.set_position(progress.done());
        bar.finish_and_clear();
        worker.join().expect("export thread panicked")
    })
}

/// Marks the export finished and stops the UI's run loop when dropped.
struct Finished {
    progress: Arc<Progress>,
    run_loop: RunLoopHandle,
}

impl Drop for Finished {
    fn drop(&mut self) {
        self.progress.mark_finished();
        // If the loop is already gone there is nothing to stop.
        let _ = self
            .run_loop
            .perform(&Mode::DEFAULT, || RunLoop::current().stop());
    }
}

/// The bar's look: with a known total, a bar with frames out of the total and an ETA; without,
/// the frames so far.
fn style(total_known: bool) -> ProgressStyle {
    let template = if total_known {
        "{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} frames, {per_sec:1}, ETA {eta}"
    } else {
        "{msg} [{elapsed_precise}] {spinner} {pos} frames so far, {per_sec:1}"
    };
    ProgressStyle::with_template(template).expect("valid template")
}

fn take<T>(slot: &std::sync::Mutex<Option<T>>) -> Option<T> {
    slot.lock().unwrap_or_else(|e| e.into_inner()).take()
}
