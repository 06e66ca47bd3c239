//! Exporting frames: PNG sequences and QuickTime movies.
//!
//! [`export`] reads an input through the image source protocol (begin,
//! next image, end), encodes frames in parallel with a bounded window (the
//! pipeline) and writes them in order; [`ExportJob`] runs it on a thread
//! of its own. Each kind of output (PNG files,
//! or a movie of PNG, MJPEG, OpenH264 or x264 samples) is one type owning
//! its stage, its sink, its sample description and its finish step.

mod file_pattern;
mod job;
mod mjpeg_movie;
mod movie_file;
mod openh264_movie;
mod output;
mod pipeline;
mod png_movie;
mod png_sequence;
mod x264_movie;

use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use file_pattern::FilePattern;
pub use job::ExportJob;
pub use pipeline::{PipelineConfig, PoolMode};

use crate::cache::{Damage, FrameInput};
use crate::encode::h264::x264::{X264Unavailable, INSTALL_HINT};
use crate::encode::h264::{H264Backend, H264Choice};
use crate::encode::png::PngCompression;
use crate::error::{ExportError, SizeLimit};
use crate::movie::FrameRate;
use crate::output::MovieTarget;
use crate::progress::Progress;
use mjpeg_movie::MjpegMovie;
use movie_file::MovieFile;
use openh264_movie::OpenH264Movie;
use output::{run_output, Finished};
use png_movie::PngMovie;
use png_sequence::PngFiles;
use x264_movie::X264Movie;

/// What to write.
#[derive(Debug, Clone)]
pub enum ExportTarget {
    /// Numbered PNG files in a directory, each named by its recorded frame number (so a
    /// damaged frame leaves a gap in the names), or from `start_number` on.
    PngSequence {
        /// The directory (created if missing).
        dir: PathBuf,
        /// File names.
        pattern: FilePattern,
        /// The number of the first exported range's first frame; `None`: frames keep their
        /// recorded numbers.
        start_number: Option<u64>,
        /// How hard each file is compressed.
        compression: PngCompression,
        /// Remove the sequence's existing files (exactly those the pattern names) first;
        /// without it, existing files make the export refuse.
        overwrite: bool,
    },
    /// A QuickTime movie.
    Movie {
        /// The movie's path.
        path: PathBuf,
        /// Sample codec, with its options.
        codec: MovieCodec,
        /// Frames per second, exactly.
        rate: FrameRate,
        /// Replace an existing movie; without it, an existing file makes the export refuse.
        overwrite: bool,
    },
}

/// The codec of a movie's samples, with the options that codec takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MovieCodec {
    /// Lossless PNG frames (`png `).
    Png,
    /// Motion JPEG (`jpeg`).
    Mjpeg {
        /// JPEG quality, 1–100.
        quality: u8,
    },
    /// H.264 (`avc1`).
    H264 {
        /// Which encoder: x264 when it loads, or OpenH264 (see [`H264Backend`]).
        encoder: H264Backend,
    },
}

/// What an export left on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept {
    /// Nothing: the export failed before writing.
    Nothing,
    /// Complete PNG files, named contiguously from frame 0.
    PngFiles {
        /// How many.
        count: u64,
        /// Their directory.
        dir: PathBuf,
    },
    /// The finished movie.
    Movie {
        /// Its path.
        path: PathBuf,
    },
    /// No movie: its temporary file was removed.
    NoMovie {
        /// The path the movie would have had.
        path: PathBuf,
    },
}

impl std::fmt::Display for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Kept::Nothing => f.write_str("nothing written"),
            Kept::PngFiles { count, dir } => {
                write!(f, "{count} complete PNG files kept in {}", dir.display())
            }
            Kept::Movie { path } => write!(f, "movie written to {}", path.display()),
            Kept::NoMovie { path } => write!(f, "no movie written to {}", path.display()),
        }
    }
}

/// A finished (or aborted) export.
#[derive(Debug, Clone)]
pub struct ExportReport {
    /// Frames the input was expected to give.
    pub expected: u64,
    /// Frames completely written.
    pub written: u64,
    /// Whether the export stopped early on request.
    pub aborted: bool,
    /// Input damage noticed (torn frames, partial tail).
    pub damage: Option<Damage>,
    /// Bytes of output kept (all PNG files, or the movie; 0 for an aborted movie).
    pub output_bytes: u64,
    /// What was left on disk.
    pub kept: Kept,
    /// Temporary files of earlier, killed exports into the same place, removed first.
    pub stale_removed: usize,
    /// Most objects waiting in the export thread's autorelease pools at once.
    pub pool_high_water: usize,
    /// The H.264 encoder used ([`H264Backend::X264`] or
    /// [`H264Backend::OpenH264`]); `None` for other outputs.
    pub h264_encoder: Option<H264Backend>,
    /// With [`H264Backend::Auto`] falling back to OpenH264: why x264 was
    /// not used.
    pub x264_missing: Option<X264Unavailable>,
    /// Wall time.
    pub elapsed: Duration,
}

