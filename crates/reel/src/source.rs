//! The image source protocol: begin, next image, end — one frame at a time.

use std::sync::Arc;

use autorelease::{AutoreleasePool, Obj};

use crate::cache::Damage;
use crate::cache::{FrameInput, FrameLayout, RowOrder};
use crate::convert::{rgba_row_to_rgb, rgba_to_upright_rgb};
use crate::error::ExportError;
use crate::recycle::BufferRecycler;

/// One frame as it was stored: RGBA, 8 bits per channel, rows in the stored
/// order (bottom-up as OpenGL reads them, or top-down).
///
/// Encoders ask for upright RGB ([`upright_rgb_row`](Self::upright_rgb_row),
/// [`upright_rgb`](Self::upright_rgb)): the conversion runs on the encoder
/// threads, in parallel, and PNG converts one row at a time just before
/// filtering it, while the row is still in cache.
pub struct Image {
    index: u64,
    frame: u64,
    layout: FrameLayout,
    rgba: Vec<u8>,
    recycler: Option<Arc<BufferRecycler>>,
}

impl Image {
    /// An image from upright RGB pixels; `rgb` must hold `width * height * 3` bytes.
    ///
    /// # Panics
    ///
    /// If `rgb` has the wrong length or the size is not a valid frame size.
    #[cfg(test)]
    pub fn new(index: u64, width: u32, height: u32, rgb: Vec<u8>) -> Self {
        assert_eq!(rgb.len(), width as usize * height as usize * 3, "RGB size");
        let rgba = rgb
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect();
        Image {
            index,
            frame: index,
            layout: FrameLayout::rgba(width, height, RowOrder::TopDown).expect("frame size"),
            rgba,
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
        self.layout.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.layout.height
    }

    /// Bytes in one upright RGB row: `width * 3`.
    pub fn rgb_row_len(&self) -> usize {
        self.layout.width as usize * 3
    }

    /// Writes row `y` (0 = top) as RGB into `out`, which holds
    /// [`rgb_row_len`](Self::rgb_row_len) bytes.
    ///
    /// # Panics
    ///
    /// If `y` is not a row of the image or `out` has the wrong length.
    pub fn upright_rgb_row(&self, y: usize, out: &mut [u8]) {
        let (w, h) = (self.layout.width as usize, self.layout.height as usize);
        assert!(y < h, "row {y} of an image of {h} rows");
        let stored = match self.layout.row_order {
            RowOrder::BottomUp => h - 1 - y,
            RowOrder::TopDown => y,
        };
        rgba_row_to_rgb(&self.rgba[stored * w * 4..(stored + 1) * w * 4], out);
    }

    /// The whole image as upright RGB (top row first, no padding) in `out`,
    /// which is resized to `width * height * 3` bytes.
    pub fn upright_rgb(&self, out: &mut Vec<u8>) {
        let (w, h) = (self.layout.width as usize, self.layout.height as usize);
        out.resize(w * h * 3, 0);
        rgba_to_upright_rgb(&self.rgba, self.layout, out);
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        if let Some(recycler) = &self.recycler {
            recycler.give(std::mem::take(&mut self.rgba));
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

/// An [`ImageSource`] over a cache or raw file: reads each frame whole into a
/// recycled buffer, as stored; the encoder threads convert it.
pub struct FrameFileSource {
    input: FrameInput,
    recycler: Arc<BufferRecycler>,
    frames: u64,
}

impl FrameFileSource {
    /// A source over `input`; up to `spare_buffers` frame buffers are recycled.
    pub fn new(input: FrameInput, spare_buffers: usize) -> Self {
        FrameFileSource {
            input,
            recycler: BufferRecycler::new(spare_buffers),
            frames: 0,
        }
    }
}

impl ImageSource for FrameFileSource {
    fn begin(&mut self) -> Result<SourceInfo, ExportError> {
        let layout = self.input.layout();
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
        let mut rgba = self.recycler.take(layout.frame_len());
        if !self.input.read_frame(&mut rgba)? {
            // No further intact frame: what was read of one is dropped.
            self.recycler.give(rgba);
            return Ok(None);
        }
        let frame = self.input.last_index().unwrap_or(self.frames);
        let image = Obj::new(Image {
            index: self.frames,
            frame,
            layout,
            rgba,
            recycler: Some(Arc::clone(&self.recycler)),
        });
        self.frames += 1;
        // The pool's reference is the autoreleased return value; the clone
        // we return is the caller's retain.
        let _: &Image = image.clone().autorelease(pool);
        Ok(Some(image))
    }

    fn end(&mut self) -> Result<SourceEnd, ExportError> {
        Ok(SourceEnd {
            frames: self.frames,
            end_frame: self.input.end_frame(),
            damage: self.input.damage(),
        })
    }
}
