//! Known content rendered on a headless context comes out of every capture path
//! bottom-up and exact.

mod common;

use common::{clear, clear_rect, context_or_skip, pixel, RectPainter};
use glcapture::{ApiPreference, SurfaceKind, SurfacePreference};
use glcapture::{
    CaptureMode, CollectFrames, ContextOptions, FrameCapture, HeadlessContext, OffscreenFramebuffer,
};

const W: u32 = 64;
const H: u32 = 48;
const BACKGROUND: [u8; 4] = [10, 20, 30, 255];
const RED: [u8; 4] = [255, 0, 0, 255];
const QUAD: [u8; 4] = [0, 200, 100, 255];
/// Scissor-cleared red block at the bottom-left: x 0..8, y 0..4 (GL coordinates, y up).
const RED_BLOCK: (u32, u32, u32, u32) = (0, 0, 8, 4);
/// Shader-drawn quad in the upper half: x 16..32, y 24..40.
const QUAD_RECT: (u32, u32, u32, u32) = (16, 24, 32, 40);

fn inside((x0, y0, x1, y1): (u32, u32, u32, u32), x: u32, y: u32) -> bool {
    (x0..x1).contains(&x) && (y0..y1).contains(&y)
}

/// What pixel (x, y) (GL coordinates, y up) must be.
fn expected(x: u32, y: u32) -> [u8; 4] {
    if inside(QUAD_RECT, x, y) {
        QUAD
    } else if inside(RED_BLOCK, x, y) {
        RED
    } else {
        BACKGROUND
    }
}

/// Renders the known scene into an offscreen framebuffer and captures `frames` copies of
/// it with `mode`.
fn capture_known_scene(context: &HeadlessContext, mode: CaptureMode, frames: u64) -> CollectFrames {
    let gl = context.gl();
    let target = OffscreenFramebuffer::new(gl, W, H).unwrap();
    let painter = RectPainter::new(gl, context.api());
    let mut capture = FrameCapture::new(gl, W, H, mode).unwrap();
    let mut sink = CollectFrames::default();
    target.bind(gl);
    for _ in 0..frames {
        clear(gl, BACKGROUND);
        clear_rect(gl, RED_BLOCK.0, RED_BLOCK.1, RED_BLOCK.2, RED_BLOCK.3, RED);
        let (x0, y0, x1, y1) = QUAD_RECT;
        painter.fill(gl, (W, H), x0, y0, x1, y1, QUAD);
        capture.capture(gl, &mut sink).unwrap();
    }
    let stats = capture.finish(gl, &mut sink).unwrap();
    assert_eq!(stats.frames, frames);
    target.delete(gl);
    sink
}

fn assert_known_scene(frame: &[u8], what: &str) {
    assert_eq!(frame.len(), (W * H * 4) as usize, "{what}: frame size");
    // The first row of the buffer is the bottom of the image: it starts with the red block.
    assert_eq!(
        &frame[0..4],
        &RED,
        "{what}: first buffer row must be the image bottom (red block)"
    );
    let top_row = ((H - 1) * W * 4) as usize;
    assert_eq!(
        &frame[top_row..top_row + 4],
        &BACKGROUND,
        "{what}: last buffer row is the image top"
    );
    for y in 0..H {
        for x in 0..W {
            assert_eq!(
                pixel(frame, W, x, y),
                expected(x, y),
                "{what}: pixel x={x} y={y} (y up)"
            );
        }
    }
}

#[test]
fn every_capture_mode_returns_exact_bottom_up_pixels_of_clear_scissor_and_quad() {
    let Some(context) = context_or_skip("capture modes", ContextOptions::default()) else {
        return;
    };
    for mode in [
        CaptureMode::Synchronous,
        CaptureMode::RING_OF_TWO,
        CaptureMode::PboRing { depth: 3 },
    ] {
        let sink = capture_known_scene(&context, mode, 5);
        let indices: Vec<u64> = sink.frames.iter().map(|(i, _)| *i).collect();
        assert_eq!(indices, [0, 1, 2, 3, 4], "{mode}: frame indices");
        for (index, frame) in &sink.frames {
            assert_known_scene(frame, &format!("{mode} frame {index}"));
        }
    }
}

#[test]
fn opengl_es_context_captures_the_same_exact_pixels() {
    let options = ContextOptions {
        api: ApiPreference::OpenGlEs,
        ..Default::default()
    };
    let Some(context) = context_or_skip("GLES context", options) else {
        return;
    };
    assert_eq!(context.api(), glcapture::GlApi::OpenGlEs);
    assert!(
        context.info().version.contains("OpenGL ES"),
        "version string {:?}",
        context.info().version
    );
    for mode in [CaptureMode::Synchronous, CaptureMode::RING_OF_TWO] {
        let sink = capture_known_scene(&context, mode, 3);
        for (index, frame) in &sink.frames {
            assert_known_scene(frame, &format!("GLES {mode} frame {index}"));
        }
    }
}

#[test]
fn pbuffer_surface_fallback_context_captures_exact_pixels() {
    let options = ContextOptions {
        surface: SurfacePreference::Pbuffer,
        ..Default::default()
    };
    let Some(context) = context_or_skip("pbuffer context", options) else {
        return;
    };
    assert_eq!(context.info().surface, SurfaceKind::Pbuffer);
    let sink = capture_known_scene(&context, CaptureMode::RING_OF_TWO, 2);
    for (index, frame) in &sink.frames {
        assert_known_scene(frame, &format!("pbuffer frame {index}"));
    }
}

#[test]
fn default_context_is_core_profile_on_the_surfaceless_platform_without_surface() {
    let Some(context) = context_or_skip("default context", ContextOptions::default()) else {
        return;
    };
    let info = context.info();
    assert_eq!(info.api, glcapture::GlApi::OpenGlCore);
    assert_eq!(info.display, glcapture::DisplayKind::Surfaceless);
    assert_eq!(info.surface, SurfaceKind::None);
    assert!(!info.renderer.is_empty());
    eprintln!(
        "renderer: {} / {} / {}",
        info.vendor, info.renderer, info.version
    );
}
