//! PNG encoding of frames as upright 8-bit RGB (lossless): each row is converted
//! from the stored RGBA just before it is filtered.
//!
//! Three levels ([`PngCompression`]). Each filters rows itself
//! ([`super::png_filter`]) and compresses them with `fdeflate`, reel's
//! repeat coder ([`super::png_repeat_deflate`]) or `zlib-rs`
//! ([`super::png_deflate`]); before each frame it compresses a few sample
//! bands of rows each way the level knows and keeps the smallest for the
//! whole frame: rendered and synthetic content (large flat or smoothly
//! shaded areas) compresses best filtered, noise unfiltered with Huffman
//! codes alone.

use std::io::{self, Write};

use super::png_deflate::{DeflateSettings, FdeflatePieces, ZlibPieces};
use super::png_filter::{RowFilter, RowFilterChooser};
use super::png_repeat_deflate::RepeatDeflate;
use crate::error::{CacheError, ExportError};
use crate::source::{Image, RowBuffer};
use crate::stage::FrameStage;

/// Why a frame could not be encoded as PNG.
#[derive(Debug, thiserror::Error)]
pub enum PngEncodeError {
    /// The frame's pixels could not be read from its file.
    #[error(transparent)]
    Input(#[from] CacheError),
    /// Encoding failed, or writing what was encoded.
    #[error(transparent)]
    Encoding(#[from] ::png::EncodingError),
}

impl From<io::Error> for PngEncodeError {
    fn from(error: io::Error) -> Self {
        PngEncodeError::Encoding(::png::EncodingError::IoError(error))
    }
}

/// How hard PNG export compresses: the trade between speed and file size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PngCompression {
    /// The Up filter, then `fdeflate` (the `png` crate's fast deflate: one
    /// fixed Huffman code, runs of zeros only); or, on frames of fine detail
    /// or noise, Huffman codes alone (after Up, or unfiltered): the fastest,
    /// the largest files.
    Fast,
    /// The Up filter, then repeats of the previous byte or pixel with
    /// Huffman codes fitted to each block; or Huffman codes alone, after Up
    /// on frames of fine detail (many short repeats) or unfiltered on
    /// noise-like frames.
    #[default]
    Default,
    /// All five filters per row with zlib's level-6 match search, or
    /// Huffman codes alone on noise-like frames: the smallest files, the
    /// slowest.
    Small,
}

impl PngCompression {
    /// The names the command line accepts, in order of speed.
    pub const NAMES: [&'static str; 3] = ["fast", "default", "small"];

    /// The ways this level may compress a frame (tried on sample bands).
    fn plans(self) -> &'static [Plan] {
        const NOISE: Plan = Plan {
            filters: &[RowFilter::None],
            coder: Coder::CODES_ONLY,
            weight_percent: 100,
        };
        // Huffman codes alone take a third of the repeat coder's time on
        // content with many short repeats (fractals, fine detail): worth a
        // few percent more bytes.
        const DEFAULT: [Plan; 3] = [
            Plan {
                filters: &[RowFilter::Up],
                coder: Coder::Repeats(&[1, 3]),
                weight_percent: 100,
            },
            Plan {
                filters: &[RowFilter::Up],
                coder: Coder::CODES_ONLY,
                weight_percent: 93,
            },
            Plan {
                weight_percent: 93,
                ..NOISE
            },
        ];
        // fdeflate is the fastest on rendered and synthetic frames; on fine
        // detail and noise, where its fixed code does poorly, Huffman codes
        // alone are both smaller and faster.
        const FAST: [Plan; 3] = [
            Plan {
                filters: &[RowFilter::Up],
                coder: Coder::Fdeflate,
                weight_percent: 100,
            },
            Plan {
                filters: &[RowFilter::Up],
                coder: Coder::CODES_ONLY,
                weight_percent: 100,
            },
            NOISE,
        ];
        const SMALL: [Plan; 2] = [
            Plan {
                filters: &[
                    RowFilter::None,
                    RowFilter::Sub,
                    RowFilter::Up,
                    RowFilter::Average,
                    RowFilter::Paeth,
                ],
                coder: Coder::Zlib(DeflateSettings::matches(6)),
                weight_percent: 100,
            },
            NOISE,
        ];
        match self {
            PngCompression::Fast => &FAST,
            PngCompression::Default => &DEFAULT,
            PngCompression::Small => &SMALL,
        }
    }
}

impl std::fmt::Display for PngCompression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            PngCompression::Fast => "fast",
            PngCompression::Default => "default",
            PngCompression::Small => "small",
        };
        f.write_str(name)
    }
}

