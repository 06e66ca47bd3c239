//! Frame caches: the recorder's crash-safe file format, and headerless raw input.

pub mod format;
mod input;
mod raw;
mod reader;
mod stored_frame;
mod writer;

pub use format::{FrameLayout, Header, PixelFormat, RowOrder};
pub use input::{CacheDamage, Damage, FrameInput};
pub use raw::{PartialTail, RawReader};
pub use reader::{
    describe_ranges, scan_cache, CacheReader, CacheScan, DamageKind, DamagedRun, Follow, ReadEnd,
};
pub use stored_frame::StoredFrame;
pub use writer::CacheWriter;
