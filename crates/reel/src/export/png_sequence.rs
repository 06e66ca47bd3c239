//! Writing a numbered PNG sequence, one complete file at a time.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::file_pattern::FilePattern;
use super::pipeline::FrameSink;
use crate::error::ExportError;

/// Writes each encoded frame to `DIR/<pattern(index)>`.
///
/// Each file is written under a hidden temporary name and renamed into
/// place only when complete, so an interrupted export never leaves a file
/// that looks complete but is not.
pub struct PngSequenceSink {
    dir: PathBuf,
    pattern: FilePattern,
    written: u64,
    bytes: u64,
}

impl PngSequenceSink {
    /// Creates `dir` if needed and checks that files can be created in it.
    pub fn create(dir: &Path, pattern: FilePattern) -> Result<Self, ExportError> {
        fs::create_dir_all(dir).map_err(ExportError::output(dir))?;
        // Fail before any work if the directory cannot take files.
        let probe = dir.join(format!(".reel-write-test-{}", std::process::id()));
        fs::File::create(&probe).map_err(ExportError::output(dir))?;
        let _ = fs::remove_file(&probe);
        Ok(PngSequenceSink {
            dir: dir.to_path_buf(),
            pattern,
            written: 0,
            bytes: 0,
        })
    }

    /// Files completely written.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Bytes in the files completely written.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The path of frame `index`'s file.
    pub fn path_of(&self, index: u64) -> PathBuf {
        self.dir.join(self.pattern.name(index))
    }
}

impl FrameSink for PngSequenceSink {
    type Input = Vec<u8>;

    fn write(&mut self, index: u64, png: Vec<u8>) -> Result<(), ExportError> {
        let path = self.path_of(index);
        let tmp = self
            .dir
            .join(format!(".{}.reel-tmp", self.pattern.name(index)));
        let result = (|| {
            let mut file = fs::File::create(&tmp)?;
            file.write_all(&png)?;
            // Renamed only once whole. (No fsync per file: this guards
            // against a killed or failing export, not power loss, and an
            // fsync per frame would cost more than encoding it.)
            fs::rename(&tmp, &path)
        })();
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp);
            return Err(ExportError::Output { path, source: e });
        }
        self.written += 1;
        self.bytes += png.len() as u64;
        Ok(())
    }
}