/// A PNG compression level name that is not one of [`PngCompression::NAMES`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown PNG compression {given:?} (expected fast, default or small)")]
pub struct UnknownPngCompression {
    /// The name given.
    pub given: String,
}

impl std::str::FromStr for PngCompression {
    type Err = UnknownPngCompression;
    fn from_str(s: &str) -> Result<Self, UnknownPngCompression> {
        match s {
            "fast" => Ok(PngCompression::Fast),
            "default" => Ok(PngCompression::Default),
            "small" => Ok(PngCompression::Small),
            other => Err(UnknownPngCompression {
                given: other.to_string(),
            }),
        }
    }
}

/// What compresses the filtered rows into the zlib stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coder {
    /// `zlib-rs` at a level and strategy.
    Zlib(DeflateSettings),
    /// `fdeflate`: one fixed Huffman code and runs of zeros, one pass.
    Fdeflate,
    /// Repeats at these distances only, with codes fitted per block.
    Repeats(&'static [usize]),
}

impl Coder {
    /// Huffman codes alone, no repeats.
    const CODES_ONLY: Coder = Coder::Repeats(&[]);
}

/// A zlib stream being written by one of the [`Coder`]s.
enum ZlibStream {
    Zlib(ZlibPieces),
    Fdeflate(FdeflatePieces),
    Repeats(RepeatDeflate),
}

impl ZlibStream {
    fn new(coder: Coder, piece_bytes: usize) -> Self {
        match coder {
            Coder::Zlib(settings) => ZlibStream::Zlib(ZlibPieces::new(settings, piece_bytes)),
            Coder::Fdeflate => ZlibStream::Fdeflate(FdeflatePieces::new(piece_bytes)),
            Coder::Repeats(distances) => {
                ZlibStream::Repeats(RepeatDeflate::new(distances, piece_bytes))
            }
        }
    }

    fn write(
        &mut self,
        data: &[u8],
        sink: &mut impl FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        match self {
            ZlibStream::Zlib(z) => z.write(data, sink),
            ZlibStream::Fdeflate(z) => z.write(data, sink),
            ZlibStream::Repeats(z) => z.write(data, sink),
        }
    }

    /// Compresses the `n` bytes `fill` writes: straight into the repeat
    /// coder's block, or through `scratch` for the others.
    fn write_with(
        &mut self,
        n: usize,
        fill: impl FnOnce(&mut [u8]),
        scratch: &mut Vec<u8>,
        sink: &mut impl FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        if let ZlibStream::Repeats(z) = self {
            return z.write_with(n, fill, sink);
        }
        scratch.resize(n, 0);
        fill(scratch);
        self.write(scratch, sink)
    }

    fn finish(self, sink: &mut impl FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
        match self {
            ZlibStream::Zlib(z) => z.finish(sink),
            ZlibStream::Fdeflate(z) => z.finish(sink),
            ZlibStream::Repeats(z) => z.finish(sink),
        }
    }
}

/// Row filters to choose from and the coder after them.
#[derive(Debug, Clone, Copy)]
struct Plan {
    filters: &'static [RowFilter],
    coder: Coder,
    /// What this plan's probe bytes count for when plans are compared, in
    /// percent: a faster plan may write a little more.
    weight_percent: usize,
}

/// Sample bands tried before each frame, and rows in each.
const PROBE_BANDS: usize = 4;
const PROBE_ROWS: usize = 4;
/// The probe only counts bytes: small pieces keep its buffer cheap.
const PROBE_PIECE_BYTES: usize = 16 << 10;
/// Compressed bytes per IDAT chunk of the written file.
const IDAT_PIECE_BYTES: usize = 256 << 10;

/// Rows the probe compresses in an image of `height` rows.
fn probe_rows(height: usize) -> usize {
    if height <= PROBE_BANDS * PROBE_ROWS {
        height
    } else {
        PROBE_BANDS * PROBE_ROWS
    }
}

impl Plan {
    /// Filters and compresses the rows of `bands` of `image` as one stream
    /// (each band's first row filtered against the row above it),
    /// passing the zlib stream's pieces of at most `piece_bytes` to `sink`.
    fn compress(
        &self,
        image: &Image,
        rows: &mut RowBuffer,
        bands: impl IntoIterator<Item = std::ops::Range<usize>>,
        piece_bytes: usize,
        sink: &mut impl FnMut(&[u8]) -> io::Result<()>,
    ) -> Result<(), PngEncodeError> {
        let row_len = image.rgb_row_len();
        let mut chooser = RowFilterChooser::new(self.filters, row_len);
        let mut zlib = ZlibStream::new(self.coder, piece_bytes);
        // The row being filtered and the one above it, converted from the
        // stored frame just before use.
        let (mut row, mut above) = (vec![0; row_len], vec![0; row_len]);
        let mut above_y = None;
        let mut filtered = Vec::new();
        for y in bands.into_iter().flatten() {
            match y.checked_sub(1) {
                None => above.fill(0),
                Some(up) if above_y != Some(up) => image.upright_rgb_row(up, &mut above, rows)?,
                Some(_) => {}
            }
            image.upright_rgb_row(y, &mut row, rows)?;
            let fill = |out: &mut [u8]| chooser.filter_into(&row, &above, out);
            zlib.write_with(row_len + 1, fill, &mut filtered, sink)?;
            std::mem::swap(&mut row, &mut above);
            above_y = Some(y);
        }
        Ok(zlib.finish(sink)?)
    }

