//! Timers: one-shot and repeating, moving, invalidation, order, tolerance, re-alignment.

mod common;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use common::{log_activities, Log, PROMPTLY};
use runloop::{Mode, RunLoop, RunResult, Timer};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn one_shot_timer_fires_once_and_is_invalidated() {
    let run_loop = RunLoop::current();
    let fired = Rc::new(Cell::new(0));
    let count = fired.clone();
    let timer = Timer::once(ms(5), move |_| count.set(count.get() + 1));
    run_loop.add_timer(&timer, &Mode::DEFAULT);
    assert_eq!(
        run_loop.run_in_mode(&Mode::DEFAULT, PROMPTLY, false),
        RunResult::Finished
    );
    assert_eq!(fired.get(), 1);
    assert!(!timer.is_valid());
    assert!(!run_loop.contains_timer(&timer, &Mode::DEFAULT));
}

#[test]
fn timer_never_fires_before_its_fire_date() {
    let run_loop = RunLoop::current();
    let fired_at = Rc::new(Cell::new(None));
    let record = fired_at.clone();
    let timer = Timer::once(ms(40), move |_| record.set(Some(Instant::now())));
    let due = timer.next_fire();
    run_loop.add_timer(&timer, &Mode::DEFAULT);
    run_loop.run();
    assert!(fired_at.get().expect("timer fired") >= due);
}

#[test]
fn repeating_timer_fires_until_it_invalidates_itself_from_its_callback() {
    let run_loop = RunLoop::current();
    let fired = Rc::new(Cell::new(0));
    let count = fired.clone();
    let timer = Timer::repeating(ms(2), move |timer| {
        count.set(count.get() + 1);
        assert!(timer.is_valid());
        if count.get() == 5 {
            timer.invalidate();
            assert!(!timer.is_valid());
        }
    });
    run_loop.add_timer(&timer, &Mode::DEFAULT);
    assert_eq!(run_loop.run(), RunResult::Finished);
    assert_eq!(fired.get(), 5);
}

#[test]
fn late_repeating_timer_fires_once_then_realigns_to_its_grid() {
    let run_loop = RunLoop::current();
    let interval = ms(20);
    let start = Instant::now() + interval;
    // The fire dates each call served, and when the first call returned.
    let served = Rc::new(RefCell::new(Vec::new()));
    let first_done = Rc::new(Cell::new(None));
    let (record, done) = (served.clone(), first_done.clone());
    let timer = Timer::new(start, Some(interval), move |timer| {
        record.borrow_mut().push(timer.next_fire());
        if record.borrow().len() == 1 {
            // Block the loop for more than five intervals.
            std::thread::sleep(ms(110));
            done.set(Some(Instant::now()));
        }
        if record.borrow().len() == 3 {
            timer.invalidate();
        }
    });
    run_loop.add_timer(&timer, &Mode::DEFAULT);
    run_loop.run();

    let served = served.borrow();
    assert_eq!(served.len(), 3);
    assert_eq!(served[0], start);
    let first_done = first_done.get().unwrap();
    // No catch-up burst: the slots missed while blocked were skipped, and the next fire date is
    // the first slot of the original grid after the callback returned.
    for (i, &date) in served.iter().enumerate().skip(1) {
        let offset = date - start;
        assert_eq!(
            offset.as_nanos() % interval.as_nanos(),
            0,
            "fire {i} is off the grid"
        );
    }
    assert!(
        served[1] > first_done,
        "a slot missed during the late call fired afterwards"
    );
    assert!(served[2] > served[1]);
}

#[test]
fn set_next_fire_moves_a_pending_timer() {
    let run_loop = RunLoop::current();
    let fired = Rc::new(Cell::new(false));
    let flag = fired.clone();
    let timer = Timer::once(Duration::from_secs(3600), move |_| flag.set(true));
    run_loop.add_timer(&timer, &Mode::DEFAULT);
    let moved_to = Instant::now() + ms(10);
    timer.set_next_fire(moved_to);
    assert_eq!(timer.next_fire(), moved_to);
    let started = Instant::now();
    assert_eq!(
        run_loop.run_in_mode(&Mode::DEFAULT, Duration::from_secs(60), false),
        RunResult::Finished
    );
    assert!(fired.get());
    assert!(started.elapsed() < PROMPTLY);
}

