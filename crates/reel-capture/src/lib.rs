//! The capture library `reel capture` preloads (`LD_PRELOAD`) into an unmodified OpenGL
//! program.
//!
//! It defines `glXSwapBuffers`, `glXSwapBuffersMscOML` and `eglSwapBuffers` for programs that
//! link them, and
//! `glXGetProcAddress(ARB)`, `eglGetProcAddress` and `dlsym` for programs that look them up
//! (`dlsym` is how programs that `dlopen` libGL or libEGL themselves find the swap). Before each
//! swap of the first drawable that swaps, the hook reads the back buffer at the drawable's size
//! (glcapture's [`current_framebuffer`](glcapture::current_framebuffer), leaving the
//! program's GL state as it was) into one of a bounded set of buffers
//! and hands it to a background writer (`writer.rs`) that appends it to a reel cache.
//!
//! The library acts only in a process whose environment carries `reel capture`'s settings
//! ([`reel::capture_protocol`]) and whose parent is that `reel`: the program it started, or
//! what that process `exec`s (a wrapper), but not processes the program forks. Any failure
//! stops capturing, with one message on stderr, and the program runs on.
//!
//! How frames are read back is `reel capture --readback` (glcapture's
//! [`ReadbackMode`](glcapture::current_framebuffer::ReadbackMode)): `auto` reads through a ring
//! of pixel-buffer objects on GPU drivers, where the transfer then overlaps the program's next
//! frame, and synchronously on Mesa's software rasterizers, where a ring is a CPU copy as well
//! and measured slower (BENCHMARKS.md, "OpenGL capture"). Either way the read is in the channel
//! order the framebuffer holds (BGRA on Mesa), swizzled to RGBA on the writer thread. A ring's
//! frames arrive a few swaps late and can only be read while its context is current, so the
//! library also hooks the calls that switch, destroy or release a context (`glXMakeCurrent`,
//! `glXMakeContextCurrent`, `glXDestroyContext`, `eglMakeCurrent`, `eglDestroyContext`,
//! `eglReleaseThread`, `eglTerminate`, `XCloseDisplay`) and reads the frames in flight before
//! the real call, and again at exit; frames of a context that went away unannounced are
//! counted as dropped and reported.

mod hooks;
mod session;
mod status;
mod symbols;

pub use symbols::dlsym;
mod writer;

pub use hooks::{
    eglDestroyContext, eglGetProcAddress, eglMakeCurrent, eglReleaseThread, eglSwapBuffers,
    eglTerminate, glXDestroyContext, glXGetProcAddress, glXGetProcAddressARB,
    glXMakeContextCurrent, glXMakeCurrent, glXSwapBuffers, glXSwapBuffersMscOML, XCloseDisplay,
};

extern "C" fn load() {
    session::start_from_env();
    // SAFETY: registers a plain function with no arguments to run at exit.
    unsafe { libc::atexit(unload) };
}

extern "C" fn unload() {
    session::end_at_exit();
}

/// Runs [`load`] when the dynamic loader maps this library, before the program's `main`.
#[used]
#[link_section = ".init_array"]
static LOAD: extern "C" fn() = load;
