//! W3, the frame-export loop (issue 2): time, peak resident memory and minor page faults.
//!
//! Each iteration makes 50 objects that each own a 64 KiB buffer filled with bytes (a frame
//! being exported), and hands them to a pool:
//!
//! - `pool_per_iter`: an inner `autoreleasepool` per iteration, inside an outer one;
//! - `outer_pool`: only the outer pool, so every frame lives until the loop ends (the classic
//!   "memory grows until the thread ends" bug);
//! - `floor`: no pool, the buffers in a `Vec` dropped at the end of each iteration.
//!
//! Criterion cannot measure peak memory per variant, so this is a plain bench binary
//! (`harness = false`): it re-runs itself as a child process per measurement
//! (`--child VARIANT ITERATIONS`), so each peak RSS (`getrusage` `ru_maxrss`) is that variant's
//! own; the child also reports the loop's wall time and minor page faults.
//!
//! `cargo bench -p autorelease --bench frame_export` runs every variant at 200 and 2,000
//! iterations, `AUTORELEASE_BENCH_W3_REPS` times each (default 5; 3 for the slow outer-pool
//! variant at 2,000 iterations), interleaved, and prints the median, minimum and maximum of
//! each metric as `RESULT W3 <variant> <iterations> <metric>[_min|_max] <value>` lines for
//! `benches/run.sh`. Without `--bench` (as under `cargo test --benches`) it only runs a
//! 2-iteration smoke test.
//!
//! Each repetition runs its child under an `argv[0]` of a different length. That is on purpose:
//! whether glibc trims the top of the heap after each iteration (and the next iteration faults
//! the pages back in) depends on the heap's exact layout, which the first few allocations of
//! the process (`std::env::args` copies `argv[0]`) shift by a few bytes. The same binary takes
//! 7,000 or 154,000 minor faults for 200 iterations depending on the length of its path, so a
//! single layout would report either as "the" result.

use std::hint::black_box;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Instant;

use autorelease::{autoreleasepool, stats, Obj};

const FRAMES_PER_ITER: usize = 50;
const FRAME_BYTES: usize = 64 * 1024;
const VARIANTS: [&str; 3] = ["pool_per_iter", "outer_pool", "floor"];

/// One frame: a buffer with every byte written, as an encoder would leave it.
fn frame(iter: usize, k: usize) -> Vec<u8> {
    // Non-zero, so the allocation is really written (a zeroed `vec!` may skip touching pages).
    vec![((iter + k) as u8) | 1; FRAME_BYTES]
}

fn run_pool_per_iter(iters: usize) {
    autoreleasepool(|_outer| {
        for i in 0..iters {
            autoreleasepool(|pool| {
                for k in 0..FRAMES_PER_ITER {
                    let f = Obj::new(frame(i, k)).autorelease(pool);
                    black_box(f[k]);
                }
            });
        }
    });
}

fn run_outer_pool(iters: usize) {
    autoreleasepool(|pool| {
        for i in 0..iters {
            for k in 0..FRAMES_PER_ITER {
                let f = Obj::new(frame(i, k)).autorelease(pool);
                black_box(f[k]);
            }
        }
    });
}

fn run_floor(iters: usize) {
    for i in 0..iters {
        let frames: Vec<Vec<u8>> = (0..FRAMES_PER_ITER).map(|k| frame(i, k)).collect();
        black_box(&frames);
    }
}

/// `(peak RSS in KiB, minor page faults so far)` of this process.
fn rusage() -> (i64, i64) {
    // SAFETY: `rusage` is plain data, valid when zeroed; getrusage only writes into it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid out-pointer.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(rc, 0, "getrusage failed");
    (usage.ru_maxrss, usage.ru_minflt)
}

/// The child: runs one variant once and prints its numbers on one line.
fn child(variant: &str, iters: usize) {
    let (_, faults_before) = rusage();
    let start = Instant::now();
    match variant {
        "pool_per_iter" => run_pool_per_iter(iters),
        "outer_pool" => run_outer_pool(iters),
        "floor" => run_floor(iters),
        other => panic!("unknown W3 variant {other:?}"),
    }
    let elapsed = start.elapsed();
    let (maxrss_kib, faults_after) = rusage();
    println!(
        "CHILD ms={:.3} maxrss_kib={} minflt={} high_water_pending={}",
        elapsed.as_secs_f64() * 1e3,
        maxrss_kib,
        faults_after - faults_before,
        stats().high_water_pending
    );
}

/// One child run's numbers, by name.
type Metrics = Vec<(String, f64)>;

/// Runs one variant in a child process whose `argv[0]` is `argv0_len` bytes long, and returns
/// its numbers.
fn measure(variant: &str, iters: usize, argv0_len: usize) -> Metrics {
    let exe = std::env::current_exe().expect("current_exe");
    let out = Command::new(exe)
        .arg0("w".repeat(argv0_len))
        .args(["--child", variant, &iters.to_string()])
        .output()
        .expect("spawning the W3 child");
    assert!(
        out.status.success(),
        "W3 child {variant} {iters} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("CHILD "))
        .expect("W3 child printed no result");
    line.split_whitespace()
        .skip(1)
        .map(|kv| {
            let (k, v) = kv.split_once('=').expect("key=value");
            (k.to_string(), v.parse().expect("number"))
        })
        .collect()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let variant = &args[i + 1];
        let iters = args[i + 2].parse().expect("iteration count");
        child(variant, iters);
        return;
    }
    if !args.iter().any(|a| a == "--bench") {
        // `cargo test --benches`: check every variant runs, measure nothing.
        for v in VARIANTS {
            measure(v, 2, 8);
        }
        println!("frame_export: smoke test passed");
        return;
    }
    let reps: usize = std::env::var("AUTORELEASE_BENCH_W3_REPS")
        .ok()
        .map(|s| s.parse().expect("AUTORELEASE_BENCH_W3_REPS"))
        .unwrap_or(5);
    let iteration_counts = [200, 2000];
    // samples[(variant, iters)] = every rep's numbers; reps are interleaved across variants so
    // a burst of load from other processes does not land on one variant only.
    let mut samples: Vec<((&str, usize), Vec<Metrics>)> = Vec::new();
    for v in VARIANTS {
        for n in iteration_counts {
            samples.push(((v, n), Vec::new()));
        }
    }
    for rep in 0..reps {
        // argv[0] lengths 8, 20, 32, ...: a spread of heap layouts (see the module docs).
        let argv0_len = 8 + 12 * rep;
        for ((v, n), runs) in &mut samples {
            // Keeping 6 GB for seconds tells nothing new after three runs.
            if *v == "outer_pool" && *n == 2000 && rep >= 3 {
                continue;
            }
            let r = measure(v, *n, argv0_len);
            eprintln!("W3 rep {rep} (argv[0] {argv0_len} bytes) {v} {n}: {r:?}");
            runs.push(r);
        }
    }
    for ((v, n), runs) in &samples {
        for key in ["ms", "maxrss_kib", "minflt", "high_water_pending"] {
            let values: Vec<f64> = runs
                .iter()
                .map(|r| r.iter().find(|(k, _)| k == key).expect("metric").1)
                .collect();
            let min = values.iter().copied().fold(f64::INFINITY, f64::min);
            let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            println!("RESULT W3 {v} {n} {key} {}", median(values));
            println!("RESULT W3 {v} {n} {key}_min {min}");
            println!("RESULT W3 {v} {n} {key}_max {max}");
        }
    }
}
