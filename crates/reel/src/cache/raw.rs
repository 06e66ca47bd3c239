//! Headerless raw frame files: a plain concatenation of RGBA bottom-up frames.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use super::format::{FrameLayout, RowOrder};
use super::stored_frame::StoredFrame;
use crate::error::CacheError;

/// A partial frame at the end of a raw file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartialTail {
    /// Byte offset where the partial frame starts.
    pub offset: u64,
    /// Bytes of it present.
    pub bytes: u64,
    /// Bytes a whole frame has.
    pub frame_len: u64,
}

impl std::fmt::Display for PartialTail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "partial frame at byte offset {}: {} of {} bytes present; not exported",
            self.offset, self.bytes, self.frame_len
        )
    }
}

/// Reads the whole frames of a headerless file written by the classic
/// recorder (RGBA, rows bottom-up, no framing).
///
/// The size is given by the caller (`--raw WxH`); [`open`](RawReader::open)
/// rejects a size that cannot be right for the file before anything is read.
pub struct RawReader {
    /// Shared with the [`StoredFrame`]s handed out.
    file: Arc<File>,
    path: Arc<Path>,
    range: Option<std::ops::Range<u64>>,
    layout: FrameLayout,
    file_len: u64,
    frames: u64,
    frames_read: u64,
}

impl RawReader {
    /// Opens `path` as raw `width`×`height` RGBA bottom-up frames.
    ///
    /// Fails if the size is zero or the file cannot hold one whole frame.
    pub fn open(path: impl AsRef<Path>, width: u32, height: u32) -> Result<Self, CacheError> {
        let path = path.as_ref();
        let layout = FrameLayout::rgba(width, height, RowOrder::BottomUp)?;
        let file = File::open(path).map_err(CacheError::io(path))?;
        let file_len = file.metadata().map_err(CacheError::io(path))?.len();
        // A reel cache read as raw frames would give garbage shifted by its record headers.
        let mut magic = [0u8; 8];
        if std::os::unix::fs::FileExt::read_exact_at(&file, &mut magic, 0).is_ok()
            && magic == super::format::MAGIC
        {
            return Err(CacheError::RawIsACache {
                path: path.to_path_buf(),
            });
        }
        let frame_len = layout.frame_len() as u64;
        if file_len < frame_len {
            return Err(CacheError::RawTooSmall {
                path: path.to_path_buf(),
                len: file_len,
                width,
                height,
                frame_len,
            });
        }
        Ok(RawReader {
            file: Arc::new(file),
            path: Arc::from(path),
            layout,
            file_len,
            frames: file_len / frame_len,
            frames_read: 0,
            range: None,
        })
    }

    /// The range asked for with [`restrict_to`](Self::restrict_to), if any.
    pub fn range(&self) -> Option<std::ops::Range<u64>> {
        self.range.clone()
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Frames returned so far.
    pub fn frames_read(&self) -> u64 {
        self.frames_read
    }

    /// The frame layout (always RGBA bottom-up).
    pub fn layout(&self) -> FrameLayout {
        self.layout
    }

    /// The number of whole frames in the file.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The file's length in bytes.
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// The partial frame at the end, if the length is not a whole number of frames.
    pub fn partial_tail(&self) -> Option<PartialTail> {
        let frame_len = self.layout.frame_len() as u64;
        let bytes = self.file_len % frame_len;
        (bytes > 0).then_some(PartialTail {
            offset: self.frames * frame_len,
            bytes,
            frame_len,
        })
    }

    /// Reads only frames `range` (numbered from 0 in file order) from now on. Call before
    /// reading.
    pub fn restrict_to(&mut self, range: std::ops::Range<u64>) {
        let start = range.start.min(self.frames);
        self.frames_read = start;
        self.frames = self.frames.min(range.end.max(start));
        self.range = Some(range);
    }

    /// The next whole frame left in the file, for its reader to read where it is used;
    /// `None` after the last one. Reads nothing: a file that shrank since it was opened shows
    /// when the frame's rows are read.
    pub fn next_stored_frame(&mut self) -> Option<StoredFrame> {
        if self.frames_read == self.frames {
            return None;
        }
        let frame = self.frames_read;
        self.frames_read += 1;
        let offset = frame * self.layout.frame_len() as u64;
        Some(StoredFrame::new(
            Arc::clone(&self.file),
            Arc::clone(&self.path),
            offset,
            frame,
            self.layout,
        ))
    }

    /// Reads the next whole frame into `pixels`; `false` after the last one.
    pub fn read_frame(&mut self, pixels: &mut [u8]) -> Result<bool, CacheError> {
        self.layout.check_frame_len(pixels.len())?;
        self.read_frame_in_chunks(pixels, |_, _| {})
    }

    /// Reads the next whole frame through `chunk`, handing `each(offset,
    /// bytes)` the pixels `chunk.len()` bytes at a time (the last piece may
    /// be shorter); `false` after the last frame.
    pub fn read_frame_in_chunks(
        &mut self,
        chunk: &mut [u8],
        mut each: impl FnMut(usize, &[u8]),
    ) -> Result<bool, CacheError> {
        let frame_len = self.layout.frame_len();
        if chunk.is_empty() {
            return Err(CacheError::WrongFrameLen {
                got: 0,
                expected: frame_len,
            });
        }
        if self.frames_read == self.frames {
            return Ok(false);
        }
        // The same positional reads as a stored frame's: the file has no position to keep.
        let frame = self.next_stored_frame().expect("a frame is left");
        let mut done = 0;
        let chunk_len = chunk.len();
        while done < frame_len {
            let piece = &mut chunk[..(frame_len - done).min(chunk_len)];
            frame.read_bytes(done, piece)?;
            each(done, piece);
            done += piece.len();
        }
        Ok(true)
    }
}
