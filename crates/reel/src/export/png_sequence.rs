//! Writing a numbered PNG sequence, one complete file at a time.
//!
//! Workers encode each frame straight into a hidden temporary file
//! (`.image-0007.png.reel-tmp`), so no encoded frame is held in memory; the
//! sink renames the files into place in frame order. A file therefore
//! carries its final name only once it is complete, and the names appear
//! contiguously from 0.

use std::fs;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use super::file_pattern::FilePattern;
use super::pipeline::{FrameSink, FrameStage};
use crate::encode::png::{encode_png_with, PngCompression};
use crate::error::ExportError;
use crate::source::Image;

/// Where frame files go: names, and the temporary name of each.
#[derive(Debug, Clone)]
pub struct SequenceLayout {
    dir: PathBuf,
    pattern: FilePattern,
}

impl SequenceLayout {
    /// Creates `dir` if needed and checks that files can be created in it.
    pub fn create(dir: &Path, pattern: FilePattern) -> Result<Self, ExportError> {
        fs::create_dir_all(dir).map_err(ExportError::output(dir))?;
        // Fail before any work if the directory cannot take files.
        let probe = dir.join(format!(".reel-write-test-{}", std::process::id()));
        fs::File::create(&probe).map_err(ExportError::output(dir))?;
        let _ = fs::remove_file(&probe);
        Ok(SequenceLayout {
            dir: dir.to_path_buf(),
            pattern,
        })
    }

    /// The final path of frame `index`.
    pub fn path_of(&self, index: u64) -> PathBuf {
        self.dir.join(self.pattern.name(index))
    }

    /// The temporary path frame `index` is written under.
    pub fn temp_path_of(&self, index: u64) -> PathBuf {
        self.dir
            .join(format!(".{}.reel-tmp", self.pattern.name(index)))
    }
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
    type Output = (PathBuf, u64);

    fn process(&mut self, image: &Image) -> Result<(PathBuf, u64), ExportError> {
        let tmp = self.layout.temp_path_of(image.index());
        let written = (|| {
            let mut file = BufWriter::with_capacity(256 << 10, fs::File::create(&tmp)?);
            encode_png_with(image, self.compression, &mut file).map_err(|e| match e {
                ::png::EncodingError::IoError(io) => io,
                other => std::io::Error::other(other),
            })?;
            let file = file.into_inner().map_err(|e| e.into_error())?;
            file.metadata().map(|m| m.len())
        })();
        match written {
            Ok(bytes) => Ok((tmp, bytes)),
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                Err(ExportError::Output {
                    path: self.layout.path_of(image.index()),
                    source: e,
                })
            }
        }
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

    /// Removes temporary files of frames that were encoded but never named
    /// (after a failure or abort). `in_flight` bounds how far past the last
    /// written frame encoding can have got.
    pub fn discard_unnamed(&self, in_flight: u64) {
        for index in self.written..self.written + in_flight {
            let _ = fs::remove_file(self.layout.temp_path_of(index));
        }
    }
}

impl FrameSink for PngSequenceSink {
    type Input = (PathBuf, u64);

    fn write(&mut self, index: u64, (tmp, bytes): (PathBuf, u64)) -> Result<(), ExportError> {
        let path = self.layout.path_of(index);
        if let Err(e) = fs::rename(&tmp, &path) {
            let _ = fs::remove_file(&tmp);
            return Err(ExportError::Output { path, source: e });
        }
        self.written += 1;
        self.bytes += bytes;
        Ok(())
    }
}

impl Drop for PngSequenceSink {
    fn drop(&mut self) {
        // Nothing is in flight once the sink is dropped, but a temporary
        // for the next frame may remain after a failure.
        let _ = fs::remove_file(self.layout.temp_path_of(self.written));
    }
}
