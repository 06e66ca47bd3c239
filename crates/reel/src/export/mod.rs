//! Exporting frames: PNG sequences and QuickTime movies.
//!
//! [`export`] reads an input through the [`ImageSource`](crate::source::ImageSource)
//! protocol, encodes frames in parallel with a bounded window (see
//! [`pipeline`]) and writes them in order.

pub mod file_pattern;
pub mod movie;
pub mod pipeline;
pub mod png_sequence;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use file_pattern::FilePattern;
pub use movie::{MovieCodec, MovieFile};
pub use pipeline::{PipelineConfig, PoolMode};

use crate::cache::FrameInput;
use crate::encode::h264::{self, H264Backend, H264Choice, OpenH264Encoder, YuvStage};
use crate::encode::jpeg::JpegStage;
use crate::encode::png::{PngCompression, PngStage};
use crate::encode::x264::{self, I420Stage, X264Encoder, X264Settings};
use crate::error::ExportError;
use crate::movie::VideoFormat;
use crate::progress::ExportProgress;
use crate::recycle::BufferRecycler;
use crate::source::FrameFileSource;
use movie::{H264Sink, ImageSampleSink, X264Sink};
use pipeline::{run_pipeline, PipelineFailure, PipelineOutcome};
use png_sequence::{PngFileStage, PngSequenceSink, SequenceLayout};

/// What to write.
#[derive(Debug, Clone)]
pub enum ExportTarget {
    /// Numbered PNG files in a directory, from 0.
    PngSequence {
        /// The directory (created if missing).
        dir: PathBuf,
        /// File names.
        pattern: FilePattern,
        /// How hard each file is compressed.
        compression: PngCompression,
    },
    /// A QuickTime movie.
    Movie {
        /// The movie's path.
        path: PathBuf,
        /// Sample codec.
        codec: MovieCodec,
        /// Frames per second.
        fps: u32,
        /// JPEG quality (1–100) for MJPEG.
        jpeg_quality: u8,
        /// The H.264 encoder, for [`MovieCodec::H264`].
        h264_encoder: H264Backend,
    },
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
    pub damage: Option<String>,
    /// Bytes of output kept (all PNG files, or the movie; 0 for an aborted movie).
    pub output_bytes: u64,
    /// What was left on disk, in words.
    pub kept: String,
    /// Most objects waiting in the export thread's autorelease pools at once.
    pub pool_high_water: usize,
    /// The H.264 encoder used ([`H264Backend::X264`] or
    /// [`H264Backend::OpenH264`]); `None` for other outputs.
    pub h264_encoder: Option<H264Backend>,
    /// Wall time.
    pub elapsed: Duration,
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
    /// What was left on disk, in words.
    pub kept: String,
}

