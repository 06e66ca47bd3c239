//! Writing a QuickTime movie under a temporary name, renamed when finished.

use std::collections::VecDeque;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use crate::error::ExportError;
use crate::movie::{FrameRate, MovieWriter, VideoFormat};
use crate::output::{MovieTarget, TempFile};

/// A movie being written to a hidden temporary file beside its final path (see
/// [`crate::output`]: the target was checked and locked before anything was written).
/// [`finish`](MovieFile::finish) renames it into place; dropping it unfinished (or after a failed
/// `finish`) deletes the temporary file, so no partial movie is left.
///
/// Samples keep the movie's timing across frames missing from the input: the sinks say which
/// recorded frame comes next ([`expect_frame`](MovieFile::expect_frame)), and a sample lasts
/// until the next sample's frame (the last one until the end of the recording), so a frame
/// before a damaged one is held in its place.
pub struct MovieFile {
    writer: Option<MovieWriter<BufWriter<File>>>,
    temp: Option<TempFile>,
    target: MovieTarget,
    /// Recorded frame numbers of frames given to the encoder, not yet stored as samples.
    frames: VecDeque<u64>,
    /// The first recorded frame, which the movie starts at.
    first_frame: Option<u64>,
    rate: FrameRate,
}

impl MovieFile {
    /// Starts a movie at the prepared `target`, at `rate` frames per second.
    pub fn create(target: MovieTarget, rate: FrameRate) -> Result<Self, ExportError> {
        let (temp, file) = target.temp_file()?;
        let writer = MovieWriter::with_rate(BufWriter::with_capacity(256 << 10, file), rate)
            .map_err(ExportError::io(target.path()))?;
        Ok(MovieFile {
            writer: Some(writer),
            temp: Some(temp),
            target,
            frames: VecDeque::new(),
            first_frame: None,
            rate,
        })
    }

    /// Whole frames per second, for encoders' rate control (at least 1).
    pub fn rounded_fps(&self) -> u32 {
        (self.rate.as_f64().round() as u32).max(1)
    }

    /// The path the movie will have when finished.
    pub fn path(&self) -> &Path {
        self.target.path()
    }

    /// Temporary files of earlier, killed exports removed when the target was prepared.
    pub fn stale_removed(&self) -> usize {
        self.target.stale_removed().len()
    }

    /// Samples written so far.
    pub fn samples(&self) -> usize {
        self.writer.as_ref().map_or(0, |w| w.samples())
    }

    /// Notes that recorded frame `frame` is the next one given to the encoder (in increasing
    /// order): the next sample stored is that frame.
    pub fn expect_frame(&mut self, frame: u64) {
        self.first_frame.get_or_insert(frame);
        self.frames.push_back(frame);
    }

    /// Appends one encoded frame: the oldest frame noted by [`expect_frame`](Self::expect_frame)
    /// (or the one after the previous sample's, if none was noted).
    pub fn add_sample(&mut self, data: &[u8], sync: bool) -> Result<(), ExportError> {
        let writer = self.writer.as_mut().expect("movie not finished");
        let frame = self.frames.pop_front();
        let at = frame.map_or(writer.samples() as u64, |f| {
            f - self.first_frame.unwrap_or(0)
        });
        writer
            .add_sample_at(data, sync, at)
            .map_err(ExportError::io(self.target.path()))
    }

    /// Writes the index, flushes and renames the movie into place; returns its size.
    /// `end_frame` is the recorded frame the movie ends before: the last sample lasts until it.
    pub fn finish(mut self, format: &VideoFormat, end_frame: u64) -> Result<u64, ExportError> {
        let writer = self.writer.take().expect("movie not finished");
        let path: PathBuf = self.target.path().to_path_buf();
        let end = end_frame.saturating_sub(self.first_frame.unwrap_or(0));
        let file = (|| {
            let file = writer
                .finish_at(format, end)?
                .into_inner()
                .map_err(|e| e.into_error())?;
            file.sync_all()?;
            Ok(file)
        })()
        .map_err(ExportError::io(&path))?;
        let size = file.metadata().map_err(ExportError::io(&path))?.len();
        drop(file);
        let temp = self.temp.take().expect("movie not finished");
        self.target.persist(temp)?;
        Ok(size)
    }
}
