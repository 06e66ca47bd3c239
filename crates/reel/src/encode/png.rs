//! PNG encoding of upright RGB images (lossless).

use crate::error::ExportError;
use crate::source::Image;
use crate::stage::FrameStage;

/// Encodes one image as an 8-bit RGB PNG with the `png` crate's fast
/// deflate (`Compression::Fast`) and the Average row filter, streaming
/// into `out`.
///
/// `Fast` alone picks the filter per row by trying all five; the Average
/// filter alone gives the same size for much less CPU (measured in
/// BENCHMARKS.md).
pub fn encode_png<W: std::io::Write>(image: &Image, out: W) -> Result<(), ::png::EncodingError> {
    let mut encoder = ::png::Encoder::new(out, image.width(), image.height());
    encoder.set_color(::png::ColorType::Rgb);
    encoder.set_depth(::png::BitDepth::Eight);
    encoder.set_compression(::png::Compression::Fast);
    encoder.set_filter(::png::Filter::Avg);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(image.rgb())?;
    writer.finish()
}

/// The PNG [`FrameStage`] for movies: each image becomes one sample's bytes.
#[derive(Debug, Default, Clone, Copy)]
pub struct PngStage;

impl FrameStage for PngStage {
    type Output = Vec<u8>;

    fn process(&mut self, image: &Image) -> Result<Vec<u8>, ExportError> {
        let mut out = Vec::with_capacity(image.rgb().len() / 2);
        encode_png(image, &mut out).map_err(|source| ExportError::Png {
            index: image.index(),
            source,
        })?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_png_decodes_to_the_same_rgb() {
        let rgb: Vec<u8> = (0..7 * 5 * 3).map(|i| (i * 37 % 256) as u8).collect();
        let image = Image::new(0, 7, 5, rgb.clone());
        let bytes = PngStage.process(&image).unwrap();
        let decoder = ::png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (7, 5));
        assert_eq!(info.color_type, ::png::ColorType::Rgb);
        assert_eq!(&buf[..info.buffer_size()], &rgb[..]);
    }
}
