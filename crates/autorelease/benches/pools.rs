//! Criterion benchmarks of the autorelease runtime against the Rust floor (issue 2, W1 W2 W4 W5).
//!
//! `cargo bench -p autorelease --bench pools`. `benches/run.sh` at the workspace root runs this
//! next to the GNUstep and C-ABI peers and prints one table from criterion's medians
//! (`<criterion home>/<group>/<function>/new/estimates.json`).
//!
//! - W1: autorelease 1,000,000 fresh objects in one pool, then pop. Floors: `Vec<Box<T>>` filled
//!   then dropped, the same emptied newest first (a pool's order), and `Rc<T>` dropped as soon
//!   as it is made.
//! - W2: push + pop an empty pool: on a thread that has never autoreleased (objc4's placeholder
//!   path, no page), on a thread that has (its first page is kept, empty), and nested inside an
//!   outer pool that holds an object.
//! - W4: 1,000 nested pools of 10 objects each, then one pop of the outermost token. Floor: a
//!   `Vec<Box<T>>` with a `Vec` of marks, emptied newest first.
//! - W5: two threads doing W1 at once; the reported time is the mean of the two threads' own
//!   times, i.e. the per-thread cost, to compare with one thread started and timed the same way
//!   (and with W1, which runs while the process is still single-threaded). Measured in wall
//!   time, and in thread CPU time (on a 2-core machine shared with other work, wall time also
//!   measures how long the threads wait for a core).
//!
//! After timing, the W4 shape is run once with objects that record their drop order, and the
//! bench prints `RESULT W4 ours lifo strict` (or `broken`) for the script.

use std::cell::RefCell;
use std::hint::black_box;
use std::rc::Rc;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use autorelease::{autoreleasepool, pop, push, stats, Obj};
use criterion::{Criterion, SamplingMode};

/// Objects in W1 and W5.
const W1_OBJECTS: u64 = 1_000_000;
/// Pools in W4, and objects per pool.
const W4_POOLS: usize = 1_000;
const W4_PER_POOL: usize = 10;

/// The object payload: one word, like an `NSObject` subclass with one ivar.
struct Payload(#[allow(dead_code)] u64);

/// W1 with the safe API: a closure-scoped pool, each object autoreleased with its marker.
fn w1_ours(n: u64) {
    autoreleasepool(|pool| {
        for i in 0..n {
            black_box(Obj::new(Payload(i)).autorelease(pool));
        }
    });
}

/// W1 with the raw API the C ABI uses: `push`, `autorelease_to_innermost`, `pop`.
fn w1_ours_raw(n: u64) {
    let token = push();
    for i in 0..n {
        Obj::new(black_box(Payload(i))).autorelease_to_innermost();
    }
    // SAFETY: no borrow of the pool's objects exists.
    unsafe { pop(token) };
}

/// W1 floor: the same objects in a `Vec<Box<T>>`, dropped together.
fn w1_vec_box(n: u64) {
    let objects: Vec<Box<Payload>> = (0..n).map(|i| Box::new(Payload(i))).collect();
    drop(black_box(objects));
}

/// W1 floor emptied newest first, as a pool releases: separates the cost of the release order
/// (glibc's malloc is sensitive to it) from the cost of the pool.
fn w1_vec_box_lifo(n: u64) {
    let mut objects: Vec<Box<Payload>> = (0..n).map(|i| Box::new(Payload(i))).collect();
    while let Some(object) = objects.pop() {
        drop(black_box(object));
    }
}

/// W1 floor without deferral: each `Rc<T>` dropped as soon as it is made.
fn w1_rc(n: u64) {
    for i in 0..n {
        drop(black_box(Rc::new(Payload(i))));
    }
}

/// W4: 1,000 nested raw pools of 10 objects, one pop of the outermost token (which drains the
/// inner pools too, objc4's semantics).
fn w4_ours<T: 'static>(make: impl Fn(usize) -> T) {
    let outer = push();
    let mut seq = 0;
    for _ in 0..W4_POOLS {
        // The inner tokens are never popped on their own: the outer pop drains them.
        let _inner = push();
        for _ in 0..W4_PER_POOL {
            Obj::new(make(seq)).autorelease_to_innermost();
            seq += 1;
        }
    }
    // SAFETY: no borrow of any of these pools' objects exists.
    unsafe { pop(outer) };
}

