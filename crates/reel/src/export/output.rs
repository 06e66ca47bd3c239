//! What every kind of output has in common: a parallel stage, an in-order
//! sink, and a step that keeps or discards the result once the frames have
//! run through the pipeline.

use std::path::PathBuf;

use super::movie_file::MovieFile;
use super::pipeline::{run_pipeline, PipelineConfig, PipelineFailure, PipelineOutcome, PoolMode};
use super::{ExportFailure, Kept};
use crate::cache::FrameInput;
use crate::error::ExportError;
use crate::movie::VideoFormat;
use crate::progress::Progress;
use crate::source::{Conversion, FrameFileSource};
use crate::stage::{FrameStage, OrderedSink};

/// A pipeline run as its sink saw it.
pub(crate) type Run = Result<PipelineOutcome, PipelineFailure>;

/// One kind of output (PNG files, PNG / MJPEG / H.264 movie), ready to run.
pub(crate) trait Output: Sized {
    /// The per-frame work, cloned for each worker.
    type Stage: FrameStage + Clone;
    /// The in-order work.
    type Sink: OrderedSink<Input = <Self::Stage as FrameStage>::Output>;

    /// The pipeline this output runs best with, given the one asked for.
    fn pipeline(&self, asked: PipelineConfig) -> PipelineConfig {
        asked
    }

    /// Splits the output into its stage and its sink.
    fn into_parts(self) -> (Self::Stage, Self::Sink);

    /// Keeps (or discards) what the run produced; `config` is the pipeline
    /// it ran with.
    fn finish(
        sink: Self::Sink,
        run: Run,
        config: PipelineConfig,
    ) -> Result<Finished, ExportFailure>;
}

/// A run whose output was kept (or, when aborted, discarded as asked).
pub(crate) struct Finished {
    /// What the pipeline reported.
    pub outcome: PipelineOutcome,
    /// Bytes of output kept.
    pub output_bytes: u64,
    /// What was left on disk.
    pub kept: Kept,
    /// Temporary files of earlier, killed exports that were removed before writing.
    pub stale_removed: usize,
}

/// Runs every intact frame of `input` through `output`.
pub(crate) fn run_output<O: Output>(
    output: O,
    input: FrameInput,
    asked: PipelineConfig,
    progress: &Progress,
) -> Result<Finished, ExportFailure> {
    let config = output.pipeline(asked);
    // Enough spare frame buffers for every frame in flight, whichever window is larger.
    let spare = config.window.max(asked.window);
    // Frames are read where they are encoded; the classic bug's demonstration reads them as
    // the classic exporter did, whole on the export thread, so that the images its one pool
    // keeps hold their pixels.
    let conversion = match config.pool_mode {
        PoolMode::PerFrame => Conversion::OnEncoderThreads,
        PoolMode::Single => Conversion::WhileReading,
    };
    let mut source = FrameFileSource::new(input, spare, conversion);
    let (stage, sink) = output.into_parts();
    let (sink, run) = run_pipeline(&mut source, || Ok(stage.clone()), sink, config, progress);
    O::finish(sink, run, config)
}

/// The failure for a run without a single intact frame.
pub(crate) fn nothing_to_export(outcome: &PipelineOutcome, kept: Kept) -> ExportFailure {
    ExportFailure {
        error: ExportError::NothingToExport {
            damage: outcome.source_end.damage.clone(),
        },
        written: 0,
        kept,
    }
}

/// The sink of a movie output: it owns the movie, and knows the sample
/// description and what the encoder still holds at the end.
pub(crate) trait MovieSink: OrderedSink + Sized {
    /// The movie being written.
    fn movie(&self) -> &MovieFile;

    /// Gives up the movie (to finish it, or to drop it, which deletes it).
    fn into_movie(self) -> MovieFile;

    /// Stores the frames the encoder still holds, after a run that was not
    /// aborted and wrote `written` frames.
    fn end_stream(&mut self, written: u64) -> Result<(), ExportError> {
        let _ = written;
        Ok(())
    }

    /// The sample description, once every frame is in.
    fn format(&self) -> Result<VideoFormat, ExportError>;
}

/// The finish step of every movie output: end the stream, then rename the
/// finished movie into place, or delete it when aborted or empty.
pub(crate) fn finish_movie<S: MovieSink>(mut sink: S, run: Run) -> Result<Finished, ExportFailure> {
    let path: PathBuf = sink.movie().path().to_path_buf();
    let stale_removed = sink.movie().stale_removed();
    let no_movie = || Kept::NoMovie { path: path.clone() };
    let fail = |error, written| ExportFailure {
        error,
        written,
        kept: no_movie(),
    };
    let outcome = run.map_err(|PipelineFailure { error, written }| fail(error, written))?;
    if outcome.aborted {
        // Dropping the unfinished movie deletes its temporary file.
        drop(sink);
        return Ok(Finished {
            outcome,
            output_bytes: 0,
            kept: no_movie(),
            stale_removed,
        });
    }
    let written = outcome.written;
    sink.end_stream(written)
        .map_err(|error| fail(error, sink.movie().samples() as u64))?;
    if written == 0 {
        drop(sink);
        return Err(nothing_to_export(&outcome, no_movie()));
    }
    let format = sink.format().map_err(|error| fail(error, written))?;
    match sink
        .into_movie()
        .finish(&format, outcome.source_end.end_frame)
    {
        Ok(size) => Ok(Finished {
            outcome,
            output_bytes: size,
            kept: Kept::Movie { path },
            stale_removed,
        }),
        Err(error) => Err(fail(error, written)),
    }
}

/// The sink for PNG and JPEG frames: each is one sync sample.
pub(crate) struct ImageSampleSink {
    /// The movie being written.
    pub movie: MovieFile,
    /// Its sample description (fixed from the start).
    pub format: VideoFormat,
}

impl OrderedSink for ImageSampleSink {
    type Input = Vec<u8>;
    fn write(&mut self, frame: u64, item: Vec<u8>) -> Result<(), ExportError> {
        self.movie.expect_frame(frame);
        self.movie.add_sample(&item, true)
    }
}

impl MovieSink for ImageSampleSink {
    fn movie(&self) -> &MovieFile {
        &self.movie
    }
    fn into_movie(self) -> MovieFile {
        self.movie
    }
    fn format(&self) -> Result<VideoFormat, ExportError> {
        Ok(self.format.clone())
    }
}
