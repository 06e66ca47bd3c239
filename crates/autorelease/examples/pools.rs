//! Pools at work: the classic `pool--start / dealloc / pool--end` demo, then the frame-export
//! loop (2,000 frames, 50 temporaries of 64 KiB each) with one outer pool versus a pool per frame.
//!
//! Run with `cargo run --release -p autorelease --example pools`.

use std::process::Command;

use autorelease::{autoreleasepool, stats, Obj};

/// An object that says when it is deallocated.
struct Named(&'static str);

impl Drop for Named {
    fn drop(&mut self) {
        println!("    dealloc {}", self.0);
    }
}

fn classic_demo() {
    println!("pool--start");
    autoreleasepool(|pool| {
        let first = Obj::new(Named("first")).autorelease(pool);
        let second = Obj::new(Named("second")).autorelease(pool);
        println!("    using {} and {}", first.0, second.0);
        autoreleasepool(|inner| {
            let temp = Obj::new(Named("inner temporary")).autorelease(inner);
            println!("    inner pool uses {}", temp.0);
        });
        println!("    inner pool popped; {} objects pending", stats().pending);
    });
    println!("pool--end");
}

const FRAMES: usize = 2_000;
const TEMPORARIES: usize = 50;
const BUFFER: usize = 64 * 1024;

/// One frame's work: temporaries that are autoreleased, as Cocoa APIs return them.
fn export_frame(pool: autorelease::AutoreleasePool<'_>, frame: usize) -> u64 {
    (0..TEMPORARIES)
        .map(|t| {
            let buffer = Obj::new(vec![(frame + t) as u8; BUFFER]).autorelease(pool);
            u64::from(buffer[BUFFER - 1])
        })
        .sum()
}

/// Runs the loop in this process and prints its peak memory (run in a child, so each variant's
/// peak is its own).
fn frame_loop(pool_per_frame: bool) {
    let checksum: u64 = autoreleasepool(|outer| {
        (0..FRAMES)
            .map(|frame| {
                if pool_per_frame {
                    autoreleasepool(|pool| export_frame(pool, frame))
                } else {
                    export_frame(outer, frame)
                }
            })
            .sum()
    });
    let s = stats();
    println!(
        "{:<22} {:>8} frames  pending high-water {:>7} objects ({:>7.1} MiB held)  peak RSS {:>7.1} MiB  checksum {checksum}",
        if pool_per_frame { "pool per frame:" } else { "one outer pool:" },
        FRAMES,
        s.high_water_pending,
        (s.high_water_pending * BUFFER) as f64 / (1 << 20) as f64,
        peak_rss_kib() as f64 / 1024.0,
    );
}

/// Peak resident set size of this process (VmHWM), in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("--frame-loop=outer") => return frame_loop(false),
        Some("--frame-loop=per-frame") => return frame_loop(true),
        _ => {}
    }
    classic_demo();
    println!();
    println!(
        "frame-export loop: {FRAMES} frames x {TEMPORARIES} temporaries of {} KiB",
        BUFFER / 1024
    );
    let exe = std::env::current_exe().expect("own executable");
    for variant in ["--frame-loop=outer", "--frame-loop=per-frame"] {
        let status = Command::new(&exe)
            .arg(variant)
            .status()
            .expect("run the frame loop");
        assert!(status.success(), "{variant} failed");
    }
    println!(
        "(the outer pool holds every frame's temporaries until the loop ends: the classic bug)"
    );
}
