//! Run-loop latency: how late a timer is dispatched after its fire date, and how long a closure
//! scheduled from another thread takes to start running on a sleeping loop, compared with waking
//! a thread blocked on a plain `std::sync::mpsc` channel.
//!
//! Before the criterion groups, a report prints the median and p99 of each latency over raw
//! samples, and the ratio of the run-loop wake-up to the channel wake-up.

use std::hint::black_box;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use runloop::{Mode, RunLoop, RunLoopHandle, RunResult, Timer};

/// How far ahead each measured timer is scheduled, so the loop really sleeps before it.
const TIMER_LEAD: Duration = Duration::from_micros(300);
/// Pause before each wake-up sample, so the receiving thread is blocked when it is woken.
const SETTLE: Duration = Duration::from_micros(200);

/// One timer sample: schedules a timer `TIMER_LEAD` ahead and returns how late its callback ran.
fn timer_lateness(run_loop: &RunLoop) -> Duration {
    let fired_at = std::rc::Rc::new(std::cell::Cell::new(None));
    let record = fired_at.clone();
    let timer = Timer::once(TIMER_LEAD, move |_| record.set(Some(Instant::now())));
    let due = timer.next_fire();
    run_loop.add_timer(&timer, &Mode::DEFAULT);
    let result = run_loop.run_in_mode(&Mode::DEFAULT, Duration::from_secs(10), false);
    assert_eq!(result, RunResult::Finished);
    fired_at.get().expect("timer fired") - due
}

/// A thread running its loop, woken by closures performed on it; each closure sends the instant
/// it started running.
struct LoopThread {
    handle: RunLoopHandle,
    stamps: mpsc::Receiver<Instant>,
    stamp_tx: mpsc::Sender<Instant>,
    thread: Option<thread::JoinHandle<()>>,
}

impl LoopThread {
    fn start() -> LoopThread {
        let (handle_tx, handle_rx) = mpsc::channel();
        let thread = thread::spawn(move || {
            let run_loop = RunLoop::current();
            run_loop.add_timer(
                &Timer::once(Duration::from_secs(24 * 3600), |_| {}),
                &Mode::DEFAULT,
            );
            handle_tx.send(run_loop.handle()).unwrap();
            run_loop.run();
        });
        let (stamp_tx, stamps) = mpsc::channel();
        LoopThread {
            handle: handle_rx.recv().unwrap(),
            stamps,
            stamp_tx,
            thread: Some(thread),
        }
    }

    /// Time from `perform` to the closure starting on the (sleeping) loop thread.
    fn wake_latency(&self) -> Duration {
        thread::sleep(SETTLE);
        while !self.handle.is_waiting() {
            thread::yield_now();
        }
        let tx = self.stamp_tx.clone();
        let sent = Instant::now();
        self.handle
            .perform(&Mode::DEFAULT, move || tx.send(Instant::now()).unwrap())
            .unwrap();
        self.stamps.recv().unwrap() - sent
    }
}

impl Drop for LoopThread {
    fn drop(&mut self) {
        self.handle
            .perform(&Mode::DEFAULT, || RunLoop::current().stop())
            .unwrap();
        self.thread.take().unwrap().join().unwrap();
    }
}

/// A thread blocked on a channel; it answers each message with the instant it received it.
struct ChannelThread {
    requests: Option<mpsc::Sender<()>>,
    stamps: mpsc::Receiver<Instant>,
    thread: Option<thread::JoinHandle<()>>,
}

impl ChannelThread {
    fn start() -> ChannelThread {
        let (requests, request_rx) = mpsc::channel::<()>();
        let (stamp_tx, stamps) = mpsc::channel();
        let thread = thread::spawn(move || {
            while request_rx.recv().is_ok() {
                stamp_tx.send(Instant::now()).unwrap();
            }
        });
        ChannelThread {
            requests: Some(requests),
            stamps,
            thread: Some(thread),
        }
    }

    /// Time from `send` to the blocked thread returning from `recv`.
    fn wake_latency(&self) -> Duration {
        thread::sleep(SETTLE);
        let sent = Instant::now();
        self.requests.as_ref().unwrap().send(()).unwrap();
        self.stamps.recv().unwrap() - sent
    }
}

