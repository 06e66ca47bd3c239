//! `RunLoop::main()`: the main thread's loop, reachable from other threads once the main thread
//! has created it.
//!
//! This test binary has its own `main` (`harness = false`), so it runs on the real main thread.

use std::thread;
use std::time::Duration;

use runloop::{Mode, RunLoop, RunResult, Timer};

fn main() {
    let mut passed = 0;
    let mut check = |name: &str, ok: bool| {
        assert!(ok, "main_thread: {name} FAILED");
        println!("main_thread: {name} ... ok");
        passed += 1;
    };

    check(
        "no main loop before the main thread creates one",
        thread::spawn(RunLoop::main).join().unwrap().is_none() && RunLoop::main().is_none(),
    );
    check(
        "a spawned thread's loop is not the main loop and does not register as it",
        !thread::spawn(|| RunLoop::current().is_main())
            .join()
            .unwrap()
            && RunLoop::main().is_none(),
    );

    let run_loop = RunLoop::current();
    check(
        "the main thread's loop knows it is the main loop",
        run_loop.is_main(),
    );
    let handle = RunLoop::main().expect("registered by RunLoop::current() on the main thread");
    check(
        "RunLoop::main() reaches the main thread's loop",
        handle.same_loop(&run_loop.handle()),
    );

    // Another thread schedules work on the main loop through RunLoop::main().
    let worker = thread::spawn(|| {
        let main = RunLoop::main().expect("main loop registered before the worker started");
        main.perform(&Mode::DEFAULT, || {
            assert!(RunLoop::current().is_main(), "ran off the main thread");
            RunLoop::current().stop();
        })
        .unwrap();
    });
    run_loop.add_timer(
        &Timer::once(Duration::from_secs(3600), |_| {}),
        &Mode::DEFAULT,
    );
    let result = run_loop.run();
    worker.join().unwrap();
    check(
        "a closure performed from another thread runs on and stops the main loop",
        result == RunResult::Stopped,
    );

    println!("main_thread: {passed} passed, 0 failed");
}
