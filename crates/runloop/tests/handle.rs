//! One loop per thread, and the cross-thread handle: wake, stop, perform.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{log_activities, wait_until_sleeping, Log};
use runloop::{Activity, Mode, Observer, RunLoop, RunLoopHandle, RunResult, Timer};

fn far_timer() -> Timer {
    Timer::once(Duration::from_secs(3600), |_| {})
}

#[test]
fn handle_and_signaller_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<RunLoopHandle>();
    send_sync::<runloop::SourceSignaller>();
}

#[test]
fn current_returns_the_same_loop_on_one_thread_and_another_on_each_thread() {
    let here = RunLoop::current();
    assert!(RunLoop::ptr_eq(&here, &RunLoop::current()));
    assert!(here.handle().is_current());
    let there = thread::spawn(|| RunLoop::current().handle())
        .join()
        .unwrap();
    assert!(!there.same_loop(&here.handle()));
    assert!(!there.is_current());
    assert_eq!(here.handle().thread_id(), thread::current().id());
}

#[test]
fn closures_performed_from_other_threads_run_on_the_loop_thread_in_order() {
    let run_loop = RunLoop::current();
    run_loop.add_timer(&far_timer(), &Mode::DEFAULT);
    let handle = run_loop.handle();
    let ran = Arc::new(Mutex::new(Vec::new()));
    let loop_thread = thread::current().id();
    let sender = {
        let ran = ran.clone();
        thread::spawn(move || {
            for i in 0..100 {
                let ran = ran.clone();
                handle
                    .perform(&Mode::DEFAULT, move || {
                        assert_eq!(thread::current().id(), loop_thread);
                        ran.lock().unwrap().push(i);
                    })
                    .unwrap();
            }
            handle
                .perform(&Mode::DEFAULT, || RunLoop::current().stop())
                .unwrap();
        })
    };
    assert_eq!(
        run_loop.run_in_mode(&Mode::DEFAULT, Duration::from_secs(60), false),
        RunResult::Stopped
    );
    sender.join().unwrap();
    assert_eq!(*ran.lock().unwrap(), (0..100).collect::<Vec<_>>());
}

#[test]
fn stop_from_another_thread_stops_a_sleeping_loop() {
    let run_loop = RunLoop::current();
    run_loop.add_timer(&far_timer(), &Mode::DEFAULT);
    let handle = run_loop.handle();
    let stopper = thread::spawn(move || {
        wait_until_sleeping(&handle);
        handle.stop();
    });
    // Stopped, not timed out: the stop ended the sleep.
    assert_eq!(
        run_loop.run_in_mode(&Mode::DEFAULT, Duration::from_secs(60), false),
        RunResult::Stopped
    );
    stopper.join().unwrap();
}

#[test]
fn wake_up_from_another_thread_ends_the_sleep_without_ending_the_run() {
    let run_loop = RunLoop::current();
    let log = Log::default();
    log_activities(&run_loop, &Mode::DEFAULT, &log);
    run_loop.add_timer(&far_timer(), &Mode::DEFAULT);
    let wakes = Arc::new(AtomicUsize::new(0));
    // Stop at the second wake-up: the first one alone must not end the run.
    let counted = wakes.clone();
    let stopper = run_loop.clone();
    let counter = Observer::new(Activity::AFTER_WAITING, true, 10, move |_, _| {
        if counted.fetch_add(1, Ordering::SeqCst) == 1 {
            stopper.stop();
        }
    });
    run_loop.add_observer(&counter, &Mode::DEFAULT);
    let handle = run_loop.handle();
    let woken = wakes.clone();
    let waker = thread::spawn(move || {
        for i in 0..2 {
            // Wait for the sleep that follows wake-up `i - 1` (the counter moves when the loop
            // wakes, so a sleep seen after it is a new one).
            let give_up = Instant::now() + Duration::from_secs(20);
            while woken.load(Ordering::SeqCst) != i || !handle.is_waiting() {
                assert!(
                    Instant::now() < give_up,
                    "the run loop did not go back to sleep"
                );
                thread::sleep(Duration::from_millis(1));
            }
            handle.wake_up();
        }
    });
    assert_eq!(
        run_loop.run_in_mode(&Mode::DEFAULT, Duration::from_secs(60), false),
        RunResult::Stopped
    );
    waker.join().unwrap();
    assert_eq!(wakes.load(Ordering::SeqCst), 2);
    assert_eq!(log.count("before-waiting"), 2);
    assert_eq!(log.count("exit"), 1);
}

#[test]
fn perform_on_a_loop_whose_thread_exited_hands_the_closure_back() {
    let handle = thread::spawn(|| RunLoop::current().handle())
        .join()
        .unwrap();
    assert!(!handle.is_alive());
    let (tx, rx) = mpsc::channel();
    let refused = handle
        .perform(&Mode::DEFAULT, move || tx.send("ran").unwrap())
        .unwrap_err();
    assert!(refused.to_string().contains("thread has exited"));
    // The closure was not run and is intact.
    assert!(rx.try_recv().is_err());
    (refused.into_inner())();
    assert_eq!(rx.recv().unwrap(), "ran");
}

#[test]
fn closures_queued_when_the_loop_thread_exits_are_dropped_not_run() {
    let (handle_tx, handle_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let owner = thread::spawn(move || {
        handle_tx.send(RunLoop::current().handle()).unwrap();
        go_rx.recv().unwrap();
        // Exits without running its loop.
    });
    let handle = handle_rx.recv().unwrap();
    let token = Arc::new(());
    let held = token.clone();
    handle
        .perform(&Mode::DEFAULT, move || {
            let _ = &held;
            panic!("a closure ran on a loop that never ran");
        })
        .unwrap();
    assert_eq!(Arc::strong_count(&token), 2);
    go_tx.send(()).unwrap();
    owner.join().unwrap();
    assert_eq!(
        Arc::strong_count(&token),
        1,
        "the queued closure was not dropped"
    );
    assert!(!handle.is_alive());
}
