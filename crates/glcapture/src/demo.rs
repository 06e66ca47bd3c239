//! One-call recording of the demo scene on a headless context.

use std::time::{Duration, Instant};

use crate::capture::{frame_byte_len, CaptureMode, CaptureStats, FrameCapture};
use crate::egl::{ContextInfo, HeadlessContext};
use crate::error::GlError;
use crate::framebuffer::OffscreenFramebuffer;
use crate::scene::DemoScene;
use crate::sink::FrameSink;

/// What a [`record_demo`] run did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoStats {
    /// Capture totals (frames delivered, time blocked in readback, fences, sink).
    pub capture: CaptureStats,
    /// The capture mode used ([`CaptureMode::Auto`] resolved).
    pub mode: CaptureMode,
    /// Time spent issuing the scene's draw calls (llvmpipe rasterises later, when the
    /// readback or a flush asks for the pixels).
    pub render: Duration,
    /// Wall time of the render-and-capture loop, including [`FrameCapture::finish`]
    /// (context creation and shader compilation excluded).
    pub elapsed: Duration,
    /// The context that rendered, e.g. to print the renderer.
    pub context: ContextInfo,
}

impl DemoStats {
    /// Frames delivered per second of [`DemoStats::elapsed`].
    pub fn frames_per_second(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.capture.frames as f64 / seconds
        } else {
            0.0
        }
    }
}

/// Creates a headless context, renders `frames` frames of the animated [`DemoScene`] at
/// `width`x`height` into an offscreen framebuffer, and hands each one to `sink` as
/// bottom-up RGBA (frame indices `0..frames`, in order), captured with `mode`.
///
/// The context is created for this call and destroyed before it returns, leaving no
/// EGL context current on the calling thread. The size is checked before EGL is touched. When the machine has no usable EGL the
/// error satisfies [`GlError::is_unavailable`] and names the packages to install.
///
/// ```
/// let mut frames = 0u64;
/// let mut sink = |_index: u64, rgba: &[u8]| -> Result<(), std::io::Error> {
///     assert_eq!(rgba.len(), 320 * 240 * 4);
///     frames += 1;
///     Ok(())
/// };
/// match glcapture::record_demo(10, 320, 240, glcapture::CaptureMode::RING_OF_TWO, &mut sink) {
///     Ok(stats) => println!("{} frames at {:.0} fps on {}", stats.capture.frames,
///                           stats.frames_per_second(), stats.context.renderer),
///     Err(e) if e.is_unavailable() => eprintln!("no GL here: {e}"),
///     Err(e) => panic!("{e}"),
/// }
/// ```
pub fn record_demo<S: FrameSink>(
    frames: u64,
    width: u32,
    height: u32,
    mode: CaptureMode,
    sink: &mut S,
) -> Result<DemoStats, GlError> {
    frame_byte_len(width, height)?;
    if let CaptureMode::PboRing { depth } = mode {
        if depth < 2 {
            return Err(GlError::InvalidRingDepth { depth });
        }
    }
    // On any error below, dropping `context` destroys the EGL context and with it every
    // GL object created here.
    let context = HeadlessContext::new()?;
    let gl = context.gl();
    let target = OffscreenFramebuffer::new(gl, width, height)?;
    let scene = DemoScene::new(gl, context.api())?;
    let mut capture = FrameCapture::new(gl, width, height, mode)?;
    target.bind(gl);

    let started = Instant::now();
    let mut render = Duration::ZERO;
    for frame in 0..frames {
        let render_started = Instant::now();
        scene.draw(gl, frame, width, height)?;
        render += render_started.elapsed();
        capture.capture(gl, sink)?;
    }
    let mode = capture.mode();
    let capture_stats = capture.finish(gl, sink)?;
    let elapsed = started.elapsed();

    scene.delete(gl);
    target.delete(gl);
    Ok(DemoStats {
        capture: capture_stats,
        mode,
        render,
        elapsed,
        context: context.info().clone(),
    })
}
