//! Signalled sources and closures performed on the loop.

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use common::{log_activities, wait_until_sleeping, Log, PROMPTLY};
use runloop::{Mode, RunLoop, RunResult, Source, Timer};

fn logging_source(log: &Log, order: i64, name: &'static str) -> Source {
    let log = log.clone();
    Source::with_order(order, move |_| log.push(name))
}

#[test]
fn signals_before_the_source_is_handled_coalesce_into_one_call() {
    let run_loop = RunLoop::current();
    let calls = Rc::new(Cell::new(0));
    let count = calls.clone();
    let source = Source::new(move |_| count.set(count.get() + 1));
    run_loop.add_source(&source, &Mode::DEFAULT);
    source.signal();
    source.signal();
    assert!(source.is_signalled());
    assert_eq!(
        run_loop.run_in_mode(&Mode::DEFAULT, PROMPTLY, true),
        RunResult::HandledSource
    );
    assert_eq!(calls.get(), 1);
    assert!(!source.is_signalled());
    // Not signalled again: the next run times out without calling it.
    assert_eq!(
        run_loop.run_in_mode(&Mode::DEFAULT, Duration::from_millis(20), true),
        RunResult::TimedOut
    );
    assert_eq!(calls.get(), 1);
}

#[test]
fn signaller_on_another_thread_wakes_the_sleeping_loop() {
    let run_loop = RunLoop::current();
    let log = Log::default();
    let source = logging_source(&log, 0, "source");
    run_loop.add_source(&source, &Mode::DEFAULT);
    log_activities(&run_loop, &Mode::DEFAULT, &log);
    let signaller = source.signaller();
    let handle = run_loop.handle();
    let signalling = std::thread::spawn(move || {
        wait_until_sleeping(&handle);
        signaller.signal();
    });
    let started = Instant::now();
    let result = run_loop.run_in_mode(&Mode::DEFAULT, Duration::from_secs(60), true);
    signalling.join().unwrap();
    assert_eq!(result, RunResult::HandledSource);
    assert!(started.elapsed() < PROMPTLY);
    assert_eq!(
        log.entries(),
        [
            "entry",
            "before-timers",
            "before-sources",
            "before-waiting",
            "after-waiting",
            "before-timers",
            "before-sources",
            "source",
            "exit"
        ]
    );
}

#[test]
fn ready_sources_are_handled_by_order_ties_in_order_added() {
    let run_loop = RunLoop::current();
    let log = Log::default();
    let sources = [
        logging_source(&log, 5, "five"),
        logging_source(&log, -1, "minus-one-a"),
        logging_source(&log, 5, "five-b"),
        logging_source(&log, -1, "minus-one-b"),
    ];
    for source in &sources {
        run_loop.add_source(source, &Mode::DEFAULT);
        source.signal();
    }
    assert_eq!(
        run_loop.run_in_mode(&Mode::DEFAULT, Duration::ZERO, false),
        RunResult::TimedOut
    );
    assert_eq!(
        log.entries(),
        ["minus-one-a", "minus-one-b", "five", "five-b"]
    );
}

#[test]
fn return_after_source_handled_handles_only_the_first_ready_source() {
    let run_loop = RunLoop::current();
    let log = Log::default();
    let first = logging_source(&log, 1, "first");
    let second = logging_source(&log, 2, "second");
    run_loop.add_source(&second, &Mode::DEFAULT);
    run_loop.add_source(&first, &Mode::DEFAULT);
    second.signal();
    first.signal();
    assert_eq!(
        run_loop.run_in_mode(&Mode::DEFAULT, PROMPTLY, true),
        RunResult::HandledSource
    );
    assert_eq!(log.entries(), ["first"]);
    assert!(second.is_signalled());
    assert_eq!(
        run_loop.run_in_mode(&Mode::DEFAULT, PROMPTLY, true),
        RunResult::HandledSource
    );
    assert_eq!(log.entries(), ["first", "second"]);
}

#[test]
fn source_signalled_before_it_was_added_is_handled() {
    let run_loop = RunLoop::current();
    let log = Log::default();
    let source = logging_source(&log, 0, "source");
    source.signaller().signal();
    run_loop.add_source(&source, &Mode::DEFAULT);
    assert_eq!(
        run_loop.run_in_mode(&Mode::DEFAULT, PROMPTLY, true),
        RunResult::HandledSource
    );
    assert_eq!(log.entries(), ["source"]);
}

#[test]
fn invalidated_source_ignores_signals_and_leaves_the_mode() {
    let run_loop = RunLoop::current();
    let source = Source::new(|_| panic!("an invalidated source was handled"));
    run_loop.add_source(&source, &Mode::DEFAULT);
    let signaller = source.signaller();
    source.invalidate();
    assert!(!signaller.is_valid());
    signaller.signal();
    assert!(!source.is_signalled());
    assert!(!run_loop.contains_source(&source, &Mode::DEFAULT));
    assert_eq!(run_loop.run(), RunResult::Finished);
}

