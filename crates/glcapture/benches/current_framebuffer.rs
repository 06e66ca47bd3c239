//! Reading a program's default framebuffer (`current_framebuffer`): the synchronous read
//! against a ring of pixel-buffer objects, what `reel_recorder_capture_gl` does per frame.
//!
//! `cargo bench -p glcapture --bench current_framebuffer` prints one table. The demo scene is
//! drawn straight into the default framebuffer of a pbuffer context (standing in for a program's
//! window) and every frame is captured and converted to RGBA into a reused buffer (what the
//! recorder does before writing the cache). Modes are interleaved over several rounds and the
//! median round is reported, so a noisy shared machine does not favour whichever ran first.
//!
//! Environment: `GLCAPTURE_BENCH_FRAMES` (default 240), `GLCAPTURE_BENCH_ROUNDS` (default 5),
//! `GLCAPTURE_BENCH_SIZE` (default `1280x720`), `GLCAPTURE_BENCH_API` (`core`: OpenGL 3.3 core,
//! `es`: OpenGL ES 3; default: core, else ES).

use std::time::{Duration, Instant};

use glcapture::current_framebuffer::{
    current_context, loaded_symbol, FramebufferReader, PboRing, ReadbackMode, WindowSystem,
};
use glcapture::glow::{self, HasContext};
use glcapture::{ApiPreference, ContextOptions, DemoScene, HeadlessContext, SurfacePreference};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} is not a valid value")),
        Err(_) => default,
    }
}

/// How a round captures: not at all (draw and `glFinish`), synchronously, or a ring of `n`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    None,
    Sync,
    Ring(usize),
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mode::None => f.write_str("no capture (glFinish)"),
            Mode::Sync => write!(f, "{}", ReadbackMode::Sync),
            Mode::Ring(depth) => write!(f, "{} of {depth}", ReadbackMode::PboRing),
        }
    }
}

/// One round: wall time, and time spent inside capture calls (or `glFinish`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Round {
    elapsed: Duration,
    blocked: Duration,
}

struct Bench<'a> {
    gl: &'a glow::Context,
    scene: DemoScene,
    reader: FramebufferReader,
    width: u32,
    height: u32,
    read: Vec<u8>,
    rgba: Vec<u8>,
}

impl Bench<'_> {
    fn round(&mut self, mode: Mode, frames: u64) -> Round {
        let (gl, w, h) = (self.gl, self.width, self.height);
        let order = self.reader.channel_order();
        let mut ring = match mode {
            // SAFETY: the reader's context is current on this thread.
            Mode::Ring(depth) => Some(unsafe { PboRing::new(&self.reader, w, h, depth) }.unwrap()),
            _ => None,
        };
        let rgba = &mut self.rgba;
        let mut deliver = |pixels: &[u8]| -> Result<(), std::io::Error> {
            order.copy_to_rgba(pixels, rgba);
            Ok(())
        };
        let mut blocked = Duration::ZERO;
        let started = Instant::now();
        for frame in 0..frames {
            self.scene.draw(gl, frame, w, h).expect("draw");
            let capture = Instant::now();
            match (&mut ring, mode) {
                // SAFETY: the context is current.
                (_, Mode::None) => unsafe { gl.finish() },
                (_, Mode::Sync) => {
                    // SAFETY: the reader's context is current; its surface is w x h.
                    unsafe { self.reader.read(w, h, &mut self.read) }.unwrap();
                    deliver(&self.read).unwrap();
                }
                // SAFETY: as above, and the ring is of this context.
                (Some(ring), _) => unsafe { ring.capture(&self.reader, &mut deliver) }.unwrap(),
                (None, _) => unreachable!(),
            }
            blocked += capture.elapsed();
        }
        if let Some(mut ring) = ring {
            let flush = Instant::now();
            // SAFETY: as above.
            unsafe { ring.flush(&self.reader, &mut deliver) }.unwrap();
            blocked += flush.elapsed();
            // SAFETY: as above.
            assert_eq!(unsafe { ring.delete(&self.reader) }, Ok(0));
        }
        Round {
            elapsed: started.elapsed(),
            blocked,
        }
    }
}

