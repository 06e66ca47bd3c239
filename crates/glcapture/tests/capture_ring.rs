//! The PBO ring delivers every frame once, in order, and only after its transfer completed.

mod common;

use common::{clear, clear_rect, context_or_skip, pixel};
use glcapture::{
    CaptureMode, CollectFrames, ContextOptions, FrameCapture, GlError, OffscreenFramebuffer,
};

const W: u32 = 40;
const H: u32 = 30;

/// Frame `n`'s content: background colour and a 4x4 block position, both derived from n,
/// so a frame delivered from a stale PBO slot (n - 2 with a ring of two) or twice, or
/// skipped, cannot match.
fn frame_colour(n: u64) -> [u8; 4] {
    [
        (n % 256) as u8,
        (n / 256) as u8,
        (255 - (n * 7) % 256) as u8,
        255,
    ]
}

fn block_origin(n: u64) -> (u32, u32) {
    (
        (n % u64::from(W - 4)) as u32,
        ((n / 3) % u64::from(H - 4)) as u32,
    )
}

fn expected_pixel(n: u64, x: u32, y: u32) -> [u8; 4] {
    let (bx, by) = block_origin(n);
    if (bx..bx + 4).contains(&x) && (by..by + 4).contains(&y) {
        [255, 255, 255, 255]
    } else {
        frame_colour(n)
    }
}

/// Renders `frames` numbered frames, capturing with `mode`; checks each delivered frame
/// against the sequence number of the delivery, and that no more than `max_in_flight`
/// frames are ever pending after a capture call.
fn run_numbered_frames(test: &str, mode: CaptureMode, frames: u64, max_in_flight: usize) {
    let Some(context) = context_or_skip(test, ContextOptions::default()) else {
        return;
    };
    let gl = context.gl();
    let target = OffscreenFramebuffer::new(gl, W, H).unwrap();
    let mut capture = FrameCapture::new(gl, W, H, mode).unwrap();
    let mut delivered: Vec<u64> = Vec::new();
    let mut sink = |index: u64, rgba: &[u8]| -> Result<(), std::io::Error> {
        let expected_index = delivered.len() as u64;
        assert_eq!(
            index, expected_index,
            "{mode}: frames must arrive in order, none skipped or repeated"
        );
        for y in 0..H {
            for x in 0..W {
                assert_eq!(
                    pixel(rgba, W, x, y),
                    expected_pixel(expected_index, x, y),
                    "{mode}: delivery {expected_index} pixel ({x}, {y}) must show frame {expected_index}"
                );
            }
        }
        delivered.push(index);
        Ok(())
    };
    target.bind(gl);
    for n in 0..frames {
        clear(gl, frame_colour(n));
        let (bx, by) = block_origin(n);
        clear_rect(gl, bx, by, bx + 4, by + 4, [255, 255, 255, 255]);
        capture.capture(gl, &mut sink).unwrap();
        assert!(
            capture.in_flight() <= max_in_flight,
            "{mode}: {} frames in flight after frame {n}",
            capture.in_flight()
        );
    }
    let stats = capture.finish(gl, &mut sink).unwrap();
    assert_eq!(stats.frames, frames);
    assert_eq!(delivered, (0..frames).collect::<Vec<_>>());
    target.delete(gl);
}

#[test]
fn ring_of_two_delivers_200_frames_in_order_without_duplicates_or_gaps() {
    run_numbered_frames("ring of two", CaptureMode::RING_OF_TWO, 200, 1);
}

#[test]
fn ring_of_four_delivers_200_frames_in_order_without_duplicates_or_gaps() {
    run_numbered_frames("ring of four", CaptureMode::PboRing { depth: 4 }, 200, 3);
}

#[test]
fn synchronous_capture_delivers_every_frame_before_returning() {
    run_numbered_frames("synchronous", CaptureMode::Synchronous, 50, 0);
}

#[test]
fn ring_delivers_the_previous_frame_on_each_capture_and_the_last_on_finish() {
    let Some(context) = context_or_skip("ring timing", ContextOptions::default()) else {
        return;
    };
    let gl = context.gl();
    let target = OffscreenFramebuffer::new(gl, W, H).unwrap();
    let mut capture = FrameCapture::new(gl, W, H, CaptureMode::RING_OF_TWO).unwrap();
    let mut sink = CollectFrames::default();
    let seen = |sink: &CollectFrames| sink.frames.iter().map(|(i, _)| *i).collect::<Vec<_>>();
    target.bind(gl);
    clear(gl, frame_colour(0));
    capture.capture(gl, &mut sink).unwrap();
    assert_eq!(
        seen(&sink),
        [0u64; 0],
        "frame 0 stays in flight until frame 1 is captured"
    );
    clear(gl, frame_colour(1));
    capture.capture(gl, &mut sink).unwrap();
    assert_eq!(seen(&sink), [0]);
    capture.finish(gl, &mut sink).unwrap();
    assert_eq!(seen(&sink), [0, 1]);
    target.delete(gl);
}

#[test]
fn sink_error_names_the_frame_and_later_frames_still_arrive() {
    let Some(context) = context_or_skip("sink error", ContextOptions::default()) else {
        return;
    };
    let gl = context.gl();
    let target = OffscreenFramebuffer::new(gl, W, H).unwrap();
    let mut capture = FrameCapture::new(gl, W, H, CaptureMode::RING_OF_TWO).unwrap();
    let mut accepted = Vec::new();
    let mut sink = |index: u64, _: &[u8]| -> Result<(), std::io::Error> {
        if index == 1 {
            return Err(std::io::Error::other("disk full"));
        }
        accepted.push(index);
        Ok(())
    };
    target.bind(gl);
    let mut errors = Vec::new();
    for n in 0..4 {
        clear(gl, frame_colour(n));
        if let Err(e) = capture.capture(gl, &mut sink) {
            errors.push(e);
        }
    }
    capture.finish(gl, &mut sink).unwrap();
    assert_eq!(errors.len(), 1);
    assert!(
        matches!(errors[0], GlError::Sink { frame: 1, .. }),
        "{:?}",
        errors[0]
    );
    assert_eq!(
        errors[0].to_string(),
        "frame sink rejected frame 1: disk full"
    );
    assert_eq!(accepted, [0, 2, 3]);
    target.delete(gl);
}