#[test]
fn source_can_invalidate_itself_from_its_callback() {
    let run_loop = RunLoop::current();
    let calls = Rc::new(Cell::new(0));
    let count = calls.clone();
    let source = Source::new(move |source| {
        count.set(count.get() + 1);
        source.invalidate();
    });
    run_loop.add_source(&source, &Mode::DEFAULT);
    source.signal();
    // Invalidated, the source leaves the mode empty, so the run finishes.
    assert_eq!(
        run_loop.run_in_mode(&Mode::DEFAULT, PROMPTLY, false),
        RunResult::Finished
    );
    assert_eq!(calls.get(), 1);
}

#[test]
fn performed_closures_run_in_order_in_their_mode_only() {
    let run_loop = RunLoop::current();
    let log = Log::default();
    let other = Mode::from_static("other");
    for (mode, name) in [
        (&Mode::DEFAULT, "a"),
        (&other, "other"),
        (&Mode::DEFAULT, "b"),
    ] {
        let log = log.clone();
        run_loop.perform(mode, move || log.push(name));
    }
    assert_eq!(run_loop.run(), RunResult::Finished);
    assert_eq!(log.entries(), ["a", "b"]);
    assert_eq!(
        run_loop.run_in_mode(&other, PROMPTLY, false),
        RunResult::Finished
    );
    assert_eq!(log.entries(), ["a", "b", "other"]);
}

#[test]
fn closure_performed_in_common_modes_runs_in_a_common_mode_only() {
    let run_loop = RunLoop::current();
    let log = Log::default();
    let private = Mode::from_static("private");
    // A keep-alive timer so the private mode is not empty.
    run_loop.add_timer(&Timer::once(Duration::ZERO, |_| {}), &private);
    let logger = log.clone();
    run_loop.perform(&Mode::COMMON, move || logger.push("common"));
    run_loop.run_in_mode(&private, PROMPTLY, false);
    assert!(log.entries().is_empty(), "ran in a mode that is not common");
    assert_eq!(run_loop.run(), RunResult::Finished);
    assert_eq!(log.entries(), ["common"]);
}

#[test]
fn pending_closure_keeps_the_run_going_until_performed() {
    let run_loop = RunLoop::current();
    let done = Rc::new(Cell::new(false));
    let flag = done.clone();
    let again = run_loop.clone();
    run_loop.perform(&Mode::DEFAULT, move || {
        // Scheduled from a closure: runs in a later pass of the same run.
        again.perform(&Mode::DEFAULT, move || flag.set(true));
    });
    assert_eq!(run_loop.run(), RunResult::Finished);
    assert!(done.get());
}

#[test]
fn removed_source_is_not_handled_keeps_its_signal_and_can_be_added_again() {
    let run_loop = RunLoop::current();
    let log = Log::default();
    let source = logging_source(&log, 0, "source");
    // Keeps the mode from being empty once the source is removed.
    let far = Timer::once(Duration::from_secs(3600), |_| {});
    run_loop.add_timer(&far, &Mode::DEFAULT);
    run_loop.add_source(&source, &Mode::DEFAULT);
    source.signal();
    run_loop.remove_source(&source, &Mode::DEFAULT);
    assert!(!run_loop.contains_source(&source, &Mode::DEFAULT));
    assert_eq!(
        run_loop.run_in_mode(&Mode::DEFAULT, Duration::ZERO, false),
        RunResult::TimedOut
    );
    assert!(log.entries().is_empty(), "a removed source was handled");
    assert!(source.is_valid());
    assert!(source.is_signalled());

    run_loop.add_source(&source, &Mode::DEFAULT);
    assert_eq!(
        run_loop.run_in_mode(&Mode::DEFAULT, PROMPTLY, true),
        RunResult::HandledSource
    );
    assert_eq!(log.entries(), ["source"]);
    far.invalidate();
}

#[test]
fn removing_a_source_from_one_mode_keeps_it_in_the_others() {
    const OTHER: Mode = Mode::from_static("other");
    let run_loop = RunLoop::current();
    let log = Log::default();
    let source = logging_source(&log, 0, "source");
    run_loop.add_source(&source, &Mode::DEFAULT);
    run_loop.add_source(&source, &OTHER);
    run_loop.remove_source(&source, &OTHER);
    assert!(!run_loop.contains_source(&source, &OTHER));
    assert!(run_loop.contains_source(&source, &Mode::DEFAULT));
    source.signal();
    assert_eq!(
        run_loop.run_in_mode(&OTHER, PROMPTLY, false),
        RunResult::Finished
    );
    assert!(
        log.entries().is_empty(),
        "handled in the mode it was removed from"
    );
    assert_eq!(
        run_loop.run_in_mode(&Mode::DEFAULT, PROMPTLY, true),
        RunResult::HandledSource
    );
    assert_eq!(log.entries(), ["source"]);
}

#[test]
fn invalidating_an_added_source_drops_its_callback_at_once_and_empties_the_mode() {
    let run_loop = RunLoop::current();
    let captured = Rc::new(());
    let held = captured.clone();
    let source = Source::new(move |_| {
        let _ = &held;
        panic!("an invalidated source was handled");
    });
    run_loop.add_source(&source, &Mode::DEFAULT);
    source.signal();
    assert_eq!(Rc::strong_count(&captured), 2);
    source.invalidate();
    assert_eq!(Rc::strong_count(&captured), 1, "the callback was kept");
    assert!(!source.is_signalled());
    assert_eq!(
        run_loop.run_in_mode(&Mode::DEFAULT, PROMPTLY, false),
        RunResult::Finished
    );
}
