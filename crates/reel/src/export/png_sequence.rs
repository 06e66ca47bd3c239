//! Writing a numbered PNG sequence, one complete file at a time.
//!
//! Workers encode each frame straight into a hidden temporary file beside its final name (see
//! [`crate::output`]), so no encoded frame is held in memory; the sink renames the files into
//! place in frame order. A file therefore carries its final name only once it is complete.
//! Files are named by recorded frame number, so a frame lost to damage leaves a gap.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use super::file_pattern::FilePattern;
use super::output::{nothing_to_export, Finished, Output, Run};
use super::pipeline::{PipelineConfig, PipelineFailure};
use super::{ExportFailure, Kept};
use crate::encode::png::{encode_png_with, PngCompression, PngEncodeError};
use crate::error::ExportError;
use crate::output::{SequenceTarget, TempFile};
use crate::source::Image;
use crate::stage::{FrameStage, OrderedSink};
use std::sync::Arc;

/// A PNG sequence: frames encoded in parallel straight into their
/// temporary files, renamed into place in order.
pub(crate) struct PngFiles {
    layout: SequenceLayout,
    compression: PngCompression,
}

impl PngFiles {
    /// Prepares `dir` for the sequence (see [`SequenceTarget::prepare`]): frame `f` is named
    /// `pattern.name(f + numbering)`.
    ///
    /// With a `range` (recorded frames), only the files that range would write count as this
    /// export's (existing ones are refused or replaced; others are another range's and left
    /// alone), so an export split into ranges across processes makes one sequence.
    pub(crate) fn start(
        dir: &Path,
        pattern: &FilePattern,
        compression: PngCompression,
        numbering: i64,
        range: Option<std::ops::Range<u64>>,
        input: &Path,
        overwrite: bool,
    ) -> Result<Self, ExportError> {
        let shift = |frame: u64| renumber(frame, numbering);
        let numbers = range.as_ref().map(|r| shift(r.start)..shift(r.end));
        let lock_name = match &numbers {
            Some(n) => format!("{}.{}-{}", pattern.as_text(), n.start, n.end),
            None => pattern.as_text(),
        };
        let ours = |name: &str| {
            pattern
                .number_of(name)
                .is_some_and(|n| numbers.as_ref().is_none_or(|r| r.contains(&n)))
        };
        let target = SequenceTarget::prepare(dir, &lock_name, ours, Some(input), overwrite)?;
        Ok(PngFiles {
            layout: SequenceLayout {
                target: Arc::new(target),
                pattern: pattern.clone(),
                numbering,
            },
            compression,
        })
    }
}

impl Output for PngFiles {
    type Stage = PngFileStage;
    type Sink = PngSequenceSink;

    fn pipeline(&self, asked: PipelineConfig) -> PipelineConfig {
        png_sequence_pipeline(asked)
    }

    fn into_parts(self) -> (PngFileStage, PngSequenceSink) {
        let stage = PngFileStage {
            layout: self.layout.clone(),
            compression: self.compression,
        };
        (stage, PngSequenceSink::new(self.layout))
    }

    fn finish(
        sink: PngSequenceSink,
        run: Run,
        _config: PipelineConfig,
    ) -> Result<Finished, ExportFailure> {
        // Encoded frames past the last named one were dropped with the pipeline's queues, and
        // their temporary files with them.
        let kept = Kept::PngFiles {
            count: sink.written(),
            dir: sink.layout.target.dir().to_path_buf(),
        };
        match run {
            Ok(outcome) if outcome.written == 0 && !outcome.aborted => {
                Err(nothing_to_export(&outcome, kept))
            }
            Ok(outcome) => Ok(Finished {
                outcome,
                output_bytes: sink.bytes(),
                kept,
                stale_removed: sink.layout.target.stale_removed().len(),
            }),
            Err(PipelineFailure { error, written }) => Err(ExportFailure {
                error,
                written,
                kept,
            }),
        }
    }
}

/// The pipeline for PNG sequences: one more frame in flight than asked for.
///
/// Frames are named in order, so a worker that finishes while its
/// neighbour's frame is still being written waits once the window is full;
/// and writing a file takes the kernel a time that varies from frame to
/// frame far more than encoding does. One more frame absorbs that, for a
/// little more peak memory (a second one, when frames travelled as RGB,
/// measured no faster since they travel as stored RGBA: BENCHMARKS.md).
fn png_sequence_pipeline(config: PipelineConfig) -> PipelineConfig {
    PipelineConfig {
        window: config.window + 1,
        ..config
    }
}

/// Where frame files go: the prepared (and locked) directory and the names.
#[derive(Debug, Clone)]
pub struct SequenceLayout {
    target: Arc<SequenceTarget>,
    pattern: FilePattern,
    numbering: i64,
}

impl SequenceLayout {
    /// The file name of recorded frame `frame`.
    pub fn name_of(&self, frame: u64) -> String {
        self.pattern.name(renumber(frame, self.numbering))
    }
}

/// Frame number `frame` shifted by `numbering`, kept within `u64` (ranges may end at `u64::MAX`).
fn renumber(frame: u64, numbering: i64) -> u64 {
    (i128::from(frame) + i128::from(numbering)).clamp(0, u64::MAX.into()) as u64
}

/// Encodes each image into its temporary file.
#[derive(Debug, Clone)]
pub struct PngFileStage {
    /// Where the files go.
    pub layout: SequenceLayout,
    /// How hard each file is compressed.
    pub compression: PngCompression,
}

impl FrameStage for PngFileStage {
    /// The temporary file and its size.
    type Output = (TempFile, u64);

    fn process(&mut self, image: &Image) -> Result<(TempFile, u64), ExportError> {
        let name = self.layout.name_of(image.frame());
        let (temp, file) = self.layout.target.temp_file(&name)?;
        let output_error = ExportError::io(self.layout.target.dir().join(&name));
        let mut file = BufWriter::with_capacity(256 << 10, file);
        // On failure the temporary file goes with `temp`.
        match encode_png_with(image, self.compression, &mut file) {
            Ok(()) => {}
            Err(PngEncodeError::Input(input)) => return Err(ExportError::Input(input)),
            Err(PngEncodeError::Encoding(::png::EncodingError::IoError(io))) => {
                return Err(output_error(io))
            }
            Err(PngEncodeError::Encoding(other)) => {
                return Err(output_error(std::io::Error::other(other)))
            }
        }
        let written = (|| {
            let file: File = file.into_inner().map_err(|e| e.into_error())?;
            file.metadata().map(|m| m.len())
        })();
        written.map(|bytes| (temp, bytes)).map_err(output_error)
    }
}

/// Renames finished temporary files into place, in frame order.
pub struct PngSequenceSink {
    layout: SequenceLayout,
    written: u64,
    bytes: u64,
}

impl PngSequenceSink {
    /// A sink for `layout`.
    pub fn new(layout: SequenceLayout) -> Self {
        PngSequenceSink {
            layout,
            written: 0,
            bytes: 0,
        }
    }

    /// Files completely written and named.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Bytes in those files.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl OrderedSink for PngSequenceSink {
    type Input = (TempFile, u64);

    fn write(&mut self, _frame: u64, (temp, bytes): (TempFile, u64)) -> Result<(), ExportError> {
        self.layout.target.persist(temp)?;
        self.written += 1;
        self.bytes += bytes;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_sequences_keep_one_more_frame_in_flight_than_asked() {
        let asked = PipelineConfig::with_threads(2);
        let png = png_sequence_pipeline(asked);
        assert_eq!((png.threads, png.window), (asked.threads, asked.window + 1));
    }
}
