//! One interface over the two kinds of frame input: caches and raw files.

use std::path::Path;

use super::format::FrameLayout;
use super::raw::{PartialTail, RawReader};
use super::reader::{CacheReader, ReadEnd};
use crate::error::CacheError;

/// A source of stored frames: a reel cache or a headerless raw file.
pub enum FrameInput {
    /// A reel cache.
    Cache(CacheReader),
    /// A headerless raw file.
    Raw(RawReader),
}

impl FrameInput {
    /// Opens a cache, or a raw file when `raw_size` gives its frame size.
    pub fn open(path: impl AsRef<Path>, raw_size: Option<(u32, u32)>) -> Result<Self, CacheError> {
        Ok(match raw_size {
            Some((w, h)) => FrameInput::Raw(RawReader::open(path, w, h)?),
            None => FrameInput::Cache(CacheReader::open(path)?),
        })
    }

    /// The frames' layout.
    pub fn layout(&self) -> FrameLayout {
        match self {
            FrameInput::Cache(r) => r.layout(),
            FrameInput::Raw(r) => r.layout(),
        }
    }

    /// How many frames a full read is expected to give.
    pub fn expected_frames(&self) -> u64 {
        match self {
            FrameInput::Cache(r) => r.expected_frames(),
            FrameInput::Raw(r) => r.frames(),
        }
    }

    /// Reads the next frame into `pixels`; `false` when no intact frame is left.
    pub fn read_frame(&mut self, pixels: &mut [u8]) -> Result<bool, CacheError> {
        match self {
            FrameInput::Cache(r) => r.read_frame(pixels),
            FrameInput::Raw(r) => r.read_frame(pixels),
        }
    }

    /// Reads the next frame `chunk.len()` bytes at a time, handing each
    /// piece to `each(offset, bytes)`; `false` when no intact frame is left
    /// (`each` may then have seen part of a damaged frame: drop what it made).
    pub fn read_frame_in_chunks(
        &mut self,
        chunk: &mut [u8],
        each: impl FnMut(usize, &[u8]),
    ) -> Result<bool, CacheError> {
        match self {
            FrameInput::Cache(r) => r.read_frame_in_chunks(chunk, each),
            FrameInput::Raw(r) => r.read_frame_in_chunks(chunk, each),
        }
    }

    /// After reading stopped: the frames that could not be used (torn,
    /// damaged, partial), or `None` if the input was whole.
    pub fn damage(&self) -> Option<Damage> {
        match self {
            FrameInput::Cache(r) => {
                r.end()
                    .filter(|end| !end.is_complete())
                    .map(|end| Damage::Cache {
                        end: end.clone(),
                        recovered: r.frames_read(),
                    })
            }
            FrameInput::Raw(r) => r.partial_tail().map(Damage::RawTail),
        }
    }
}

/// Frames of an input that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Damage {
    /// A cache that stopped before its proper end.
    Cache {
        /// Why reading stopped.
        end: ReadEnd,
        /// Intact frames read before that.
        recovered: u64,
    },
    /// A raw file ending in a partial frame.
    RawTail(PartialTail),
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Damage::Cache { end, recovered } => {
                write!(f, "cache {end}; {recovered} intact frames recovered")
            }
            Damage::RawTail(tail) => tail.fmt(f),
        }
    }
}
