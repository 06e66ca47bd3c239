//! Reading frames back from a cache file, recovering what a crash left.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

use super::format::{FrameHeader, FrameLayout, Header, FRAME_HEADER_LEN, HEADER_LEN};
use crate::error::CacheError;

/// Why a [`CacheReader`] stopped returning frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadEnd {
    /// Every frame the header promised was read (or, for an open cache, the
    /// file ended exactly at a record boundary).
    Complete,
    /// A finished cache whose header counts more frames than the file holds.
    Truncated {
        /// Frames the header promised.
        expected: u64,
        /// Frames present.
        found: u64,
    },
    /// The file ends inside a record (the recorder was killed mid-write).
    TornFrame {
        /// Index of the torn frame.
        index: u64,
        /// Byte offset of its record.
        offset: u64,
        /// Bytes of the record present.
        present: u64,
        /// Bytes a whole record has.
        expected: u64,
    },
    /// A record does not start with the frame marker.
    BadMarker {
        /// Index the record should have had.
        index: u64,
        /// Byte offset of the record.
        offset: u64,
    },
    /// A record carries an unexpected index or length.
    BadRecordHeader {
        /// Index the record should have had.
        index: u64,
        /// Byte offset of the record.
        offset: u64,
        /// What was wrong.
        detail: RecordProblem,
    },
    /// A record's pixels do not match its checksum.
    BadChecksum {
        /// Index of the frame.
        index: u64,
        /// Byte offset of its record.
        offset: u64,
    },
    /// A finished cache has bytes after its last counted frame.
    TrailingData {
        /// Byte offset where the extra bytes start.
        offset: u64,
        /// How many extra bytes.
        bytes: u64,
    },
}

impl ReadEnd {
    /// Whether the cache was read to its proper end without losing anything.
    pub fn is_complete(&self) -> bool {
        matches!(self, ReadEnd::Complete)
    }
}

impl std::fmt::Display for ReadEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadEnd::Complete => f.write_str("complete"),
            ReadEnd::Truncated { expected, found } => write!(
                f,
                "truncated: header counts {expected} frames but the file holds only {found}"
            ),
            ReadEnd::TornFrame {
                index,
                offset,
                present,
                expected,
            } => write!(
                f,
                "torn frame {index} at byte offset {offset}: {present} of {expected} bytes present"
            ),
            ReadEnd::BadMarker { index, offset } => {
                write!(
                    f,
                    "frame {index} at byte offset {offset} has no frame marker"
                )
            }
            ReadEnd::BadRecordHeader {
                index,
                offset,
                detail,
            } => write!(f, "frame {index} at byte offset {offset}: {detail}"),
            ReadEnd::BadChecksum { index, offset } => write!(
                f,
                "frame {index} at byte offset {offset} fails its checksum (damaged pixels)"
            ),
            ReadEnd::TrailingData { offset, bytes } => write!(
                f,
                "{bytes} unexpected bytes after the last frame, at byte offset {offset}"
            ),
        }
    }
}

/// What is wrong with a frame record's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordProblem {
    /// It carries another frame's index.
    WrongIndex {
        /// The index it carries.
        found: u32,
        /// The index it should carry.
        expected: u64,
    },
    /// It carries another frame length.
    WrongLength {
        /// The length it carries.
        found: u32,
        /// The frame length of the cache.
        expected: usize,
    },
}

impl std::fmt::Display for RecordProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordProblem::WrongIndex { found, expected } => {
                write!(f, "record carries index {found}, expected {expected}")
            }
            RecordProblem::WrongLength { found, expected } => {
                write!(f, "record length {found}, expected {expected}")
            }
        }
    }
}

/// Reads the frames of a cache one at a time into a caller's reused buffer.
///
/// The reader never memory-maps the file (touched pages of a mapping would
/// count toward the process's resident memory). It stops at the first
/// frame that is not whole and intact; [`end`](CacheReader::end) then says
/// why, and every frame before it has been returned.
pub struct CacheReader {
    file: File,
    path: PathBuf,
    header: Header,
    file_len: u64,
    offset: u64,
    frames_read: u64,
    end: Option<ReadEnd>,
}

