//! An H.264 movie encoded by OpenH264 (built in).

use openh264::formats::YUVBuffer;

use super::movie_file::MovieFile;
use super::output::{finish_movie, Finished, MovieSink, Output, Run};
use super::pipeline::PipelineConfig;
use super::ExportFailure;
use crate::encode::h264::openh264::{check_size, OpenH264Encoder, YuvStage};
use crate::error::{ExportError, OpenH264Error};
use crate::movie::VideoFormat;
use crate::stage::OrderedSink;

/// OpenH264's bitrate hint, in bits per pixel and frame. Rate control is
/// off (a constant quantizer, like x264's default quality-driven mode), so
/// this is only a hint.
const BITS_PER_PIXEL_HINT: f64 = 0.15;

/// An OpenH264 movie: colour conversion in parallel, encoding in order.
pub(crate) struct OpenH264Movie {
    sink: OpenH264Sink,
}

impl OpenH264Movie {
    /// Checks the size, starts the encoder and creates the movie's
    /// temporary file; `threads` is the export's worker count.
    pub(crate) fn start(
        movie: MovieFile,
        (width, height): (u16, u16),
        threads: usize,
    ) -> Result<Self, ExportError> {
        check_size(width.into(), height.into())?;
        let fps = movie.rounded_fps();
        let bps = (f64::from(width) * f64::from(height) * f64::from(fps) * BITS_PER_PIXEL_HINT)
            .min(f64::from(u32::MAX)) as u32;
        let encoder =
            OpenH264Encoder::new(fps as f32, bps, u64::from(fps) * 2, threads.min(4) as u16)?;
        Ok(OpenH264Movie {
            sink: OpenH264Sink {
                movie,
                encoder,
                size: (width, height),
            },
        })
    }
}

impl Output for OpenH264Movie {
    type Stage = YuvStage;
    type Sink = OpenH264Sink;

    fn into_parts(self) -> (YuvStage, OpenH264Sink) {
        (YuvStage::default(), self.sink)
    }

    fn finish(sink: OpenH264Sink, run: Run, _: PipelineConfig) -> Result<Finished, ExportFailure> {
        finish_movie(sink, run)
    }
}

/// Encodes converted frames in order and stores them.
pub(crate) struct OpenH264Sink {
    movie: MovieFile,
    /// Sequential: each frame may refer to the previous.
    encoder: OpenH264Encoder,
    size: (u16, u16),
}

impl OrderedSink for OpenH264Sink {
    type Input = YUVBuffer;
    fn write(&mut self, frame: u64, yuv: YUVBuffer) -> Result<(), ExportError> {
        self.movie.expect_frame(frame);
        let unit = self.encoder.encode(&yuv)?;
        self.movie.add_sample(&unit.data, unit.sync)
    }
}

impl MovieSink for OpenH264Sink {
    fn movie(&self) -> &MovieFile {
        &self.movie
    }
    fn into_movie(self) -> MovieFile {
        self.movie
    }
    fn format(&self) -> Result<VideoFormat, ExportError> {
        // Known once the first frame is encoded.
        let config = self.encoder.avc_config().ok_or(ExportError::OpenH264 {
            index: 0,
            source: OpenH264Error::NoParameterSets,
        })?;
        Ok(VideoFormat::h264(self.size.0, self.size.1, &config))
    }
}
