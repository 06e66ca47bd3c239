//! A movie of lossless PNG samples (`png `).

use super::movie_file::MovieFile;
use super::output::{finish_movie, Finished, ImageSampleSink, Output, Run};
use super::pipeline::PipelineConfig;
use super::ExportFailure;
use crate::encode::png::PngStage;
use crate::error::ExportError;
use crate::movie::VideoFormat;

/// A PNG movie: frames PNG-encoded in parallel, stored as sync samples.
pub(crate) struct PngMovie {
    sink: ImageSampleSink,
}

impl PngMovie {
    /// Creates the movie's temporary file for `width`x`height` frames.
    pub(crate) fn start(movie: MovieFile, width: u16, height: u16) -> Result<Self, ExportError> {
        Ok(PngMovie {
            sink: ImageSampleSink {
                movie,
                format: VideoFormat::new(*b"png ", width, height, "PNG"),
            },
        })
    }
}

impl Output for PngMovie {
    type Stage = PngStage;
    type Sink = ImageSampleSink;

    fn into_parts(self) -> (PngStage, ImageSampleSink) {
        (PngStage, self.sink)
    }

    fn finish(
        sink: ImageSampleSink,
        run: Run,
        _: PipelineConfig,
    ) -> Result<Finished, ExportFailure> {
        finish_movie(sink, run)
    }
}
