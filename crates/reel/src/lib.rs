//! Record raw framebuffers to a crash-safe cache, and export them as PNG
//! sequences or QuickTime movies — fast, and with memory that stays flat
//! however many frames there are.
//!
//! The pipeline:
//!
//! 1. **Record** ([`cache::CacheWriter`]): each frame (RGBA, rows
//!    bottom-up as OpenGL returns them) is appended to a cache file whose
//!    format is specified in [`cache::format`]. A killed recorder leaves
//!    every complete frame readable.
//! 2. **Read** ([`source::FrameFileSource`]): the classic image source
//!    protocol — begin, next image, end — one frame at a time, each image an
//!    autoreleased [`autorelease::Obj`] in a per-frame autorelease pool.
//!    Headerless raw files ([`cache::RawReader`]) work too.
//! 3. **Convert** ([`convert`]): drop alpha and flip upright in one pass.
//! 4. **Encode and write** ([`export`]): in parallel, in order, with a
//!    bounded number of frames in flight; PNG files are renamed into place
//!    when complete and movies when finished. H.264 goes through x264
//!    ([`encode::x264`], loaded at run time when installed, never linked)
//!    or the built-in OpenH264 ([`encode::h264`]).
//!
//! The `reel` binary wraps this: `reel record --synthetic`, `reel info`,
//! `reel export INPUT --png DIR | --movie OUT.mov --codec png|mjpeg|h264`
//! (a background export; the main thread runs a `runloop` timer that
//! drives the progress bar; Ctrl-C stops after the frames in hand),
//! `reel demo` and `reel bench`.
//!
//! Memory stays flat because every frame's image is autoreleased into its
//! own pool and at most a fixed window of frames is in flight: the peak
//! depends on frame size and thread count only. `--single-pool` puts one
//! pool around the whole export instead — the classic bug — and the
//! autorelease runtime's growth warning fires.

pub mod cache;
pub mod capture_protocol;
pub mod convert;
pub mod encode;
pub mod error;
pub mod export;
pub mod memory;
pub mod movie;
pub mod progress;
pub mod recycle;
pub mod source;
pub mod synthetic;

pub use error::{CacheError, ExportError};
