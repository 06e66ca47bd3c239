//! JPEG encoding of upright RGB images (for MJPEG movies).
//!
//! Each row is converted to full-range YCbCr (JFIF) as the encoder asks for
//! it, with every chroma sample the average of its 2×2 block, and encoded
//! 4:2:0 with MPEG-style quantization tables (see [`quantization_table`]).

use jpeg_encoder::{Encoder, ImageBuffer, JpegColorType, QuantizationTableType, SamplingFactor};

use std::cell::RefCell;

use super::ycbcr::{jfif_row_block_chroma, jfif_row_luma};
use crate::error::{ExportError, InvalidOption, SizeLimit};
use crate::source::Image;
use crate::stage::FrameStage;

/// The JPEG [`FrameStage`]: baseline JPEG, 4:2:0, at a fixed quality.
#[derive(Debug, Clone)]
pub struct JpegStage {
    quality: u8,
    /// The frame being encoded, when it has to be converted to upright RGB
    /// here (reused from frame to frame).
    rgb: Vec<u8>,
}

impl JpegStage {
    /// A stage encoding at `quality` (1–100).
    pub fn new(quality: u8) -> Result<Self, ExportError> {
        if !(1..=100).contains(&quality) {
            return Err(InvalidOption::JpegQuality(quality).into());
        }
        Ok(JpegStage {
            quality,
            rgb: Vec::new(),
        })
    }

    /// Checks that frames of this size can be JPEG-encoded (at most 65535 on a side).
    pub fn check_size(width: u32, height: u32) -> Result<(), ExportError> {
        if width > u32::from(u16::MAX) || height > u32::from(u16::MAX) {
            return Err(ExportError::InvalidSize {
                limit: SizeLimit::Jpeg,
                width,
                height,
            });
        }
        Ok(())
    }
}

impl FrameStage for JpegStage {
    type Output = Vec<u8>;

    fn process(&mut self, image: &Image) -> Result<Vec<u8>, ExportError> {
        Self::check_size(image.width(), image.height())?;
        let rgb = image.upright_rgb(&mut self.rgb)?;
        let mut out = Vec::with_capacity(rgb.len() / 4);
        let mut encoder = Encoder::new(&mut out, self.quality);
        // 4:2:0, as ffmpeg's MJPEG and most players expect.
        encoder.set_sampling_factor(SamplingFactor::R_4_2_0);
        let table = || QuantizationTableType::Custom(Box::new(quantization_table(self.quality)));
        encoder.set_quantization_tables(table(), table());
        encoder
            .encode_image(BlockChromaYcbcr::new(rgb, image))
            .map_err(|source| ExportError::Jpeg {
                index: image.index(),
                source,
            })?;
        Ok(out)
    }
}

/// ISO/IEC 11172-2's default intra quantizer matrix (MPEG-1), row by row.
const MPEG_INTRA_MATRIX: [u16; 64] = [
    8, 16, 19, 22, 26, 27, 29, 34, //
    16, 16, 22, 24, 27, 29, 34, 37, //
    19, 22, 26, 27, 29, 34, 34, 38, //
    22, 22, 26, 27, 29, 34, 37, 40, //
    22, 26, 27, 29, 32, 35, 40, 48, //
    26, 27, 29, 32, 35, 40, 48, 58, //
    26, 27, 29, 34, 38, 46, 56, 69, //
    27, 29, 35, 38, 46, 56, 69, 83,
];

/// The quantization table used for luma and chroma at `quality` (1–100):
/// the MPEG-1 intra matrix scaled the way libjpeg scales its tables
/// (`5000 / q` percent below 50, `200 - 2q` from 50 up), with a DC step of
/// at least 8 from quality 88 down (see `dc_floor`).
///
/// Why not JPEG's own Annex K tables: they quantize high frequencies and
/// all of chroma far more coarsely, which costs PSNR on detailed or noisy
/// frames: on the benchmark frames Annex K at quality 90 decodes 0.6 dB
/// below ffmpeg's `-q:v 2` while writing about as many bytes, and no Annex K
/// quality closes the gap without costing far more bytes. The flatter
/// MPEG matrix is what ffmpeg's MJPEG uses (scaled by `qscale / 8`), so
/// quality 88 here quantizes AC coefficients like `-q:v 2` (×0.24 against
/// ×0.25) and reaches the same PSNR.
pub fn quantization_table(quality: u8) -> [u16; 64] {
    let q = u32::from(quality.clamp(1, 100));
    let percent = if q < 50 { 5000 / q } else { 200 - 2 * q };
    let mut table =
        MPEG_INTRA_MATRIX.map(|m| ((u32::from(m) * percent + 50) / 100).clamp(1, 255) as u16);
    table[0] = table[0].max(dc_floor(percent));
    table
}

/// The smallest DC quantizer at a scale of `percent`: 8 from quality 88 down, as MPEG
/// encoders quantize intra DC (a step of 8 keeps each block's mean to one level, so a finer
/// step costs bytes and shows nothing), falling in proportion above it, to 1 at quality 100.
fn dc_floor(percent: u32) -> u16 {
    ((8 * percent.min(24) + 12) / 24).max(1) as u16
}

