//! JPEG encoding of upright RGB images (for MJPEG movies).
//!
//! Each pair of rows is read and converted to full-range YCbCr (JFIF) as
//! the frame's planes are filled, every chroma sample the average of its
//! 2×2 block, and the planes are encoded as baseline JPEG, 4:2:0
//! ([`super::jpeg_baseline`]), with MPEG-style quantization (see
//! [`quantization_table`]), the dead zone MPEG encoders use for AC
//! coefficients, and Huffman tables fitted to each frame.

use super::jpeg_baseline::{BaselineEncoder, Planes};
use super::ycbcr::jfif_row_pair_420;
use crate::error::{ExportError, InvalidOption, SizeLimit};
use crate::source::{Image, RowBuffer};
use crate::stage::FrameStage;

/// The JPEG [`FrameStage`]: baseline JPEG, 4:2:0, at a fixed quality.
#[derive(Debug, Clone)]
pub struct JpegStage {
    encoder: BaselineEncoder,
    /// The frame being encoded as YCbCr planes (reused from frame to frame).
    planes: Planes,
    /// Two upright RGB rows, the pair being converted.
    rows: [Vec<u8>; 2],
}

impl JpegStage {
    /// A stage encoding at `quality` (1–100).
    pub fn new(quality: u8) -> Result<Self, ExportError> {
        if !(1..=100).contains(&quality) {
            return Err(InvalidOption::JpegQuality(quality).into());
        }
        Ok(JpegStage {
            encoder: BaselineEncoder::new(quantization_table(quality)),
            planes: Planes::default(),
            rows: [Vec::new(), Vec::new()],
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
        let (w, h) = (image.width() as usize, image.height() as usize);
        let mut buffer = RowBuffer::new();
        let [top, bottom] = &mut self.rows;
        top.resize(image.rgb_row_len(), 0);
        bottom.resize(image.rgb_row_len(), 0);
        self.planes.fill(w, h, |j, outputs| {
            image.upright_rgb_row(2 * j, top, &mut buffer)?;
            // On an odd bottom edge the last row pairs with itself.
            let partner: &[u8] = if 2 * j + 1 < h {
                image.upright_rgb_row(2 * j + 1, bottom, &mut buffer)?;
                bottom
            } else {
                top
            };
            jfif_row_pair_420(top, partner, outputs);
            Ok::<(), crate::error::CacheError>(())
        })?;
        // A damaged cache frame is found here, before anything is made of it.
        image.verify_pixels(&mut buffer)?;
        let mut out = Vec::with_capacity(w * h / 4);
        self.encoder.encode(&self.planes, &mut out);
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
/// the MPEG-1 intra matrix scaled about the way libjpeg scales its tables
/// (`5000 / q` percent below 50, `201 - 2q` from 50 up, rounded down), with
/// a DC step of at least 8 from quality 88 down (see `dc_floor`).
///
/// Why not JPEG's own Annex K tables: they quantize high frequencies and
/// all of chroma far more coarsely, which costs PSNR on detailed or noisy
/// frames: on the benchmark frames Annex K at quality 90 decodes 0.6 dB
/// below ffmpeg's `-q:v 2` while writing about as many bytes, and no Annex K
/// quality closes the gap without costing far more bytes. The flatter
/// MPEG matrix is what ffmpeg's MJPEG uses (each step `matrix × qscale / 8`
/// rounded down), and the scale here is libjpeg's shifted by one percent
/// and rounded down the same way, so that quality 88 quantizes exactly
/// like `-q:v 2` (libjpeg's rounding at ×0.24 made some low-frequency steps
/// a quarter coarser than ffmpeg's, and cost PSNR on smooth frames).
pub fn quantization_table(quality: u8) -> [u16; 64] {
    let q = u32::from(quality.clamp(1, 100));
    let percent = if q < 50 { 5000 / q } else { 201 - 2 * q };
    let mut table = MPEG_INTRA_MATRIX.map(|m| (u32::from(m) * percent / 100).clamp(1, 255) as u16);
    table[0] = table[0].max(dc_floor(percent));
    table
}

/// The smallest DC quantizer at a scale of `percent`: 8 from quality 88 down, as MPEG
/// encoders quantize intra DC (a step of 8 keeps each block's mean to one level, so a finer
/// step costs bytes and shows nothing), falling in proportion above it, to 1 at quality 100.
fn dc_floor(percent: u32) -> u16 {
    ((8 * percent.min(25) + 12) / 25).max(1) as u16
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
        // Quality 88 is ffmpeg's `-q:v 2`: each AC step (matrix × 2) >> 3.
        let q88 = quantization_table(88);
        for (t, m) in q88.iter().zip(MPEG_INTRA_MATRIX.iter()).skip(1) {
            assert_eq!(*t, (m * 2) >> 3);
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
    fn planes_hold_the_block_by_block_definition_padded_by_repeating_the_edges() {
        for (w, h) in [
            (1, 1),
            (2, 2),
            (3, 3),
            (4, 2),
            (5, 4),
            (7, 5),
            (16, 9),
            (17, 16),
        ] {
            let rgb: Vec<u8> = (0..w * h * 3)
                .map(|i| (i * 97 % 251 + i / 7) as u8)
                .collect();
            let whole = super::super::ycbcr::jfif_reference(&rgb, w, h);
            let image = Image::new(0, w as u32, h as u32, rgb);
            let mut stage = JpegStage::new(90).unwrap();
            stage.process(&image).unwrap();
            let planes = &stage.planes;
            let (luma_w, chroma_w) = (w.div_ceil(16) * 16, w.div_ceil(16) * 8);
            assert_eq!(planes.luma.len(), luma_w * h.div_ceil(16) * 16);
            let at = |x: usize, y: usize| &whole[(y * w + x) * 3..(y * w + x) * 3 + 3];
            for y in 0..h.div_ceil(16) * 16 {
                for x in 0..luma_w {
                    // Past the edges, the last column and row repeat.
                    let (sx, sy) = (x.min(w - 1), y.min(h - 1));
                    assert_eq!(
                        planes.luma[y * luma_w + x],
                        at(sx, sy)[0],
                        "{w}x{h} Y ({x}, {y})"
                    );
                    if x % 2 == 0 && y % 2 == 0 {
                        let (cx, cy) = (x.min(2 * ((w - 1) / 2)), y.min(2 * ((h - 1) / 2)));
                        let c = (y / 2) * chroma_w + x / 2;
                        let expected = [at(cx, cy)[1], at(cx, cy)[2]];
                        assert_eq!(
                            [planes.cb[c], planes.cr[c]],
                            expected,
                            "{w}x{h} CbCr ({x}, {y})"
                        );
                    }
                }
            }
        }
    }

    /// RGB PSNR of `decoded` against `source`, in dB.
    fn psnr(source: &[u8], decoded: &[u8]) -> f64 {
        let mse = source
            .iter()
            .zip(decoded)
            .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
            .sum::<f64>()
            / source.len() as f64;
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }

    #[test]
    fn frames_of_any_size_decode_to_their_size_close_to_the_source() {
        for (w, h) in [(1, 1), (7, 5), (16, 16), (33, 17), (160, 90)] {
            // Smooth shading with an edge: what rendered frames are made of.
            let rgb: Vec<u8> = (0..w * h)
                .flat_map(|i| {
                    let (x, y) = (i % w, i / w);
                    let edge = if x > w / 2 { 60 } else { 0 };
                    [
                        (x * 200 / w + edge) as u8,
                        (y * 255 / h) as u8,
                        ((x + y) % 256) as u8,
                    ]
                })
                .collect();
            let image = Image::new(0, w as u32, h as u32, rgb.clone());
            let mut decibels = Vec::new();
            for quality in [50, 88, 98] {
                let jpeg = JpegStage::new(quality).unwrap().process(&image).unwrap();
                let mut decoder = jpeg_decoder::Decoder::new(std::io::Cursor::new(&jpeg));
                let decoded = decoder.decode().unwrap();
                let info = decoder.info().unwrap();
                assert_eq!((info.width as usize, info.height as usize), (w, h));
                assert_eq!(info.pixel_format, jpeg_decoder::PixelFormat::RGB24);
                decibels.push(psnr(&rgb, &decoded));
            }
            // 4:2:0 blurs the colour edge: above 25 dB at every quality, better at higher.
            assert!(decibels[0] > 25.0, "{w}x{h}: {decibels:?} dB");
            assert!(
                decibels[0] <= decibels[1] && decibels[1] <= decibels[2],
                "{w}x{h}: {decibels:?} dB"
            );
        }
    }

    #[test]
    fn a_flat_frame_is_a_few_hundred_bytes_with_tables_fitted_to_it() {
        // 1280x720 of one colour: 21,600 blocks, each a DC difference of 0 and an EOB,
        // one bit each with fitted tables (JPEG's example tables spend 2 + 2 or 4).
        let image = Image::new(0, 1280, 720, [40u8, 90, 160].repeat(1280 * 720));
        let jpeg = JpegStage::new(88).unwrap().process(&image).unwrap();
        assert!(jpeg.len() < 21_600 * 2 / 8 + 400, "{} bytes", jpeg.len());
        let decoded = jpeg_decoder::Decoder::new(std::io::Cursor::new(&jpeg))
            .decode()
            .unwrap();
        assert!(decoded.chunks_exact(3).all(|p| p
            .iter()
            .zip([40u8, 90, 160])
            .all(|(a, b)| a.abs_diff(b) <= 2)));
    }
}
