//! Recording the current GL context's default framebuffer from C.

use std::ffi::c_int;

use glcapture::current_framebuffer::{loaded_symbol, Drawable, FramebufferReader, ReadError};

use crate::message::guard;
use crate::recorder::ReelRecorder;

/// What a recorder keeps between captures: the reader of the last context (its functions and
/// capabilities are asked once per context) and the buffer frames are read into.
#[derive(Default)]
pub(crate) struct GlCaptureState {
    reader: Option<FramebufferReader>,
    pixels: Vec<u8>,
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
    if state.reader.as_ref().map(FramebufferReader::context) != Some(context) {
        state.reader = None;
        let loader = drawable
            .window_system()
            .get_proc_address(loaded_symbol)
            .map_err(|e| e.to_string())?;
        // SAFETY: `context` is current on this thread (Drawable::current just said so) and
        // `loader` is its window system's GetProcAddress.
        let reader = unsafe { FramebufferReader::new(loader, context) };
        state.reader = Some(reader.map_err(|e: ReadError| e.to_string())?);
    }
    let reader = state.reader.as_ref().expect("made above");
    state.pixels.resize(width as usize * height as usize * 4, 0);
    // SAFETY: the reader's context is current and draws to `drawable`, whose size the window
    // system just reported.
    let order =
        unsafe { reader.read(width, height, &mut state.pixels) }.map_err(|e| e.to_string())?;
    let pixels = &state.pixels;
    rec.writer
        .append_with(|dst| order.copy_to_rgba(pixels, dst))
        .map_err(|e| e.to_string())
}
