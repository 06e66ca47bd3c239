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
//! - [`ChannelOrder`]: the readback comes in the order the framebuffer holds (BGRA on Mesa, the
//!   cheap read there); [`ChannelOrder::copy_to_rgba`] converts off the program's critical path.
//!
//! Used by the `reel capture` preload library (at each swap) and by reel's C library
//! (`reel_recorder_capture_gl`). Both read synchronously: on Mesa's CPU rasterisers a
//! pixel-buffer-object ring is a CPU copy too and measured slower (`BENCHMARKS.md`, "OpenGL
//! capture"), and a synchronous read leaves nothing in GL to flush when the program's context
//! goes away.

mod drawable;
mod readback;

use std::ffi::{c_void, CStr};

pub use drawable::{Drawable, WindowSystem};
pub use readback::{ChannelOrder, FramebufferReader, GetProcAddress};

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
    /// The current context draws to no surface (an EGL surfaceless context), so it has no
    /// default framebuffer.
    #[error("the current EGL context has no draw surface, so no default framebuffer to read")]
    NoSurface,
    /// The window system did not report the surface's size.
    #[error("the window system did not report the size of the current surface")]
    SizeUnknown,
    /// A function this needs is missing from the window system or the context.
    #[error("the function {0} is missing")]
    MissingFunction(&'static str),
    /// `glReadPixels` raised this GL error.
    #[error("glReadPixels raised GL error {0:#06x}")]
    Gl(u32),
}
