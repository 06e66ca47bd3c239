//! Render+capture throughput of the demo scene: PBO ring vs synchronous `glReadPixels`.
//!
//! `cargo bench -p glcapture --bench capture_throughput` prints one table. Every mode
//! renders the same frames; the sink copies each frame into a reused buffer (what a
//! recorder writing a cache does at minimum). Modes are interleaved over several rounds
//! and the median round is reported, which keeps a noisy shared machine from favouring
//! whichever mode ran first.
//!
//! Environment: `GLCAPTURE_BENCH_FRAMES` (default 240), `GLCAPTURE_BENCH_ROUNDS`
//! (default 3), `GLCAPTURE_BENCH_SIZE` (default `1280x720`).

use std::time::Duration;

use std::time::Instant;

use glcapture::glow::HasContext;
use glcapture::{
    record_demo, CaptureMode, DemoScene, DemoStats, GlError, HeadlessContext, OffscreenFramebuffer,
};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} is not a valid value")),
        Err(_) => default,
    }
}

fn parse_size(s: &str) -> (u32, u32) {
    s.split_once('x')
        .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))
        .unwrap_or_else(|| panic!("GLCAPTURE_BENCH_SIZE={s:?}: expected WIDTHxHEIGHT"))
}

fn run(mode: CaptureMode, frames: u64, width: u32, height: u32) -> Result<DemoStats, GlError> {
    let mut cache_frame = vec![0u8; (width * height * 4) as usize];
    let mut checksum = 0u64;
    let mut sink = |_: u64, rgba: &[u8]| -> Result<(), std::io::Error> {
        cache_frame.copy_from_slice(rgba);
        checksum = checksum.wrapping_add(u64::from(cache_frame[cache_frame.len() / 2]));
        Ok(())
    };
    let stats = record_demo(frames, width, height, mode, &mut sink)?;
    std::hint::black_box(checksum);
    Ok(stats)
}

/// Baseline without capture: draw each frame and wait for it with glFinish.
/// Returns (wall time, time blocked in glFinish).
fn render_only(frames: u64, width: u32, height: u32) -> (Duration, Duration) {
    let context = HeadlessContext::new().expect("context");
    let gl = context.gl();
    let target = OffscreenFramebuffer::new(gl, width, height).expect("framebuffer");
    let scene = DemoScene::new(gl, context.api()).expect("scene");
    target.bind(gl);
    let mut finish = Duration::ZERO;
    let started = Instant::now();
    for frame in 0..frames {
        scene.draw(gl, frame, width, height).expect("draw");
        let waiting = Instant::now();
        // SAFETY: the context is current on this thread.
        unsafe { gl.finish() };
        finish += waiting.elapsed();
    }
    let elapsed = started.elapsed();
    scene.delete(gl);
    target.delete(gl);
    (elapsed, finish)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let frames: u64 = env_or("GLCAPTURE_BENCH_FRAMES", 240);
    let rounds: usize = env_or("GLCAPTURE_BENCH_ROUNDS", 3);
    let (width, height) = parse_size(&env_or("GLCAPTURE_BENCH_SIZE", "1280x720".to_string()));
    let modes = [
        CaptureMode::Synchronous,
        CaptureMode::PboRing { depth: 2 },
        CaptureMode::PboRing { depth: 3 },
    ];

    // Warm-up (driver JIT of shaders, page faults of fresh buffers); also the GL probe.
    match run(CaptureMode::RING_OF_TWO, 10, width, height) {
        Ok(stats) => println!(
            "renderer: {} ({}), {}x{}, {} frames x {} rounds per mode, LP_NUM_THREADS={}",
            stats.context.renderer,
            stats.context.version,
            width,
            height,
            frames,
            rounds,
            std::env::var("LP_NUM_THREADS").unwrap_or_else(|_| "unset".into())
        ),
        Err(e) if e.is_unavailable() => {
            println!("capture_throughput skipped: {e}");
            return;
        }
        Err(e) => panic!("{e}"),
    }

    let mut results: Vec<Vec<DemoStats>> = vec![Vec::new(); modes.len()];
    let mut baseline = Vec::new();
    for _ in 0..rounds {
        baseline.push(render_only(frames, width, height));
        for (i, &mode) in modes.iter().enumerate() {
            results[i]
                .push(run(mode, frames, width, height).unwrap_or_else(|e| panic!("{mode}: {e}")));
        }
    }

    println!();
    println!(
        "| mode | frames/s | ms/frame | blocked ms/frame | of which readback | fence wait | map+sink | draw issue ms/frame |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut spread = Vec::new();
    baseline.sort();
    let (elapsed, finish) = baseline[baseline.len() / 2];
    let n = frames as f64;
    println!(
        "| no capture (glFinish) | {:.1} | {:.2} | {:.2} | — | — | — | — |",
        n / elapsed.as_secs_f64(),
        ms(elapsed) / n,
        ms(finish) / n,
    );
    for (mode, mut runs) in modes.iter().zip(results) {
        let fps: Vec<String> = runs
            .iter()
            .map(|r| format!("{:.1}", r.frames_per_second()))
            .collect();
        spread.push(format!("{mode}: {}", fps.join(", ")));
        runs.sort_by_key(|r| r.elapsed);
        let median = &runs[runs.len() / 2];
        let n = median.capture.frames as f64;
        let per = |d: Duration| ms(d) / n;
        println!(
            "| {} | {:.1} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            mode,
            median.frames_per_second(),
            per(median.elapsed),
            per(median.capture.blocked()),
            per(median.capture.readback),
            per(median.capture.fence_wait),
            per(median.capture.delivery),
            per(median.render),
        );
    }
    println!();
    println!("frames/s of every round (median reported above):");
    for line in spread {
        println!("  {line}");
    }
}