impl ExportFailure {
    fn before_start(error: ExportError) -> Self {
        ExportFailure {
            error,
            written: 0,
            kept: "nothing written".into(),
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
    progress: &ExportProgress,
) -> Result<ExportReport, ExportFailure> {
    let result = export_inner(input, target, config, progress);
    progress.mark_finished();
    result
}

fn export_inner(
    input: FrameInput,
    target: &ExportTarget,
    config: PipelineConfig,
    progress: &ExportProgress,
) -> Result<ExportReport, ExportFailure> {
    let started = Instant::now();
    let config = match target {
        ExportTarget::PngSequence { .. } => png_sequence_pipeline(config),
        ExportTarget::Movie { .. } => config,
    };
    let layout = input.layout();
    let mut source = FrameFileSource::new(input, config.window);
    let report = |outcome: PipelineOutcome, output_bytes: u64, kept: String| ExportReport {
        expected: outcome.info.expected_frames,
        written: outcome.written,
        aborted: outcome.aborted,
        damage: outcome.source_end.damage,
        output_bytes,
        kept,
        pool_high_water: outcome.pool_high_water,
        h264_encoder: None,
        elapsed: started.elapsed(),
    };
    match target {
        ExportTarget::PngSequence {
            dir,
            pattern,
            compression,
        } => {
            let layout = SequenceLayout::create(dir, pattern.clone())
                .map_err(ExportFailure::before_start)?;
            let stage = PngFileStage {
                layout: layout.clone(),
                compression: *compression,
            };
            let sink = PngSequenceSink::new(layout);
            let (sink, result) =
                run_pipeline(&mut source, || Ok(stage.clone()), sink, config, progress);
            // Encoded frames past the last named one are not kept.
            sink.discard_unnamed(config.window as u64);
            let kept = format!(
                "{} complete PNG files kept in {}",
                sink.written(),
                dir.display()
            );
            match result {
                Ok(outcome) if outcome.written == 0 && !outcome.aborted => {
                    Err(nothing_to_export(&outcome, kept))
                }
                Ok(outcome) => Ok(report(outcome, sink.bytes(), kept)),
                Err(PipelineFailure { error, written }) => Err(ExportFailure {
                    error,
                    written,
                    kept,
                }),
            }
        }
        ExportTarget::Movie {
            path,
            codec,
            fps,
            jpeg_quality,
            h264_encoder,
        } => {
            let (w, h) = (layout.width, layout.height);
            if w > u32::from(u16::MAX) || h > u32::from(u16::MAX) {
                return Err(ExportFailure::before_start(ExportError::Unsupported(
                    format!("a movie cannot hold {w}x{h} frames"),
                )));
            }
            let mut format = VideoFormat {
                codec_tag: codec.tag(),
                width: w as u16,
                height: h as u16,
                compressor_name: codec.compressor_name().into(),
                extensions: Vec::new(),
            };
            let no_movie = || format!("no movie written to {}", path.display());
            let finish = |movie: MovieFile, format: &VideoFormat, outcome: PipelineOutcome| {
                if outcome.aborted {
                    // Dropping the unfinished movie deletes its temporary file.
                    drop(movie);
                    return Ok(report(outcome, 0, no_movie()));
                }
                if outcome.written == 0 {
                    drop(movie);
                    return Err(nothing_to_export(&outcome, no_movie()));
                }
                let written = outcome.written;
                match movie.finish(format) {
                    Ok(size) => Ok(report(
                        outcome,
                        size,
                        format!("movie written to {}", path.display()),
                    )),
                    Err(error) => Err(ExportFailure {
                        error,
                        written,
                        kept: no_movie(),
                    }),
                }
            };
            let fail = |PipelineFailure { error, written }| ExportFailure {
                error,
                written,
                kept: no_movie(),
            };
            match codec {
                MovieCodec::Png | MovieCodec::Mjpeg => {
                    let stage = match codec {
                        MovieCodec::Png => None,
                        _ => {
                            JpegStage::check_size(w, h).map_err(ExportFailure::before_start)?;
                            Some(
                                JpegStage::new(*jpeg_quality)
                                    .map_err(ExportFailure::before_start)?,
                            )
                        }
                    };
                    let movie =
                        MovieFile::create(path, *fps).map_err(ExportFailure::before_start)?;
                    let sink = ImageSampleSink { movie };
                    let (sink, result) = run_pipeline(
                        &mut source,
                        || Ok(ImageStage(stage.clone())),
                        sink,
                        config,
                        progress,
                    );
                    finish(sink.movie, &format, result.map_err(fail)?)
                }
                MovieCodec::H264 => {
                    let choice = h264_encoder.choose().map_err(ExportFailure::before_start)?;
                    let backend = choice.backend();
                    let with_backend = |r: Result<ExportReport, ExportFailure>| {
                        r.map(|report| ExportReport {
                            h264_encoder: Some(backend),
                            ..report
                        })
                    };
                    if let H264Choice::X264(lib) = choice {
                        x264::check_size(w, h).map_err(ExportFailure::before_start)?;
                        let settings = X264Settings::like_ffmpeg(w, h, *fps, config.threads);
                        let config = x264_pipeline(config);
                        // The movie first: it checks the rate and the path.
                        let movie =
                            MovieFile::create(path, *fps).map_err(ExportFailure::before_start)?;
                        let encoder = X264Encoder::open(lib, &settings)
                            .map_err(ExportFailure::before_start)?;
                        format.extensions =
                            avcc_atom(encoder.sps(), encoder.pps()).ok_or_else(|| {
                                ExportFailure::before_start(ExportError::Encode {
                                    index: 0,
                                    message: "x264 gave an unusable SPS".into(),
                                })
                            })?;
                        // One I420 buffer per frame in flight, plus one being filled.
                        let buffers = BufferRecycler::new(config.window + 1);
                        let sink = X264Sink { movie, encoder };
                        let (mut sink, result) = run_pipeline(
                            &mut source,
                            || Ok(I420Stage::new(Arc::clone(&buffers))),
                            sink,
                            config,
                            progress,
                        );
                        let outcome = result.map_err(fail)?;
                        if !outcome.aborted {
                            let written = outcome.written;
                            let drained = sink.finish_stream().and_then(|()| {
                                let samples = sink.movie.samples() as u64;
                                if samples == written {
                                    Ok(())
                                } else {
                                    Err(ExportError::Encode {
                                        index: samples,
                                        message: format!(
                                            "x264 gave {samples} frames for {written}"
                                        ),
                                    })
                                }
                            });
                            drained.map_err(|error| ExportFailure {
                                error,
                                written: sink.movie.samples() as u64,
                                kept: no_movie(),
                            })?;
                        }
                        return with_backend(finish(sink.movie, &format, outcome));
                    }
                    h264::check_size(w, h).map_err(ExportFailure::before_start)?;
                    // Rate control is off (constant quantizer, like x264's default
                    // quality-driven mode); the bitrate is only OpenH264's hint.
                    let bps = (f64::from(w) * f64::from(h) * f64::from(*fps) * 0.15)
                        .min(f64::from(u32::MAX)) as u32;
                    let threads = config.threads.min(4) as u16;
                    let encoder =
                        OpenH264Encoder::new(*fps as f32, bps, u64::from(*fps) * 2, threads)
                            .map_err(ExportFailure::before_start)?;
                    let movie =
                        MovieFile::create(path, *fps).map_err(ExportFailure::before_start)?;
                    let sink = H264Sink { movie, encoder };
                    let (sink, result) =
                        run_pipeline(&mut source, || Ok(YuvStage), sink, config, progress);
                    let outcome = result.map_err(fail)?;
                    if outcome.written > 0 {
                        let config = sink.encoder.avc_config();
                        format.extensions = config
                            .and_then(|c| avcc_atom_from_record(&c))
                            .ok_or_else(|| ExportFailure {
                                error: ExportError::Encode {
                                    index: 0,
                                    message: "OpenH264 gave no SPS/PPS".into(),
                                },
                                written: outcome.written,
                                kept: no_movie(),
                            })?;
                    }
                    with_backend(finish(sink.movie, &format, outcome))
                }
            }
        }
    }
}

/// The failure for an input without a single intact frame.
fn nothing_to_export(outcome: &PipelineOutcome, kept: String) -> ExportFailure {
    let why = outcome.source_end.damage.as_deref().map_or_else(
        || "the input holds no frames".to_string(),
        |d| format!("the input holds no intact frame ({d})"),
    );
    ExportFailure {
        error: ExportError::Unsupported(format!("nothing to export: {why}")),
        written: 0,
        kept,
    }
}

/// PNG or JPEG frame encoding behind one stage type.
struct ImageStage(Option<JpegStage>);

impl pipeline::FrameStage for ImageStage {
    type Output = Vec<u8>;
    fn process(&mut self, image: &crate::source::Image) -> Result<Vec<u8>, ExportError> {
        match &mut self.0 {
            None => PngStage.process(image),
            Some(jpeg) => jpeg.process(image),
        }
    }
}

/// The pipeline for PNG sequences: two more frames in flight than asked for.
///
/// Frames are named in order, so a worker that finishes while its
/// neighbour's frame is still being written waits once the window is full;
/// and writing a file takes the kernel a time that varies from frame to
/// frame far more than encoding does. Two more frames absorb that: on 2
/// cores at 1280x720, in interleaved runs of the same export, the median
/// rate rose from 305 to 331 frames/s on a busy machine and from 366 to 389
/// on a quiet one, with the same CPU time, for 5.5 MiB more peak memory
/// (18 to 23.5 MiB). One more frame gained about half of that.
fn png_sequence_pipeline(config: PipelineConfig) -> PipelineConfig {
    PipelineConfig {
        window: config.window + 2,
        ..config
    }
}

/// The pipeline in front of x264: `threads` frames in flight, as x264 has
/// `threads` frame threads of its own, but only half as many workers (at
/// least one) to convert them: conversion takes about a sixth of the time
/// x264 spends on a frame.
///
/// On 2 cores that is two frames in flight and one worker: x264 encodes on
/// both cores while the next frame is read and converted. (One frame in
/// flight saves an RGB and an I420 buffer, 4 MiB at 1280x720, but runs
/// about 15% slower; three add 4 MiB for no speed.)
fn x264_pipeline(config: PipelineConfig) -> PipelineConfig {
    let window = config.threads.max(1);
    PipelineConfig {
        threads: (window / 2).max(1),
        window,
        ..config
    }
}

/// The `avcC` atom for one SPS and PPS.
fn avcc_atom(sps: &[u8], pps: &[u8]) -> Option<Vec<u8>> {
    avcc_atom_from_record(&h264::avc_decoder_config(sps, pps)?)
}

fn avcc_atom_from_record(record: &[u8]) -> Option<Vec<u8>> {
    let mut w = crate::movie::atoms::AtomWriter::new();
    w.atom(*b"avcC", |w| w.bytes(record));
    Some(w.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_sequences_keep_two_more_frames_in_flight_than_asked() {
        let asked = PipelineConfig::with_threads(2);
        let png = png_sequence_pipeline(asked);
        assert_eq!((png.threads, png.window), (asked.threads, asked.window + 2));
    }
}
