//! Observers: callbacks notified at the activities of each run-loop pass.

use std::panic::resume_unwind;
use std::rc::Rc;

use crate::activity::Activity;
use crate::mode::mode_item;
use crate::registration::Registration;

/// A callback notified when the loop reaches one of the given [`Activity`]s
/// (CFRunLoopObserver).
///
/// Observers of the same activity run in ascending [`order`](Observer::order), ties in the order
/// they were added to the mode. A one-shot observer is invalidated after its first notification.
/// An observer can remove or invalidate itself from inside its callback.
///
/// ```
/// use runloop::{Activity, Mode, Observer, RunLoop, Timer};
/// use std::{cell::RefCell, rc::Rc, time::Duration};
///
/// let run_loop = RunLoop::current();
/// let seen = Rc::new(RefCell::new(Vec::new()));
/// let log = seen.clone();
/// let observer = Observer::new(Activity::ENTRY | Activity::EXIT, true, 0, move |_, activity| {
///     log.borrow_mut().push(activity)
/// });
/// run_loop.add_observer(&observer, &Mode::DEFAULT);
/// run_loop.add_timer(&Timer::once(Duration::ZERO, |_| {}), &Mode::DEFAULT);
/// run_loop.run();
/// assert_eq!(*seen.borrow(), [Activity::ENTRY, Activity::EXIT]);
/// ```
#[derive(Clone)]
pub struct Observer(Rc<ObserverInner>);

/// What an observer runs: told itself (to remove or invalidate itself) and the activity.
type ObserverCallback = dyn FnMut(&Observer, Activity);

struct ObserverInner {
    activities: Activity,
    repeats: bool,
    order: i64,
    registration: Registration<ObserverCallback>,
}

impl Observer {
    /// An observer of `activities`, notified every time if `repeats` (else once), sorted among
    /// the observers of an activity by `order`.
    pub fn new(
        activities: Activity,
        repeats: bool,
        order: i64,
        callback: impl FnMut(&Observer, Activity) + 'static,
    ) -> Observer {
        Observer(Rc::new(ObserverInner {
            activities,
            repeats,
            order,
            registration: Registration::new(Box::new(callback)),
        }))
    }

    /// The activities observed.
    pub fn activities(&self) -> Activity {
        self.0.activities
    }

    /// Whether the observer stays after its first notification.
    pub fn repeats(&self) -> bool {
        self.0.repeats
    }

    /// The observer's order among observers of the same activity (lower first).
    pub fn order(&self) -> i64 {
        self.0.order
    }

    /// Removes the observer from its run loop's modes for good and drops its callback (after it
    /// returns, if called from inside it).
    pub fn invalidate(&self) {
        self.0.registration.invalidate();
    }

    /// Whether the observer can still be notified.
    pub fn is_valid(&self) -> bool {
        self.0.registration.is_valid()
    }

    /// Whether both handles are the same observer.
    pub fn ptr_eq(a: &Observer, b: &Observer) -> bool {
        Rc::ptr_eq(&a.0, &b.0)
    }

    pub(crate) fn is_firing(&self) -> bool {
        self.0.registration.is_firing()
    }

    /// Notifies the observer of `activity`, invalidating a one-shot observer afterwards; a panic
    /// resumes after that bookkeeping.
    pub(crate) fn fire(&self, activity: Activity) {
        let result = self
            .0
            .registration
            .fire(|callback| callback(self, activity));
        if !self.0.repeats && !matches!(result, Ok(false)) {
            self.invalidate();
        }
        if let Err(panic) = result {
            resume_unwind(panic);
        }
    }
}

mode_item!(Observer in observers, debug {
    activities: activities,
    repeats: repeats,
    order: order,
});
