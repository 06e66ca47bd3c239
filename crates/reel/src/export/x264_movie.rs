//! An H.264 movie encoded by x264 (loaded at run time).

use super::movie_file::MovieFile;
use super::output::{finish_movie, Finished, MovieSink, Output, Run};
use super::pipeline::PipelineConfig;
use super::ExportFailure;
use crate::encode::h264::avc_decoder_config;
use crate::encode::h264::x264::{
    check_size, I420Frame, I420Stage, X264Encoder, X264Library, X264Settings,
};
use crate::error::{ExportError, X264Error};
use crate::movie::VideoFormat;
use crate::recycle::BufferRecycler;
use crate::stage::OrderedSink;

/// An x264 movie: conversion to I420 in parallel, encoding in order.
pub(crate) struct X264Movie {
    stage: I420Stage,
    sink: X264Sink,
}

impl X264Movie {
    /// Checks the size, creates the movie's temporary file and opens the
    /// encoder; `threads` is the export's worker count (x264's frame threads).
    pub(crate) fn start(
        lib: &'static X264Library,
        movie: MovieFile,
        (width, height): (u16, u16),
        threads: usize,
    ) -> Result<Self, ExportError> {
        check_size(width.into(), height.into())?;
        let fps = movie.rounded_fps();
        let settings = X264Settings::like_ffmpeg(width.into(), height.into(), fps, threads);
        let encoder = X264Encoder::open(lib, &settings)?;
        let config = avc_decoder_config(encoder.sps(), encoder.pps()).ok_or(ExportError::X264 {
            index: 0,
            source: X264Error::UnusableSps,
        })?;
        let format = VideoFormat::h264(width, height, &config);
        // One I420 buffer per frame in flight, plus one being filled.
        let window = x264_pipeline(PipelineConfig::with_threads(threads)).window;
        let buffers = BufferRecycler::new(window + 1);
        Ok(X264Movie {
            stage: I420Stage::new(buffers),
            sink: X264Sink {
                movie,
                encoder,
                format,
            },
        })
    }
}

impl Output for X264Movie {
    type Stage = I420Stage;
    type Sink = X264Sink;

    fn pipeline(&self, asked: PipelineConfig) -> PipelineConfig {
        x264_pipeline(asked)
    }

    fn into_parts(self) -> (I420Stage, X264Sink) {
        (self.stage, self.sink)
    }

    fn finish(sink: X264Sink, run: Run, _: PipelineConfig) -> Result<Finished, ExportFailure> {
        finish_movie(sink, run)
    }
}

/// The pipeline in front of x264: `threads` frames in flight, as x264 has
/// `threads` frame threads of its own, but only half as many workers (at
/// least one) to convert them: conversion takes a small share of the time
/// x264 spends on a frame.
///
/// On 2 cores that is two frames in flight and one worker: x264 encodes on
/// both cores while the next frame is read and converted. (One frame in
/// flight saves an RGB and an I420 buffer but runs slower; three add memory
/// for no speed: see BENCHMARKS.md.)
fn x264_pipeline(config: PipelineConfig) -> PipelineConfig {
    let window = config.threads.max(1);
    PipelineConfig {
        threads: (window / 2).max(1),
        window,
        ..config
    }
}

/// Hands I420 frames to x264 in order and stores what comes out. x264
/// holds a few frames back (its frame threads); the end of the stream
/// drains them.
pub(crate) struct X264Sink {
    movie: MovieFile,
    encoder: X264Encoder<'static>,
    format: VideoFormat,
}

impl OrderedSink for X264Sink {
    type Input = I420Frame;
    fn write(&mut self, number: u64, frame: I420Frame) -> Result<(), ExportError> {
        self.movie.expect_frame(number);
        let encoded = self.encoder.encode(frame.bytes())?;
        // x264 has copied the input: its buffer goes back for the next frame.
        drop(frame);
        if let Some(out) = encoded {
            self.movie.add_sample(&out.data, out.sync)?;
        }
        Ok(())
    }
}

impl MovieSink for X264Sink {
    fn movie(&self) -> &MovieFile {
        &self.movie
    }
    fn into_movie(self) -> MovieFile {
        self.movie
    }

    /// Writes the frames x264 still holds; afterwards the movie has one
    /// sample per frame written.
    fn end_stream(&mut self, written: u64) -> Result<(), ExportError> {
        while let Some(frame) = self.encoder.flush()? {
            self.movie.add_sample(&frame.data, frame.sync)?;
        }
        let samples = self.movie.samples() as u64;
        if samples == written {
            Ok(())
        } else {
            Err(ExportError::X264 {
                index: samples,
                source: X264Error::FrameCount { samples, written },
            })
        }
    }

    fn format(&self) -> Result<VideoFormat, ExportError> {
        Ok(self.format.clone())
    }
}
