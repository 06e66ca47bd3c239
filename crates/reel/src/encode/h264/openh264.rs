//! H.264 through OpenH264 (the `openh264` crate, built in): colour
//! conversion in parallel ([`YuvStage`], with the crate's own RGB to YUV
//! conversion), the inherently sequential encoding in frame order
//! ([`OpenH264Encoder`]).

use openh264::encoder::{Encoder, EncoderConfig, FrameType, RateControlMode, UsageType};
use openh264::formats::{RgbSliceU8, YUVBuffer};
use openh264::OpenH264API;

use super::avc_decoder_config;
use crate::error::{ExportError, OpenH264Error, SizeLimit};
use crate::source::Image;
use crate::stage::FrameStage;

/// Checks that OpenH264 can encode frames of this size here.
pub fn check_size(width: u32, height: u32) -> Result<(), ExportError> {
    if !width.is_multiple_of(2) || !height.is_multiple_of(2) {
        return Err(ExportError::InvalidSize {
            limit: SizeLimit::EvenFor420,
            width,
            height,
        });
    }
    if width.max(height) > 3840 || width.min(height) > 2160 || width.min(height) < 16 {
        return Err(ExportError::InvalidSize {
            limit: SizeLimit::OpenH264,
            width,
            height,
        });
    }
    Ok(())
}

/// The parallel part: RGB to planar YUV 4:2:0.
#[derive(Debug, Default, Clone)]
pub struct YuvStage {
    /// The frame being converted, when it has to be converted to upright
    /// RGB here (reused from frame to frame).
    rgb: Vec<u8>,
}

impl FrameStage for YuvStage {
    type Output = YUVBuffer;

    fn process(&mut self, image: &Image) -> Result<YUVBuffer, ExportError> {
        check_size(image.width(), image.height())?;
        let rgb = RgbSliceU8::new(
            image.upright_rgb(&mut self.rgb)?,
            (image.width() as usize, image.height() as usize),
        );
        Ok(YUVBuffer::from_rgb8_source(rgb))
    }
}

/// One encoded frame in MP4/QuickTime form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessUnit {
    /// The frame's NAL units, each prefixed by its 4-byte big-endian length.
    pub data: Vec<u8>,
    /// Whether this is an IDR frame (a sync sample).
    pub sync: bool,
}

/// The sequential part: an OpenH264 encoder that emits length-prefixed
/// access units and collects the SPS and PPS for the `avcC` box.
pub struct OpenH264Encoder {
    encoder: Encoder,
    keyframe_interval: u64,
    frames: u64,
    sps: Option<Vec<u8>>,
    pps: Option<Vec<u8>>,
}

impl OpenH264Encoder {
    /// An encoder for `fps` frames per second with rate control off (a
    /// constant quantizer; `bits_per_second` is only a hint),
    /// with an IDR frame every `keyframe_interval` frames, using `threads`
    /// encoder threads.
    pub fn new(
        fps: f32,
        bits_per_second: u32,
        keyframe_interval: u64,
        threads: u16,
    ) -> Result<Self, ExportError> {
        let config = EncoderConfig::new()
            .set_bitrate_bps(bits_per_second)
            .max_frame_rate(fps)
            // Without frame skipping OpenH264 cannot hold a bitrate anyway
            // (it warns on every start); a constant quantizer gives steady
            // quality, as x264's default quality-driven mode does.
            .rate_control_mode(RateControlMode::Off)
            .usage_type(UsageType::CameraVideoRealTime)
            // A skipped frame would leave the movie a sample short.
            .enable_skip_frame(false)
            .set_multiple_thread_idc(threads);
        let encoder =
            Encoder::with_api_config(OpenH264API::from_source(), config).map_err(|e| {
                ExportError::OpenH264 {
                    index: 0,
                    source: OpenH264Error::Start(e),
                }
            })?;
        Ok(OpenH264Encoder {
            encoder,
            keyframe_interval: keyframe_interval.max(1),
            frames: 0,
            sps: None,
            pps: None,
        })
    }