impl Drop for ChannelThread {
    fn drop(&mut self) {
        drop(self.requests.take());
        self.thread.take().unwrap().join().unwrap();
    }
}

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

/// Share of one core an idle loop uses while it sleeps for a second.
#[cfg(target_os = "linux")]
fn print_idle_cpu(run_loop: &RunLoop) {
    let timer = Timer::once(Duration::from_secs(3600), |_| {});
    run_loop.add_timer(&timer, &Mode::DEFAULT);
    let cpu_before = thread_cpu_time();
    let started = Instant::now();
    run_loop.run_in_mode(&Mode::DEFAULT, Duration::from_secs(1), false);
    let (cpu, wall) = (thread_cpu_time() - cpu_before, started.elapsed());
    timer.invalidate();
    println!(
        "  idle loop for {wall:.2?}: {cpu:?} of CPU ({:.3}% of a core)",
        100.0 * cpu.as_secs_f64() / wall.as_secs_f64()
    );
}

struct Summary {
    median: Duration,
    p99: Duration,
}

fn summarize(mut samples: Vec<Duration>) -> Summary {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    Summary {
        median: at(0.5),
        p99: at(0.99),
    }
}

fn print_latency_report() {
    const SAMPLES: usize = 1000;
    let run_loop = RunLoop::current();
    let timer = summarize((0..SAMPLES).map(|_| timer_lateness(&run_loop)).collect());
    let loop_thread = LoopThread::start();
    let channel_thread = ChannelThread::start();
    // Interleave the two wake-ups so machine noise hits both alike.
    let (mut loop_samples, mut channel_samples) = (Vec::new(), Vec::new());
    for _ in 0..SAMPLES {
        loop_samples.push(loop_thread.wake_latency());
        channel_samples.push(channel_thread.wake_latency());
    }
    let wake = summarize(loop_samples);
    let channel = summarize(channel_samples);
    println!("latency report ({SAMPLES} samples each)");
    println!(
        "  timer dispatch (lateness after fire date): median {:>9.1?}  p99 {:>9.1?}",
        timer.median, timer.p99
    );
    println!(
        "  run-loop cross-thread wake-up (perform):   median {:>9.1?}  p99 {:>9.1?}",
        wake.median, wake.p99
    );
    println!(
        "  mpsc channel cross-thread wake-up:         median {:>9.1?}  p99 {:>9.1?}",
        channel.median, channel.p99
    );
    println!(
        "  run-loop / mpsc ratio: median {:.2}x  p99 {:.2}x",
        wake.median.as_secs_f64() / channel.median.as_secs_f64(),
        wake.p99.as_secs_f64() / channel.p99.as_secs_f64()
    );
    #[cfg(target_os = "linux")]
    print_idle_cpu(&run_loop);
}

fn bench_timer_dispatch(c: &mut Criterion) {
    let run_loop = RunLoop::current();
    c.bench_function("timer dispatch lateness", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| timer_lateness(&run_loop)).sum())
    });
    // The pass itself, without sleeping: a due timer fired by a zero-timeout run.
    c.bench_function("due timer pass (no sleep)", |b| {
        b.iter(|| {
            run_loop.add_timer(&Timer::once(Duration::ZERO, |_| {}), &Mode::DEFAULT);
            black_box(run_loop.run_in_mode(&Mode::DEFAULT, Duration::ZERO, false))
        })
    });
}

fn bench_wake_up(c: &mut Criterion) {
    let mut group = c.benchmark_group("cross-thread wake-up");
    let loop_thread = LoopThread::start();
    group.bench_function("run loop perform", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| loop_thread.wake_latency()).sum())
    });
    drop(loop_thread);
    let channel_thread = ChannelThread::start();
    group.bench_function("mpsc channel", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| channel_thread.wake_latency()).sum())
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    targets = bench_timer_dispatch, bench_wake_up
}

fn main() {
    // `cargo test --benches` passes no `--bench`: run the report only when benchmarking.
    if std::env::args().any(|arg| arg == "--bench") {
        print_latency_report();
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
