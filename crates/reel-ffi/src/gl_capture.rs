//! Recording the current GL context's default framebuffer from C: synchronously, or through a
//! ring of pixel-buffer objects whose frames reach the cache a capture later.
//!
//! Frames reach the cache in the order they were captured, whatever happens: frames in the ring
//! are delivered before any later frame (a synchronous capture, an appended frame), and only
//! while their context is current on the calling thread; when it is not, the call that would
//! overtake them is refused with a message, and `reel_recorder_finish` says how many were lost.

use std::ffi::c_int;

use glcapture::current_framebuffer::{
    current_context, loaded_symbol, Drawable, FramebufferReader, PboRing, ReadbackMode,
};
use reel::CacheWriter;

use crate::message::guard;
use crate::recorder::ReelRecorder;

/// `REEL_READBACK_AUTO`: synchronous on Mesa's CPU rasterisers, the ring elsewhere.
pub const REEL_READBACK_AUTO: c_int = 0;
/// `REEL_READBACK_SYNC`: `glReadPixels` into memory, the frame stored before the call returns.
pub const REEL_READBACK_SYNC: c_int = 1;
/// `REEL_READBACK_PBO_RING`: a ring of two pixel-buffer objects.
pub const REEL_READBACK_PBO_RING: c_int = 2;

/// Buffers in the ring: one frame in flight between captures.
const RING_DEPTH: usize = 2;

/// What a recorder keeps between captures: the reader of the last context (its functions and
/// capabilities are asked once per context), the ring with its own context's reader, and the
/// buffer synchronous reads go into.
#[derive(Default)]
pub(crate) struct GlCaptureState {
    mode: ReadbackMode,
    reader: Option<FramebufferReader>,
    ring: Option<(FramebufferReader, PboRing)>,
    pixels: Vec<u8>,
}

impl GlCaptureState {
    /// Frames captured through the ring and not yet in the cache.
    pub(crate) fn in_flight(&self) -> usize {
        self.ring.as_ref().map_or(0, |(_, ring)| ring.in_flight())
    }

    /// Stores every frame in the ring in `writer`, in order, and releases the ring's buffers.
    /// Needs the ring's context current on this thread; without it, frames in flight are an
    /// error (nothing is dropped: they stay for a later flush), an empty ring is forgotten (its
    /// buffers stay with its context, which frees them when destroyed).
    pub(crate) fn flush(&mut self, writer: &mut CacheWriter) -> Result<(), String> {
        self.try_flush(writer).map_err(|e| match e {
            FlushError::NotCurrent { frames } => format!(
                "{frames} frame(s) captured through the pixel-buffer ring are still in the \
                 buffers of a GL context that is not current on this thread (make that context \
                 current first; call reel_recorder_flush_gl before releasing it)"
            ),
            FlushError::Failed(message) => message,
        })
    }

    /// [`flush`](Self::flush) at the end of a recording: the message says how many frames were
    /// lost when the ring could not be flushed, and how many the cache keeps.
    pub(crate) fn flush_last(&mut self, writer: &mut CacheWriter) -> Result<(), String> {
        let (in_flight, stored_before) = (self.in_flight(), writer.frames());
        let result = self.try_flush(writer);
        let stored = writer.frames();
        // Whatever was in flight and did not reach the cache: the frames left in the ring and
        // one that failed on its way.
        let lost = in_flight - (stored - stored_before) as usize;
        result.map_err(|e| {
            let why = match e {
                FlushError::NotCurrent { .. } => "their GL context is not current on this \
                    thread (call reel_recorder_flush_gl with it current before releasing it)"
                    .to_string(),
                FlushError::Failed(message) => message,
            };
            format!(
                "{lost} frame(s) captured through the pixel-buffer ring were lost: {why}; the \
                 cache keeps the {stored} frames stored before them"
            )
        })
    }

    /// The work of [`flush`](Self::flush).
    fn try_flush(&mut self, writer: &mut CacheWriter) -> Result<(), FlushError> {
        let Some((reader, mut ring)) = self.ring.take() else {
            return Ok(());
        };
        if current_context(loaded_symbol) != Some(ring.context()) {
            let frames = ring.in_flight();
            if frames == 0 {
                return Ok(());
            }
            self.ring = Some((reader, ring));
            return Err(FlushError::NotCurrent { frames });
        }
        let order = reader.channel_order();
        let mut store = |pixels: &[u8]| writer.append_with(|dst| order.copy_to_rgba(pixels, dst));
        // SAFETY: the ring's context is current on this thread (checked above) and `reader` was
        // made for it with the ring.
        let flushed = unsafe { ring.flush(&reader, &mut store) };
        match flushed {
            Ok(()) => {
                // SAFETY: as above.
                let deleted = unsafe { ring.delete(&reader) };
                deleted
                    .map(drop)
                    .map_err(|e| FlushError::Failed(e.to_string()))
            }
            Err(e) => {
                self.ring = Some((reader, ring));
                Err(FlushError::Failed(e.to_string()))
            }
        }
    }
}

/// Why frames in the ring were not stored.
enum FlushError {
    /// Their context is not current on this thread; they stay in flight.
    NotCurrent {
        /// Frames in flight.
        frames: usize,
    },
    /// GL or the cache failed (the message says which, and which frame was lost).
    Failed(String),
}

/// `int reel_recorder_capture_gl(reel_recorder *rec)`
///
/// # Safety
/// `rec` is NULL or a live recorder used by no other thread. A GL context current on this
/// thread, if any, belongs to the program, which made it current through the EGL or GLX library
/// it loaded.
#[no_mangle]
pub unsafe extern "C" fn reel_recorder_capture_gl(rec: *mut ReelRecorder) -> c_int {
    // SAFETY: per this function's contract.
    let Some(rec) = (unsafe { rec.as_mut() }) else {
        return -1;
    };
    let result = guard("reel_recorder_capture_gl", || capture(rec));
    rec.finish_call(result)
}

