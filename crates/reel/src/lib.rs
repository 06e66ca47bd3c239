//! Record raw framebuffers to a crash-safe cache, and export them as PNG
//! sequences or QuickTime movies — fast, and with memory that stays flat
//! however many frames there are.
//!
//! # The whole API in one example
//!
//! Record frames as `glReadPixels` returns them, export them on a
//! background thread while polling the progress, and abort a second export:
//!
//! ```
//! use reel::{
//!     CacheWriter, ExportJob, ExportTarget, FilePattern, FrameInput, FrameLayout, Kept,
//!     MovieCodec, PipelineConfig, PngCompression, RowOrder,
//! };
//!
//! let dir = tempfile::tempdir()?;
//! let cache = dir.path().join("frames.reel");
//!
//! // Record: RGBA, rows bottom-up. A killed recorder leaves every complete frame readable.
//! let layout = FrameLayout::rgba(64, 48, RowOrder::BottomUp)?;
//! let mut writer = CacheWriter::create(&cache, layout)?;
//! for i in 0..30u8 {
//!     writer.append(&vec![i; layout.frame_len()])?;
//! }
//! writer.finish()?;
//!
//! // Export on a background thread; poll the progress from this one.
//! let movie = dir.path().join("out.mov");
//! let target = ExportTarget::Movie {
//!     path: movie.clone(),
//!     codec: MovieCodec::Mjpeg { quality: 90 },
//!     rate: "30000/1001".parse()?, // NTSC, exactly
//!     overwrite: false,            // an existing movie is refused, never replaced silently
//! };
//! let job = ExportJob::start(FrameInput::open(&cache, None)?, target, PipelineConfig::with_threads(2))?;
//! while !job.is_finished() {
//!     let progress = job.progress();
//!     eprintln!("{} of {} frames", progress.done(), progress.total());
//!     std::thread::sleep(std::time::Duration::from_millis(5));
//! }
//! let report = job.wait()?;
//! assert_eq!((report.written, report.kept), (30, Kept::Movie { path: movie }));
//!
//! // Abort: the export stops after the frames in hand and keeps only whole files.
//! let target = ExportTarget::PngSequence {
//!     dir: dir.path().join("png"),
//!     pattern: FilePattern::parse("frame-%04d.png")?,
//!     start_number: None, // files keep their recorded frame numbers
//!     compression: PngCompression::Default,
//!     overwrite: false,
//! };
//! let job = ExportJob::start(FrameInput::open(&cache, None)?, target, PipelineConfig::with_threads(2))?;
//! job.abort();
//! let report = job.wait()?;
//! assert!(report.aborted && report.written < 30);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A failed export is an [`ExportFailure`]: its [`ExportError`] cause (a
//! typed variant to match on, its own cause kept as `source()`), the frames
//! written before it and what was left on disk ([`Kept`]).
//!
//! # The pipeline
//!
//! 1. **Record** ([`CacheWriter`]): each frame is appended to a cache file
//!    whose format is specified in [`cache::format`].
//! 2. **Read** ([`FrameInput`]: a cache, or headerless raw frames): the
//!    classic image source protocol — begin, next image, end — one frame at
//!    a time, each image an autoreleased [`autorelease::Obj`] in a per-frame
//!    autorelease pool. An image holds no pixels: it names where its frame
//!    is stored ([`cache::StoredFrame`]), and the encoder thread that takes
//!    it reads the rows [`READ_CHUNK_BYTES`] at a time as it uses them,
//!    checking a cache frame's checksum once it has read them all (a damaged
//!    frame is dropped and reported, as damage found while reading is).
//! 3. **Convert**: drop alpha and flip upright, on the encoder threads, as
//!    each piece of rows is read (for PNG one row at a time, just before the
//!    row is filtered), while the rows are still in the core's cache
//!    ([`Conversion`]).
//! 4. **Encode** in parallel, in order, with a bounded number of frames in
//!    flight ([`PipelineConfig`]); H.264 through x264 (loaded at run time
//!    when installed, never linked; see [`probe_x264`]) or the built-in
//!    OpenH264 ([`H264Backend`]).
//! 5. **Write**: PNG files are renamed into place when complete, movies
//!    ([`movie`]) when finished; nothing half-written is left.
//!
//! Memory stays flat because every frame's image is autoreleased into its
//! own pool and at most a fixed window of frames is in flight: the peak
//! depends on frame size and thread count only. [`PoolMode::Single`] puts
//! one pool around the whole export instead — the classic bug — and the
//! autorelease runtime's growth warning fires.
//!
//! The `reel` binary wraps this: `reel record`, `reel info`,
//! `reel export INPUT --png DIR | --movie OUT.mov --codec png|mjpeg|h264`
//! (a background export; the main thread runs a `runloop` timer that
//! drives the progress bar; Ctrl-C stops after the frames in hand) and
//! `reel demo`.

pub mod cache;
pub mod capture_protocol;
mod convert;
mod encode;
mod error;
mod export;
pub mod movie;
pub mod output;
mod progress;
mod recycle;
mod source;
mod stage;

pub use cache::{CacheWriter, Damage, FrameInput, FrameLayout, RowOrder};
pub use encode::h264::probe_x264;
pub use encode::h264::x264::{
    disable_transparent_huge_pages, X264LoadFailure, X264Settings, X264Unavailable,
};
pub use encode::h264::H264Backend;
pub use encode::png::{PngCompression, UnknownPngCompression};
pub use error::{
    CacheError, ExportError, HeaderField, InvalidOption, OpenH264Error, PatternProblem, SizeLimit,
    X264Error,
};
pub use export::{
    export, ExportFailure, ExportJob, ExportReport, ExportTarget, FilePattern, Kept, MovieCodec,
    PipelineConfig, PoolMode,
};
pub use movie::{FrameRate, FrameRateError};
pub use output::OutputError;
pub use progress::Progress;
pub use source::{Conversion, READ_CHUNK_BYTES};
