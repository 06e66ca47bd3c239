//! The autorelease observers: a pool per turn, drained before the loop sleeps.

mod common;

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use autorelease::{autoreleasepool, Obj};
use common::Log;
use runloop::{
    Activity, Mode, Observer, RunLoop, RunResult, Timer, AUTORELEASE_DRAIN_ORDER,
    AUTORELEASE_PUSH_ORDER,
};

/// Sets its flag when dropped, i.e. when the object holding it is released for the last time.
struct Tracked(Arc<AtomicBool>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn tracked() -> (Obj<Tracked>, Arc<AtomicBool>) {
    let released = Arc::new(AtomicBool::new(false));
    (Obj::new(Tracked(released.clone())), released)
}

fn far_timer() -> Timer {
    Timer::once(Duration::from_secs(3600), |_| {})
}

#[test]
fn autorelease_observers_are_installed_in_the_common_modes_with_cfrunloop_orders() {
    let run_loop = RunLoop::current();
    let observers = run_loop
        .autorelease_observers()
        .expect("installed by default");
    assert_eq!(observers.push.order(), -2_147_483_647);
    assert_eq!(AUTORELEASE_PUSH_ORDER, -2_147_483_647);
    assert_eq!(observers.push.activities(), Activity::ENTRY);
    assert_eq!(observers.drain.order(), 2_147_483_647);
    assert_eq!(AUTORELEASE_DRAIN_ORDER, 2_147_483_647);
    assert_eq!(
        observers.drain.activities(),
        Activity::BEFORE_WAITING | Activity::EXIT
    );
    for observer in [&observers.push, &observers.drain] {
        assert!(observer.repeats());
        assert!(run_loop.contains_observer(observer, &Mode::COMMON));
        assert!(run_loop.contains_observer(observer, &Mode::DEFAULT));
    }
}

#[test]
fn object_autoreleased_in_a_timer_is_released_before_the_loop_sleeps_not_at_exit() {
    let run_loop = RunLoop::current();
    let log = Log::default();
    let released = Rc::new(Cell::new(None::<Arc<AtomicBool>>));
    let keep = released.clone();
    run_loop.add_timer(
        &Timer::once(Duration::ZERO, move |_| {
            assert_eq!(autorelease::stats().depth, 1, "the loop's pool is in place");
            let (object, flag) = tracked();
            object.autorelease_to_innermost();
            keep.set(Some(flag));
        }),
        &Mode::DEFAULT,
    );
    run_loop.add_timer(&far_timer(), &Mode::DEFAULT);
    let watcher = {
        let log = log.clone();
        let released = released.clone();
        // Order 0: before-waiting runs before the drain observer, after-waiting after the sleep.
        Observer::new(
            Activity::BEFORE_WAITING | Activity::AFTER_WAITING | Activity::EXIT,
            true,
            0,
            move |_, activity| {
                let flag = released.take();
                let state = flag.as_ref().map(|f| f.load(Ordering::SeqCst));
                released.set(flag);
                log.push(format!(
                    "{} released={state:?}",
                    common::activity_name(activity)
                ));
            },
        )
    };
    run_loop.add_observer(&watcher, &Mode::DEFAULT);
    assert_eq!(
        run_loop.run_in_mode(&Mode::DEFAULT, Duration::from_millis(30), false),
        RunResult::TimedOut
    );
    assert_eq!(
        log.entries(),
        [
            "before-waiting released=Some(false)",
            "after-waiting released=Some(true)",
            "exit released=Some(true)"
        ]
    );
    assert_eq!(autorelease::stats().depth, 0);
}

/// Runs 10,000 turns that each autorelease 10 objects and sleep; returns the pool high-water
/// mark and how many turns slept.
fn ten_thousand_autoreleasing_turns(run_loop: &RunLoop) -> (usize, usize) {
    const TURNS: usize = 10_000;
    let turns = Rc::new(Cell::new(0));
    let count = turns.clone();
    let stopper = run_loop.clone();
    let timer = Timer::repeating(Duration::from_secs(3600), move |_| {
        for i in 0..10u64 {
            Obj::new(i).autorelease_to_innermost();
        }
        count.set(count.get() + 1);
        if count.get() == TURNS {
            stopper.stop();
        }
    });
    run_loop.add_timer(&timer, &Mode::DEFAULT);
    // Each sleeping pass makes the timer due, so the loop sleeps for no time and then fires it:
    // every turn goes through before-waiting.
    let sleeps = Rc::new(Cell::new(0));
    let sleep_count = sleeps.clone();
    let rearm = {
        let timer = timer.clone();
        Observer::new(Activity::BEFORE_WAITING, true, 0, move |_, _| {
            sleep_count.set(sleep_count.get() + 1);
            timer.set_next_fire(Instant::now());
        })
    };
    run_loop.add_observer(&rearm, &Mode::DEFAULT);
    autorelease::reset_high_water();
    assert_eq!(run_loop.run(), RunResult::Stopped);
    assert_eq!(turns.get(), TURNS);
    timer.invalidate();
    rearm.invalidate();
    (autorelease::stats().high_water_pending, sleeps.get())
}

#[test]
fn ten_thousand_autoreleasing_turns_keep_the_pool_high_water_flat() {
    let run_loop = RunLoop::current();
    let (high_water, sleeps) = ten_thousand_autoreleasing_turns(&run_loop);
    assert!(sleeps >= 10_000, "only {sleeps} turns slept");
    assert_eq!(
        high_water, 10,
        "more than one turn's objects were pending at once"
    );
    assert_eq!(autorelease::stats().pending, 0);
    assert_eq!(autorelease::stats().depth, 0);
}

#[test]
fn without_the_autorelease_observers_the_same_turns_pile_up_in_one_pool() {
    // The control for the test above: it shows the high-water mark measures the drain.
    let run_loop = RunLoop::current();
    run_loop.autorelease_observers().unwrap().invalidate();
    let (high_water, _) = autoreleasepool(|_| ten_thousand_autoreleasing_turns(&run_loop));
    assert_eq!(high_water, 100_000);
}

#[test]
fn invalidated_autorelease_observers_push_no_pool_and_can_be_reinstalled() {
    let run_loop = RunLoop::current();
    let depth_seen = Rc::new(Cell::new(usize::MAX));
    let probe = |depth_seen: &Rc<Cell<usize>>| {
        let depth_seen = depth_seen.clone();
        Timer::once(Duration::ZERO, move |_| {
            depth_seen.set(autorelease::stats().depth)
        })
    };
    let observers = run_loop.autorelease_observers().unwrap();
    observers.invalidate();
    assert!(run_loop.autorelease_observers().is_none());
    assert!(!run_loop.contains_observer(&observers.push, &Mode::DEFAULT));
    run_loop.add_timer(&probe(&depth_seen), &Mode::DEFAULT);
    run_loop.run();
    assert_eq!(depth_seen.get(), 0);

    let reinstalled = run_loop.install_autorelease_observers();
    assert!(run_loop.contains_observer(&reinstalled.drain, &Mode::DEFAULT));
    run_loop.add_timer(&probe(&depth_seen), &Mode::DEFAULT);
    run_loop.run();
    assert_eq!(depth_seen.get(), 1);
    assert_eq!(autorelease::stats().depth, 0);
}

#[test]
fn a_panicking_callback_pops_the_loops_pool_before_the_panic_propagates() {
    let run_loop = RunLoop::current();
    let flag = Rc::new(Cell::new(None));
    let keep = flag.clone();
    run_loop.add_timer(
        &Timer::once(Duration::ZERO, move |_| {
            let (object, released) = tracked();
            object.autorelease_to_innermost();
            keep.set(Some(released));
            panic!("timer panicked after autoreleasing");
        }),
        &Mode::DEFAULT,
    );
    let panic = catch_unwind(AssertUnwindSafe(|| run_loop.run())).unwrap_err();
    assert_eq!(
        panic.downcast_ref::<&str>(),
        Some(&"timer panicked after autoreleasing")
    );
    assert!(
        flag.take().unwrap().load(Ordering::SeqCst),
        "the autoreleased object leaked"
    );
    assert_eq!(autorelease::stats().depth, 0);
    assert_eq!(autorelease::stats().pending, 0);
    // The loop and its pools still work.
    let depth_seen = Rc::new(Cell::new(0));
    let seen = depth_seen.clone();
    run_loop.add_timer(
        &Timer::once(Duration::ZERO, move |_| {
            seen.set(autorelease::stats().depth)
        }),
        &Mode::DEFAULT,
    );
    assert_eq!(run_loop.run(), RunResult::Finished);
    assert_eq!(depth_seen.get(), 1);
}

#[test]
fn a_nested_run_drains_its_own_pool_and_keeps_the_outer_one() {
    const NESTED: Mode = Mode::from_static("nested common");
    let run_loop = RunLoop::current();
    run_loop.add_common_mode(&NESTED);
    let log = Log::default();
    let outer_flag = Rc::new(Cell::new(None::<Arc<AtomicBool>>));
    let nested_released = Arc::new(AtomicBool::new(false));

    let nested_timer = {
        let log = log.clone();
        let nested_released = nested_released.clone();
        Timer::once(Duration::ZERO, move |_| {
            log.push(format!("nested depth {}", autorelease::stats().depth));
            Obj::new(Tracked(nested_released.clone())).autorelease_to_innermost();
        })
    };
    run_loop.add_timer(&nested_timer, &NESTED);
    run_loop.add_timer(&far_timer(), &NESTED);

    let outer = {
        let log = log.clone();
        let outer_flag = outer_flag.clone();
        let run_loop = run_loop.clone();
        Timer::once(Duration::ZERO, move |_| {
            log.push(format!("outer depth {}", autorelease::stats().depth));
            let (object, released) = tracked();
            object.autorelease_to_innermost();
            outer_flag.set(Some(released.clone()));
            // The nested run sleeps (draining its pool) and times out.
            assert_eq!(
                run_loop.run_in_mode(&NESTED, Duration::from_millis(20), false),
                RunResult::TimedOut
            );
            log.push(format!(
                "after nested: depth {} pending {} nested released {} outer released {}",
                autorelease::stats().depth,
                autorelease::stats().pending,
                nested_released.load(Ordering::SeqCst),
                released.load(Ordering::SeqCst)
            ));
        })
    };
    run_loop.add_timer(&outer, &Mode::DEFAULT);
    assert_eq!(
        run_loop.run_in_mode(&Mode::DEFAULT, Duration::from_millis(20), false),
        RunResult::TimedOut
    );
    assert_eq!(
        log.entries(),
        [
            "outer depth 1",
            "nested depth 2",
            "after nested: depth 1 pending 1 nested released true outer released false"
        ]
    );
    assert!(outer_flag.take().unwrap().load(Ordering::SeqCst));
    assert_eq!(autorelease::stats().depth, 0);
}

#[test]
fn a_mode_that_is_not_common_gets_no_pool_until_marked_common() {
    const PRIVATE: Mode = Mode::from_static("private");
    let run_loop = RunLoop::current();
    let depth_seen = Rc::new(Cell::new(usize::MAX));
    let probe = || {
        let seen = depth_seen.clone();
        Timer::once(Duration::ZERO, move |_| {
            seen.set(autorelease::stats().depth)
        })
    };
    run_loop.add_timer(&probe(), &PRIVATE);
    run_loop.run_in_mode(&PRIVATE, Duration::from_secs(5), false);
    assert_eq!(depth_seen.get(), 0);
    run_loop.add_common_mode(&PRIVATE);
    run_loop.add_timer(&probe(), &PRIVATE);
    run_loop.run_in_mode(&PRIVATE, Duration::from_secs(5), false);
    assert_eq!(depth_seen.get(), 1);
}
