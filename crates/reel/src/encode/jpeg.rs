//! JPEG encoding of upright RGB images (for MJPEG movies).
//!
//! Frames are converted to YCbCr with box-averaged chroma first (see
//! [`super::ycbcr`]), then encoded 4:2:0.

use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

use super::ycbcr::rgb_to_ycbcr_block_chroma;
use crate::error::ExportError;
use crate::export::pipeline::FrameStage;
use crate::source::Image;

/// The JPEG [`FrameStage`]: baseline JPEG, 4:2:0, at a fixed quality.
#[derive(Debug, Clone)]
pub struct JpegStage {
    quality: u8,
    /// YCbCr of the current frame; reused.
    ycbcr: Vec<u8>,
}

impl JpegStage {
    /// A stage encoding at `quality` (1–100).
    pub fn new(quality: u8) -> Result<Self, ExportError> {
        if !(1..=100).contains(&quality) {
            return Err(ExportError::Unsupported(format!(
                "JPEG quality must be 1 to 100, got {quality}"
            )));
        }
        Ok(JpegStage {
            quality,
            ycbcr: Vec::new(),
        })
    }

    /// Checks that frames of this size can be JPEG-encoded (at most 65535 on a side).
    pub fn check_size(width: u32, height: u32) -> Result<(), ExportError> {
        if width > u32::from(u16::MAX) || height > u32::from(u16::MAX) {
            return Err(ExportError::Unsupported(format!(
                "JPEG cannot hold {width}x{height} frames (65535 pixels per side at most)"
            )));
        }
        Ok(())
    }
}

impl FrameStage for JpegStage {
    type Output = Vec<u8>;

    fn process(&mut self, image: &Image) -> Result<Vec<u8>, ExportError> {
        Self::check_size(image.width(), image.height())?;
        let mut out = Vec::with_capacity(image.rgb().len() / 8);
        let (w, h) = (image.width() as usize, image.height() as usize);
        rgb_to_ycbcr_block_chroma(image.rgb(), w, h, &mut self.ycbcr);
        let mut encoder = Encoder::new(&mut out, self.quality);
        // 4:2:0, as ffmpeg's MJPEG and most players expect.
        encoder.set_sampling_factor(SamplingFactor::R_4_2_0);
        encoder
            .encode(
                &self.ycbcr,
                image.width() as u16,
                image.height() as u16,
                ColorType::Ycbcr,
            )
            .map_err(|e| ExportError::Encode {
                index: image.index(),
                message: e.to_string(),
            })?;
        Ok(out)
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
}
