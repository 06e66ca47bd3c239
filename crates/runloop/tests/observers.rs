//! Observers: activity values, order, one-shot, self-removal, and which passes notify waiting.

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use common::{log_activities, wait_until_sleeping, Log, PROMPTLY};
use runloop::{Activity, Mode, Observer, RunLoop, RunResult, Source, Timer};

#[test]
fn activities_have_cfrunloop_values() {
    assert_eq!(Activity::ENTRY.bits(), 1);
    assert_eq!(Activity::BEFORE_TIMERS.bits(), 2);
    assert_eq!(Activity::BEFORE_SOURCES.bits(), 4);
    assert_eq!(Activity::BEFORE_WAITING.bits(), 32);
    assert_eq!(Activity::AFTER_WAITING.bits(), 64);
    assert_eq!(Activity::EXIT.bits(), 128);
}

#[test]
fn observers_of_one_activity_run_by_order_ties_in_order_added() {
    let run_loop = RunLoop::current();
    let log = Log::default();
    for (order, name) in [
        (10, "ten"),
        (-3, "minus-three-a"),
        (0, "zero"),
        (-3, "minus-three-b"),
    ] {
        let log = log.clone();
        let observer = Observer::new(Activity::ENTRY, true, order, move |_, _| log.push(name));
        run_loop.add_observer(&observer, &Mode::DEFAULT);
    }
    run_loop.add_timer(&Timer::once(Duration::ZERO, |_| {}), &Mode::DEFAULT);
    run_loop.run();
    assert_eq!(
        log.entries(),
        ["minus-three-a", "minus-three-b", "zero", "ten"]
    );
}

#[test]
fn one_shot_observer_is_notified_once() {
    let run_loop = RunLoop::current();
    let calls = Rc::new(Cell::new(0));
    let count = calls.clone();
    let observer = Observer::new(Activity::BEFORE_TIMERS, false, 0, move |_, _| {
        count.set(count.get() + 1)
    });
    run_loop.add_observer(&observer, &Mode::DEFAULT);
    let passes = Rc::new(Cell::new(0));
    let pass_count = passes.clone();
    let timer = Timer::repeating(Duration::from_millis(1), move |timer| {
        pass_count.set(pass_count.get() + 1);
        if pass_count.get() == 4 {
            timer.invalidate();
        }
    });
    run_loop.add_timer(&timer, &Mode::DEFAULT);
    run_loop.run();
    assert_eq!(passes.get(), 4);
    assert_eq!(calls.get(), 1);
    assert!(!observer.is_valid());
    assert!(!run_loop.contains_observer(&observer, &Mode::DEFAULT));
}

#[test]
fn observer_can_remove_itself_from_inside_its_callback() {
    let run_loop = RunLoop::current();
    let calls = Rc::new(Cell::new(0));
    let count = calls.clone();
    let remover = run_loop.clone();
    let observer = Observer::new(Activity::BEFORE_TIMERS, true, 0, move |observer, _| {
        count.set(count.get() + 1);
        remover.remove_observer(observer, &Mode::DEFAULT);
    });
    run_loop.add_observer(&observer, &Mode::DEFAULT);
    let ticks = Rc::new(Cell::new(0));
    let tick_count = ticks.clone();
    let timer = Timer::repeating(Duration::from_millis(1), move |timer| {
        tick_count.set(tick_count.get() + 1);
        if tick_count.get() == 3 {
            timer.invalidate();
        }
    });
    run_loop.add_timer(&timer, &Mode::DEFAULT);
    run_loop.run();
    assert_eq!(calls.get(), 1);
    // Removed, not invalidated: it can be added back.
    assert!(observer.is_valid());
    assert!(!run_loop.contains_observer(&observer, &Mode::DEFAULT));
}

#[test]
fn observer_invalidated_by_an_earlier_observer_is_not_notified() {
    let run_loop = RunLoop::current();
    let log = Log::default();
    let victim = {
        let log = log.clone();
        Observer::new(Activity::ENTRY, true, 2, move |_, _| log.push("victim"))
    };
    let killer = {
        let log = log.clone();
        let victim = victim.clone();
        Observer::new(Activity::ENTRY, true, 1, move |_, _| {
            log.push("killer");
            victim.invalidate();
        })
    };
    run_loop.add_observer(&victim, &Mode::DEFAULT);
    run_loop.add_observer(&killer, &Mode::DEFAULT);
    run_loop.add_timer(&Timer::once(Duration::ZERO, |_| {}), &Mode::DEFAULT);
    run_loop.run();
    assert_eq!(log.entries(), ["killer"]);
}

