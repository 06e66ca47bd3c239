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

use super::format::{FrameHeader, FrameLayout, FRAME_HEADER_LEN};
use crate::error::CacheError;

/// One frame's pixels in their file, not read yet. Its rows are read with positional reads, so
/// any thread can read them, in any order, while other frames of the file are read elsewhere.
///
/// A file that shrinks before the rows are read gives [`CacheError::FrameRead`], naming the
/// file, the frame and the byte offset. A frame from a cache carries its record's checksum,
/// which its reader checks once it has read every row ([`verify`](Self::verify)): a damaged
/// frame is only known as such then.
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
    /// A cache record's header (its checksum covers the index, the length and the pixels).
    record: Option<FrameHeader>,
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
            record: None,
        }
    }

    /// The frame of a cache record with this header, whose pixels follow it at `offset`.
    pub(crate) fn with_record(mut self, record: FrameHeader) -> Self {
        self.record = Some(record);
        self
    }

    /// Whether the frame carries a checksum to [`verify`](Self::verify) (cache records do, raw
    /// files do not).
    pub fn has_checksum(&self) -> bool {
        self.record.is_some()
    }

    /// Checks the frame against its record's checksum, from the CRC-32 of each piece of its
    /// pixels: `pieces` gives each piece's CRC-32 and length, in the file's order, covering
    /// every byte once. Always `Ok` for a frame without a checksum.
    ///
    /// # Panics
    ///
    /// If the pieces do not add up to the frame's length.
    pub fn verify(&self, pieces: impl IntoIterator<Item = (u32, usize)>) -> Result<(), CacheError> {
        let Some(record) = self.record else {
            return Ok(());
        };
        let mut crc = crc32fast::Hasher::new();
        crc.update(&record.index.to_le_bytes());
        crc.update(&record.len.to_le_bytes());
        let mut covered = 0;
        for (piece, len) in pieces {
            crc.combine(&crc32fast::Hasher::new_with_initial_len(piece, len as u64));
            covered += len;
        }
        assert_eq!(
            covered,
            self.layout.frame_len(),
            "pieces covering the frame"
        );
        if crc.finalize() == record.crc {
            Ok(())
        } else {
            Err(self.damaged())
        }
    }

    /// The error for this frame's pixels not matching its checksum.
    pub fn damaged(&self) -> CacheError {
        CacheError::FrameChecksum {
            path: self.path.to_path_buf(),
            frame: self.frame,
            offset: self.offset - FRAME_HEADER_LEN as u64,
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
            rows.len().is_multiple_of(row_len)
                && first * row_len + rows.len() <= self.layout.frame_len(),
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
    fn a_record_verifies_from_its_pieces_checksums_and_a_changed_byte_fails_it() {
        let layout = FrameLayout::rgba(2, 3, RowOrder::BottomUp).unwrap();
        let pixels: Vec<u8> = (0..24u8).map(|b| b.wrapping_mul(37)).collect();
        let mut head = [0u8; FRAME_HEADER_LEN];
        head.copy_from_slice(&super::super::format::encode_frame_header(4, &pixels));
        let record = FrameHeader::decode(&head);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.reel");
        std::fs::write(&path, b"").unwrap();
        let file = Arc::new(File::open(&path).unwrap());
        let frame =
            StoredFrame::new(file, Arc::from(path.as_path()), 80, 4, layout).with_record(record);
        assert!(frame.has_checksum());
        let pieces = |bytes: &[u8]| -> Vec<(u32, usize)> {
            bytes
                .chunks(10)
                .map(|p| (crc32fast::hash(p), p.len()))
                .collect()
        };
        frame.verify(pieces(&pixels)).unwrap();
        let mut damaged = pixels.clone();
        damaged[17] ^= 1;
        let err = frame.verify(pieces(&damaged)).unwrap_err();
        assert!(
            matches!(
                err,
                CacheError::FrameChecksum {
                    frame: 4,
                    offset: 64,
                    ..
                }
            ),
            "{err:?}"
        );
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