/// An upright RGB image seen by the JPEG encoder as full-range YCbCr, one
/// row at a time, each chroma sample averaged over its 2×2 block (blocks
/// cut by an odd right or bottom edge average the pixels they have).
///
/// `jpeg-encoder` subsamples 4:2:0 chroma by taking one pixel of each
/// block, so the averages are written to every pixel of the block. Doing
/// this per row, inside the encoder's own pass, saves converting the whole
/// frame into a second buffer first.
struct BlockChromaYcbcr<'a> {
    rgb: &'a [u8],
    width: usize,
    height: usize,
    /// The chroma rows of the last 2×2 block row converted: both its rows share them, so the
    /// second row only needs its luma.
    block_row: RefCell<BlockRowChroma>,
}

/// Cb and Cr of one block row, one byte per pixel.
struct BlockRowChroma {
    /// The block row's first image row; `usize::MAX` before the first.
    first: usize,
    cb: Vec<u8>,
    cr: Vec<u8>,
}

impl<'a> BlockChromaYcbcr<'a> {
    /// Over `rgb`, the upright RGB pixels of `image`.
    fn new(rgb: &'a [u8], image: &Image) -> Self {
        BlockChromaYcbcr {
            rgb,
            width: image.width() as usize,
            height: image.height() as usize,
            block_row: RefCell::new(BlockRowChroma {
                first: usize::MAX,
                cb: Vec::new(),
                cr: Vec::new(),
            }),
        }
    }

    fn row(&self, y: usize) -> &'a [u8] {
        let len = self.width * 3;
        &self.rgb[y * len..(y + 1) * len]
    }
}

impl ImageBuffer for BlockChromaYcbcr<'_> {
    fn get_jpeg_color_type(&self) -> JpegColorType {
        JpegColorType::Ycbcr
    }

    fn width(&self) -> u16 {
        self.width as u16
    }

    fn height(&self) -> u16 {
        self.height as u16
    }

    fn fill_buffers(&self, y: u16, buffers: &mut [Vec<u8>; 4]) {
        let y = usize::from(y);
        // The other row of this row's 2x2 blocks; on an odd bottom edge the
        // row itself, which leaves its average unchanged.
        let partner = if (y ^ 1) < self.height { y ^ 1 } else { y };
        let [luma, cb, cr, _] = buffers;
        let w = self.width;
        let grow = |v: &mut Vec<u8>| {
            let start = v.len();
            v.resize(start + w, 0);
            start
        };
        let (ly, lb, lr) = (grow(luma), grow(cb), grow(cr));
        let mut block_row = self.block_row.borrow_mut();
        if block_row.first == y & !1 {
            jfif_row_luma(self.row(y), &mut luma[ly..]);
            cb[lb..].copy_from_slice(&block_row.cb);
            cr[lr..].copy_from_slice(&block_row.cr);
            return;
        }
        jfif_row_block_chroma(
            self.row(y),
            self.row(partner),
            &mut luma[ly..],
            &mut cb[lb..],
            &mut cr[lr..],
        );
        block_row.first = y & !1;
        block_row.cb.clear();
        block_row.cb.extend_from_slice(&cb[lb..]);
        block_row.cr.clear();
        block_row.cr.extend_from_slice(&cr[lr..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_output_has_soi_and_eoi_markers_and_rejects_bad_quality() {
        let image = Image::new(0, 16, 8, vec![128; 16 * 8 * 3]);
        let out = JpegStage::new(90).unwrap().process(&image).unwrap();
        assert_eq!(&out[..2], &[0xFF, 0xD8]);
        assert_eq!(&out[out.len() - 2..], &[0xFF, 0xD9]);
        assert!(JpegStage::new(0).is_err());
        assert!(JpegStage::new(101).is_err());
    }

    #[test]
    fn quantization_table_is_the_mpeg_matrix_at_50_and_scales_like_libjpeg() {
        assert_eq!(quantization_table(50), MPEG_INTRA_MATRIX);
        assert_eq!(quantization_table(100), [1; 64]);
        // Quality 88 is ffmpeg's `-q:v 2` (the matrix / 4) within rounding.
        let q88 = quantization_table(88);
        for (t, m) in q88.iter().zip(MPEG_INTRA_MATRIX.iter()).skip(1) {
            assert!(t.abs_diff(m / 4) <= 1, "{t} against {}", m / 4);
        }
        // DC: a step of 8 (one level of a block's mean) from quality 88 down, finer above.
        assert_eq!(q88[0], 8);
        assert_eq!(quantization_table(94)[0], 4);
        assert_eq!(quantization_table(70)[0], 8);
        // Coarser below 50, clamped to JPEG's 8-bit range.
        assert_eq!(quantization_table(1)[63], 255);
        assert!(quantization_table(25)[1] == 32);
    }

    #[test]
    fn rows_given_to_the_encoder_match_the_block_by_block_definition() {
        for (w, h) in [(1, 1), (2, 2), (3, 3), (4, 2), (5, 4), (7, 5), (16, 9)] {
            let rgb: Vec<u8> = (0..w * h * 3)
                .map(|i| (i * 97 % 251 + i / 7) as u8)
                .collect();
            let whole = super::super::ycbcr::jfif_reference(&rgb, w, h);
            let image = Image::new(0, w as u32, h as u32, rgb.clone());
            let rows = BlockChromaYcbcr::new(&rgb, &image);
            for y in 0..h {
                let mut buffers = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
                rows.fill_buffers(y as u16, &mut buffers);
                assert!(buffers.iter().take(3).all(|b| b.len() == w));
                let expected = &whole[y * w * 3..(y + 1) * w * 3];
                for (x, want) in expected.chunks_exact(3).enumerate() {
                    let got = [buffers[0][x], buffers[1][x], buffers[2][x]];
                    assert_eq!(got, want, "{w}x{h} at ({x}, {y})");
                }
            }
        }
    }
}