#[test]
fn set_next_fire_in_the_callback_rearms_a_one_shot_timer() {
    let run_loop = RunLoop::current();
    let fired = Rc::new(Cell::new(0));
    let count = fired.clone();
    let timer = Timer::once(ms(1), move |timer| {
        count.set(count.get() + 1);
        if count.get() < 3 {
            timer.set_next_fire(Instant::now() + ms(1));
        }
    });
    run_loop.add_timer(&timer, &Mode::DEFAULT);
    assert_eq!(run_loop.run(), RunResult::Finished);
    assert_eq!(fired.get(), 3);
    assert!(!timer.is_valid());
}

#[test]
fn set_next_fire_in_the_callback_replaces_the_repeating_schedule() {
    let run_loop = RunLoop::current();
    let served = Rc::new(RefCell::new(Vec::new()));
    let record = served.clone();
    let target = Rc::new(Cell::new(None));
    let set = target.clone();
    let timer = Timer::repeating(ms(1), move |timer| {
        record.borrow_mut().push(timer.next_fire());
        if record.borrow().len() == 1 {
            let later = Instant::now() + ms(30);
            set.set(Some(later));
            timer.set_next_fire(later);
        } else {
            timer.invalidate();
        }
    });
    run_loop.add_timer(&timer, &Mode::DEFAULT);
    run_loop.run();
    assert_eq!(served.borrow().len(), 2);
    assert_eq!(served.borrow()[1], target.get().unwrap());
}

#[test]
fn due_timers_fire_in_fire_date_order_ties_in_order_added() {
    let run_loop = RunLoop::current();
    let log = Log::default();
    let now = Instant::now();
    let at = |offset: u64, name: &'static str| {
        let log = log.clone();
        Timer::new(now + ms(offset), None, move |_| log.push(name))
    };
    // All due before the run starts, added out of date order.
    let timers = [at(3, "c"), at(1, "a1"), at(2, "b"), at(1, "a2")];
    for timer in &timers {
        run_loop.add_timer(timer, &Mode::DEFAULT);
    }
    std::thread::sleep(ms(5));
    // A zero timeout runs one pass, and reports the timeout (checked before emptiness, as in
    // CoreFoundation).
    assert_eq!(
        run_loop.run_in_mode(&Mode::DEFAULT, Duration::ZERO, false),
        RunResult::TimedOut
    );
    assert_eq!(log.entries(), ["a1", "a2", "b", "c"]);
}

#[test]
fn tolerance_lets_one_wake_up_serve_two_timers() {
    let run_loop = RunLoop::current();
    let log = Log::default();
    let start = Instant::now();
    let early = {
        let log = log.clone();
        Timer::new(start + ms(150), None, move |_| log.push("early"))
    };
    early.set_tolerance(ms(300));
    let late = {
        let log = log.clone();
        Timer::new(start + ms(300), None, move |_| log.push("late"))
    };
    run_loop.add_timer(&early, &Mode::DEFAULT);
    run_loop.add_timer(&late, &Mode::DEFAULT);
    log_activities(&run_loop, &Mode::DEFAULT, &log);
    run_loop.run();
    let entries = log.entries();
    // One sleep, then both timers in the same pass: the early one waited for the late one,
    // within its tolerance.
    assert_eq!(log.count("after-waiting"), 1, "{entries:?}");
    let woke = entries.iter().position(|e| e == "after-waiting").unwrap();
    assert_eq!(
        entries[woke + 1..woke + 3],
        ["early", "late"],
        "{entries:?}"
    );
    assert!(Instant::now() >= start + ms(300));
}

#[test]
fn zero_tolerance_is_the_default() {
    let timer = Timer::once(ms(1), |_| {});
    assert_eq!(timer.tolerance(), Duration::ZERO);
    timer.set_tolerance(ms(7));
    assert_eq!(timer.tolerance(), ms(7));
}

#[test]
fn invalidated_timer_is_not_added() {
    let run_loop = RunLoop::current();
    let timer = Timer::once(ms(1), |_| panic!("an invalidated timer fired"));
    timer.invalidate();
    run_loop.add_timer(&timer, &Mode::DEFAULT);
    assert!(!run_loop.contains_timer(&timer, &Mode::DEFAULT));
    assert_eq!(run_loop.run(), RunResult::Finished);
}