    /// Compressed bytes of a few bands of rows spread over the image.
    fn probe_bytes(&self, image: &Image, rows: &mut RowBuffer) -> Result<usize, PngEncodeError> {
        let height = image.height() as usize;
        let mut bytes = 0;
        let mut count = |piece: &[u8]| {
            bytes += piece.len();
            Ok(())
        };
        let bands: Vec<_> = if probe_rows(height) == height {
            std::iter::once(0..height).collect()
        } else {
            (0..PROBE_BANDS)
                .map(|band| {
                    let start = height * (2 * band + 1) / (2 * PROBE_BANDS) - PROBE_ROWS / 2;
                    start..start + PROBE_ROWS
                })
                .collect()
        };
        self.compress(image, rows, bands, PROBE_PIECE_BYTES, &mut count)?;
        Ok(bytes)
    }
}

/// The plan whose probe of `image` comes out smallest, its bytes weighted
/// by the plan's weight.
fn choose_plan(
    plans: &[Plan],
    image: &Image,
    rows: &mut RowBuffer,
) -> Result<Plan, PngEncodeError> {
    let (row_len, height) = (image.rgb_row_len(), image.height() as usize);
    // (weighted bytes, bytes, plan) of the best probe so far
    let mut best = (usize::MAX, usize::MAX, plans[0]);
    for plan in plans {
        // Huffman codes spend at least one bit per byte: once a plan does
        // better than that on the probe, no plan of codes alone can beat it.
        if plan.coder == Coder::CODES_ONLY && best.1 < probe_rows(height) * (row_len + 1) / 8 {
            continue;
        }
        let bytes = plan.probe_bytes(image, rows)?;
        let weighted = bytes.saturating_mul(plan.weight_percent);
        if weighted < best.0 {
            best = (weighted, bytes, *plan);
        }
    }
    Ok(best.2)
}

/// Encodes one image as an 8-bit RGB PNG at the default compression,
/// streaming into `out`.
pub fn encode_png<W: Write>(image: &Image, out: W) -> Result<(), PngEncodeError> {
    encode_png_with(image, PngCompression::Default, out)
}

/// Encodes one image as an 8-bit RGB PNG at `compression`, streaming into `out`.
pub fn encode_png_with<W: Write>(
    image: &Image,
    compression: PngCompression,
    out: W,
) -> Result<(), PngEncodeError> {
    let mut encoder = ::png::Encoder::new(out, image.width(), image.height());
    encoder.set_color(::png::ColorType::Rgb);
    encoder.set_depth(::png::BitDepth::Eight);
    let plans = compression.plans();
    let height = image.height() as usize;
    let mut rows = RowBuffer::new();
    let plan = choose_plan(plans, image, &mut rows)?;
    let mut writer = encoder.write_header()?;
    let mut idat = |piece: &[u8]| {
        writer
            .write_chunk(::png::chunk::IDAT, piece)
            .map_err(|e| match e {
                ::png::EncodingError::IoError(io) => io,
                other => io::Error::other(other),
            })
    };
    plan.compress(
        image,
        &mut rows,
        std::iter::once(0..height),
        IDAT_PIECE_BYTES,
        &mut idat,
    )?;
    image.verify_pixels(&mut rows)?;
    Ok(writer.finish()?)
}

/// The PNG [`FrameStage`] for movies: each image becomes one sample's bytes.
#[derive(Debug, Default, Clone, Copy)]
pub struct PngStage;

impl FrameStage for PngStage {
    type Output = Vec<u8>;

