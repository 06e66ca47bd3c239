//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use runloop::{Activity, Mode, Observer, RunLoop, RunLoopHandle};

/// An ordered record of what happened, shared by callbacks.
#[derive(Clone, Default)]
pub struct Log(Rc<RefCell<Vec<String>>>);

impl Log {
    pub fn push(&self, entry: impl Into<String>) {
        self.0.borrow_mut().push(entry.into());
    }
    pub fn entries(&self) -> Vec<String> {
        self.0.borrow().clone()
    }
    pub fn count(&self, entry: &str) -> usize {
        self.0.borrow().iter().filter(|e| *e == entry).count()
    }
    pub fn clear(&self) {
        self.0.borrow_mut().clear();
    }
}

/// The name the log uses for an activity.
pub fn activity_name(activity: Activity) -> &'static str {
    match activity {
        a if a == Activity::ENTRY => "entry",
        a if a == Activity::BEFORE_TIMERS => "before-timers",
        a if a == Activity::BEFORE_SOURCES => "before-sources",
        a if a == Activity::BEFORE_WAITING => "before-waiting",
        a if a == Activity::AFTER_WAITING => "after-waiting",
        a if a == Activity::EXIT => "exit",
        _ => "?",
    }
}

/// Adds an observer of every activity to `mode` that logs each by name.
pub fn log_activities(run_loop: &RunLoop, mode: &Mode, log: &Log) -> Observer {
    let log = log.clone();
    let observer = Observer::new(Activity::all(), true, 0, move |_, activity| {
        log.push(activity_name(activity))
    });
    run_loop.add_observer(&observer, mode);
    observer
}

/// Blocks until `handle`'s loop is asleep (panics after 20 s: the loop never slept).
pub fn wait_until_sleeping(handle: &RunLoopHandle) {
    let give_up = Instant::now() + Duration::from_secs(20);
    while !handle.is_waiting() {
        assert!(Instant::now() < give_up, "the run loop never went to sleep");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A generous bound for "promptly" on a loaded 2-core machine.
pub const PROMPTLY: Duration = Duration::from_secs(5);
