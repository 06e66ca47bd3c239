//! Writing a QuickTime movie under a temporary name, renamed when finished.

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use crate::error::{ExportError, InvalidOption};
use crate::movie::{MovieWriter, VideoFormat};

/// A movie being written to a hidden temporary file next to its final
/// path. [`finish`](MovieFile::finish) renames it into place; dropping it
/// unfinished (or after a failed `finish`) deletes the temporary file, so
/// no partial movie is left.
pub struct MovieFile {
    writer: Option<MovieWriter<BufWriter<File>>>,
    tmp: PathBuf,
    path: PathBuf,
    /// Set once the temporary file has been renamed into place.
    renamed: bool,
}

impl MovieFile {
    /// Starts a movie that will end up at `path`.
    pub fn create(path: &Path, fps: u32) -> Result<Self, ExportError> {
        if !(1..=1000).contains(&fps) {
            return Err(InvalidOption::Fps(fps).into());
        }
        let name = path
            .file_name()
            .ok_or_else(|| InvalidOption::NotAFilePath(path.to_path_buf()))?;
        let tmp = path.with_file_name(format!(".{}.reel-tmp", name.to_string_lossy()));
        let file = File::create(&tmp).map_err(ExportError::io(&tmp))?;
        let writer = MovieWriter::new(BufWriter::with_capacity(256 << 10, file), fps);
        let mut movie = MovieFile {
            writer: None,
            tmp: tmp.clone(),
            path: path.to_path_buf(),
            renamed: false,
        };
        movie.writer = Some(writer.map_err(ExportError::io(&tmp))?);
        Ok(movie)
    }

    /// The path the movie will have when finished.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Samples written so far.
    pub fn samples(&self) -> usize {
        self.writer.as_ref().map_or(0, |w| w.samples())
    }

    /// Appends one encoded frame.
    pub fn add_sample(&mut self, data: &[u8], sync: bool) -> Result<(), ExportError> {
        let writer = self.writer.as_mut().expect("movie not finished");
        writer
            .add_sample(data, sync)
            .map_err(ExportError::io(&self.tmp))
    }

    /// Writes the index, flushes and renames the movie into place; returns its size.
    pub fn finish(mut self, format: &VideoFormat) -> Result<u64, ExportError> {
        let writer = self.writer.take().expect("movie not finished");
        let io = ExportError::io(&self.tmp);
        let file = (|| {
            let file = writer
                .finish(format)?
                .into_inner()
                .map_err(|e| e.into_error())?;
            file.sync_all()?;
            Ok(file)
        })()
        .map_err(io)?;
        let size = file.metadata().map_err(ExportError::io(&self.tmp))?.len();
        drop(file);
        fs::rename(&self.tmp, &self.path).map_err(ExportError::io(&self.path))?;
        self.renamed = true;
        Ok(size)
    }
}

impl Drop for MovieFile {
    fn drop(&mut self) {
        if !self.renamed {
            // Close before removing; a failed finish() lands here too.
            self.writer = None;
            let _ = fs::remove_file(&self.tmp);
        }
    }
}
