//! Timers: closures fired by the run loop at a date, once or repeatedly.

use std::cell::Cell;
use std::panic::resume_unwind;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::mode::mode_item;
use crate::registration::Registration;

/// A closure the run loop fires at a date: once, or repeatedly at a fixed interval
/// (CFRunLoopTimer).
///
/// Add it to a run loop in one or more modes with [`RunLoop::add_timer`](crate::RunLoop::add_timer);
/// it fires only while the loop runs in one of them. A `Timer` is a cheap, clonable handle
/// (`!Send`); the loop holds one clone per mode until the timer is removed or invalidated.
///
/// - A one-shot timer is invalidated after it fires, unless its callback moved its next fire date
///   with [`set_next_fire`](Timer::set_next_fire) (which re-arms it).
/// - A repeating timer is rescheduled on its original grid: after firing for the date `d` it next
///   fires at `d + interval`, or, if that has already passed (the loop was busy), at the first
///   `d + k * interval` after now. A late timer fires once and then re-aligns, never a burst of
///   catch-up fires.
/// - [`tolerance`](Timer::tolerance) lets the loop fire the timer up to that much late, so one
///   wake-up can serve several timers. A timer never fires before its fire date.
/// - A timer can [`invalidate`](Timer::invalidate) itself from inside its callback.
///
/// ```
/// use std::time::Duration;
/// use runloop::{Mode, RunLoop, Timer};
///
/// let run_loop = RunLoop::current();
/// let ticks = std::rc::Rc::new(std::cell::Cell::new(0));
/// let counter = ticks.clone();
/// let timer = Timer::repeating(Duration::from_millis(1), move |timer| {
///     counter.set(counter.get() + 1);
///     if counter.get() == 3 {
///         timer.invalidate(); // the mode is now empty, so the run finishes
///     }
/// });
/// run_loop.add_timer(&timer, &Mode::DEFAULT);
/// assert_eq!(run_loop.run(), runloop::RunResult::Finished);
/// assert_eq!(ticks.get(), 3);
/// ```
#[derive(Clone)]
pub struct Timer(Rc<TimerInner>);

struct TimerInner {
    next_fire: Cell<Instant>,
    interval: Option<Duration>,
    tolerance: Cell<Duration>,
    /// Set when the fire date is moved while the callback runs: the loop then keeps that date.
    rescheduled: Cell<bool>,
    registration: Registration<dyn FnMut(&Timer)>,
}

impl Timer {
    /// A timer that first fires at `first_fire`, then every `interval` if one is given.
    ///
    /// # Panics
    /// If `interval` is `Some(Duration::ZERO)`: a repeating timer needs a positive interval.
    pub fn new(
        first_fire: Instant,
        interval: Option<Duration>,
        callback: impl FnMut(&Timer) + 'static,
    ) -> Timer {
        assert!(
            interval != Some(Duration::ZERO),
            "Timer::new: a repeating timer's interval must be greater than zero"
        );
        Timer(Rc::new(TimerInner {
            next_fire: Cell::new(first_fire),
            interval,
            tolerance: Cell::new(Duration::ZERO),
            rescheduled: Cell::new(false),
            registration: Registration::new(Box::new(callback)),
        }))
    }

    /// A one-shot timer firing `delay` from now.
    pub fn once(delay: Duration, callback: impl FnMut(&Timer) + 'static) -> Timer {
        Timer::new(after(Instant::now(), delay), None, callback)
    }

    /// A timer firing every `interval`, first one `interval` from now.
    ///
    /// # Panics
    /// If `interval` is zero.
    pub fn repeating(interval: Duration, callback: impl FnMut(&Timer) + 'static) -> Timer {
        assert!(
            !interval.is_zero(),
            "Timer::repeating: the interval must be greater than zero"
        );
        Timer::new(after(Instant::now(), interval), Some(interval), callback)
    }

    /// When the timer fires next. While its callback runs, the date being served.
    pub fn next_fire(&self) -> Instant {
        self.0.next_fire.get()
    }

    /// Moves the next fire date (CFRunLoopTimerSetNextFireDate); a repeating timer continues its
    /// interval from there. Called from the timer's own callback, the new date replaces the
    /// automatic rescheduling (and re-arms a one-shot timer). Ignored once invalidated.
    pub fn set_next_fire(&self, date: Instant) {
        if self.is_valid() {
            self.0.next_fire.set(date);
            self.0.rescheduled.set(true);
        }
    }