#[test]
fn a_sleeping_pass_notifies_in_cfrunloop_order() {
    let run_loop = RunLoop::current();
    let log = Log::default();
    log_activities(&run_loop, &Mode::DEFAULT, &log);
    let timer = {
        let log = log.clone();
        Timer::once(Duration::from_secs(3600), move |_| log.push("timer"))
    };
    run_loop.add_timer(&timer, &Mode::DEFAULT);
    let source = Source::new({
        let log = log.clone();
        move |_| log.push("source")
    });
    run_loop.add_source(&source, &Mode::DEFAULT);
    let closure_log = log.clone();
    // The source's callback makes the timer due; it fires in the same pass.
    let due_now = timer.clone();
    let signaller = source.signaller();
    let handle = run_loop.handle();
    let waker = std::thread::spawn(move || {
        wait_until_sleeping(&handle);
        signaller.signal();
    });
    run_loop.perform(&Mode::DEFAULT, move || closure_log.push("closure"));
    let stopper = run_loop.clone();
    let source_then_timer = Observer::new(Activity::AFTER_WAITING, false, 1, move |_, _| {
        due_now.set_next_fire(std::time::Instant::now());
        stopper.stop();
    });
    run_loop.add_observer(&source_then_timer, &Mode::DEFAULT);
    let result = run_loop.run_in_mode(&Mode::DEFAULT, Duration::from_secs(60), false);
    waker.join().unwrap();
    assert_eq!(result, RunResult::Stopped);
    assert_eq!(
        log.entries(),
        [
            "entry",
            "before-timers",
            "before-sources",
            "closure",
            "before-waiting",
            "after-waiting",
            "timer",
            "exit"
        ]
    );
    // The source was signalled during the sleep: it is still pending for the next run.
    assert!(source.is_signalled());
}

#[test]
fn before_and_after_waiting_are_not_notified_on_passes_that_do_not_sleep() {
    let run_loop = RunLoop::current();
    let log = Log::default();
    log_activities(&run_loop, &Mode::DEFAULT, &log);

    // A zero timeout polls.
    run_loop.add_timer(
        &Timer::once(Duration::from_secs(3600), |_| {}),
        &Mode::DEFAULT,
    );
    assert_eq!(
        run_loop.run_in_mode(&Mode::DEFAULT, Duration::ZERO, false),
        RunResult::TimedOut
    );
    // A handled source skips the sleep.
    let source = Source::new(|_| {});
    run_loop.add_source(&source, &Mode::DEFAULT);
    source.signal();
    assert_eq!(
        run_loop.run_in_mode(&Mode::DEFAULT, PROMPTLY, true),
        RunResult::HandledSource
    );
    // A due timer skips it too.
    run_loop.add_timer(&Timer::once(Duration::ZERO, |_| {}), &Mode::DEFAULT);
    std::thread::sleep(Duration::from_millis(2));
    let stopper = run_loop.clone();
    run_loop.add_timer(
        &Timer::once(Duration::ZERO, move |_| stopper.stop()),
        &Mode::DEFAULT,
    );
    assert_eq!(
        run_loop.run_in_mode(&Mode::DEFAULT, PROMPTLY, false),
        RunResult::Stopped
    );

    assert_eq!(log.count("entry"), 3);
    assert_eq!(log.count("before-waiting"), 0, "{:?}", log.entries());
    assert_eq!(log.count("after-waiting"), 0);
}

#[test]
fn a_pass_that_sleeps_notifies_one_waiting_pair() {
    let run_loop = RunLoop::current();
    let log = Log::default();
    log_activities(&run_loop, &Mode::DEFAULT, &log);
    let handle = run_loop.handle();
    let waker = std::thread::spawn(move || {
        wait_until_sleeping(&handle);
        handle.stop();
    });
    run_loop.add_timer(
        &Timer::once(Duration::from_secs(3600), |_| {}),
        &Mode::DEFAULT,
    );
    assert_eq!(
        run_loop.run_in_mode(&Mode::DEFAULT, Duration::from_secs(60), false),
        RunResult::Stopped
    );
    waker.join().unwrap();
    assert_eq!(log.count("before-waiting"), 1);
    assert_eq!(log.count("after-waiting"), 1);
}

#[test]
fn observer_in_another_mode_is_not_notified() {
    let run_loop = RunLoop::current();
    let calls = Rc::new(Cell::new(0));
    let count = calls.clone();
    let observer = Observer::new(Activity::all(), true, 0, move |_, _| {
        count.set(count.get() + 1)
    });
    run_loop.add_observer(&observer, &Mode::from_static("elsewhere"));
    run_loop.add_timer(&Timer::once(Duration::ZERO, |_| {}), &Mode::DEFAULT);
    run_loop.run();
    assert_eq!(calls.get(), 0);
}
