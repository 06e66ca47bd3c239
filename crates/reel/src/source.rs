//! The image source protocol: begin, next image, end — one frame at a time.

use std::sync::Arc;

use autorelease::{AutoreleasePool, Obj};

use crate::cache::Damage;
use crate::cache::{FrameInput, FrameLayout, RowOrder};
use crate::convert::rgba_to_upright_rgb;
use crate::error::ExportError;
use crate::recycle::BufferRecycler;

/// One upright RGB frame (8 bits per channel, rows top-down, no padding).
pub struct Image {
    index: u64,
    frame: u64,
    width: u32,
    height: u32,
    rgb: Vec<u8>,
    recycler: Option<Arc<BufferRecycler>>,
}

impl Image {
    /// An image from its pixels; `rgb` must hold `width * height * 3` bytes.
    ///
    /// # Panics
    ///
    /// If `rgb` has the wrong length.
    #[cfg(test)]
    pub fn new(index: u64, width: u32, height: u32, rgb: Vec<u8>) -> Self {
        assert_eq!(rgb.len(), width as usize * height as usize * 3, "RGB size");
        Image {
            index,
            frame: index,
            width,
            height,
            rgb,
            recycler: None,
        }
    }

    /// The frame's position in the source, from 0.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The frame's number as recorded: equal to [`index`](Self::index) unless frames before it
    /// were damaged, missing or outside the range exported.
    pub fn frame(&self) -> u64 {
        self.frame
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The pixels, RGB, top row first.
    pub fn rgb(&self) -> &[u8] {
        &self.rgb
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        if let Some(recycler) = &self.recycler {
            recycler.give(std::mem::take(&mut self.rgb));
        }
    }
}

/// Size and count of the images a source will give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceInfo {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Images expected (the progress total); a damaged input may give fewer.
    pub expected_frames: u64,
}

/// What a source reports when it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceEnd {
    /// Images given.
    pub frames: u64,
    /// The recorded frame number the source ended before: frames up to it were either given
    /// or lost to damage (a movie holds its last frame until then).
    pub end_frame: u64,
    /// Input that could not be used (torn or damaged frames, partial tail).
    pub damage: Option<Damage>,
}

/// The classic extraction protocol: [`begin`](ImageSource::begin), then
/// [`next_image`](ImageSource::next_image) until it gives `None`, then
/// [`end`](ImageSource::end).
///
/// Each image is an autoreleased object, as a Cocoa image source returns
/// it: the source autoreleases it into the caller's innermost pool, and
/// also hands the caller a retained handle to pass to encoder threads. The
/// caller therefore wraps each call in its own
/// [`autoreleasepool`](autorelease::autoreleasepool); one pool around the
/// whole loop keeps every image alive until the export ends.
pub trait ImageSource {
    /// Prepares to read; says what is coming.
    fn begin(&mut self) -> Result<SourceInfo, ExportError>;

    /// The next image, autoreleased into `pool` (which must be the innermost
    /// pool) and returned retained; `None` after the last.
    fn next_image(&mut self, pool: AutoreleasePool<'_>) -> Result<Option<Obj<Image>>, ExportError>;

    /// Finishes reading and reports what was read.
    fn end(&mut self) -> Result<SourceEnd, ExportError>;
}

/// An [`ImageSource`] over a cache or raw file: reads each frame a few rows
/// at a time through one small reused buffer and converts the rows (drop
/// alpha, flip upright) into a recycled RGB buffer, so a frame is never held
/// as RGBA whole.
pub struct FrameFileSource {
    input: FrameInput,
    /// A whole number of RGBA rows, about [`READ_CHUNK_BYTES`].
    rgba: Vec<u8>,
    recycler: Arc<BufferRecycler>,
    frames: u64,
}

impl FrameFileSource {
    /// A source over `input`; up to `spare_buffers` RGB buffers are recycled.
    pub fn new(input: FrameInput, spare_buffers: usize) -> Self {
        FrameFileSource {
            input,
            rgba: Vec::new(),
            recycler: BufferRecycler::new(spare_buffers),
            frames: 0,
        }
    }
}

/// About how many bytes of RGBA an export reads at a time: small
/// enough to stay in cache while it is converted, large enough that the
/// reads cost nothing (a 1280x720 frame is 60 reads of 12 rows).
pub const READ_CHUNK_BYTES: usize = 64 << 10;

impl ImageSource for FrameFileSource {
    fn begin(&mut self) -> Result<SourceInfo, ExportError> {
        let layout = self.input.layout();
        let row = layout.frame_len() / layout.height as usize;
        let rows = (READ_CHUNK_BYTES / row).clamp(1, layout.height as usize);
        self.rgba = vec![0; rows * row];
        Ok(SourceInfo {
            width: layout.width,
            height: layout.height,
            // Unknown (0) while a recorder is still writing a followed cache.
            expected_frames: if self.input.is_following() {
                0
            } else {
                self.input.expected_frames()
            },
        })
    }

    fn next_image(&mut self, pool: AutoreleasePool<'_>) -> Result<Option<Obj<Image>>, ExportError> {
        let layout = self.input.layout();
        let (w, h) = (layout.width as usize, layout.height as usize);
        let mut rgb = self.recycler.take(w * h * 3);
        let row_in = layout.frame_len() / h;
        let read = self
            .input
            .read_frame_in_chunks(&mut self.rgba, |offset, rows| {
                // Rows first..first+n as stored go to their upright place.
                let (first, n) = (offset / row_in, rows.len() / row_in);
                let upright = match layout.row_order {
                    RowOrder::BottomUp => h - first - n..h - first,
                    RowOrder::TopDown => first..first + n,
                };
                let part = FrameLayout {
                    height: n as u32,
                    ..layout
                };
                rgba_to_upright_rgb(
                    rows,
                    part,
                    &mut rgb[upright.start * w * 3..upright.end * w * 3],
                );
            });
        if !read? {
            // No further intact frame: what was converted of it is dropped.
            self.recycler.give(rgb);
            return Ok(None);
        }
        let frame = self.input.last_index().unwrap_or(self.frames);
        let image = Obj::new(Image {
            index: self.frames,
            frame,
            width: layout.width,
            height: layout.height,
            rgb,
            recycler: Some(Arc::clone(&self.recycler)),
        });
        self.frames += 1;
        // The pool's reference is the autoreleased return value; the clone
        // we return is the caller's retain.
        let _: &Image = image.clone().autorelease(pool);
        Ok(Some(image))
    }

    fn end(&mut self) -> Result<SourceEnd, ExportError> {
        self.rgba = Vec::new();
        Ok(SourceEnd {
            frames: self.frames,
            end_frame: self.input.end_frame(),
            damage: self.input.damage(),
        })
    }
}
