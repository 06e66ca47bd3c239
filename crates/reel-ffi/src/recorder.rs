//! Recording frames into a cache from C.

use std::ffi::{c_char, c_int, c_void, CString};

use reel::{CacheWriter, FrameLayout, RowOrder};

use crate::gl_capture::GlCaptureState;
use crate::message::{c_string, guard, set_error, str_arg};

/// The largest frame side accepted: beyond every OpenGL implementation's framebuffer limit, and
/// it keeps a C caller's mistaken size from asking for gigabytes.
const MAX_SIDE: u32 = 32768;

/// A cache being recorded (`reel_recorder` in C).
pub struct ReelRecorder {
    pub(crate) writer: CacheWriter,
    pub(crate) width: u32,
    pub(crate) height: u32,
    last_error: Option<CString>,
    pub(crate) gl: GlCaptureState,
}

/// `reel_recorder *reel_recorder_open(const char *path, uint32_t width, uint32_t height, char **error)`
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `error` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn reel_recorder_open(
    path: *const c_char,
    width: u32,
    height: u32,
    error: *mut *mut c_char,
) -> *mut ReelRecorder {
    let result = guard("reel_recorder_open", || {
        // SAFETY: per this function's contract.
        let path = unsafe { str_arg(path, "path") }?;
        if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
            return Err(format!(
                "frame size {width}x{height} is out of range: each side must be 1 to {MAX_SIDE}"
            ));
        }
        let layout =
            FrameLayout::rgba(width, height, RowOrder::BottomUp).map_err(|e| e.to_string())?;
        let writer = CacheWriter::create(path, layout).map_err(|e| e.to_string())?;
        Ok(Box::new(ReelRecorder {
            writer,
            width,
            height,
            last_error: None,
            gl: GlCaptureState::default(),
        }))
    });
    // SAFETY: per this function's contract.
    unsafe { set_error(error, result.as_ref().err().map(String::as_str)) };
    result.map_or(std::ptr::null_mut(), Box::into_raw)
}

/// `int reel_recorder_append_rgba(reel_recorder *rec, const void *pixels, size_t stride_bytes, int bottom_up)`
///
/// # Safety
/// `rec` is NULL or a live recorder used by no other thread; `pixels` is NULL or valid for
/// reads of `stride_bytes * (height - 1) + width * 4` bytes.
#[no_mangle]
pub unsafe extern "C" fn reel_recorder_append_rgba(
    rec: *mut ReelRecorder,
    pixels: *const c_void,
    stride_bytes: usize,
    bottom_up: c_int,
) -> c_int {
    // SAFETY: per this function's contract.
    let Some(rec) = (unsafe { rec.as_mut() }) else {
        return -1;
    };
    let result = guard("reel_recorder_append_rgba", || {
        let row = rec.width as usize * 4;
        if pixels.is_null() {
            return Err("pixels is NULL".into());
        }
        if stride_bytes < row {
            return Err(format!(
                "stride_bytes {stride_bytes} is less than a row of {} RGBA pixels ({row} bytes)",
                rec.width
            ));
        }
        let rows = rec.height as usize;
        let span = stride_bytes
            .checked_mul(rows - 1)
            .and_then(|s| s.checked_add(row))
            .ok_or_else(|| format!("stride_bytes {stride_bytes} is too large"))?;
        // SAFETY: the caller promised `span` readable bytes at `pixels`.
        let src = unsafe { std::slice::from_raw_parts(pixels.cast::<u8>(), span) };
        // Frames captured from GL before this one go first.
        rec.gl.flush(&mut rec.writer)?;
        rec.writer
            .append_with(|dst| {
                copy_rows_bottom_up(src, stride_bytes, row, rows, bottom_up != 0, dst)
            })
            .map_err(|e| e.to_string())
    });
    rec.finish_call(result)
}

/// Copies `rows` rows of `row` bytes, `stride` apart in `src`, into `dst` bottom row first.
fn copy_rows_bottom_up(
    src: &[u8],
    stride: usize,
    row: usize,
    rows: usize,
    bottom_up: bool,
    dst: &mut [u8],
) {
    for (i, out) in dst.chunks_exact_mut(row).enumerate() {
        let from = if bottom_up { i } else { rows - 1 - i };
        out.copy_from_slice(&src[from * stride..from * stride + row]);
    }
}

impl ReelRecorder {
    /// Keeps the message of a failed call for `reel_recorder_last_error`; 0 or -1.
    pub(crate) fn finish_call(&mut self, result: Result<(), String>) -> c_int {
        match result {
            Ok(()) => {
                self.last_error = None;
                0
            }
            Err(message) => {
                self.last_error = Some(c_string(&message));
                -1
            }
        }
    }
}

/// `const char *reel_recorder_last_error(const reel_recorder *rec)`
///
/// # Safety
/// `rec` is NULL or a live recorder.
#[no_mangle]
pub unsafe extern "C" fn reel_recorder_last_error(rec: *const ReelRecorder) -> *const c_char {
    // SAFETY: per this function's contract.
    unsafe { rec.as_ref() }
        .and_then(|r| r.last_error.as_ref())
        .map_or(std::ptr::null(), |m| m.as_ptr())
}

/// `uint64_t reel_recorder_frames(const reel_recorder *rec)`
///
/// # Safety
/// `rec` is NULL or a live recorder.
#[no_mangle]
pub unsafe extern "C" fn reel_recorder_frames(rec: *const ReelRecorder) -> u64 {
    // SAFETY: per this function's contract.
    unsafe { rec.as_ref() }.map_or(0, |r| u64::from(r.writer.frames()))
}

/// `int reel_recorder_finish(reel_recorder *rec, char **error)`
///
/// # Safety
/// `rec` is NULL or a live recorder, not used again; `error` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn reel_recorder_finish(
    rec: *mut ReelRecorder,
    error: *mut *mut c_char,
) -> c_int {
    let result = guard("reel_recorder_finish", || {
        if rec.is_null() {
            return Err("rec is NULL".into());
        }
        // SAFETY: a live recorder made by `reel_recorder_open`, given up by the caller.
        let mut rec = unsafe { Box::from_raw(rec) };
        let flushed = rec.gl.flush_last(&mut rec.writer);
        // The frames stored so far are kept whatever happened to those in flight.
        let finished = rec.writer.finish().map(|_| ()).map_err(|e| e.to_string());
        flushed.and(finished)
    });
    // SAFETY: per this function's contract.
    unsafe { set_error(error, result.as_ref().err().map(String::as_str)) };
    if result.is_ok() {
        0
    } else {
        -1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_stored_bottom_up_whatever_order_and_stride_they_come_in() {
        // Two rows of one pixel, stride 8 (4 bytes of padding per row).
        let src = [1, 1, 1, 1, 9, 9, 9, 9, 2, 2, 2, 2];
        let mut dst = [0u8; 8];
        copy_rows_bottom_up(&src, 8, 4, 2, true, &mut dst);
        assert_eq!(dst, [1, 1, 1, 1, 2, 2, 2, 2]);
        copy_rows_bottom_up(&src, 8, 4, 2, false, &mut dst);
        assert_eq!(dst, [2, 2, 2, 2, 1, 1, 1, 1]);
    }
}