#[test]
fn removed_timer_does_not_fire_and_can_be_added_again() {
    let run_loop = RunLoop::current();
    let fired = Rc::new(Cell::new(0));
    let count = fired.clone();
    let timer = Timer::once(Duration::ZERO, move |_| count.set(count.get() + 1));
    run_loop.add_timer(&timer, &Mode::DEFAULT);
    run_loop.remove_timer(&timer, &Mode::DEFAULT);
    assert_eq!(run_loop.run(), RunResult::Finished);
    assert_eq!(fired.get(), 0);
    assert!(timer.is_valid());
    run_loop.add_timer(&timer, &Mode::DEFAULT);
    assert_eq!(run_loop.run(), RunResult::Finished);
    assert_eq!(fired.get(), 1);
}

#[test]
fn timer_callback_can_add_and_remove_timers() {
    let run_loop = RunLoop::current();
    let log = Log::default();
    let victim = {
        let log = log.clone();
        Timer::once(ms(30), move |_| log.push("victim"))
    };
    run_loop.add_timer(&victim, &Mode::DEFAULT);
    let spawner = {
        let log = log.clone();
        let run_loop = run_loop.clone();
        Timer::once(Duration::ZERO, move |_| {
            log.push("spawner");
            run_loop.remove_timer(&victim, &Mode::DEFAULT);
            let log = log.clone();
            run_loop.add_timer(
                &Timer::once(ms(1), move |_| log.push("child")),
                &Mode::DEFAULT,
            );
        })
    };
    run_loop.add_timer(&spawner, &Mode::DEFAULT);
    assert_eq!(run_loop.run(), RunResult::Finished);
    assert_eq!(log.entries(), ["spawner", "child"]);
}

#[test]
#[should_panic(expected = "interval must be greater than zero")]
fn zero_interval_repeating_timer_is_rejected_with_a_clear_message() {
    let _ = Timer::repeating(Duration::ZERO, |_| {});
}

#[test]
fn is_repeating_is_true_only_for_timers_with_an_interval() {
    assert!(Timer::repeating(ms(1), |_| {}).is_repeating());
    assert!(Timer::new(Instant::now(), Some(ms(5)), |_| {}).is_repeating());
    assert!(!Timer::once(ms(1), |_| {}).is_repeating());
    assert!(!Timer::new(Instant::now(), None, |_| {}).is_repeating());
}

#[test]
fn a_one_shot_timer_rearmed_from_its_callback_still_does_not_repeat() {
    let run_loop = RunLoop::current();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let record = seen.clone();
    let timer = Timer::once(Duration::ZERO, move |timer| {
        record.borrow_mut().push(timer.is_repeating());
        if record.borrow().len() == 1 {
            timer.set_next_fire(Instant::now());
        }
    });
    run_loop.add_timer(&timer, &Mode::DEFAULT);
    assert_eq!(run_loop.run(), RunResult::Finished);
    assert_eq!(*seen.borrow(), [false, false]);
    assert!(!timer.is_repeating());
}

#[test]
fn invalidating_an_added_timer_drops_its_callback_at_once_and_empties_the_mode() {
    let run_loop = RunLoop::current();
    let captured = Rc::new(());
    let held = captured.clone();
    let timer = Timer::once(Duration::from_secs(3600), move |_| {
        let _ = &held;
        panic!("an invalidated timer fired");
    });
    run_loop.add_timer(&timer, &Mode::DEFAULT);
    assert_eq!(Rc::strong_count(&captured), 2);
    timer.invalidate();
    assert_eq!(Rc::strong_count(&captured), 1, "the callback was kept");
    assert!(!run_loop.contains_timer(&timer, &Mode::DEFAULT));
    assert_eq!(
        run_loop.run_in_mode(&Mode::DEFAULT, PROMPTLY, false),
        RunResult::Finished
    );
}

#[test]
fn debug_shows_a_timers_schedule_and_validity() {
    let timer = Timer::repeating(ms(5), |_| {});
    let shown = format!("{timer:?}");
    assert!(shown.starts_with("Timer { next_fire: "), "{shown}");
    assert!(
        shown.ends_with(&format!(
            ", interval: Some({:?}), tolerance: 0ns, valid: true }}",
            ms(5)
        )),
        "{shown}"
    );
    timer.invalidate();
    assert!(format!("{timer:?}").ends_with("valid: false }"));
}