    /// Encodes the next frame.
    pub fn encode(&mut self, yuv: &YUVBuffer) -> Result<AccessUnit, ExportError> {
        let index = self.frames;
        if index > 0 && index.is_multiple_of(self.keyframe_interval) {
            self.encoder.force_intra_frame();
        }
        let err = |source| ExportError::OpenH264 { index, source };
        let stream = self
            .encoder
            .encode(yuv)
            .map_err(|e| err(OpenH264Error::Encode(e)))?;
        let frame_type = stream.frame_type();
        if matches!(frame_type, FrameType::Skip | FrameType::Invalid) {
            return Err(err(OpenH264Error::NoPicture(frame_type)));
        }
        let mut data = Vec::new();
        for l in 0..stream.num_layers() {
            let layer = stream.layer(l).expect("layer index in range");
            for n in 0..layer.nal_count() {
                let nal = strip_start_code(layer.nal_unit(n).expect("NAL index in range"));
                match nal.first().map(|b| b & 0x1F) {
                    None => {}
                    Some(7) => self.sps = Some(nal.to_vec()),
                    Some(8) => self.pps = Some(nal.to_vec()),
                    Some(_) => {
                        data.extend_from_slice(&(nal.len() as u32).to_be_bytes());
                        data.extend_from_slice(nal);
                    }
                }
            }
        }
        if data.is_empty() {
            return Err(err(OpenH264Error::NoPictureData));
        }
        self.frames += 1;
        Ok(AccessUnit {
            data,
            sync: frame_type == FrameType::IDR,
        })
    }

    /// The `avcC` decoder configuration record (ISO 14496-15), once the
    /// first frame has been encoded.
    pub fn avc_config(&self) -> Option<Vec<u8>> {
        avc_decoder_config(self.sps.as_ref()?, self.pps.as_ref()?)
    }
}

/// Drops an Annex B start code (`00 00 01` or `00 00 00 01`) from a NAL unit.
pub fn strip_start_code(nal: &[u8]) -> &[u8] {
    let zeros = nal.iter().take_while(|&&b| b == 0).count();
    if zeros >= 2 && nal.get(zeros) == Some(&1) {
        &nal[zeros + 1..]
    } else {
        nal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_codes_of_both_lengths_are_stripped_and_bare_nals_kept() {
        assert_eq!(strip_start_code(&[0, 0, 0, 1, 0x67, 5]), &[0x67, 5]);
        assert_eq!(strip_start_code(&[0, 0, 1, 0x68]), &[0x68]);
        assert_eq!(strip_start_code(&[0x65, 0, 0, 1]), &[0x65, 0, 0, 1]);
    }

    #[test]
    fn encoder_gives_idr_first_then_avc_config_and_length_prefixed_nals() {
        let mut enc = OpenH264Encoder::new(30.0, 2_000_000, 3, 1).unwrap();
        let mut stage = YuvStage::default();
        let mut units = Vec::new();
        for i in 0..4u64 {
            let rgb: Vec<u8> = (0..64 * 48 * 3)
                .map(|p| ((p as u64 + i * 7) % 256) as u8)
                .collect();
            let yuv = stage.process(&Image::new(i, 64, 48, rgb)).unwrap();
            units.push(enc.encode(&yuv).unwrap());
        }
        assert!(units[0].sync);
        assert!(units[3].sync, "forced keyframe at the interval");
        for unit in &units {
            // Walk the length prefixes: they must tile the sample exactly.
            let mut at = 0;
            while at < unit.data.len() {
                let len = u32::from_be_bytes(unit.data[at..at + 4].try_into().unwrap()) as usize;
                assert!(len > 0);
                at += 4 + len;
            }
            assert_eq!(at, unit.data.len());
        }
        let config = enc.avc_config().unwrap();
        assert_eq!(config[0], 1);
        assert_eq!(config[5], 0xE1);
    }

    #[test]
    fn odd_sizes_are_rejected_with_the_size_named() {
        let e = check_size(641, 360).unwrap_err().to_string();
        assert!(e.contains("641x360"), "{e}");
    }
}
