//! The image source protocol: begin, next image, end — one frame at a time.

use std::sync::Arc;

use autorelease::{AutoreleasePool, Obj};

use crate::cache::{FrameInput, FrameLayout};
use crate::convert::rgba_to_upright_rgb;
use crate::error::ExportError;
use crate::recycle::BufferRecycler;

/// One upright RGB frame (8 bits per channel, rows top-down, no padding).
pub struct Image {
    index: u64,
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
    pub fn new(index: u64, width: u32, height: u32, rgb: Vec<u8>) -> Self {
        assert_eq!(rgb.len(), width as usize * height as usize * 3, "RGB size");
        Image {
            index,
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
    /// Input that could not be used (torn or damaged frames, partial tail).
    pub damage: Option<String>,
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

/// An [`ImageSource`] over a cache or raw file: reads each frame into one
/// reused buffer and converts it (drop alpha, flip upright) into a recycled
/// RGB buffer.
pub struct FrameFileSource {
    input: FrameInput,
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

    /// The input's frame layout.
    pub fn layout(&self) -> FrameLayout {
        self.input.layout()
    }
}

impl ImageSource for FrameFileSource {
    fn begin(&mut self) -> Result<SourceInfo, ExportError> {
        let layout = self.input.layout();
        self.rgba = vec![0; layout.frame_len()];
        Ok(SourceInfo {
            width: layout.width,
            height: layout.height,
            expected_frames: self.input.expected_frames(),
        })
    }

    fn next_image(&mut self, pool: AutoreleasePool<'_>) -> Result<Option<Obj<Image>>, ExportError> {
        if !self.input.read_frame(&mut self.rgba)? {
            return Ok(None);
        }
        let layout = self.input.layout();
        let mut rgb = self
            .recycler
            .take(layout.width as usize * layout.height as usize * 3);
        rgba_to_upright_rgb(&self.rgba, layout, &mut rgb);
        let image = Obj::new(Image {
            index: self.frames,
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
            damage: self.input.damage_report(),
        })
    }
}