    fn process(&mut self, image: &Image) -> Result<Vec<u8>, ExportError> {
        let mut out = Vec::with_capacity(image.rgb_row_len() * image.height() as usize / 2);
        encode_png(image, &mut out).map_err(|error| match error {
            PngEncodeError::Input(input) => ExportError::Input(input),
            PngEncodeError::Encoding(source) => ExportError::Png {
                index: image.index(),
                source,
            },
        })?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::{Just, Strategy as _};

    fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let decoder = ::png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.color_type, ::png::ColorType::Rgb);
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    #[test]
    fn movie_stage_png_decodes_to_the_same_rgb() {
        let rgb: Vec<u8> = (0..7 * 5 * 3).map(|i| (i * 37 % 256) as u8).collect();
        let image = Image::new(0, 7, 5, rgb.clone());
        let bytes = PngStage.process(&image).unwrap();
        assert_eq!(decode(&bytes), (7, 5, rgb));
    }

    #[test]
    fn every_level_decodes_to_the_same_rgb_on_flat_and_noisy_images() {
        let (w, h) = (67usize, 90usize);
        let mut x = 7u32;
        let mut noise = || {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (x >> 16) as u8
        };
        let flat: Vec<u8> = (0..w * h * 3).map(|i| ((i / 3 / w) * 2) as u8).collect();
        let noisy: Vec<u8> = (0..w * h * 3).map(|_| noise()).collect();
        for rgb in [flat, noisy] {
            let image = Image::new(0, w as u32, h as u32, rgb.clone());
            for name in PngCompression::NAMES {
                let level: PngCompression = name.parse().unwrap();
                assert_eq!(level.to_string(), name);
                let mut bytes = Vec::new();
                encode_png_with(&image, level, &mut bytes).unwrap();
                assert_eq!(decode(&bytes), (w as u32, h as u32, rgb.clone()), "{name}");
            }
        }
        assert!("smallest".parse::<PngCompression>().is_err());
    }

    proptest::proptest! {
        #[test]
        fn every_level_decodes_any_small_image_exactly(
            (w, h, rgb) in (1usize..48, 1usize..48).prop_flat_map(|(w, h)| {
                // Mostly 0 and 1 (runs and short repeats), some bytes of any value.
                let byte = proptest::prop_oneof![3 => 0u8..2, 1 => proptest::num::u8::ANY];
                (Just(w), Just(h), proptest::collection::vec(byte, w * h * 3))
            }),
            // Held as stored by a GL recorder (converted row by row while encoding) or upright.
            bottom_up in proptest::bool::ANY,
        ) {
            let stored = bottom_up.then_some(crate::cache::RowOrder::BottomUp);
            let image = Image::new_as(0, w as u32, h as u32, rgb.clone(), stored);
            for name in PngCompression::NAMES {
                let level: PngCompression = name.parse().unwrap();
                let mut bytes = Vec::new();
                encode_png_with(&image, level, &mut bytes).unwrap();
                proptest::prop_assert_eq!(decode(&bytes), (w as u32, h as u32, rgb.clone()));
            }
        }
    }

    #[test]
    fn default_repeats_and_fast_uses_fdeflate_on_shaded_rows_both_code_noise_alone() {
        let (w, h) = (320usize, 200usize);
        // A blue ramp over black, like a shaded model: Up leaves runs.
        let shaded: Vec<u8> = (0..w * h * 3)
            .map(|i| {
                if i % 3 == 2 {
                    ((i / 3 % w) / 4) as u8
                } else {
                    0
                }
            })
            .collect();
        // Grain on a flat grey (noisy video): differencing rows doubles
        // the grain's spread, so rows are best left unfiltered.
        let mut x = 3u32;
        let noise: Vec<u8> = (0..w * h * 3)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                120 + (x >> 16) as u8 % 16
            })
            .collect();
        let plans = PngCompression::Default.plans();
        let (shaded, noise) = (
            Image::new(0, w as u32, h as u32, shaded),
            Image::new(0, w as u32, h as u32, noise),
        );
        let plan = choose_plan(plans, &shaded, &mut RowBuffer::new()).unwrap();
        assert_eq!(plan.coder, Coder::Repeats(&[1, 3]));
        assert_eq!(plan.filters, &[RowFilter::Up]);
        let plan = choose_plan(plans, &noise, &mut RowBuffer::new()).unwrap();
        assert_eq!(plan.coder, Coder::CODES_ONLY);
        assert_eq!(plan.filters, &[RowFilter::None]);
        // The fast level: fdeflate on the shaded rows, Huffman codes alone on noise.
        let fast = PngCompression::Fast.plans();
        let plan = choose_plan(fast, &shaded, &mut RowBuffer::new()).unwrap();
        assert_eq!(
            (plan.coder, plan.filters),
            (Coder::Fdeflate, &[RowFilter::Up][..])
        );
        let plan = choose_plan(fast, &noise, &mut RowBuffer::new()).unwrap();
        assert_eq!(
            (plan.coder, plan.filters),
            (Coder::CODES_ONLY, &[RowFilter::None][..])
        );
    }
}
