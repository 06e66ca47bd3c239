//! Running: why runs return, nested runs, panics, and callbacks that change the loop.

mod common;

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::time::{Duration, Instant};

use common::{log_activities, Log, PROMPTLY};
use runloop::{Activity, Mode, Observer, RunLoop, RunResult, Source, Timer};

const NESTED: Mode = Mode::from_static("nested");

fn far_timer() -> Timer {
    Timer::once(Duration::from_secs(3600), |_| {})
}

#[test]
fn run_finishes_when_the_mode_runs_out_of_timers_and_sources() {
    let run_loop = RunLoop::current();
    let source = Source::new(|source| source.invalidate());
    run_loop.add_source(&source, &Mode::DEFAULT);
    source.signal();
    run_loop.add_timer(
        &Timer::once(Duration::from_millis(5), |_| {}),
        &Mode::DEFAULT,
    );
    assert_eq!(run_loop.run(), RunResult::Finished);
    assert_eq!(run_loop.current_mode(), None);
}

#[test]
fn stop_from_a_callback_returns_stopped_at_the_end_of_the_pass() {
    let run_loop = RunLoop::current();
    let log = Log::default();
    run_loop.add_timer(&far_timer(), &Mode::DEFAULT);
    let stopper = run_loop.clone();
    let logger = log.clone();
    run_loop.add_timer(
        &Timer::once(Duration::ZERO, move |_| {
            stopper.stop();
            logger.push("stopped");
        }),
        &Mode::DEFAULT,
    );
    let logger = log.clone();
    run_loop.add_timer(
        &Timer::once(Duration::ZERO, move |_| logger.push("same pass")),
        &Mode::DEFAULT,
    );
    std::thread::sleep(Duration::from_millis(1));
    assert_eq!(run_loop.run(), RunResult::Stopped);
    assert_eq!(log.entries(), ["stopped", "same pass"]);
}

#[test]
fn stop_while_not_running_is_cleared_by_the_next_run() {
    let run_loop = RunLoop::current();
    run_loop.stop();
    run_loop.add_timer(
        &Timer::once(Duration::from_millis(1), |_| {}),
        &Mode::DEFAULT,
    );
    assert_eq!(run_loop.run(), RunResult::Finished);
}

#[test]
fn run_in_mode_returns_timed_out_after_its_timeout() {
    let run_loop = RunLoop::current();
    run_loop.add_timer(&far_timer(), &Mode::DEFAULT);
    let started = Instant::now();
    let timeout = Duration::from_millis(50);
    assert_eq!(
        run_loop.run_in_mode(&Mode::DEFAULT, timeout, false),
        RunResult::TimedOut
    );
    let elapsed = started.elapsed();
    assert!(elapsed >= timeout, "returned after {elapsed:?}");
    assert!(elapsed < PROMPTLY, "returned after {elapsed:?}");
}

#[test]
fn zero_timeout_runs_one_pass() {
    let run_loop = RunLoop::current();
    let log = Log::default();
    log_activities(&run_loop, &Mode::DEFAULT, &log);
    run_loop.add_timer(&far_timer(), &Mode::DEFAULT);
    assert_eq!(
        run_loop.run_in_mode(&Mode::DEFAULT, Duration::ZERO, false),
        RunResult::TimedOut
    );
    assert_eq!(
        log.entries(),
        ["entry", "before-timers", "before-sources", "exit"]
    );
}

