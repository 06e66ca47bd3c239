//! A small QuickTime (`.mov`) writer and index reader for one video track.
//!
//! No maintained crate writes PNG or JPEG samples into a QuickTime
//! container, so this module does: [`writer::MovieWriter`] streams samples
//! into `mdat` and writes `moov` last; [`reader::MovieIndex`] parses the
//! sample tables back (for verification).

mod atoms;
mod frame_rate;
mod reader;
mod writer;

pub use frame_rate::{FrameRate, FrameRateError};
pub use reader::{MovieIndex, MovieParseError};
pub use writer::{MovieWriter, VideoFormat};