impl ExportReport {
    /// A one-line note when [`H264Backend::Auto`] fell back to OpenH264:
    /// why, and how to get x264.
    pub fn fallback_note(&self) -> Option<String> {
        self.x264_missing
            .as_ref()
            .map(|e| format!("H.264 through OpenH264 (slower): {e}; `{INSTALL_HINT}` to use x264"))
    }
}

/// A failed export: what went wrong and what was kept.
///
/// Its message is the cause followed by how far the export got; the cause
/// is also its `source()`, as with the library's other errors that name
/// their cause (the `reel` command leaves out a cause its message already
/// holds).
#[derive(Debug, thiserror::Error)]
#[error("{error} ({written} frames written; {kept})")]
pub struct ExportFailure {
    /// The cause.
    #[source]
    pub error: ExportError,
    /// Frames completely written before the failure.
    pub written: u64,
    /// What was left on disk.
    pub kept: Kept,
}

impl From<ExportError> for ExportFailure {
    /// A failure before anything was written.
    fn from(error: ExportError) -> Self {
        ExportFailure {
            error,
            written: 0,
            kept: Kept::Nothing,
        }
    }
}

/// Exports every intact frame of `input` to `target`.
///
/// `progress` is updated as frames are written and polled for an abort
/// request; it is marked finished when this returns.
pub fn export(
    input: FrameInput,
    target: &ExportTarget,
    config: PipelineConfig,
    progress: &Progress,
) -> Result<ExportReport, ExportFailure> {
    let started = Instant::now();
    let result = export_to(input, target, config, progress);
    progress.mark_finished();
    let (finished, h264) = result?;
    let outcome = finished.outcome;
    Ok(ExportReport {
        expected: outcome.info.expected_frames,
        written: outcome.written,
        aborted: outcome.aborted,
        damage: outcome.source_end.damage,
        output_bytes: finished.output_bytes,
        kept: finished.kept,
        stale_removed: finished.stale_removed,
        pool_high_water: outcome.pool_high_water,
        h264_encoder: h264.as_ref().map(H264Choice::backend),
        x264_missing: h264.and_then(H264Choice::into_x264_missing),
        elapsed: started.elapsed(),
    })
}

/// Runs the output `target` asks for; also gives the H.264 encoder chosen.
fn export_to(
    input: FrameInput,
    target: &ExportTarget,
    config: PipelineConfig,
    progress: &Progress,
) -> Result<(Finished, Option<H264Choice>), ExportFailure> {
    let (path, codec, rate, overwrite) = match target {
        ExportTarget::PngSequence {
            dir,
            pattern,
            start_number,
            compression,
            overwrite,
        } => {
            let numbering = start_number.map_or(0, |n| n as i64 - input.first_frame() as i64);
            let range = input.range();
            let output = PngFiles::start(
                dir,
                pattern,
                *compression,
                numbering,
                range,
                input.path(),
                *overwrite,
            )?;
            return Ok((run_output(output, input, config, progress)?, None));
        }
        ExportTarget::Movie {
            path,
            codec,
            rate,
            overwrite,
        } => (path, *codec, *rate, *overwrite),
    };
    let layout = input.layout();
    let (w, h) = (layout.width, layout.height);
    // Checked before any output exists; see SizeLimit::Movie for the 32767.
    let fits = |side: u32| u16::try_from(side).ok().filter(|&s| s <= 32767);
    let (Some(width), Some(height)) = (fits(w), fits(h)) else {
        let limit = SizeLimit::Movie;
        return Err(ExportError::InvalidSize {
            limit,
            width: w,
            height: h,
        }
        .into());
    };
    // A PNG sample is about as big as the frame's RGB (noise does not compress).
    let png_sample = u64::from(w) * u64::from(h) * 3 + u64::from(h);
    if codec == MovieCodec::Png && png_sample > i32::MAX as u64 {
        return Err(ExportError::InvalidSize {
            limit: SizeLimit::PngSample,
            width: w,
            height: h,
        }
        .into());
    }
    // Checked and locked before anything is written.
    let target =
        MovieTarget::prepare(path, Some(input.path()), overwrite).map_err(ExportError::from)?;
    let movie = MovieFile::create(target, rate)?;
    let finished = match codec {
        MovieCodec::Png => {
            let output = PngMovie::start(movie, width, height)?;
            run_output(output, input, config, progress)?
        }
        MovieCodec::Mjpeg { quality } => {
            let output = MjpegMovie::start(movie, quality, width, height)?;
            run_output(output, input, config, progress)?
        }
        MovieCodec::H264 { encoder } => {
            // The one place the H.264 encoder is chosen.
            let choice = encoder.choose()?;
            let size = (width, height);
            let finished = match &choice {
                H264Choice::X264(lib) => {
                    let output = X264Movie::start(lib, movie, size, config.threads)?;
                    run_output(output, input, config, progress)?
                }
                H264Choice::OpenH264 { .. } => {
                    let output = OpenH264Movie::start(movie, size, config.threads)?;
                    run_output(output, input, config, progress)?
                }
            };
            return Ok((finished, Some(choice)));
        }
    };
    Ok((finished, None))
}
