//! Modes: a run fires only its mode's items; the common-modes set.

mod common;

use std::time::Duration;

use common::{Log, PROMPTLY};
use runloop::{Activity, Mode, Observer, RunLoop, RunResult, Source, Timer};

const TRACKING: Mode = Mode::from_static("tracking");

fn logging_timer(log: &Log, name: &'static str) -> Timer {
    let log = log.clone();
    Timer::once(Duration::ZERO, move |_| log.push(name))
}

#[test]
fn a_run_fires_only_the_items_of_its_mode() {
    let run_loop = RunLoop::current();
    let log = Log::default();
    run_loop.add_timer(&logging_timer(&log, "default timer"), &Mode::DEFAULT);
    run_loop.add_timer(&logging_timer(&log, "tracking timer"), &TRACKING);
    let source = {
        let log = log.clone();
        Source::new(move |_| log.push("tracking source"))
    };
    run_loop.add_source(&source, &TRACKING);
    source.signal();
    let observer = {
        let log = log.clone();
        Observer::new(Activity::ENTRY, true, 0, move |_, _| {
            log.push("tracking entry")
        })
    };
    run_loop.add_observer(&observer, &TRACKING);

    assert_eq!(
        run_loop.run_in_mode(&Mode::DEFAULT, PROMPTLY, false),
        RunResult::Finished
    );
    assert_eq!(log.entries(), ["default timer"]);
    assert!(source.is_signalled());
    log.clear();

    let stopper = run_loop.clone();
    let stop = Timer::once(Duration::from_millis(1), move |_| stopper.stop());
    run_loop.add_timer(&stop, &TRACKING);
    assert_eq!(
        run_loop.run_in_mode(&TRACKING, PROMPTLY, false),
        RunResult::Stopped
    );
    assert_eq!(
        log.entries(),
        ["tracking entry", "tracking source", "tracking timer"]
    );
}

#[test]
fn default_mode_is_common_from_the_start() {
    let run_loop = RunLoop::current();
    assert!(run_loop.is_common_mode(&Mode::DEFAULT));
    assert_eq!(run_loop.common_modes(), [Mode::DEFAULT]);
    assert!(!run_loop.is_common_mode(&TRACKING));
}

#[test]
fn items_added_to_common_modes_fire_in_every_common_mode() {
    let run_loop = RunLoop::current();
    let log = Log::default();
    let before = Timer::repeating(Duration::from_millis(1), {
        let log = log.clone();
        move |timer| {
            log.push(format!(
                "before in {}",
                RunLoop::current().current_mode().unwrap()
            ));
            if log.entries().len() >= 2 {
                timer.invalidate();
            }
        }
    });
    // Added to the common set before `tracking` is marked common, then fires in both.
    run_loop.add_timer(&before, &Mode::COMMON);
    assert!(run_loop.contains_timer(&before, &Mode::COMMON));
    assert!(run_loop.contains_timer(&before, &Mode::DEFAULT));
    assert!(!run_loop.contains_timer(&before, &TRACKING));
    run_loop.add_common_mode(&TRACKING);
    assert!(run_loop.contains_timer(&before, &TRACKING));
    assert_eq!(run_loop.common_modes(), [Mode::DEFAULT, TRACKING]);

    assert_eq!(
        run_loop.run_in_mode(&TRACKING, Duration::from_secs(60), true),
        RunResult::Finished
    );
    assert_eq!(log.entries(), ["before in tracking", "before in tracking"]);
    log.clear();

    // Added after marking: reaches both modes too.
    let after = logging_timer(&log, "after");
    run_loop.add_timer(&after, &Mode::COMMON);
    assert!(
        run_loop.contains_timer(&after, &TRACKING)
            && run_loop.contains_timer(&after, &Mode::DEFAULT)
    );
    run_loop.run_in_mode(&Mode::DEFAULT, PROMPTLY, false);
    assert_eq!(log.entries(), ["after"]);
}

#[test]
fn removing_from_common_modes_removes_from_every_common_mode() {
    let run_loop = RunLoop::current();
    run_loop.add_common_mode(&TRACKING);
    let timer = Timer::once(Duration::ZERO, |_| panic!("a removed timer fired"));
    run_loop.add_timer(&timer, &Mode::COMMON);
    run_loop.remove_timer(&timer, &Mode::COMMON);
    for mode in [Mode::COMMON, Mode::DEFAULT, TRACKING] {
        assert!(!run_loop.contains_timer(&timer, &mode), "still in {mode}");
    }
    assert_eq!(
        run_loop.run_in_mode(&TRACKING, PROMPTLY, false),
        RunResult::Finished
    );
}

#[test]
fn running_an_empty_mode_finishes_at_once_without_notifying_observers() {
    let run_loop = RunLoop::current();
    let log = Log::default();
    common::log_activities(&run_loop, &TRACKING, &log);
    assert_eq!(
        run_loop.run_in_mode(&TRACKING, Duration::from_secs(60), false),
        RunResult::Finished
    );
    assert_eq!(
        run_loop.run_in_mode(&Mode::from_static("never used"), PROMPTLY, false),
        RunResult::Finished
    );
    assert!(log.entries().is_empty());
}

#[test]
#[should_panic(expected = "Mode::COMMON is the set of common modes, not a mode")]
fn running_in_the_common_set_is_rejected_with_a_clear_message() {
    RunLoop::current().run_in_mode(&Mode::COMMON, PROMPTLY, false);
}

#[test]
fn modes_compare_by_name() {
    assert_eq!(Mode::new("tracking"), TRACKING);
    assert_eq!(TRACKING.name(), "tracking");
    assert_eq!(TRACKING.to_string(), "tracking");
    assert!(Mode::COMMON.is_common_set());
    assert!(!Mode::DEFAULT.is_common_set());
}
