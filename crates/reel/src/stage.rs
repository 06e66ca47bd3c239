//! The two kinds of step every export is made of, shared by the encoders
//! (which implement them) and the export pipeline (which runs them), so
//! neither imports the other.

use crate::error::ExportError;
use crate::source::Image;

/// Per-frame work that runs on several threads at once (compression,
/// colour conversion): each call sees one image and nothing of its
/// neighbours.
pub trait FrameStage: Send {
    /// What a processed frame becomes.
    type Output: Send;
    /// Processes one image.
    fn process(&mut self, image: &Image) -> Result<Self::Output, ExportError>;
}

/// Work that must see frames one at a time and in order (naming files,
/// sequential encoding, muxing): the consumer of a [`FrameStage`]'s results.
pub trait OrderedSink: Send {
    /// What it consumes.
    type Input: Send;
    /// Consumes the frame recorded as number `frame`; called once per frame, in increasing order
    /// (0, 1, 2, … unless frames were damaged, missing or outside the range exported).
    fn write(&mut self, frame: u64, item: Self::Input) -> Result<(), ExportError>;
}
