//! Headless OpenGL rendering and framebuffer capture, without stalling the renderer.
//!
//! - [`HeadlessContext`]: an EGL context with no window system (Mesa's surfaceless
//!   platform, llvmpipe software rendering; a pbuffer fallback), with GL loaded through
//!   [`glow`]. libEGL is opened at run time ([`egl_library`]): nothing links against it, and a
//!   machine without it gets [`GlError::LibraryMissing`] naming the Debian packages
//!   (`libegl1 libegl-mesa0 libgl1-mesa-dri`).
//! - [`OffscreenFramebuffer`]: the RGBA8 framebuffer object frames are rendered into.
//! - [`DemoScene`]: an animated scene of shaded, moving primitives.
//! - [`FrameCapture`]: reads the bound framebuffer after each frame, through a ring of
//!   pixel-buffer objects guarded by fences ([`CaptureMode::PboRing`]) or synchronously
//!   ([`CaptureMode::Synchronous`]), and hands each frame to a [`FrameSink`]. Works with
//!   any current context, not only ours, through a [`glow::Context`].
//! - [`record_demo`]: all of the above in one call.
//! - [`current_framebuffer`]: reads the default framebuffer of a context a program made
//!   current (EGL or GLX), synchronously or through a pixel-buffer-object ring, leaving every
//!   piece of GL state as the program left it; what `reel capture` and reel's C library use
//!   inside programs.
//!
//! [`CaptureMode::Auto`] picks the ring on hardware drivers and the synchronous path on
//! Mesa's CPU rasterisers: llvmpipe performs `glReadPixels` into a PBO synchronously, so
//! there the ring only adds a copy (measured in `BENCHMARKS.md` at the repository root).
//!
//! Frames reach the sink exactly as `glReadPixels` returns them: `width * height * 4`
//! bytes of RGBA8, rows bottom-up (the first row of the buffer is the bottom of the
//! image). Flipping is the consumer's job.
//!
//! # Example
//!
//! Record 30 frames of the demo scene at 640x360, keeping the top-left pixel of each:
//!
//! ```
//! use glcapture::{record_demo, CaptureMode};
//!
//! let (width, height) = (640u32, 360u32);
//! let mut top_left = Vec::new();
//! let mut sink = |index: u64, rgba_bottom_up: &[u8]| -> Result<(), std::io::Error> {
//!     // The top row of the image is the last row of the buffer.
//!     let top_row = (height as usize - 1) * width as usize * 4;
//!     top_left.push((index, rgba_bottom_up[top_row..top_row + 4].to_vec()));
//!     Ok(())
//! };
//! match record_demo(30, width, height, CaptureMode::RING_OF_TWO, &mut sink) {
//!     Ok(stats) => {
//!         assert_eq!(stats.capture.frames, 30);
//!         println!(
//!             "{:.0} fps, render thread blocked {:?}/frame, on {}",
//!             stats.frames_per_second(),
//!             stats.capture.blocked_per_frame(),
//!             stats.context.renderer
//!         );
//!     }
//!     // No EGL on this machine: the message says what to install.
//!     Err(e) if e.is_unavailable() => eprintln!("{e}"),
//!     Err(e) => panic!("{e}"),
//! }
//! ```
//!
//! Capturing from an application's own render loop (context current on this thread):
//!
//! ```no_run
//! # fn render(_: &glow::Context) {}
//! # fn demo(gl: &glow::Context, mut sink: impl glcapture::FrameSink) -> Result<(), glcapture::GlError> {
//! let mut capture = glcapture::FrameCapture::new(gl, 1280, 720, glcapture::CaptureMode::RING_OF_TWO)?;
//! for _ in 0..100 {
//!     render(gl); // leaves the frame in the framebuffer bound for reading
//!     capture.capture(gl, &mut sink)?;
//! }
//! let stats = capture.finish(gl, &mut sink)?; // no frame is lost
//! # Ok(()) }
//! ```

mod capture;
pub mod current_framebuffer;
mod demo;
mod egl;
mod error;
mod framebuffer;
mod loader;
mod scene;
mod shader;
mod sink;

pub use capture::{
    frame_byte_len, is_software_rasterizer, CaptureMode, CaptureStats, FrameCapture,
};
pub use demo::{record_demo, DemoStats};
pub use egl::{
    ApiPreference, ContextInfo, ContextOptions, DisplayKind, GlApi, HeadlessContext, SurfaceKind,
    SurfacePreference,
};
pub use error::{GlError, SinkError, DEBIAN_PACKAGES_HINT};
pub use framebuffer::OffscreenFramebuffer;
pub use glow;
pub use loader::{egl_library, load_egl_from, Egl, EGL_LIBRARY_ENV, EGL_LIBRARY_NAMES};
pub use scene::DemoScene;
pub use shader::link_program;
pub use sink::{CollectFrames, FrameSink};
