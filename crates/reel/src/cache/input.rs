//! One interface over the two kinds of frame input: caches and raw files.

use std::path::Path;

use super::format::FrameLayout;
use super::raw::{PartialTail, RawReader};
use super::reader::{describe_ranges, CacheReader, DamagedRun, ReadEnd};
use super::stored_frame::StoredFrame;
use crate::error::CacheError;
use std::time::Duration;

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

    /// Reads only the frames `range` (recorded frame numbers, half-open) from now on.
    pub fn restrict_to(&mut self, range: std::ops::Range<u64>) -> Result<(), CacheError> {
        match self {
            FrameInput::Cache(r) => r.restrict_to(range),
            FrameInput::Raw(r) => r.restrict_to(range),
        }
        Ok(())
    }

    /// The range asked for with [`restrict_to`](Self::restrict_to), if any.
    pub fn range(&self) -> Option<std::ops::Range<u64>> {
        match self {
            FrameInput::Cache(r) => r.range(),
            FrameInput::Raw(r) => r.range(),
        }
    }

    /// The first frame number to be read (0, or the start of the range asked for).
    pub fn first_frame(&self) -> u64 {
        match self {
            FrameInput::Cache(r) => r.frames_visited(),
            FrameInput::Raw(r) => r.frames_read(),
        }
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        match self {
            FrameInput::Cache(r) => r.path(),
            FrameInput::Raw(r) => r.path(),
        }
    }

    /// The recorded number of the frame read last.
    pub fn last_index(&self) -> Option<u64> {
        match self {
            FrameInput::Cache(r) => r.last_index(),
            FrameInput::Raw(r) => r.frames_read().checked_sub(1),
        }
    }

    /// After reading: the recorded frame number reading ended before (frames up to it were read
    /// or lost to damage).
    pub fn end_frame(&self) -> u64 {
        match self {
            FrameInput::Cache(r) => r.frames_visited(),
            FrameInput::Raw(r) => r.frames_read(),
        }
    }

    /// Opens a cache that may still be being recorded (see [`CacheReader::open_following`]).
    pub fn open_following(
        path: impl AsRef<Path>,
        follow: super::reader::Follow,
    ) -> Result<Self, CacheError> {
        Ok(FrameInput::Cache(CacheReader::open_following(
            path, follow,
        )?))
    }

    /// Whether frames are still being recorded and waited for (their number is not known).
    pub fn is_following(&self) -> bool {
        matches!(self, FrameInput::Cache(r) if r.is_following())
    }

    /// For a cache that was never finished and is not followed: the frames it holds so far.
    pub fn unfinished_frames(&self) -> Option<u64> {
        match self {
            FrameInput::Cache(r) if r.header().frame_count.is_none() && !r.is_following() => {
                Some(r.expected_frames())
            }
            _ => None,
        }
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
        let (all, range) = match self {
            FrameInput::Cache(r) => (r.expected_frames(), r.range()),
            FrameInput::Raw(r) => (r.frames(), r.range()),
        };
        // Within a range, only its frames are expected.
        range.map_or(all, |r| all.min(r.end).saturating_sub(r.start))
    }

    /// The next frame left where it is stored, for the thread that encodes it to read (see
    /// [`StoredFrame`]); `None` when no frame is left. A cache's frame is checked against its
    /// checksum as it is read; one that fails goes back with [`note_lost`](Self::note_lost).
    pub fn next_stored_frame(&mut self) -> Result<Option<StoredFrame>, CacheError> {
        match self {
            FrameInput::Cache(r) => r.next_stored_frame(),
            FrameInput::Raw(r) => Ok(r.next_stored_frame()),
        }
    }

    /// Counts a frame handed out by [`next_stored_frame`](Self::next_stored_frame) as lost to
    /// damage found when it was read (see [`CacheReader::note_lost`]). Raw frames carry no
    /// checksum, so none is ever lost this way.
    pub fn note_lost(&mut self, frame: u64) {
        if let FrameInput::Cache(r) = self {
            r.note_lost(frame);
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

    /// After reading stopped: the frames that could not be used (damaged, torn, missing,
    /// partial), or `None` if the input was whole.
    pub fn damage(&self) -> Option<Damage> {
        match self {
            FrameInput::Cache(r) => {
                let end = r.end().cloned().unwrap_or(ReadEnd::Complete);
                let whole =
                    r.damage().is_empty() && end.is_complete() && r.stopped_growing().is_none();
                (!whole).then(|| {
                    Damage::Cache(Box::new(CacheDamage {
                        runs: r.damage().to_vec(),
                        end,
                        recovered: r.frames_read(),
                        stopped_growing: r.stopped_growing(),
                    }))
                })
            }
            FrameInput::Raw(r) => r.partial_tail().map(Damage::RawTail),
        }
    }
}

/// Frames of an input that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Damage {
    /// A cache with damaged or missing frames, an improper end, or a recorder that stopped
    /// without finishing it while it was followed.
    Cache(Box<CacheDamage>),
    /// A raw file ending in a partial frame.
    RawTail(PartialTail),
}

/// What was wrong with a cache, after reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheDamage {
    /// The frames lost, in runs.
    pub runs: Vec<DamagedRun>,
    /// How the file ended.
    pub end: ReadEnd,
    /// Intact frames read.
    pub recovered: u64,
    /// How long the file had not grown when a follow gave up on it.
    pub stopped_growing: Option<Duration>,
}

impl Damage {
    /// Frames lost to damage (0 for a raw file's partial tail, which is no frame).
    pub fn lost_frames(&self) -> u64 {
        match self {
            Damage::Cache(c) => c.runs.iter().map(DamagedRun::frames).sum(),
            Damage::RawTail(_) => 0,
        }
    }
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Damage::Cache(c) => {
                let CacheDamage {
                    runs,
                    end,
                    recovered,
                    stopped_growing,
                } = c.as_ref();
                let mut parts = Vec::new();
                if !runs.is_empty() {
                    const DETAILED: usize = 3;
                    let details: Vec<String> =
                        runs.iter().take(DETAILED).map(|d| d.to_string()).collect();
                    let more = runs.len().saturating_sub(DETAILED);
                    let more = if more > 0 {
                        format!("; and {more} more runs")
                    } else {
                        String::new()
                    };
                    parts.push(format!(
                        "{} frame(s) damaged or missing, skipped: {} ({}{more})",
                        self.lost_frames(),
                        describe_ranges(runs),
                        details.join("; ")
                    ));
                }
                if !end.is_complete() {
                    parts.push(format!("cache {end}"));
                }
                if let Some(idle) = stopped_growing {
                    parts.push(format!(
                        "the recording was not finished and stopped growing for {:.1} s",
                        idle.as_secs_f64()
                    ));
                }
                parts.push(format!("{recovered} intact frames recovered"));
                f.write_str(&parts.join("; "))
            }
            Damage::RawTail(tail) => tail.fmt(f),
        }
    }
}