/// `int reel_recorder_set_readback(reel_recorder *rec, int mode)`
///
/// # Safety
/// `rec` is NULL or a live recorder used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn reel_recorder_set_readback(rec: *mut ReelRecorder, mode: c_int) -> c_int {
    // SAFETY: per this function's contract.
    let Some(rec) = (unsafe { rec.as_mut() }) else {
        return -1;
    };
    let result = guard("reel_recorder_set_readback", || {
        rec.gl.mode = match mode {
            REEL_READBACK_AUTO => ReadbackMode::Auto,
            REEL_READBACK_SYNC => ReadbackMode::Sync,
            REEL_READBACK_PBO_RING => ReadbackMode::PboRing,
            other => {
                return Err(format!(
                    "readback mode {other} is unknown: expected REEL_READBACK_AUTO (0), \
                     REEL_READBACK_SYNC (1) or REEL_READBACK_PBO_RING (2)"
                ))
            }
        };
        Ok(())
    });
    rec.finish_call(result)
}

/// `int reel_recorder_flush_gl(reel_recorder *rec)`
///
/// # Safety
/// `rec` is NULL or a live recorder used by no other thread; a current GL context is the
/// program's (as for `reel_recorder_capture_gl`).
#[no_mangle]
pub unsafe extern "C" fn reel_recorder_flush_gl(rec: *mut ReelRecorder) -> c_int {
    // SAFETY: per this function's contract.
    let Some(rec) = (unsafe { rec.as_mut() }) else {
        return -1;
    };
    let result = guard("reel_recorder_flush_gl", || rec.gl.flush(&mut rec.writer));
    rec.finish_call(result)
}

/// `uint64_t reel_recorder_frames_in_flight(const reel_recorder *rec)`
///
/// # Safety
/// `rec` is NULL or a live recorder.
#[no_mangle]
pub unsafe extern "C" fn reel_recorder_frames_in_flight(rec: *const ReelRecorder) -> u64 {
    // SAFETY: per this function's contract.
    unsafe { rec.as_ref() }.map_or(0, |r| r.gl.in_flight() as u64)
}

fn capture(rec: &mut ReelRecorder) -> Result<(), String> {
    let (drawable, context) = Drawable::current(loaded_symbol).map_err(|e| e.to_string())?;
    let (width, height) = drawable.size(loaded_symbol).map_err(|e| e.to_string())?;
    if (width, height) != (rec.width, rec.height) {
        return Err(format!(
            "the current framebuffer is {width}x{height} but this recorder records {}x{} frames",
            rec.width, rec.height
        ));
    }
    let state = &mut rec.gl;
    if state.ring.as_ref().map(|(_, ring)| ring.context()) != Some(context) {
        // Frames of another context go first (or this capture is refused).
        state.flush(&mut rec.writer)?;
    }
    if state.reader.as_ref().map(FramebufferReader::context) != Some(context) {
        state.reader = None;
        let loader = drawable
            .window_system()
            .get_proc_address(loaded_symbol)
            .map_err(|e| e.to_string())?;
        // SAFETY: `context` is current on this thread (Drawable::current just said so) and
        // `loader` is its window system's GetProcAddress.
        let reader = unsafe { FramebufferReader::new(loader, context) };
        state.reader = Some(reader.map_err(|e| e.to_string())?);
    }
    let reader = state.reader.as_ref().expect("made above");
    match state.mode.resolve_for(reader) {
        ReadbackMode::PboRing => capture_ring(state, &mut rec.writer, width, height),
        _ => {
            // Frames in the ring go first.
            state.flush(&mut rec.writer)?;
            capture_sync(state, &mut rec.writer, width, height)
        }
    }
}

/// Reads the frame at once and stores it.
fn capture_sync(
    state: &mut GlCaptureState,
    writer: &mut CacheWriter,
    width: u32,
    height: u32,
) -> Result<(), String> {
    let reader = state.reader.as_ref().expect("made by capture");
    state.pixels.resize(width as usize * height as usize * 4, 0);
    // SAFETY: the reader's context is current and draws to a surface of this size (capture
    // just asked the window system).
    let order =
        unsafe { reader.read(width, height, &mut state.pixels) }.map_err(|e| e.to_string())?;
    let pixels = &state.pixels;
    writer
        .append_with(|dst| order.copy_to_rgba(pixels, dst))
        .map_err(|e| e.to_string())
}

/// Reads the frame into the ring (made on first use in this context) and stores the frame
/// whose turn has come.
fn capture_ring(
    state: &mut GlCaptureState,
    writer: &mut CacheWriter,
    width: u32,
    height: u32,
) -> Result<(), String> {
    let reader = state.reader.as_ref().expect("made by capture");
    if state.ring.is_none() {
        // SAFETY: the reader's context is current (capture checked it).
        let ring = unsafe { PboRing::new(reader, width, height, RING_DEPTH) };
        state.ring = Some((reader.clone(), ring.map_err(|e| e.to_string())?));
    }
    let (reader, ring) = state.ring.as_mut().expect("made above");
    let order = reader.channel_order();
    let mut store = |pixels: &[u8]| writer.append_with(|dst| order.copy_to_rgba(pixels, dst));
    // SAFETY: the ring was made in the current context (capture flushed away any other) with a
    // reader of it, and its size is the surface's (capture checked both against the recorder).
    unsafe { ring.capture(reader, &mut store) }.map_err(|e| e.to_string())
}
