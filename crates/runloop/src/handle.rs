//! [`RunLoopHandle`]: what other threads hold to reach a run loop.

use std::error::Error;
use std::fmt;
use std::sync::Arc;
use std::thread::{self, ThreadId};

use crate::mode::Mode;
use crate::wake::LoopShared;

/// A `Send + Sync` handle to a thread's run loop: wakes it, stops it and schedules closures on it
/// from any thread.
///
/// Get one with [`RunLoop::handle`](crate::RunLoop::handle) (or
/// [`RunLoop::main`](crate::RunLoop::main)). The handle does not keep the loop's thread alive;
/// once that thread has exited, [`perform`](RunLoopHandle::perform) hands the closure back.
///
/// ```
/// use std::time::Duration;
/// use runloop::{Mode, RunLoop, RunResult, Timer};
///
/// let run_loop = RunLoop::current();
/// // A run with nothing to wait for finishes at once: give it a timer until the work arrives.
/// run_loop.add_timer(&Timer::once(Duration::from_secs(60), |_| {}), &Mode::DEFAULT);
/// let handle = run_loop.handle();
/// std::thread::spawn(move || {
///     handle.perform(&Mode::DEFAULT, || RunLoop::current().stop()).unwrap();
/// });
/// assert_eq!(run_loop.run(), RunResult::Stopped);
/// ```
#[derive(Clone)]
pub struct RunLoopHandle {
    shared: Arc<LoopShared>,
}

impl RunLoopHandle {
    pub(crate) fn new(shared: Arc<LoopShared>) -> RunLoopHandle {
        RunLoopHandle { shared }
    }

    /// Wakes the loop if it is sleeping, so it runs one more pass (CFRunLoopWakeUp). A wake-up
    /// while the loop is busy makes its next pass skip the sleep.
    pub fn wake_up(&self) {
        self.shared.wake();
    }

    /// Stops the loop's innermost run: it returns [`RunResult::Stopped`](crate::RunResult::Stopped)
    /// at the end of its current pass (CFRunLoopStop). A stop sent while the loop is not running
    /// is cleared by the next run's start, as in CoreFoundation; to stop a run that may not have
    /// started yet, [`perform`](RunLoopHandle::perform) a closure that calls
    /// [`RunLoop::stop`](crate::RunLoop::stop).
    pub fn stop(&self) {
        self.shared.request_stop();
    }

    /// Schedules `work` to run once on the loop's thread, in `mode` (or any common mode for
    /// [`Mode::COMMON`]), and wakes the loop. Closures run in the order they were scheduled.
    ///
    /// # Errors
    /// [`RunLoopGone`] holding `work`, unrun, if the loop's thread has exited.
    pub fn perform<F: FnOnce() + Send + 'static>(
        &self,
        mode: &Mode,
        work: F,
    ) -> Result<(), RunLoopGone<F>> {
        self.shared.push_block(mode, work).map_err(RunLoopGone)
    }

    /// Whether the loop's thread still has it (false once the thread has exited).
    pub fn is_alive(&self) -> bool {
        self.shared.is_alive()
    }

    /// Whether the loop is asleep right now, waiting for a timer or a wake-up.
    pub fn is_waiting(&self) -> bool {
        self.shared.is_waiting()
    }

    /// The thread that owns the loop.
    pub fn thread_id(&self) -> ThreadId {
        self.shared.thread()
    }

    /// Whether the loop belongs to the calling thread.
    pub fn is_current(&self) -> bool {
        self.shared.thread() == thread::current().id()
    }

    /// Whether both handles reach the same run loop.
    pub fn same_loop(&self, other: &RunLoopHandle) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl fmt::Debug for RunLoopHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunLoopHandle")
            .field("thread", &self.shared.thread())
            .field("alive", &self.is_alive())
            .field("waiting", &self.is_waiting())
            .finish()
    }
}

/// [`RunLoopHandle::perform`] failed because the loop's thread has exited; holds the closure,
/// which did not run.
pub struct RunLoopGone<F>(pub F);

impl<F> RunLoopGone<F> {
    /// The closure that was not run.
    pub fn into_inner(self) -> F {
        self.0
    }
}

impl<F> fmt::Debug for RunLoopGone<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RunLoopGone(..)")
    }
}

impl<F> fmt::Display for RunLoopGone<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "cannot perform on the run loop: its thread has exited (the closure was not run)",
        )
    }
}

impl<F> Error for RunLoopGone<F> {}
