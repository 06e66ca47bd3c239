//! Running the loop: the pass, waiting, and the order things fire in.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use crate::activity::Activity;
use crate::mode::Mode;
use crate::observer::Observer;
use crate::run_loop::RunLoop;
use crate::run_result::RunResult;
use crate::source::Source;
use crate::timer::Timer;

impl RunLoop {
    /// Runs in [`Mode::DEFAULT`] until stopped or until the mode has no timers, sources or
    /// closures left (CFRunLoopRun). Returns [`RunResult::Stopped`] or [`RunResult::Finished`].
    ///
    /// Closures that other threads have not scheduled yet do not count: a loop that only waits
    /// for [`RunLoopHandle::perform`](crate::RunLoopHandle::perform) needs a timer or a source
    /// to keep it running until they arrive.
    pub fn run(&self) -> RunResult {
        loop {
            match self.run_in_mode(&Mode::DEFAULT, Duration::MAX, false) {
                result @ (RunResult::Stopped | RunResult::Finished) => return result,
                RunResult::TimedOut | RunResult::HandledSource => {}
            }
        }
    }

    /// Runs in `mode` until stopped, until `timeout` has passed, until the mode is empty, or, if
    /// `return_after_source_handled`, until a source was handled (CFRunLoopRunInMode). May be
    /// called from inside a callback (a nested run).
    ///
    /// A mode with no timers, sources or closures returns [`RunResult::Finished`] at once,
    /// without notifying observers. Otherwise observers get [`Activity::ENTRY`], then each pass:
    ///
    /// 1. [`BEFORE_TIMERS`](Activity::BEFORE_TIMERS), [`BEFORE_SOURCES`](Activity::BEFORE_SOURCES);
    ///    scheduled closures run; ready sources are handled (only the first one if
    ///    `return_after_source_handled`).
    /// 2. Unless a source was handled, the timeout has passed, work is already pending or the
    ///    mode is now empty, the loop sleeps until the next timer (within its tolerance), the
    ///    timeout or a wake-up, between [`BEFORE_WAITING`](Activity::BEFORE_WAITING) and
    ///    [`AFTER_WAITING`](Activity::AFTER_WAITING). Sleeping blocks on a condition variable and
    ///    uses no CPU.
    /// 3. Due timers fire, earliest fire date first; scheduled closures run.
    ///
    /// then [`Activity::EXIT`]. A timeout of zero runs one pass without sleeping.
    ///
    /// If a callback panics, the run restores the loop (mode, stop request, the autorelease pools
    /// it pushed are popped) and the panic propagates; exit observers are not notified. The loop
    /// stays usable: timers, sources and closures that did not get to run in that pass run in
    /// later ones (observers miss that one notification).
    ///
    /// # Panics
    /// If `mode` is [`Mode::COMMON`], which is a set of modes rather than one to run in; and
    /// with any panic of a callback.
    pub fn run_in_mode(
        &self,
        mode: &Mode,
        timeout: Duration,
        return_after_source_handled: bool,
    ) -> RunResult {
        assert!(
            !mode.is_common_set(),
            "RunLoop::run_in_mode: Mode::COMMON is the set of common modes, not a mode; run in one of them (e.g. Mode::DEFAULT)"
        );
        if self.mode_is_empty(mode) {
            return RunResult::Finished;
        }
        let deadline = Instant::now().checked_add(timeout);
        let outer = self.enter_run(mode);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            self.notify(mode, Activity::ENTRY);
            let result = self.run_passes(mode, deadline, return_after_source_handled);
            self.notify(mode, Activity::EXIT);
            result
        }));
        self.leave_run(outer);
        outcome.unwrap_or_else(|panic| resume_unwind(panic))
    }

    fn run_passes(
        &self,
        mode: &Mode,
        deadline: Option<Instant>,
        stop_after_handle: bool,
    ) -> RunResult {
        let timed_out = || deadline.is_some_and(|d| Instant::now() >= d);
        loop {
            // Wake-ups from here on make this pass's wait return at once.
            self.shared().clear_wake();
            self.notify(mode, Activity::BEFORE_TIMERS);
            self.notify(mode, Activity::BEFORE_SOURCES);
            self.perform_blocks(mode);
            let handled = self.handle_sources(mode, stop_after_handle);
            if handled {
                self.perform_blocks(mode);
            }
            // An empty mode has nothing to wait for: the pass ends and the run finishes.
            if !handled && !timed_out() && !self.work_pending(mode) && !self.mode_is_empty(mode) {
                self.notify(mode, Activity::BEFORE_WAITING);
                let wake_at = earliest(deadline, self.next_timer_wake(mode));
                self.shared().wait(wake_at);
                self.notify(mode, Activity::AFTER_WAITING);
            }
            self.fire_timers(mode);
            self.perform_blocks(mode);

            if handled && stop_after_handle {
                return RunResult::HandledSource;
            }
            if timed_out() {
                return RunResult::TimedOut;
            }
            if self.shared().take_stop() {
                return RunResult::Stopped;
            }
            if self.mode_is_empty(mode) {
                return RunResult::Finished;
            }
        }
    }

    /// Notifies the observers of `activity` in `mode`, by ascending order (ties: order added).
    fn notify(&self, mode: &Mode, activity: Activity) {
        let mut observers: Vec<Observer> = self.items(mode);
        observers.retain(|o| o.activities().contains(activity));
        observers.sort_by_key(Observer::order);
        for observer in observers {
            // An earlier callback may have removed it, or it is firing in an outer run.
            if observer.is_valid()
                && !observer.is_firing()
                && self.contains_observer(&observer, mode)
            {
                observer.fire(activity);
            }
        }
    }

    /// Runs the closures scheduled for `mode` so far; ones scheduled meanwhile wait for the next
    /// call. If one panics, the rest stay queued.
    fn perform_blocks(&self, mode: &Mode) {
        let mut batch = self.take_blocks(mode);
        while let Some(block) = batch.pop_front() {
            if let Err(panic) = catch_unwind(AssertUnwindSafe(block.work)) {
                self.requeue_blocks(batch);
                resume_unwind(panic);
            }
        }
    }

    /// Handles the ready sources of `mode` by ascending order; only the first if
    /// `stop_after_handle`. Returns whether one was handled.
    fn handle_sources(&self, mode: &Mode, stop_after_handle: bool) -> bool {
        let mut ready: Vec<Source> = self.items(mode);
        ready.retain(|s| s.is_signalled());
        ready.sort_by_key(Source::order);
        let mut handled = false;
        for source in ready {
            if !source.is_valid() || source.is_firing() || !self.contains_source(&source, mode) {
                continue;
            }
            if source.take_signal() {
                handled = true;
                source.fire();
                if stop_after_handle {
                    break;
                }
            }
        }
        handled
    }

    /// Fires the timers of `mode` due now, earliest fire date first (ties: order added).
    fn fire_timers(&self, mode: &Mode) {
        let now = Instant::now();
        let mut due: Vec<Timer> = self.items(mode);
        due.retain(|t| t.next_fire() <= now && !t.is_firing());
        due.sort_by_key(Timer::next_fire);
        for timer in due {
            // Earlier callbacks may have moved, removed or invalidated it.
            if timer.is_valid()
                && !timer.is_firing()
                && timer.next_fire() <= now
                && self.contains_timer(&timer, mode)
            {
                timer.fire();
            }
        }
    }

    /// Whether the pass has work already, so it must not sleep.
    fn work_pending(&self, mode: &Mode) -> bool {
        if self.shared().wake_pending() {
            return true;
        }
        let now = Instant::now();
        let sources: Vec<Source> = self.items(mode);
        let timers: Vec<Timer> = self.items(mode);
        sources.iter().any(|s| s.is_signalled() && !s.is_firing())
            || timers
                .iter()
                .any(|t| t.next_fire() <= now && !t.is_firing())
            || self.has_blocks_for(mode)
    }

    /// When to wake for the timers of `mode`: the latest fire date that still lets every timer
    /// fire within its tolerance, so one wake-up serves every timer whose window allows it.
    /// A timer without tolerance is woken for exactly at its fire date.
    fn next_timer_wake(&self, mode: &Mode) -> Option<Instant> {
        let mut timers: Vec<Timer> = self.items(mode);
        timers.retain(|t| !t.is_firing());
        // `None` (an unbounded window) never limits.
        let limit = timers.iter().filter_map(Timer::latest_fire).min();
        timers
            .iter()
            .map(Timer::next_fire)
            .filter(|&fire| limit.is_none_or(|limit| fire <= limit))
            .max()
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