#[test]
fn nested_run_from_a_callback_fires_only_the_nested_modes_items() {
    let run_loop = RunLoop::current();
    let log = Log::default();
    // A default-mode timer that must not fire inside the nested run.
    let outer_only = {
        let log = log.clone();
        Timer::new(Instant::now(), None, move |_| log.push("default timer"))
    };
    let nested_timer = {
        let log = log.clone();
        Timer::once(Duration::from_millis(1), move |_| log.push("nested timer"))
    };
    run_loop.add_timer(&nested_timer, &NESTED);
    let nested_observer = {
        let log = log.clone();
        Observer::new(
            Activity::ENTRY | Activity::EXIT,
            true,
            0,
            move |_, activity| log.push(format!("nested {}", common::activity_name(activity))),
        )
    };
    run_loop.add_observer(&nested_observer, &NESTED);
    let runner = {
        let log = log.clone();
        let run_loop = run_loop.clone();
        let outer_only = outer_only.clone();
        Timer::once(Duration::ZERO, move |_| {
            log.push("outer timer");
            run_loop.add_timer(&outer_only, &Mode::DEFAULT);
            assert_eq!(run_loop.run_depth(), 1);
            let result = run_loop.run_in_mode(&NESTED, PROMPTLY, false);
            assert_eq!(result, RunResult::Finished);
            assert_eq!(run_loop.current_mode(), Some(Mode::DEFAULT));
            log.push("back in outer");
        })
    };
    run_loop.add_timer(&runner, &Mode::DEFAULT);
    assert_eq!(run_loop.run(), RunResult::Finished);
    assert_eq!(
        log.entries(),
        [
            "outer timer",
            "nested entry",
            "nested timer",
            "nested exit",
            "back in outer",
            "default timer"
        ]
    );
    assert_eq!(run_loop.run_depth(), 0);
}

#[test]
fn stop_inside_a_nested_run_stops_only_the_nested_run() {
    let run_loop = RunLoop::current();
    let log = Log::default();
    run_loop.add_timer(&far_timer(), &NESTED);
    let runner = {
        let log = log.clone();
        let run_loop = run_loop.clone();
        Timer::once(Duration::ZERO, move |_| {
            let stopper = run_loop.clone();
            run_loop.perform(&NESTED, move || stopper.stop());
            log.push(format!(
                "nested: {:?}",
                run_loop.run_in_mode(&NESTED, PROMPTLY, false)
            ));
        })
    };
    run_loop.add_timer(&runner, &Mode::DEFAULT);
    let logger = log.clone();
    run_loop.add_timer(
        &Timer::once(Duration::from_millis(20), move |_| {
            logger.push("outer goes on")
        }),
        &Mode::DEFAULT,
    );
    assert_eq!(run_loop.run(), RunResult::Finished);
    assert_eq!(log.entries(), ["nested: Stopped", "outer goes on"]);
}

#[test]
fn a_firing_timer_is_not_fired_again_by_a_nested_run() {
    let run_loop = RunLoop::current();
    let calls = Rc::new(Cell::new(0));
    let count = calls.clone();
    let nester = run_loop.clone();
    // In both modes, and due again during its own callback.
    let timer = Timer::repeating(Duration::from_millis(1), move |timer| {
        count.set(count.get() + 1);
        if count.get() == 1 {
            std::thread::sleep(Duration::from_millis(3));
            let result = nester.run_in_mode(&NESTED, Duration::from_millis(30), false);
            assert_eq!(result, RunResult::TimedOut);
        } else {
            timer.invalidate();
        }
    });
    run_loop.add_timer(&timer, &Mode::DEFAULT);
    run_loop.add_timer(&timer, &NESTED);
    run_loop.run();
    assert_eq!(calls.get(), 2);
}

#[test]
fn panicking_timer_propagates_and_leaves_the_loop_usable() {
    let run_loop = RunLoop::current();
    let log = Log::default();
    log_activities(&run_loop, &Mode::DEFAULT, &log);
    let bomb = Timer::repeating(Duration::from_millis(1), |_| panic!("boom"));
    run_loop.add_timer(&bomb, &Mode::DEFAULT);
    let panic = catch_unwind(AssertUnwindSafe(|| run_loop.run())).unwrap_err();
    assert_eq!(panic.downcast_ref::<&str>(), Some(&"boom"));
    assert_eq!(run_loop.current_mode(), None);
    assert_eq!(run_loop.run_depth(), 0);
    assert_eq!(
        log.count("exit"),
        0,
        "exit observers are not notified after a panic"
    );
    // Still valid and rescheduled; the loop runs normally once it is gone.
    assert!(bomb.is_valid());
    assert!(bomb.next_fire() > Instant::now() - Duration::from_secs(1));
    bomb.invalidate();
    let fired = Rc::new(Cell::new(false));
    let flag = fired.clone();
    run_loop.add_timer(
        &Timer::once(Duration::ZERO, move |_| flag.set(true)),
        &Mode::DEFAULT,
    );
    assert_eq!(run_loop.run(), RunResult::Finished);
    assert!(fired.get());
}