/// W4 floor: a `Vec<Box<T>>` of objects and a `Vec` of pool marks, emptied newest first.
fn w4_vec_marks() {
    let mut objects: Vec<Box<Payload>> = Vec::new();
    let mut marks: Vec<usize> = Vec::new();
    let mut seq = 0;
    for _ in 0..W4_POOLS {
        marks.push(objects.len());
        for _ in 0..W4_PER_POOL {
            objects.push(Box::new(Payload(seq)));
            seq += 1;
        }
    }
    // Pop the outermost mark: everything above it, newest first.
    let outermost = marks[0];
    while objects.len() > outermost {
        drop(black_box(objects.pop()));
    }
    marks.clear();
    black_box((objects, marks));
}

thread_local! {
    /// Drop order of `Tracked` objects, for the LIFO check.
    static DROPPED: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// An object that records when it is dropped.
struct Tracked(usize);

impl Drop for Tracked {
    fn drop(&mut self) {
        DROPPED.with(|d| d.borrow_mut().push(self.0));
    }
}

/// Runs the W4 shape once and checks that the objects were released strictly newest first.
fn check_w4_lifo() -> bool {
    DROPPED.with(|d| d.borrow_mut().clear());
    w4_ours(Tracked);
    let order = DROPPED.with(|d| std::mem::take(&mut *d.borrow_mut()));
    let total = W4_POOLS * W4_PER_POOL;
    order.len() == total && order.iter().rev().copied().eq(0..total) && stats().depth == 0
}

/// How a W5 thread times itself.
#[derive(Clone, Copy)]
enum Clock {
    /// Wall-clock time: includes time the thread waits for a core.
    Wall,
    /// The thread's own CPU time: on a machine shared with other work, the cost of the workload
    /// without the time spent descheduled.
    ThreadCpu,
}

impl Clock {
    fn now(self) -> Duration {
        match self {
            Clock::Wall => START.elapsed(),
            Clock::ThreadCpu => {
                let mut ts = libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                };
                // SAFETY: a valid clock id and out-pointer.
                let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
                assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
                Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
            }
        }
    }
}

/// The origin of `Clock::Wall`.
static START: std::sync::LazyLock<Instant> = std::sync::LazyLock::new(Instant::now);

/// Runs `work` on `threads` threads at once, `iters` times each, starting together each time, and
/// returns the mean of the threads' total times (the per-thread cost).
fn on_threads(threads: usize, iters: u64, clock: Clock, work: fn()) -> Duration {
    let start = Barrier::new(threads);
    let times: Vec<Duration> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        start.wait();
                        let t = clock.now();
                        work();
                        total += clock.now() - t;
                    }
                    total
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|t| t.join().expect("W5 thread panicked"))
            .collect()
    });
    times.iter().sum::<Duration>() / threads as u32
}

fn bench_w1(c: &mut Criterion) {
    let mut g = c.benchmark_group("w1");
    // One iteration is tens of milliseconds: flat sampling, the minimum sample count.
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4));
    g.bench_function("ours", |b| b.iter(|| w1_ours(W1_OBJECTS)));
    g.bench_function("ours_raw", |b| b.iter(|| w1_ours_raw(W1_OBJECTS)));
    g.bench_function("vec_box", |b| b.iter(|| w1_vec_box(W1_OBJECTS)));
    g.bench_function("vec_box_lifo", |b| b.iter(|| w1_vec_box_lifo(W1_OBJECTS)));
    g.bench_function("rc", |b| b.iter(|| w1_rc(W1_OBJECTS)));
    g.finish();
}