    /// The repeat interval, `None` for a one-shot timer.
    pub fn interval(&self) -> Option<Duration> {
        self.0.interval
    }

    /// Whether the timer repeats (CFRunLoopTimerDoesRepeat): whether it has an
    /// [`interval`](Timer::interval). A one-shot timer re-armed with
    /// [`set_next_fire`](Timer::set_next_fire) still does not repeat.
    pub fn is_repeating(&self) -> bool {
        self.0.interval.is_some()
    }

    /// How late the loop may fire the timer to serve it with another timer's wake-up (zero by
    /// default).
    pub fn tolerance(&self) -> Duration {
        self.0.tolerance.get()
    }

    /// Sets the [`tolerance`](Timer::tolerance).
    pub fn set_tolerance(&self, tolerance: Duration) {
        self.0.tolerance.set(tolerance);
    }

    /// Stops the timer for good: removes it from its run loop's modes and drops its callback
    /// (after the callback returns, if called from inside it).
    pub fn invalidate(&self) {
        self.0.registration.invalidate();
    }

    /// Whether the timer can still fire.
    pub fn is_valid(&self) -> bool {
        self.0.registration.is_valid()
    }

    /// Whether both handles are the same timer.
    pub fn ptr_eq(a: &Timer, b: &Timer) -> bool {
        Rc::ptr_eq(&a.0, &b.0)
    }

    pub(crate) fn is_firing(&self) -> bool {
        self.0.registration.is_firing()
    }

    /// Latest date the timer may fire at: its fire date plus tolerance (`None`: unbounded).
    pub(crate) fn latest_fire(&self) -> Option<Instant> {
        self.next_fire().checked_add(self.tolerance())
    }

    /// Fires the timer and schedules (or invalidates) it afterwards; a panic from the callback
    /// resumes after that bookkeeping.
    pub(crate) fn fire(&self) {
        let served = self.next_fire();
        self.0.rescheduled.set(false);
        let result = self.0.registration.fire(|callback| callback(self));
        if self.is_valid() && !self.0.rescheduled.get() {
            match self.0.interval {
                Some(interval) => {
                    self.0
                        .next_fire
                        .set(next_on_grid(served, interval, Instant::now()))
                }
                None => self.invalidate(),
            }
        }
        if let Err(panic) = result {
            resume_unwind(panic);
        }
    }
}

mode_item!(Timer in timers, debug {
    next_fire: next_fire,
    interval: interval,
    tolerance: tolerance,
});

/// `from + delay`, or a date a century away if that overflows `Instant`.
pub(crate) fn after(from: Instant, delay: Duration) -> Instant {
    from.checked_add(delay)
        .or_else(|| from.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
        .unwrap_or(from)
}

/// The next date on the grid `served + k * interval` (k ≥ 1): `served + interval` unless that has
/// already passed, else the first grid date after `now` (CFRunLoop's re-alignment).
pub(crate) fn next_on_grid(served: Instant, interval: Duration, now: Instant) -> Instant {
    let next = after(served, interval);
    if next >= now {
        return next;
    }
    let behind = now.duration_since(served).as_nanos();
    let steps = behind / interval.as_nanos() + 1;
    let offset = interval.as_nanos().saturating_mul(steps);
    let offset = Duration::new(
        u64::try_from(offset / 1_000_000_000).unwrap_or(u64::MAX),
        (offset % 1_000_000_000) as u32,
    );
    after(served, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_on_grid_keeps_the_next_slot_when_on_time() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        assert_eq!(next_on_grid(t0, ms(10), t0 + ms(3)), t0 + ms(10));
        assert_eq!(next_on_grid(t0, ms(10), t0 + ms(10)), t0 + ms(10));
    }

    #[test]
    fn next_on_grid_skips_missed_slots_when_late() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        assert_eq!(next_on_grid(t0, ms(10), t0 + ms(35)), t0 + ms(40));
        assert_eq!(next_on_grid(t0, ms(10), t0 + ms(40)), t0 + ms(50));
        assert_eq!(next_on_grid(t0, ms(10), t0 + ms(10_001)), t0 + ms(10_010));
    }
}
