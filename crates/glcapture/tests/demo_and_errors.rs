//! The animated demo scene, the one-call recorder, and input/environment errors.

mod common;

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use common::context_or_skip;
use glcapture::{
    record_demo, CaptureMode, ContextOptions, FrameCapture, GlError, OffscreenFramebuffer,
};

fn hash(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

fn demo_hashes(mode: CaptureMode, frames: u64) -> Option<Vec<u64>> {
    context_or_skip("demo scene", ContextOptions::default())?;
    let mut hashes = Vec::new();
    let mut sink = |index: u64, rgba: &[u8]| -> Result<(), std::io::Error> {
        assert_eq!(index, hashes.len() as u64);
        assert_eq!(rgba.len(), 96 * 64 * 4);
        hashes.push(hash(rgba));
        Ok(())
    };
    let stats = record_demo(frames, 96, 64, mode, &mut sink).unwrap();
    assert_eq!(stats.capture.frames, frames);
    Some(hashes)
}

#[test]
fn demo_scene_changes_every_frame_and_renders_identically_in_every_capture_mode() {
    let Some(ring) = demo_hashes(CaptureMode::RING_OF_TWO, 40) else {
        return;
    };
    for (i, pair) in ring.windows(2).enumerate() {
        assert_ne!(
            pair[0],
            pair[1],
            "demo frames {i} and {} are identical",
            i + 1
        );
    }
    let sync = demo_hashes(CaptureMode::Synchronous, 40).unwrap();
    assert_eq!(
        ring, sync,
        "ring and synchronous capture must deliver the same bytes"
    );
}

#[test]
fn demo_scene_draws_shapes_over_the_background() {
    if context_or_skip("demo shapes", ContextOptions::default()).is_none() {
        return;
    }
    let mut colours = std::collections::HashSet::new();
    let mut sink = |_: u64, rgba: &[u8]| -> Result<(), std::io::Error> {
        colours.extend(rgba.chunks_exact(4).map(|p| [p[0], p[1], p[2], p[3]]));
        Ok(())
    };
    record_demo(1, 160, 120, CaptureMode::Synchronous, &mut sink).unwrap();
    // A flat clear would give one colour; shaded primitives give many.
    assert!(
        colours.len() > 100,
        "only {} distinct colours in the demo frame",
        colours.len()
    );
    assert!(
        colours.iter().all(|c| c[3] == 255),
        "demo frames are opaque"
    );
}

#[test]
fn zero_sized_frames_are_rejected_before_touching_egl() {
    let mut sink = |_: u64, _: &[u8]| -> Result<(), std::io::Error> { Ok(()) };
    let err = record_demo(1, 0, 720, CaptureMode::RING_OF_TWO, &mut sink).unwrap_err();
    assert!(
        matches!(
            err,
            GlError::InvalidSize {
                width: 0,
                height: 720,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "invalid frame size 0x720: width and height must be at least 1"
    );
    let err = record_demo(1, 64, 64, CaptureMode::PboRing { depth: 1 }, &mut sink).unwrap_err();
    assert!(
        matches!(err, GlError::InvalidRingDepth { depth: 1 }),
        "{err:?}"
    );
}

#[test]
fn framebuffer_larger_than_the_driver_allows_is_rejected_with_the_limit() {
    let Some(context) = context_or_skip("oversized framebuffer", ContextOptions::default()) else {
        return;
    };
    let err = OffscreenFramebuffer::new(context.gl(), 100_000, 4).unwrap_err();
    assert!(
        matches!(
            err,
            GlError::InvalidSize {
                width: 100_000,
                height: 4,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("this GL driver renders at most"),
        "{err}"
    );
    let err =
        FrameCapture::new(context.gl(), 64, 64, CaptureMode::PboRing { depth: 0 }).unwrap_err();
    assert!(
        matches!(err, GlError::InvalidRingDepth { depth: 0 }),
        "{err:?}"
    );
}

#[test]
fn missing_egl_library_error_names_the_library_and_the_packages() {
    let err = glcapture::load_egl_from("/nonexistent/libEGL.so.1").unwrap_err();
    assert!(err.is_unavailable());
    let message = err.to_string();
    assert!(
        message.starts_with("/nonexistent/libEGL.so.1 could not be loaded ("),
        "{message}"
    );
    assert!(
        message.ends_with("install libegl1 libegl-mesa0 libgl1-mesa-dri"),
        "{message}"
    );
}

#[test]
fn contexts_on_several_threads_coexist_and_the_display_survives_their_drops() {
    if context_or_skip("threads", ContextOptions::default()).is_none() {
        return;
    }
    // Each thread creates and drops contexts while others hold theirs; a premature
    // eglTerminate would make a later creation or capture fail.
    let threads: Vec<_> = (0..3)
        .map(|t| {
            std::thread::spawn(move || {
                for round in 0..3 {
                    let mut frames = 0;
                    let mut sink = |_: u64, _: &[u8]| -> Result<(), std::io::Error> {
                        frames += 1;
                        Ok(())
                    };
                    record_demo(3, 32, 32, CaptureMode::RING_OF_TWO, &mut sink)
                        .unwrap_or_else(|e| panic!("thread {t} round {round}: {e}"));
                    assert_eq!(frames, 3);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn auto_capture_mode_resolves_from_the_renderer_and_captures_every_frame() {
    if context_or_skip("auto mode", ContextOptions::default()).is_none() {
        return;
    }
    let mut frames = 0u64;
    let mut sink = |_: u64, _: &[u8]| -> Result<(), std::io::Error> {
        frames += 1;
        Ok(())
    };
    let stats = record_demo(5, 32, 32, CaptureMode::Auto, &mut sink).unwrap();
    assert_ne!(stats.mode, CaptureMode::Auto);
    assert_eq!(
        stats.mode,
        CaptureMode::Auto.resolve(&stats.context.renderer)
    );
    assert_eq!(frames, 5);
}
