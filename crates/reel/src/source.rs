//! The image source protocol: begin, next image, end — one frame at a time.

use std::sync::Arc;

use autorelease::{AutoreleasePool, Obj};

use crate::cache::Damage;
use crate::cache::{FrameInput, FrameLayout, RowOrder, StoredFrame};
use crate::convert::{rgba_row_to_rgb, rgba_to_upright_rgb};
use crate::error::CacheError;
use crate::error::ExportError;
use crate::recycle::BufferRecycler;

/// Where frames are turned from stored RGBA into upright RGB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    /// On the encoder threads, as they encode (PNG one row at a time, just
    /// before filtering it), which also read the frames, a few rows at a
    /// time as they are used (see [`StoredFrame`]): reading and conversion
    /// run in parallel, rows are converted while they are in the core's
    /// cache, and a frame in flight holds no pixels. A cache frame's checksum
    /// is checked there too: one that fails is dropped and reported with the
    /// input's other damage.
    OnEncoderThreads,
    /// On the export thread as each frame is read (whole, its checksum
    /// checked before it is given), a few rows at a time while they are in
    /// cache: a frame in flight holds 3 bytes a pixel. The classic
    /// exporter's way, kept for `--single-pool`, whose one pool must hold
    /// every frame's pixels to show the bug.
    WhileReading,
}

/// How an [`Image`] holds its pixels.
#[derive(Debug, Clone)]
enum Pixels {
    /// RGBA as stored, rows in the stored order (images made in memory by
    /// tests, to exercise encoders on both row orders).
    #[cfg(test)]
    Stored(RowOrder),
    /// RGB, top row first.
    Upright,
    /// None: they are read from the file as they are used.
    InFile(StoredFrame),
}

/// One frame, either as stored (RGBA, rows bottom-up as OpenGL reads them,
/// or top-down) or already upright RGB (see [`Conversion`]).
///
/// Encoders ask for upright RGB, a row at a time
/// ([`upright_rgb_row`](Self::upright_rgb_row)) or whole
/// ([`upright_rgb`](Self::upright_rgb)), and get it either way. A frame
/// left in its file is read then, so both can fail with the file's error;
/// one read a row at a time is checked against its checksum afterwards
/// ([`verify_pixels`](Self::verify_pixels)).
pub struct Image {
    index: u64,
    frame: u64,
    width: u32,
    height: u32,
    pixels: Pixels,
    bytes: Vec<u8>,
    recycler: Option<Arc<BufferRecycler>>,
}

impl Image {
    /// An image from upright RGB pixels; `rgb` must hold `width * height * 3` bytes.
    /// With `stored`, it holds them as a frame stored in that row order would (RGBA).
    ///
    /// # Panics
    ///
    /// If `rgb` has the wrong length.
    #[cfg(test)]
    pub fn new(index: u64, width: u32, height: u32, rgb: Vec<u8>) -> Self {
        Self::new_as(index, width, height, rgb, None)
    }