#[test]
fn panicking_closure_keeps_the_closures_after_it_queued() {
    let run_loop = RunLoop::current();
    let log = Log::default();
    let logger = log.clone();
    run_loop.perform(&Mode::DEFAULT, move || logger.push("first"));
    run_loop.perform(&Mode::DEFAULT, || panic!("closure panicked"));
    let logger = log.clone();
    run_loop.perform(&Mode::DEFAULT, move || logger.push("third"));
    assert!(catch_unwind(AssertUnwindSafe(|| run_loop.run())).is_err());
    assert_eq!(log.entries(), ["first"]);
    assert_eq!(run_loop.run(), RunResult::Finished);
    assert_eq!(log.entries(), ["first", "third"]);
}

#[test]
fn panicking_observer_leaves_the_loop_usable() {
    let run_loop = RunLoop::current();
    let armed = Rc::new(Cell::new(true));
    let trigger = armed.clone();
    let observer = Observer::new(Activity::BEFORE_SOURCES, true, 0, move |_, _| {
        if trigger.replace(false) {
            panic!("observer panicked");
        }
    });
    run_loop.add_observer(&observer, &Mode::DEFAULT);
    run_loop.add_timer(&Timer::once(Duration::ZERO, |_| {}), &Mode::DEFAULT);
    assert!(catch_unwind(AssertUnwindSafe(|| run_loop.run())).is_err());
    assert!(observer.is_valid());
    assert_eq!(run_loop.run(), RunResult::Finished);
}

#[test]
fn callbacks_can_add_and_remove_sources_and_observers_while_running() {
    let run_loop = RunLoop::current();
    let log = Log::default();
    let setup = {
        let log = log.clone();
        let run_loop = run_loop.clone();
        Timer::once(Duration::ZERO, move |_| {
            let source = Source::new({
                let log = log.clone();
                move |source| {
                    log.push("source");
                    source.invalidate();
                }
            });
            run_loop.add_source(&source, &Mode::DEFAULT);
            source.signal();
            let observer = Observer::new(Activity::BEFORE_SOURCES, false, 0, {
                let log = log.clone();
                move |_, _| log.push("observer")
            });
            run_loop.add_observer(&observer, &Mode::DEFAULT);
        })
    };
    run_loop.add_timer(&setup, &Mode::DEFAULT);
    assert_eq!(run_loop.run(), RunResult::Finished);
    assert_eq!(log.entries(), ["observer", "source"]);
}

/// Touches the run loop when dropped.
struct TouchesLoopOnDrop(Rc<Cell<bool>>);

impl Drop for TouchesLoopOnDrop {
    fn drop(&mut self) {
        let run_loop = RunLoop::current();
        run_loop.add_timer(&Timer::once(Duration::from_secs(3600), |_| {}), &NESTED);
        run_loop.perform(&NESTED, || {});
        self.0.set(true);
    }
}

#[test]
fn a_callback_whose_drop_uses_the_loop_can_be_invalidated_from_inside() {
    let run_loop = RunLoop::current();
    let dropped = Rc::new(Cell::new(false));
    let guard = TouchesLoopOnDrop(dropped.clone());
    let timer = Timer::once(Duration::ZERO, move |timer| {
        let _keep = &guard;
        timer.invalidate();
    });
    run_loop.add_timer(&timer, &Mode::DEFAULT);
    drop(timer);
    assert_eq!(run_loop.run(), RunResult::Finished);
    assert!(dropped.get());
    assert!(run_loop.run_in_mode(&NESTED, Duration::ZERO, false) == RunResult::TimedOut);
}
