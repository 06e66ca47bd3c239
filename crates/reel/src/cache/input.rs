//! One interface over the two kinds of frame input: caches and raw files.

use std::path::Path;

use super::format::FrameLayout;
use super::raw::RawReader;
use super::reader::CacheReader;
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

    /// After reading stopped: a description of frames that could not be
    /// used (torn, damaged, partial), or `None` if the input was whole.
    pub fn damage_report(&self) -> Option<String> {
        match self {
            FrameInput::Cache(r) => {
                let end = r.end().filter(|end| !end.is_complete());
                if r.damage().is_empty() && end.is_none() {
                    return None;
                }
                let mut report = String::new();
                if !r.damage().is_empty() {
                    let lost: u64 = r.damage().iter().map(super::Damage::frames).sum();
                    const DETAILED: usize = 3;
                    let details: Vec<String> = r
                        .damage()
                        .iter()
                        .take(DETAILED)
                        .map(|d| d.to_string())
                        .collect();
                    let more = r.damage().len().saturating_sub(DETAILED);
                    report = format!(
                        "{lost} frame(s) damaged or missing, skipped: {} ({}{})",
                        super::describe_ranges(r.damage()),
                        details.join("; "),
                        if more > 0 {
                            format!("; and {more} more runs")
                        } else {
                            String::new()
                        }
                    );
                }
                if let Some(end) = end {
                    if !report.is_empty() {
                        report.push_str("; ");
                    }
                    report.push_str(&format!("cache {end}"));
                }
                report.push_str(&format!("; {} intact frames recovered", r.frames_read()));
                Some(report)
            }
            FrameInput::Raw(r) => r.partial_tail().map(|tail| tail.to_string()),
        }
    }
}