/// W2. Runs first in `main`: until a thread's first autorelease, an empty push/pop is objc4's
/// placeholder path (no page). Once a page exists it is kept (empty) after the last pop, as objc4
/// keeps its cold page, so later pairs take the page path; both are measured.
fn bench_w2(c: &mut Criterion) {
    let mut g = c.benchmark_group("w2");
    g.sample_size(50)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    assert_eq!(
        stats().pages,
        0,
        "the W2 placeholder benches must run before anything autoreleases on this thread"
    );
    g.bench_function("ours", |b| {
        b.iter(|| autoreleasepool(|pool| black_box(pool).depth()))
    });
    g.bench_function("ours_raw", |b| {
        // SAFETY: the pool is empty, nothing borrows from it.
        b.iter(|| unsafe { pop(black_box(push())) })
    });
    assert_eq!(stats().pages, 0, "the placeholder path allocated a page");

    // Give the thread its (kept, empty) first page, as any thread that has used a pool has.
    autoreleasepool(|pool| {
        Obj::new(Payload(0)).autorelease(pool);
    });
    assert_eq!(stats().depth, 0);
    g.bench_function("ours_page", |b| {
        b.iter(|| autoreleasepool(|pool| black_box(pool).depth()))
    });
    g.bench_function("ours_raw_page", |b| {
        // SAFETY: the pool is empty, nothing borrows from it.
        b.iter(|| unsafe { pop(black_box(push())) })
    });

    // Nested inside an outer pool that holds an object.
    let outer = push();
    Obj::new(Payload(0)).autorelease_to_innermost();
    g.bench_function("ours_raw_nested", |b| {
        // SAFETY: the pool is empty, nothing borrows from it.
        b.iter(|| unsafe { pop(black_box(push())) })
    });
    // SAFETY: no borrow of the outer pool's object exists.
    unsafe { pop(outer) };
    g.finish();
}

fn bench_w4(c: &mut Criterion) {
    let mut g = c.benchmark_group("w4");
    g.sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    g.bench_function("ours", |b| b.iter(|| w4_ours(|i| Payload(i as u64))));
    g.bench_function("vec_marks", |b| b.iter(w4_vec_marks));
    g.finish();
}

fn bench_w5(c: &mut Criterion) {
    let mut g = c.benchmark_group("w5");
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    g.bench_function("ours_per_thread", |b| {
        b.iter_custom(|iters| on_threads(2, iters, Clock::Wall, || w1_ours(W1_OBJECTS)))
    });
    g.bench_function("vec_box_per_thread", |b| {
        b.iter_custom(|iters| on_threads(2, iters, Clock::Wall, || w1_vec_box(W1_OBJECTS)))
    });
    // The single-thread baseline for the two above: one thread started the same way. W1 itself
    // runs on the main thread before any other thread exists, when glibc's malloc skips its
    // locks and atomics; once a process has had a second thread, every thread (the main one too)
    // pays for them, so W1 is not the single-thread cost of a multi-threaded process.
    g.bench_function("ours_single", |b| {
        b.iter_custom(|iters| on_threads(1, iters, Clock::Wall, || w1_ours(W1_OBJECTS)))
    });
    g.bench_function("vec_box_single", |b| {
        b.iter_custom(|iters| on_threads(1, iters, Clock::Wall, || w1_vec_box(W1_OBJECTS)))
    });
    // The same per-thread cost in thread CPU time, against one thread timed the same way.
    g.bench_function("ours_per_thread_cpu", |b| {
        b.iter_custom(|iters| on_threads(2, iters, Clock::ThreadCpu, || w1_ours(W1_OBJECTS)))
    });
    g.bench_function("ours_single_cpu", |b| {
        b.iter_custom(|iters| on_threads(1, iters, Clock::ThreadCpu, || w1_ours(W1_OBJECTS)))
    });
    g.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    // W2 first: its placeholder variants need a thread that has never autoreleased.
    bench_w2(&mut c);
    bench_w1(&mut c);
    bench_w4(&mut c);
    bench_w5(&mut c);
    c.final_summary();
    let lifo = check_w4_lifo();
    println!(
        "RESULT W4 ours lifo {}",
        if lifo { "strict" } else { "broken" }
    );
}
