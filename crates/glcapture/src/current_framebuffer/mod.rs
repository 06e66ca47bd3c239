//! Reading the default framebuffer of whatever GL context a program has made current, without
//! the program seeing a difference.
//!
//! Unlike [`FrameCapture`](crate::FrameCapture), which works on a [`glow::Context`] the caller
//! owns, this reads a context somebody else made: the program's. It finds the window system's
//! functions in the libraries the program already loaded (libEGL, libGL for GLX) and loads
//! nothing itself, so a library using it needs no GL at link time.
//!
//! - [`Drawable`]: the surface a context draws to (EGL surface or GLX drawable), the one
//!   current on this thread ([`Drawable::current`]), and its size as the window system reports
//!   it (not the viewport).
//! - [`FramebufferReader`]: loads the GL functions through the window system's GetProcAddress
//!   and reads the default framebuffer's back buffer synchronously, saving and restoring every
//!   piece of state it touches (pixel-pack buffer binding, pack alignment, row length and skips,
//!   read framebuffer, read buffer, pending errors).
//! - [`PboRing`]: the same read into a ring of pixel-buffer objects with fences, each frame
//!   delivered one or more captures later (in order) or at [`PboRing::flush`], with the same
//!   state left untouched. Its buffers belong to the context: it flushes only while that context
//!   is current.
//! - [`ReadbackMode`]: which of the two; `Auto` picks the synchronous read on Mesa's CPU
//!   rasterisers (there `glReadPixels` into a buffer object is a CPU copy done at once, so the
//!   ring only adds a map; measured in `BENCHMARKS.md`, "OpenGL capture") and the ring elsewhere.
//! - [`ChannelOrder`]: the readback comes in the order the framebuffer holds (BGRA on Mesa, the
//!   cheap read there); [`ChannelOrder::copy_to_rgba`] converts off the program's critical path.
//!
//! Used by the `reel capture` preload library (at each swap, synchronously) and by reel's C
//! library (`reel_recorder_capture_gl`, either way).

mod drawable;
mod readback;
mod readback_mode;
mod ring;

use std::ffi::{c_void, CStr};

use crate::error::gl_error_name;

pub use drawable::{current_context, Drawable, WindowSystem};
pub use readback::{ChannelOrder, FramebufferReader, GetProcAddress};
pub use readback_mode::ReadbackMode;
pub use ring::{PboRing, RingError};

/// Finds the function `name` in the already loaded library `soname`; null when the library is
/// not loaded or has no such function. [`loaded_symbol`] is the ordinary one; a library that
/// interposes `dlsym` passes its own, which calls the real `dlsym`.
pub type SymbolLookup = fn(soname: &CStr, name: &CStr) -> *mut c_void;

/// [`SymbolLookup`] through `dlopen(RTLD_NOLOAD)` and `dlsym`: finds libraries loaded by
/// linking or by `dlopen`, even with `RTLD_LOCAL`, and never loads one.
pub fn loaded_symbol(soname: &CStr, name: &CStr) -> *mut c_void {
    // SAFETY: RTLD_NOLOAD returns a handle only to a library already loaded; nothing is loaded
    // or initialised.
    let handle = unsafe { libc::dlopen(soname.as_ptr(), libc::RTLD_LAZY | libc::RTLD_NOLOAD) };
    if handle.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: a live handle and a C string.
    let found = unsafe { libc::dlsym(handle, name.as_ptr()) };
    // SAFETY: drops the reference the NOLOAD dlopen took; the library stays loaded.
    unsafe { libc::dlclose(handle) };
    found
}

/// Why the current framebuffer was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// Neither an EGL nor a GLX context is current on this thread.
    #[error("no OpenGL context is current on this thread (checked EGL and GLX)")]
    NoContext,
    /// The current context draws to no surface (an EGL surfaceless context, or a GLX context
    /// made current without a drawable), so it has no default framebuffer.
    #[error("the current OpenGL context has no draw surface, so no default framebuffer to read")]
    NoSurface,
    /// The current context reads from another surface than it draws to
    /// (`eglMakeCurrent`/`glXMakeContextCurrent` with two surfaces): `glReadPixels` would not
    /// return the frame drawn.
    #[error(
        "the current OpenGL context reads from another surface than it draws to, so the frame \
         drawn cannot be read"
    )]
    ReadsAnotherSurface,
    /// The window system did not report the surface's size.
    #[error("the window system did not report the size of the current surface")]
    SizeUnknown,
    /// A function this needs is missing from the window system or the context.
    #[error("the function {0} is missing")]
    MissingFunction(&'static str),
    /// A GL call of the readback raised this GL error (the program's own pending errors are
    /// kept apart and left pending).
    #[error("{call} raised {name} ({code:#06x})", name = gl_error_name(*code))]
    Gl {
        /// What was being done.
        call: &'static str,
        /// The `glGetError` value.
        code: u32,
    },
    /// A pixel-buffer-object ring was asked of a context without pixel-pack buffers, mapping
    /// or fences.
    #[error(
        "the current context ({version}) has no pixel-buffer objects with fences \
         (needs OpenGL 3.2 or OpenGL ES 3.0): use the synchronous readback"
    )]
    RingUnsupported {
        /// The context's `GL_VERSION`.
        version: String,
    },
    /// A ring needs at least two buffers.
    #[error("a pixel-buffer ring of {depth} buffers: at least 2 are needed")]
    RingDepth {
        /// The depth asked for.
        depth: usize,
    },
    /// A frame size a GL buffer cannot hold: a side of zero, or over 2 GiB in all.
    #[error(
        "a {width}x{height} RGBA frame cannot be a pixel buffer: each side must be at least 1 \
         and the frame at most 2 GiB"
    )]
    InvalidFrameSize {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// A ring was used with a reader of another context (its buffers exist only in its own).
    #[error("this pixel-buffer ring belongs to another GL context than the reader's")]
    OtherContext,
    /// A frame's transfer did not complete; that frame is lost.
    #[error(
        "waiting for a frame's pixel-buffer transfer failed (glClientWaitSync returned \
         {status:#06x} after {waited:?}); that frame is lost"
    )]
    FenceWait {
        /// What `glClientWaitSync` returned last.
        status: u32,
        /// How long it was waited for.
        waited: std::time::Duration,
    },
    /// `glMapBufferRange` returned NULL without a GL error; that frame is lost.
    #[error("glMapBufferRange returned NULL for a frame's pixel buffer; that frame is lost")]
    MapFailed,
}
