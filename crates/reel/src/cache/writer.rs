//! Appending frames to a cache file.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::format::{encode_frame_header, FrameLayout, Header, FRAME_HEADER_LEN};
use crate::error::CacheError;

/// Records frames into a cache file (see [`crate::cache::format`]).
///
/// Every [`append`](CacheWriter::append) writes one whole record with a
/// single `write` from a buffer that is reused for every frame, so memory
/// stays at one frame and a recorder killed at any moment leaves every
/// complete frame readable. [`finish`](CacheWriter::finish) stores the final
/// frame count in the header.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use reel::cache::{CacheReader, CacheWriter, FrameLayout, RowOrder};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("frames.reel");
/// let layout = FrameLayout::rgba(2, 2, RowOrder::BottomUp)?;
/// let mut writer = CacheWriter::create(&path, layout)?;
/// writer.append(&[255u8; 16])?;
/// writer.append_with(|pixels| pixels.fill(7))?;
/// assert_eq!(writer.finish()?, 2);
///
/// let mut reader = CacheReader::open(&path)?;
/// let mut frame = vec![0; reader.layout().frame_len()];
/// assert!(reader.read_frame(&mut frame)?);
/// assert_eq!(frame, [255u8; 16]);
/// # Ok(()) }
/// ```
pub struct CacheWriter {
    file: File,
    path: PathBuf,
    layout: FrameLayout,
    /// Record header followed by the pixels; reused for every frame.
    record: Vec<u8>,
    frames: u32,
}

impl CacheWriter {
    /// Creates `path`, which must not exist yet, and writes an open header. An existing file
    /// is refused ([`CacheError::AlreadyExists`]) and left as it was: nothing is written over a
    /// file nobody asked to replace, and of two recorders given the same path only the first
    /// gets it. [`replace`](CacheWriter::replace) writes over an existing cache.
    pub fn create(path: impl AsRef<Path>, layout: FrameLayout) -> Result<Self, CacheError> {
        let path = path.as_ref().to_path_buf();
        let opened = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path);
        match opened {
            Ok(file) => Self::start(file, path, layout),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(CacheError::AlreadyExists { path })
            }
            Err(e) => Err(CacheError::io(&path)(e)),
        }
    }

    /// Creates `path`, or truncates it when it is an existing regular file, and writes an open
    /// header. An existing `path` that is not a regular file (a FIFO, a device, a socket, a
    /// directory) is refused before anything is written: a cache is rewritten in place when it
    /// is finished, which needs a seekable file.
    pub fn replace(path: impl AsRef<Path>, layout: FrameLayout) -> Result<Self, CacheError> {
        let path = path.as_ref().to_path_buf();
        if let Ok(meta) = std::fs::metadata(&path) {
            if !meta.is_file() {
                return Err(CacheError::NotARegularFile { path });
            }
        }
        let file = File::create(&path).map_err(CacheError::io(&path))?;
        Self::start(file, path, layout)
    }

    fn start(mut file: File, path: PathBuf, layout: FrameLayout) -> Result<Self, CacheError> {
        let header = Header {
            layout,
            frame_count: None,
        };
        file.write_all(&header.encode())
            .map_err(CacheError::io(&path))?;
        Ok(CacheWriter {
            file,
            path,
            layout,
            record: vec![0; FRAME_HEADER_LEN + layout.frame_len()],
            frames: 0,
        })
    }

    /// The layout of the frames this writer accepts.
    pub fn layout(&self) -> FrameLayout {
        self.layout
    }

    /// Frames appended so far.
    pub fn frames(&self) -> u32 {
        self.frames
    }

    /// Appends one frame given as a slice of exactly `layout().frame_len()` bytes.
    pub fn append(&mut self, pixels: &[u8]) -> Result<(), CacheError> {
        self.layout.check_frame_len(pixels.len())?;
        self.append_with(|dst| dst.copy_from_slice(pixels))
    }

    /// Appends one frame drawn by `draw` directly into the writer's reused
    /// buffer (no copy): a renderer or `glReadPixels` callback fills it.
    pub fn append_with(&mut self, draw: impl FnOnce(&mut [u8])) -> Result<(), CacheError> {
        if self.frames == u32::MAX {
            return Err(CacheError::TooManyFrames);
        }
        let (head, pixels) = self.record.split_at_mut(FRAME_HEADER_LEN);
        draw(pixels);
        head.copy_from_slice(&encode_frame_header(self.frames, pixels));
        self.file
            .write_all(&self.record)
            .map_err(CacheError::io(&self.path))?;
        self.frames += 1;
        Ok(())
    }

    /// Stores the frame count in the header, flushes to disk and returns the count.
    pub fn finish(mut self) -> Result<u64, CacheError> {
        let header = Header {
            layout: self.layout,
            frame_count: Some(u64::from(self.frames)),
        };
        let io = CacheError::io(&self.path);
        (|| {
            self.file.seek(SeekFrom::Start(0))?;
            self.file.write_all(&header.encode())?;
            self.file.sync_all()
        })()
        .map_err(io)?;
        Ok(u64::from(self.frames))
    }
}
