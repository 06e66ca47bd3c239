//! A Motion JPEG movie (`jpeg`).

use super::movie_file::MovieFile;
use super::output::{finish_movie, Finished, ImageSampleSink, Output, Run};
use super::pipeline::PipelineConfig;
use super::ExportFailure;
use crate::encode::jpeg::JpegStage;
use crate::error::ExportError;
use crate::movie::VideoFormat;

/// An MJPEG movie: frames JPEG-encoded in parallel, stored as sync samples.
pub(crate) struct MjpegMovie {
    stage: JpegStage,
    sink: ImageSampleSink,
}

impl MjpegMovie {
    /// Checks the quality, then creates the movie's temporary file.
    pub(crate) fn start(
        movie: MovieFile,
        quality: u8,
        width: u16,
        height: u16,
    ) -> Result<Self, ExportError> {
        let stage = JpegStage::new(quality)?;
        Ok(MjpegMovie {
            stage,
            sink: ImageSampleSink {
                movie,
                format: VideoFormat::new(*b"jpeg", width, height, "Photo - JPEG"),
            },
        })
    }
}

impl Output for MjpegMovie {
    type Stage = JpegStage;
    type Sink = ImageSampleSink;

    fn into_parts(self) -> (JpegStage, ImageSampleSink) {
        (self.stage, self.sink)
    }

    fn finish(
        sink: ImageSampleSink,
        run: Run,
        _: PipelineConfig,
    ) -> Result<Finished, ExportFailure> {
        finish_movie(sink, run)
    }
}
