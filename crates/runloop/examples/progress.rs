//! A main-thread run loop that reports a worker's progress: the pattern the `reel` exporter uses.
//!
//! A worker thread does the work and publishes how far it got in an `AtomicU64`. The main thread
//! runs its loop with a repeating timer that polls that value and prints it. When the worker is
//! done it schedules a closure on the main loop (reached with `RunLoop::main()`) that stops it.
//! Between ticks the main thread sleeps; and since it runs a run loop, whatever the ticks
//! autorelease is drained every turn.
//!
//! Run with `cargo run -p runloop --example progress [STEPS]` (default 60 steps of 10 ms).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use runloop::{Mode, RunLoop, RunResult, Timer};

fn main() {
    let steps: u64 = match std::env::args().nth(1) {
        None => 60,
        Some(arg) => match arg.parse() {
            Ok(n) if n > 0 => n,
            _ => {
                eprintln!("progress: STEPS must be a positive integer, got {arg:?}");
                std::process::exit(2);
            }
        },
    };

    // Create the main thread's loop first, so RunLoop::main() works on other threads.
    let run_loop = RunLoop::current();
    let progress = Arc::new(AtomicU64::new(0));

    let worker = {
        let progress = progress.clone();
        thread::spawn(move || {
            for step in 1..=steps {
                thread::sleep(Duration::from_millis(10)); // stands for encoding one frame
                progress.store(step, Ordering::Release);
            }
            let main = RunLoop::main().expect("the main thread created its loop before spawning");
            main.perform(&Mode::DEFAULT, || RunLoop::current().stop())
                .expect("the main thread is still running its loop");
        })
    };

    let started = Instant::now();
    let report = move |done: u64| {
        let percent = 100.0 * done as f64 / steps as f64;
        println!(
            "[{:>6.2}s] {done}/{steps} ({percent:.0}%)",
            started.elapsed().as_secs_f64()
        );
    };
    let polled = progress.clone();
    let mut last_printed = u64::MAX;
    let poll = Timer::repeating(Duration::from_millis(50), move |_| {
        let done = polled.load(Ordering::Acquire);
        if done != last_printed {
            report(done);
            last_printed = done;
        }
    });
    // The exact tick time does not matter: let the loop batch the wake-up.
    poll.set_tolerance(Duration::from_millis(10));
    run_loop.add_timer(&poll, &Mode::DEFAULT);

    let result = run_loop.run();
    worker.join().expect("worker thread panicked");
    assert_eq!(result, RunResult::Stopped);
    report(progress.load(Ordering::Acquire));
    println!("done");
}
