//! Waiting costs no CPU: an idle loop sleeps on a condition variable until its next timer.

mod common;

use std::time::{Duration, Instant};

use common::{log_activities, Log};
use runloop::{Mode, RunLoop, RunResult, Timer};

/// CPU time (user + system) the calling thread has used.
#[cfg(target_os = "linux")]
fn thread_cpu_time() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` is a valid, writable rusage; RUSAGE_THREAD reports on the calling thread.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_THREAD, usage.as_mut_ptr()) };
    assert_eq!(
        rc,
        0,
        "getrusage failed: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: getrusage succeeded, so it filled in `usage`.
    let usage = unsafe { usage.assume_init() };
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}

#[cfg(target_os = "linux")]
#[test]
fn a_loop_idling_for_a_second_uses_under_five_percent_of_a_core() {
    let run_loop = RunLoop::current();
    let log = Log::default();
    log_activities(&run_loop, &Mode::DEFAULT, &log);
    run_loop.add_timer(
        &Timer::once(Duration::from_secs(3600), |_| {}),
        &Mode::DEFAULT,
    );
    let cpu_before = thread_cpu_time();
    let started = Instant::now();
    let result = run_loop.run_in_mode(&Mode::DEFAULT, Duration::from_secs(1), false);
    let wall = started.elapsed();
    let cpu = thread_cpu_time() - cpu_before;
    assert_eq!(result, RunResult::TimedOut);
    assert!(wall >= Duration::from_secs(1));
    // One sleep for the whole second: no polling.
    assert_eq!(log.count("before-waiting"), 1);
    assert!(cpu < wall / 20, "idle loop used {cpu:?} of CPU in {wall:?}");
}

#[test]
fn a_loop_sleeps_until_its_next_timer_in_one_wait() {
    let run_loop = RunLoop::current();
    let log = Log::default();
    log_activities(&run_loop, &Mode::DEFAULT, &log);
    let timer = Timer::once(Duration::from_millis(200), |_| {});
    let due = timer.next_fire();
    run_loop.add_timer(&timer, &Mode::DEFAULT);
    assert_eq!(run_loop.run(), RunResult::Finished);
    assert!(Instant::now() >= due);
    assert_eq!(log.count("before-waiting"), 1);
    assert_eq!(log.count("after-waiting"), 1);
}
