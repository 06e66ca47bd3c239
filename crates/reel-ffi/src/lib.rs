//! reel as a C library: record frames into a crash-safe cache and export them on a background
//! thread as a PNG sequence or a QuickTime movie, from C, C++ and Objective-C programs. The same
//! library code as the `reel` command, behind the header `include/reel.h`.
//!
//! ```text
//! cargo build --release -p reel-ffi
//! cc -Icrates/reel-ffi/include app.c target/release/libreel_ffi.a -lpthread -ldl -lm -lstdc++
//! ```
//!
//! - `recorder.rs`: `reel_recorder_open`, `reel_recorder_append_rgba` (any row stride, rows
//!   bottom-up or top-down), `reel_recorder_last_error`, `reel_recorder_frames`,
//!   `reel_recorder_finish`, over [`reel::CacheWriter`].
//! - `gl_capture.rs`: `reel_recorder_capture_gl`, which reads the current GL context's default
//!   framebuffer through [`glcapture::current_framebuffer`] (EGL or GLX, found in the libraries
//!   the program loaded; nothing is linked) and appends it, synchronously or through a ring of
//!   pixel-buffer objects (`reel_recorder_set_readback`, `reel_recorder_flush_gl`,
//!   `reel_recorder_frames_in_flight`).
//! - `export.rs`: `reel_export_start` / `_progress` / `_finished` / `_abort` / `_wait`, over
//!   [`reel::ExportJob`], the library's export on a thread of its own.
//! - `message.rs`: messages handed to C (`reel_string_free`), and the guard that keeps every Rust
//!   panic on the Rust side: a function that panics returns its error value with the panic's
//!   message instead of unwinding into C.
//!
//! # Safety
//!
//! The C caller promises what every C API asks: pointers it passes are NULL or valid for what the
//! header says (strings NUL-terminated, pixel buffers `stride * height` bytes long), handles come
//! from this library and are used after being freed by nobody, and one handle is not used from
//! two threads at once, except `reel_export_progress` and `reel_export_abort`, which any thread may
//! call while the export runs. Everything else (NULL pointers, sizes, paths, options, a file that
//! is not a cache) is checked and refused with a message.

mod export;
mod gl_capture;
mod message;
mod recorder;

pub use export::{
    reel_export_abort, reel_export_finished, reel_export_progress, reel_export_start,
    reel_export_wait, ReelExport, ReelExportOptions,
};
pub use gl_capture::{
    reel_recorder_capture_gl, reel_recorder_flush_gl, reel_recorder_frames_in_flight,
    reel_recorder_set_readback, REEL_READBACK_AUTO, REEL_READBACK_PBO_RING, REEL_READBACK_SYNC,
};
pub use message::reel_string_free;
pub use recorder::{
    reel_recorder_append_rgba, reel_recorder_finish, reel_recorder_frames,
    reel_recorder_last_error, reel_recorder_open, ReelRecorder,
};
