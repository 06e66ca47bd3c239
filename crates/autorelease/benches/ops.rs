//! One pool operation repeated N times, for instruction-level profiles of the runtime.
//!
//! `cargo bench -p autorelease --bench ops -- OP N REPS` runs a loop of N operations REPS times
//! and exits. `benches/profile.sh` runs it under `valgrind --tool=callgrind` with REPS = 2 and 3:
//! the difference is one more loop in the steady state a benchmark loop reaches (the heap and
//! the pool pages already used once), and divided by N it is the cost of one operation in
//! instructions, free of the machine's noise. Without `--bench` (as under `cargo test --benches`)
//! every OP runs a few times as a smoke test.
//!
//! OPs: `w1` (create + autorelease into one pool, then pop: per object), `w1_vec_box` (the floor,
//! per object), `w2_placeholder` (push + pop with no page on the thread: per pair), `w2_scope`
//! (the same through `autoreleasepool`), `w2_page`
//! (push + pop once the thread has its first page), `w4` (1,000 nested pools x 10 objects and one
//! pop: per object).

use std::hint::black_box;

use autorelease::{autoreleasepool, pop, push, Obj};

/// The object payload, as in the `pools` bench.
struct Payload(#[allow(dead_code)] u64);

const OPS: [&str; 6] = [
    "w1",
    "w1_vec_box",
    "w2_placeholder",
    "w2_scope",
    "w2_page",
    "w4",
];

fn run_once(op: &str, n: u64) {
    match op {
        "w1" => autoreleasepool(|pool| {
            for i in 0..n {
                black_box(Obj::new(Payload(i)).autorelease(pool));
            }
        }),
        "w1_vec_box" => {
            let objects: Vec<Box<Payload>> = (0..n).map(|i| Box::new(Payload(i))).collect();
            drop(black_box(objects));
        }
        "w2_placeholder" => {
            for _ in 0..n {
                // SAFETY: the pool is empty, nothing borrows from it.
                unsafe { pop(black_box(push())) }
            }
        }
        "w2_scope" => {
            for _ in 0..n {
                autoreleasepool(|pool| black_box(pool).depth());
            }
        }
        "w2_page" => {
            // Give the thread its first page (kept, empty, after the pop).
            autoreleasepool(|pool| {
                Obj::new(Payload(0)).autorelease(pool);
            });
            for _ in 0..n {
                // SAFETY: the pool is empty, nothing borrows from it.
                unsafe { pop(black_box(push())) }
            }
        }
        "w4" => {
            let outer = push();
            for i in 0..n {
                if i % 10 == 0 {
                    // Popped by the outer pop.
                    let _inner = push();
                }
                Obj::new(Payload(i)).autorelease_to_innermost();
            }
            // SAFETY: no borrow of these pools' objects exists.
            unsafe { pop(outer) };
        }
        other => panic!("unknown op {other:?}; expected one of {OPS:?}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if !std::env::args().any(|a| a == "--bench") {
        for op in OPS {
            run_once(op, 1000);
        }
        println!("ops: smoke test passed");
        return;
    }
    let [op, n, reps] = &args[..] else {
        panic!("usage: ops OP N REPS (OP one of {OPS:?})");
    };
    let n = n.parse().expect("N must be a number");
    for _ in 0..reps.parse::<u32>().expect("REPS must be a number") {
        run_once(op, n);
    }
}