    /// [`new`](Self::new), holding the pixels as a frame stored in `stored` row order would.
    #[cfg(test)]
    pub fn new_as(
        index: u64,
        width: u32,
        height: u32,
        rgb: Vec<u8>,
        stored: Option<RowOrder>,
    ) -> Self {
        assert_eq!(rgb.len(), width as usize * height as usize * 3, "RGB size");
        let (pixels, bytes) = match stored {
            None => (Pixels::Upright, rgb),
            Some(order) => {
                let mut rows: Vec<&[u8]> = rgb.chunks_exact(width as usize * 3).collect();
                if order == RowOrder::BottomUp {
                    rows.reverse();
                }
                let rgba = rows
                    .concat()
                    .chunks_exact(3)
                    .flat_map(|p| [p[0], p[1], p[2], 255])
                    .collect();
                (Pixels::Stored(order), rgba)
            }
        };
        Image {
            index,
            frame: index,
            width,
            height,
            pixels,
            bytes,
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

    /// Bytes in one upright RGB row: `width * 3`.
    pub fn rgb_row_len(&self) -> usize {
        self.width as usize * 3
    }

    /// Writes row `y` (0 = top) as RGB into `out`, which holds
    /// [`rgb_row_len`](Self::rgb_row_len) bytes. A frame left in its file is
    /// read through `rows`, a few rows at a time.
    ///
    /// # Panics
    ///
    /// If `y` is not a row of the image or `out` has the wrong length.
    pub fn upright_rgb_row(
        &self,
        y: usize,
        out: &mut [u8],
        rows: &mut RowBuffer,
    ) -> Result<(), CacheError> {
        let (w, h) = (self.width as usize, self.height as usize);
        assert!(y < h, "row {y} of an image of {h} rows");
        let stored = |order| match order {
            RowOrder::BottomUp => h - 1 - y,
            RowOrder::TopDown => y,
        };
        match &self.pixels {
            Pixels::Upright => out.copy_from_slice(&self.bytes[y * w * 3..(y + 1) * w * 3]),
            #[cfg(test)]
            Pixels::Stored(order) => {
                let row = stored(*order);
                rgba_row_to_rgb(&self.bytes[row * w * 4..(row + 1) * w * 4], out);
            }
            Pixels::InFile(frame) => rgba_row_to_rgb(
                rows.stored_row(frame, stored(frame.layout().row_order))?,
                out,
            ),
        }
        Ok(())
    }

    /// The whole image as upright RGB (top row first, no padding): the
    /// image's own pixels if it holds them so, or else converted (and read,
    /// for a frame left in its file) into `scratch`, resized to
    /// `width * height * 3` bytes.
    pub fn upright_rgb<'a>(&'a self, scratch: &'a mut Vec<u8>) -> Result<&'a [u8], CacheError> {
        match &self.pixels {
            Pixels::Upright => Ok(&self.bytes),
            #[cfg(test)]
            Pixels::Stored(row_order) => {
                scratch.resize(self.width as usize * self.height as usize * 3, 0);
                let layout = FrameLayout::rgba(self.width, self.height, *row_order)
                    .expect("the size of a stored frame");
                rgba_to_upright_rgb(&self.bytes, layout, scratch);
                Ok(scratch)
            }
            Pixels::InFile(_) => {
                scratch.resize(self.width as usize * self.height as usize * 3, 0);
                let mut rows = RowBuffer::new();
                for (y, out) in scratch.chunks_exact_mut(self.rgb_row_len()).enumerate() {
                    self.upright_rgb_row(y, out, &mut rows)?;
                }
                self.verify_pixels(&mut rows)?;
                Ok(scratch)
            }
        }
    }

    /// For a frame left in a cache: checks the pixels read through `rows`
    /// (reading any row not read yet) against the record's checksum, and
    /// fails with [`CacheError::FrameChecksum`] if they are damaged. Call it
    /// once the rows have been used and before what was made of them is
    /// kept. Always `Ok` for other images, which were checked when read.
    pub fn verify_pixels(&self, rows: &mut RowBuffer) -> Result<(), CacheError> {
        match &self.pixels {
            Pixels::InFile(frame) => rows.verify(frame),
            _ => Ok(()),
        }
    }
}

/// A few stored rows of a frame left in its file, read together and kept
/// for the rows asked for next: an encoder thread keeps one and reads every
/// frame it encodes through it ([`Image::upright_rgb_row`]). About
/// [`READ_CHUNK_BYTES`] of rows at a time (a piece): read in one call, and
/// still in the core's cache when they are converted. It holds a few pieces,
/// so that those a PNG encoder samples before the whole frame are not read
/// twice (see [`HELD_PIECES`]). For a frame with a checksum it keeps each
/// piece's CRC-32 as it is read, for [`Image::verify_pixels`].
#[derive(Debug, Default)]
pub struct RowBuffer {
    pieces: Vec<HeldPiece>,
    /// Pieces read so far, to tell the last one read.
    reads: u64,
    checks: Option<PieceChecks>,
}

/// The most pieces a [`RowBuffer`] holds: the PNG encoder's sample bands
/// (four pieces) and the one being read through. When all are taken, the
/// piece read last makes room: a pass through the frame is done with it,
/// while pieces read earlier (the samples) lie ahead of it.
const HELD_PIECES: usize = 5;

/// One piece of stored rows.
#[derive(Debug, Default)]
struct HeldPiece {
    bytes: Vec<u8>,
    /// The frame (its [`StoredFrame::id`]) and first stored row held.
    held: Option<(u64, usize)>,
    /// When it was read ([`RowBuffer::reads`]).
    read: u64,
}

/// The CRC-32 of each piece read of one frame.
#[derive(Debug)]
struct PieceChecks {
    /// The frame's [`StoredFrame::id`].
    frame: u64,
    /// Per piece of rows, in stored order, once read.
    crcs: Vec<Option<u32>>,
    /// Whether a piece read twice came back different (the file changed under the export).
    changed: bool,
}

impl RowBuffer {
    /// An empty buffer; it grows to its size on first use.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rows read at a time from `frame`.
    fn rows_per_read(frame: &StoredFrame) -> usize {
        (READ_CHUNK_BYTES / frame.row_len()).clamp(1, frame.layout().height as usize)
    }

    /// Stored row `row` of `frame`, read with the rows around it unless it is held.
    fn stored_row(&mut self, frame: &StoredFrame, row: usize) -> Result<&[u8], CacheError> {
        let row_len = frame.row_len();
        let height = frame.layout().height as usize;
        let per_read = Self::rows_per_read(frame);
        let first = row / per_read * per_read;
        let key = Some((frame.id(), first));
        let slot = match self.pieces.iter().position(|piece| piece.held == key) {
            Some(slot) => slot,
            None => {
                let slot = self.slot_to_read_into(frame.id());
                self.reads += 1;
                let piece = &mut self.pieces[slot];
                piece.held = None;
                piece
                    .bytes
                    .resize(per_read.min(height - first) * row_len, 0);
                frame.read_rows(first, &mut piece.bytes)?;
                piece.held = key;
                piece.read = self.reads;
                if frame.has_checksum() {
                    let crc = crc32fast::hash(&piece.bytes);
                    let checks = self.checks_of(frame);
                    match checks.crcs[first / per_read] {
                        Some(earlier) if earlier != crc => checks.changed = true,
                        _ => checks.crcs[first / per_read] = Some(crc),
                    }
                }
                slot
            }
        };
        let at = (row - first) * row_len;
        Ok(&self.pieces[slot].bytes[at..at + row_len])
    }

    /// The slot to read a piece of frame `frame` into: one holding nothing
    /// or another frame's rows, a new one, or the piece read last.
    fn slot_to_read_into(&mut self, frame: u64) -> usize {
        let free = self
            .pieces
            .iter()
            .position(|piece| piece.held.is_none_or(|(held, _)| held != frame));
        if let Some(slot) = free {
            return slot;
        }
        if self.pieces.len() < HELD_PIECES {
            self.pieces.push(HeldPiece::default());
            return self.pieces.len() - 1;
        }
        (0..self.pieces.len())
            .max_by_key(|&slot| self.pieces[slot].read)
            .expect("a full buffer holds pieces")
    }

    /// The piece checks of `frame`, started afresh for a frame not seen last.
    fn checks_of(&mut self, frame: &StoredFrame) -> &mut PieceChecks {
        let pieces = (frame.layout().height as usize).div_ceil(Self::rows_per_read(frame));
        let checks = self.checks.get_or_insert_with(|| PieceChecks {
            frame: frame.id(),
            crcs: Vec::new(),
            changed: false,
        });
        if checks.frame != frame.id() || checks.crcs.len() != pieces {
            checks.frame = frame.id();
            checks.crcs.clear();
            checks.crcs.resize(pieces, None);
            checks.changed = false;
        }
        checks
    }

    /// Checks `frame`'s pixels, as read through this buffer, against its checksum.
    fn verify(&mut self, frame: &StoredFrame) -> Result<(), CacheError> {
        if !frame.has_checksum() {
            return Ok(());
        }
        let per_read = Self::rows_per_read(frame);
        let pieces = self.checks_of(frame).crcs.len();
        for piece in 0..pieces {
            if self.checks_of(frame).crcs[piece].is_none() {
                self.stored_row(frame, piece * per_read)?;
            }
        }
        let checks = self.checks_of(frame);
        if checks.changed {
            return Err(frame.damaged());
        }
        let (height, row_len) = (frame.layout().height as usize, frame.row_len());
        frame.verify(checks.crcs.iter().enumerate().map(|(piece, crc)| {
            let rows = per_read.min(height - piece * per_read);
            (crc.expect("every piece was read"), rows * row_len)
        }))
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        if let Some(recycler) = &self.recycler {
            recycler.give(std::mem::take(&mut self.bytes));
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

    /// An image given earlier was found damaged when its pixels were read
    /// (a cache frame left in its file whose checksum failed, see
    /// [`Image::verify_pixels`]): it counts as lost, not given. Called after
    /// the last image and before [`end`](ImageSource::end). Sources whose
    /// images are checked before they are given never see it.
    fn frame_lost(&mut self, _frame: u64) {}

    /// Finishes reading and reports what was read.
    fn end(&mut self) -> Result<SourceEnd, ExportError>;
}

/// An [`ImageSource`] over a cache or raw file. With
/// [`Conversion::OnEncoderThreads`] it reads no pixels: each image names
/// where its frame is stored, for the encoder thread to read; with
/// [`Conversion::WhileReading`] it reads [`READ_CHUNK_BYTES`] of rows at a
/// time through one small buffer and converts them into a recycled RGB
/// buffer, so a frame is never held as RGBA whole.
pub struct FrameFileSource {
    input: FrameInput,
    conversion: Conversion,
    /// With [`Conversion::WhileReading`]: a whole number of RGBA rows, about
    /// [`READ_CHUNK_BYTES`].
    chunk: Vec<u8>,
    recycler: Arc<BufferRecycler>,
    frames: u64,
}

impl FrameFileSource {
    /// A source over `input` converting frames as `conversion` says; up to
    /// `spare_buffers` frame buffers are recycled.
    pub fn new(input: FrameInput, spare_buffers: usize, conversion: Conversion) -> Self {
        FrameFileSource {
            input,
            conversion,
            chunk: Vec::new(),
            recycler: BufferRecycler::new(spare_buffers),
            frames: 0,
        }
    }

    /// Reads the next frame a few rows at a time, converting them to upright
    /// RGB; `None` when no intact frame is left.
    fn read_converting(&mut self) -> Result<Option<(Pixels, Vec<u8>)>, ExportError> {
        let layout = self.input.layout();
        let (w, h) = (layout.width as usize, layout.height as usize);
        let row_in = layout.frame_len() / h;
        if self.chunk.is_empty() {
            let rows = (READ_CHUNK_BYTES / row_in).clamp(1, h);
            self.chunk = vec![0; rows * row_in];
        }
        let mut rgb = self.recycler.take(w * h * 3);
        let read = self
            .input
            .read_frame_in_chunks(&mut self.chunk, |offset, rows| {
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
            // No further intact frame: what was converted of one is dropped.
            self.recycler.give(rgb);
            return Ok(None);
        }
        Ok(Some((Pixels::Upright, rgb)))
    }
}

/// About how many bytes of RGBA a [`Conversion::WhileReading`] export reads
/// at a time: small enough to stay in cache while it is converted, large
/// enough that the reads cost nothing (a 1280x720 frame is 60 reads of 12
/// rows).
pub const READ_CHUNK_BYTES: usize = 64 << 10;

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
        let read = match self.conversion {
            Conversion::OnEncoderThreads => self
                .input
                .next_stored_frame()?
                .map(|frame| (Pixels::InFile(frame), Vec::new())),
            Conversion::WhileReading => self.read_converting()?,
        };
        let Some((pixels, bytes)) = read else {
            return Ok(None);
        };
        let layout = self.input.layout();
        let frame = self.input.last_index().unwrap_or(self.frames);
        let image = Obj::new(Image {
            index: self.frames,
            frame,
            width: layout.width,
            height: layout.height,
            pixels,
            bytes,
            recycler: Some(Arc::clone(&self.recycler)),
        });
        self.frames += 1;
        // The pool's reference is the autoreleased return value; the clone
        // we return is the caller's retain.
        let _: &Image = image.clone().autorelease(pool);
        Ok(Some(image))
    }

    fn frame_lost(&mut self, frame: u64) {
        self.input.note_lost(frame);
        self.frames = self.frames.saturating_sub(1);
    }

    fn end(&mut self) -> Result<SourceEnd, ExportError> {
        self.chunk = Vec::new();
        Ok(SourceEnd {
            frames: self.frames,
            end_frame: self.input.end_frame(),
            damage: self.input.damage(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::CacheWriter;
    use autorelease::autoreleasepool;

    /// Every image of `input`, upright RGB, checked to agree row by row and whole.
    fn upright_images(input: FrameInput, conversion: Conversion) -> Vec<Vec<u8>> {
        let mut source = FrameFileSource::new(input, 2, conversion);
        source.begin().unwrap();
        let mut images = Vec::new();
        while let Some(image) = autoreleasepool(|pool| source.next_image(pool)).unwrap() {
            let mut scratch = Vec::new();
            let whole = image.upright_rgb(&mut scratch).unwrap().to_vec();
            let mut rows = vec![0; whole.len()];
            let mut buffer = RowBuffer::new();
            // Bottom row first: the buffer must read whatever rows it does not hold.
            for (y, row) in rows.chunks_exact_mut(image.rgb_row_len()).enumerate().rev() {
                image.upright_rgb_row(y, row, &mut buffer).unwrap();
            }
            assert_eq!(rows, whole);
            images.push(whole);
        }
        source.end().unwrap();
        images
    }

    #[test]
    fn both_conversions_give_the_same_upright_frames_from_bottom_up_and_top_down_inputs() {
        // Rows of 1024 pixels (4 KiB): a frame is several of the converting reader's chunks.
        let (w, h) = (1024usize, 40usize);
        let upright: Vec<Vec<u8>> = (0..3)
            .map(|f| {
                (0..w * h * 3)
                    .map(|i| (i * 7 + f * 31 + i / 4093) as u8)
                    .collect()
            })
            .collect();
        assert!(w * 4 * h > READ_CHUNK_BYTES);
        let stored = |rgb: &Vec<u8>, order: RowOrder| -> Vec<u8> {
            let image = Image::new_as(0, w as u32, h as u32, rgb.clone(), Some(order));
            image.bytes.clone()
        };
        let dir = tempfile::tempdir().unwrap();
        // A raw file: bottom-up, as OpenGL reads frames.
        let raw = dir.path().join("frames.raw");
        let bytes: Vec<u8> = upright
            .iter()
            .flat_map(|f| stored(f, RowOrder::BottomUp))
            .collect();
        std::fs::write(&raw, bytes).unwrap();
        // A cache of top-down frames.
        let cache = dir.path().join("top-down.reel");
        let layout = FrameLayout::rgba(w as u32, h as u32, RowOrder::TopDown).unwrap();
        let mut writer = CacheWriter::create(&cache, layout).unwrap();
        for f in &upright {
            writer.append(&stored(f, RowOrder::TopDown)).unwrap();
        }
        writer.finish().unwrap();
        for conversion in [Conversion::OnEncoderThreads, Conversion::WhileReading] {
            let from_raw = FrameInput::open(&raw, Some((w as u32, h as u32))).unwrap();
            assert_eq!(
                upright_images(from_raw, conversion),
                upright,
                "{conversion:?}"
            );
            let from_cache = FrameInput::open(&cache, None).unwrap();
            assert_eq!(
                upright_images(from_cache, conversion),
                upright,
                "{conversion:?}"
            );
        }
    }

    #[test]
    fn raw_frames_are_read_on_the_encoder_threads_and_a_file_that_shrinks_names_the_lost_frame() {
        let (w, h) = (64usize, 8usize);
        let dir = tempfile::tempdir().unwrap();
        let raw = dir.path().join("frames.raw");
        std::fs::write(&raw, vec![7u8; w * h * 4 * 3]).unwrap();
        let input = FrameInput::open(&raw, Some((w as u32, h as u32))).unwrap();
        let mut source = FrameFileSource::new(input, 2, Conversion::OnEncoderThreads);
        source.begin().unwrap();
        let images: Vec<_> = (0..3)
            .map(|_| {
                autoreleasepool(|pool| source.next_image(pool))
                    .unwrap()
                    .unwrap()
            })
            .collect();
        assert!(autoreleasepool(|pool| source.next_image(pool))
            .unwrap()
            .is_none());
        // Nothing was read yet: the images hold no pixels, and a file cut inside the last
        // frame fails only that frame, where its rows are read.
        assert!(images.iter().all(|image| image.bytes.is_empty()));
        std::fs::OpenOptions::new()
            .write(true)
            .open(&raw)
            .unwrap()
            .set_len((w * h * 4 * 2 + w * 4) as u64)
            .unwrap();
        let mut scratch = Vec::new();
        assert_eq!(
            images[1].upright_rgb(&mut scratch).unwrap(),
            vec![7u8; w * h * 3]
        );
        let err = images[2].upright_rgb(&mut scratch).unwrap_err();
        assert!(
            matches!(err, CacheError::FrameRead { frame: 2, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("frames.raw"), "{err}");
    }

    /// A one-frame cache of `w`x`h` top-down frames: its path, and the frame's pixels.
    fn one_frame_cache(dir: &std::path::Path, w: u32, h: u32) -> (std::path::PathBuf, Vec<u8>) {
        let path = dir.join("c.reel");
        let layout = FrameLayout::rgba(w, h, RowOrder::TopDown).unwrap();
        let pixels: Vec<u8> = (0..layout.frame_len())
            .map(|i| (i * 13 % 251) as u8)
            .collect();
        let mut writer = CacheWriter::create(&path, layout).unwrap();
        writer.append(&pixels).unwrap();
        writer.finish().unwrap();
        (path, pixels)
    }

    /// The cache's only frame, as the export hands it to an encoder thread.
    fn stored_image(path: &std::path::Path) -> Obj<Image> {
        let input = FrameInput::open(path, None).unwrap();
        let mut source = FrameFileSource::new(input, 1, Conversion::OnEncoderThreads);
        source.begin().unwrap();
        autoreleasepool(|pool| source.next_image(pool))
            .unwrap()
            .unwrap()
    }

    /// Flips one bit of pixel byte `at` of the cache's first frame, in the file.
    fn flip_pixel_bit(path: &std::path::Path, at: usize) {
        use std::os::unix::fs::FileExt;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .unwrap();
        let offset =
            (crate::cache::format::HEADER_LEN + crate::cache::format::FRAME_HEADER_LEN + at) as u64;
        let mut byte = [0u8];
        file.read_exact_at(&mut byte, offset).unwrap();
        file.write_all_at(&[byte[0] ^ 0x04], offset).unwrap();
    }

    #[test]
    fn a_cache_frame_read_row_by_row_verifies_when_intact_and_fails_its_checksum_when_damaged() {
        // 1024-pixel rows: 16 rows a read, so 40 rows take three reads.
        let (w, h) = (1024u32, 40u32);
        let dir = tempfile::tempdir().unwrap();
        let (path, pixels) = one_frame_cache(dir.path(), w, h);
        let image = stored_image(&path);
        let mut rows = RowBuffer::new();
        // Only some rows used: verifying reads the others.
        let mut out = vec![0; image.rgb_row_len()];
        image.upright_rgb_row(20, &mut out, &mut rows).unwrap();
        let expected: Vec<u8> = pixels[20 * 4096..21 * 4096]
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        assert_eq!(out, expected);
        image.verify_pixels(&mut rows).unwrap();

        // Damage in the last read's rows, which nothing but the check reads.
        flip_pixel_bit(&path, 39 * 4096 + 5);
        let image = stored_image(&path);
        let mut rows = RowBuffer::new();
        image.upright_rgb_row(0, &mut out, &mut rows).unwrap();
        let err = image.verify_pixels(&mut rows).unwrap_err();
        assert!(
            matches!(
                err,
                CacheError::FrameChecksum {
                    frame: 0,
                    offset: 64,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn rows_that_change_between_two_reads_of_one_frame_fail_its_checksum() {
        // The rows encoded must be the rows checked: a piece read twice that came back
        // different fails the frame, even when the file was put back as it was before the
        // check. 1024-pixel rows: 16 rows a piece, 7 pieces.
        let (w, h) = (1024u32, 112u32);
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = one_frame_cache(dir.path(), w, h);
        let image = stored_image(&path);
        let mut rows = RowBuffer::new();
        let mut out = vec![0; image.rgb_row_len()];
        // Pieces 0 to 4 fill the buffer; piece 5 takes the place of piece 4, read last.
        for y in [0, 16, 32, 48, 64, 80] {
            image.upright_rgb_row(y, &mut out, &mut rows).unwrap();
        }
        flip_pixel_bit(&path, 64 * 4096 + 7);
        image.upright_rgb_row(64, &mut out, &mut rows).unwrap();
        flip_pixel_bit(&path, 64 * 4096 + 7);
        let err = image.verify_pixels(&mut rows).unwrap_err();
        assert!(
            matches!(err, CacheError::FrameChecksum { frame: 0, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn pieces_sampled_before_a_pass_over_the_frame_are_read_once() {
        // 1024-pixel rows: 16 rows a piece, 10 pieces.
        let (w, h) = (1024u32, 160u32);
        let dir = tempfile::tempdir().unwrap();
        let (path, pixels) = one_frame_cache(dir.path(), w, h);
        let image = stored_image(&path);
        let mut rows = RowBuffer::new();
        let mut out = vec![0; image.rgb_row_len()];
        // A probe's sample bands, in four pieces...
        for y in [20, 21, 60, 100, 101, 140] {
            image.upright_rgb_row(y, &mut out, &mut rows).unwrap();
        }
        assert_eq!(rows.reads, 4);
        // ...then every row, top to bottom: the sampled pieces are not read again.
        for y in 0..h as usize {
            image.upright_rgb_row(y, &mut out, &mut rows).unwrap();
            let expected: Vec<u8> = pixels[y * 4096..(y + 1) * 4096]
                .chunks_exact(4)
                .flat_map(|p| [p[0], p[1], p[2]])
                .collect();
            assert_eq!(out, expected, "row {y}");
        }
        assert_eq!(rows.reads, 10);
        image.verify_pixels(&mut rows).unwrap();
        assert!(rows.pieces.len() <= HELD_PIECES);
        // The next frame reads into the same pieces.
        let image = stored_image(&path);
        image.upright_rgb_row(0, &mut out, &mut rows).unwrap();
        assert_eq!(rows.reads, 11);
        assert!(rows.pieces.len() <= HELD_PIECES);
    }
}