fn main() {
    let frames: u64 = env_or("GLCAPTURE_BENCH_FRAMES", 240);
    let rounds: usize = env_or("GLCAPTURE_BENCH_ROUNDS", 5);
    let size: String = env_or("GLCAPTURE_BENCH_SIZE", "1280x720".to_string());
    let (width, height) = size
        .split_once('x')
        .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))
        .unwrap_or_else(|| panic!("GLCAPTURE_BENCH_SIZE={size:?}: expected WIDTHxHEIGHT"));
    let api = match env_or("GLCAPTURE_BENCH_API", String::new()).as_str() {
        "" => ApiPreference::Auto,
        "core" => ApiPreference::OpenGlCore,
        "es" => ApiPreference::OpenGlEs,
        other => panic!("GLCAPTURE_BENCH_API={other:?}: expected `core` or `es`"),
    };
    let options = ContextOptions {
        surface: SurfacePreference::PbufferOfSize { width, height },
        api,
    };
    let context = match HeadlessContext::with_options(options) {
        Ok(context) => context,
        Err(e) if e.is_unavailable() => {
            println!("current_framebuffer bench skipped: {e}");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let gl = context.gl();
    let id = current_context(loaded_symbol).expect("the pbuffer context is current");
    let loader = WindowSystem::Egl.get_proc_address(loaded_symbol).unwrap();
    // SAFETY: `id` is current on this thread and `loader` is EGL's.
    let reader = unsafe { FramebufferReader::new(loader, id) }.unwrap();
    let info = context.info();
    println!(
        "renderer: {} ({}), {width}x{height} default framebuffer, {frames} frames x {rounds} \
         rounds per mode, auto picks: {}",
        info.renderer,
        info.version,
        ReadbackMode::Auto.resolve_for(&reader)
    );
    let bytes = width as usize * height as usize * 4;
    let mut bench = Bench {
        gl,
        scene: DemoScene::new(gl, context.api()).expect("scene"),
        reader,
        width,
        height,
        read: vec![0; bytes],
        rgba: vec![0; bytes],
    };
    // SAFETY: draw to the default framebuffer, as a program does.
    unsafe { gl.bind_framebuffer(glow::FRAMEBUFFER, None) };
    let modes = [Mode::None, Mode::Sync, Mode::Ring(2), Mode::Ring(3)];
    // Warm-up: shader compilation in the driver, first touches of the buffers.
    for mode in modes {
        bench.round(mode, 10);
    }
    let mut results = vec![Vec::new(); modes.len()];
    for _ in 0..rounds {
        for (i, &mode) in modes.iter().enumerate() {
            results[i].push(bench.round(mode, frames));
        }
    }
    let n = frames as f64;
    let fps = |r: &Round| n / r.elapsed.as_secs_f64();
    // Per round, each mode against the synchronous read of the same round (the machine's load
    // moves both alike); the median of those ratios.
    let paired: Vec<f64> = results
        .iter()
        .map(|runs| {
            let mut ratios: Vec<f64> = runs
                .iter()
                .zip(&results[1])
                .map(|(r, sync)| fps(r) / fps(sync))
                .collect();
            ratios.sort_by(f64::total_cmp);
            ratios[ratios.len() / 2]
        })
        .collect();
    println!();
    println!(
        "| mode | frames/s | ms/frame | blocked in capture ms/frame | frames/s vs sync, same round (median) |"
    );
    println!("|---|---|---|---|---|");
    for ((mode, runs), ratio) in modes.iter().zip(&results).zip(&paired) {
        let mut sorted = runs.clone();
        sorted.sort();
        let median = sorted[sorted.len() / 2];
        println!(
            "| {mode} | {:.1} | {:.2} | {:.2} | {ratio:.2} |",
            fps(&median),
            median.elapsed.as_secs_f64() * 1e3 / n,
            median.blocked.as_secs_f64() * 1e3 / n,
        );
    }
    println!();
    println!("frames/s of every round, in order:");
    for (mode, runs) in modes.iter().zip(&results) {
        let all: Vec<String> = runs.iter().map(|r| format!("{:.1}", fps(r))).collect();
        println!("  {mode}: {}", all.join(", "));
    }
    bench.scene.delete(gl);
}