impl CacheReader {
    /// Opens `path` and validates its header.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, CacheError> {
        let path = path.as_ref().to_path_buf();
        let mut file = File::open(&path).map_err(CacheError::io(&path))?;
        let file_len = file.metadata().map_err(CacheError::io(&path))?.len();
        let mut head = Vec::with_capacity(HEADER_LEN);
        (&mut file)
            .take(HEADER_LEN as u64)
            .read_to_end(&mut head)
            .map_err(CacheError::io(&path))?;
        let header = Header::decode(&head)?;
        Ok(CacheReader {
            file,
            path,
            header,
            file_len,
            offset: HEADER_LEN as u64,
            frames_read: 0,
            end: None,
        })
    }

    /// The frame layout from the header.
    pub fn layout(&self) -> FrameLayout {
        self.header.layout
    }

    /// The header as stored.
    pub fn header(&self) -> Header {
        self.header
    }

    /// The file's length in bytes when it was opened.
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// How many frames a full read should give: the header's count, or for
    /// an open cache the number of whole records the file's length allows.
    pub fn expected_frames(&self) -> u64 {
        let by_size =
            (self.file_len.saturating_sub(HEADER_LEN as u64)) / self.layout().record_len();
        match self.header.frame_count {
            Some(count) => count.min(by_size),
            None => by_size,
        }
    }

    /// Frames returned so far.
    pub fn frames_read(&self) -> u64 {
        self.frames_read
    }

    /// Why reading stopped, once [`read_frame`](Self::read_frame) has returned `false`.
    pub fn end(&self) -> Option<&ReadEnd> {
        self.end.as_ref()
    }

    /// Reads the next frame's pixels into `pixels` (exactly
    /// `layout().frame_len()` bytes). Returns `false` when there is no further
    /// intact frame; [`end`](Self::end) then says why.
    pub fn read_frame(&mut self, pixels: &mut [u8]) -> Result<bool, CacheError> {
        self.layout().check_frame_len(pixels.len())?;
        self.read_frame_in_chunks(pixels, |_, _| {})
    }

    /// Reads the next frame through `chunk`: `each(offset, bytes)` gets the
    /// frame's pixels in order, `chunk.len()` bytes at a time (the last piece
    /// may be shorter), `offset` counting from the frame's first byte. The
    /// checksum is verified after the last piece, so when this returns
    /// `false` (no further intact frame; [`end`](Self::end) says why) `each`
    /// may have seen part of a torn or damaged frame, and whatever it made
    /// of it must be dropped.
    ///
    /// With a chunk of a few rows, a frame never has to be in memory whole.
    pub fn read_frame_in_chunks(
        &mut self,
        chunk: &mut [u8],
        mut each: impl FnMut(usize, &[u8]),
    ) -> Result<bool, CacheError> {
        let frame_len = self.layout().frame_len();
        if chunk.is_empty() {
            return Err(CacheError::WrongFrameLen {
                got: 0,
                expected: frame_len,
            });
        }
        if self.end.is_some() {
            return Ok(false);
        }
        let index = self.frames_read;
        let offset = self.offset;
        let remaining = self.file_len.saturating_sub(offset);
        if self.header.frame_count == Some(index) {
            self.end = Some(if remaining > 0 {
                ReadEnd::TrailingData {
                    offset,
                    bytes: remaining,
                }
            } else {
                ReadEnd::Complete
            });
            return Ok(false);
        }
        let record_len = self.layout().record_len();
        let mut head = [0u8; FRAME_HEADER_LEN];
        let got = read_full(&mut self.file, &mut head).map_err(CacheError::io(&self.path))?;
        if got == 0 {
            self.end = Some(match self.header.frame_count {
                Some(expected) => ReadEnd::Truncated {
                    expected,
                    found: index,
                },
                None => ReadEnd::Complete,
            });
            return Ok(false);
        }
        if got < FRAME_HEADER_LEN {
            return self.stop(ReadEnd::TornFrame {
                index,
                offset,
                present: got as u64,
                expected: record_len,
            });
        }
        let fh = FrameHeader::decode(&head);
        if !fh.marker_ok {
            return self.stop(ReadEnd::BadMarker { index, offset });
        }
        if u64::from(fh.index) != index || fh.len as usize != frame_len {
            let detail = if u64::from(fh.index) != index {
                RecordProblem::WrongIndex {
                    found: fh.index,
                    expected: index,
                }
            } else {
                RecordProblem::WrongLength {
                    found: fh.len,
                    expected: frame_len,
                }
            };
            return self.stop(ReadEnd::BadRecordHeader {
                index,
                offset,
                detail,
            });
        }
        let mut crc = crc32fast::Hasher::new();
        crc.update(&fh.index.to_le_bytes());
        crc.update(&fh.len.to_le_bytes());
        let mut done = 0;
        let chunk_len = chunk.len();
        while done < frame_len {
            let piece = &mut chunk[..(frame_len - done).min(chunk_len)];
            let got = read_full(&mut self.file, piece).map_err(CacheError::io(&self.path))?;
            if got < piece.len() {
                return self.stop(ReadEnd::TornFrame {
                    index,
                    offset,
                    present: (FRAME_HEADER_LEN + done + got) as u64,
                    expected: record_len,
                });
            }
            crc.update(piece);
            each(done, piece);
            done += got;
        }
        if crc.finalize() != fh.crc {
            return self.stop(ReadEnd::BadChecksum { index, offset });
        }
        self.offset += record_len;
        self.frames_read += 1;
        Ok(true)
    }

    fn stop(&mut self, end: ReadEnd) -> Result<bool, CacheError> {
        self.end = Some(end);
        Ok(false)
    }
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
fn read_full(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// What a full scan of a cache found (for `reel info`).
#[derive(Debug, Clone)]
pub struct CacheScan {
    /// The header.
    pub header: Header,
    /// File length in bytes.
    pub file_len: u64,
    /// Intact frames recovered.
    pub frames: u64,
    /// Why the scan stopped.
    pub end: ReadEnd,
}

/// Reads every frame of a cache, verifying checksums, with one frame of memory.
pub fn scan_cache(path: impl AsRef<Path>) -> Result<CacheScan, CacheError> {
    let mut reader = CacheReader::open(path)?;
    let mut buf = vec![0; reader.layout().frame_len()];
    while reader.read_frame(&mut buf)? {}
    Ok(CacheScan {
        header: reader.header(),
        file_len: reader.file_len(),
        frames: reader.frames_read(),
        end: reader.end().cloned().unwrap_or(ReadEnd::Complete),
    })
}
