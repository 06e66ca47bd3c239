//! A frame left where it is stored, for the thread that encodes it to read a few rows at a time.
//!
//! Reading a frame whole on one thread and handing the buffer to another costs a copy out of the
//! page cache into memory and a second pass to read it back on the other thread; reading rows
//! where they are used keeps them in that core's cache (about a fifth of a PNG export's time on
//! 720p frames, BENCHMARKS.md).

use std::fs::File;
use std::io::ErrorKind;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::format::FrameLayout;
use crate::error::CacheError;

/// One frame's pixels in their file, not read yet. Its rows are read with positional reads, so
/// any thread can read them, in any order, while other frames of the file are read elsewhere.
///
/// A file that shrinks before the rows are read gives [`CacheError::FrameRead`], naming the
/// file, the frame and the byte offset.
#[derive(Debug, Clone)]
pub struct StoredFrame {
    file: Arc<File>,
    path: Arc<Path>,
    /// Where the frame's first stored row starts in the file.
    offset: u64,
    /// The frame's number as recorded.
    frame: u64,
    layout: FrameLayout,
    /// Unique among the frames of this process, so that a buffer holding some rows of one
    /// frame knows them from another's.
    id: u64,
}

impl StoredFrame {
    /// Frame `frame` of `file`, its first pixel at byte `offset`.
    pub(crate) fn new(
        file: Arc<File>,
        path: Arc<Path>,
        offset: u64,
        frame: u64,
        layout: FrameLayout,
    ) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        StoredFrame {
            file,
            path,
            offset,
            frame,
            layout,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// Size, pixel format and row order of the frame.
    pub fn layout(&self) -> FrameLayout {
        self.layout
    }

    /// The frame's number as recorded.
    pub fn frame(&self) -> u64 {
        self.frame
    }

    /// An identity no other stored frame of this process has.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Bytes in one stored row.
    pub fn row_len(&self) -> usize {
        self.layout.frame_len() / self.layout.height as usize
    }

    /// Reads stored rows `first..` (in the file's order) into `rows`, a whole number of rows
    /// that the frame has.
    ///
    /// # Panics
    ///
    /// If `rows` is not a whole number of rows, or runs past the frame's last row.
    pub fn read_rows(&self, first: usize, rows: &mut [u8]) -> Result<(), CacheError> {
        let row_len = self.row_len();
        assert!(
            rows.len() % row_len == 0 && first * row_len + rows.len() <= self.layout.frame_len(),
            "rows {first}.. ({} bytes) of a frame of {} rows",
            rows.len(),
            self.layout.height
        );
        self.read_bytes(first * row_len, rows)
    }

    /// Reads the frame's bytes from `start` on (counted from its first stored byte) into `bytes`.
    ///
    /// # Panics
    ///
    /// If `bytes` runs past the frame's end.
    pub fn read_bytes(&self, start: usize, bytes: &mut [u8]) -> Result<(), CacheError> {
        assert!(
            start + bytes.len() <= self.layout.frame_len(),
            "bytes {start}..{} of a frame of {}",
            start + bytes.len(),
            self.layout.frame_len()
        );
        let offset = self.offset + start as u64;
        self.file
            .read_exact_at(bytes, offset)
            .map_err(|source| CacheError::FrameRead {
                path: self.path.to_path_buf(),
                frame: self.frame,
                offset,
                source: if source.kind() == ErrorKind::UnexpectedEof {
                    std::io::Error::new(
                        ErrorKind::UnexpectedEof,
                        "the file shrank while it was read",
                    )
                } else {
                    source
                },
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::RowOrder;

    #[test]
    fn rows_are_read_at_the_frame_s_offset_and_a_shrunk_file_is_a_frame_read_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("frames.raw");
        let bytes: Vec<u8> = (0..100u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        // 2x3 RGBA frames of 24 bytes; the second starts at byte 24.
        let layout = FrameLayout::rgba(2, 3, RowOrder::BottomUp).unwrap();
        let file = Arc::new(File::open(&path).unwrap());
        let frame = StoredFrame::new(file, Arc::from(path.as_path()), 24, 1, layout);
        let mut rows = [0u8; 16];
        frame.read_rows(1, &mut rows).unwrap();
        assert_eq!(rows.to_vec(), (32..48).collect::<Vec<u8>>());

        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(40)
            .unwrap();
        let err = frame.read_rows(1, &mut rows).unwrap_err();
        assert!(
            matches!(
                &err,
                CacheError::FrameRead {
                    frame: 1,
                    offset: 32,
                    ..
                }
            ),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(
            message.contains("frames.raw") && message.contains("frame 1"),
            "{message}"
        );
        assert!(message.contains("shrank"), "{message}");
    }

    #[test]
    #[should_panic(expected = "rows 2..")]
    fn reading_past_the_last_row_panics() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("frames.raw");
        std::fs::write(&path, [0u8; 48]).unwrap();
        let layout = FrameLayout::rgba(2, 3, RowOrder::BottomUp).unwrap();
        let file = Arc::new(File::open(&path).unwrap());
        let frame = StoredFrame::new(file, Arc::from(path.as_path()), 0, 0, layout);
        frame.read_rows(2, &mut [0u8; 16]).unwrap();
    }
}
