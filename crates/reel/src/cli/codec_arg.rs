//! The `--codec` argument: a movie codec named without its options.

use reel::H264Backend;
use reel::MovieCodec;

/// A movie codec as named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CodecArg {
    /// Lossless PNG frames.
    Png,
    /// Motion JPEG.
    #[value(alias = "jpeg")]
    Mjpeg,
    /// H.264.
    #[value(alias = "avc")]
    H264,
}

impl CodecArg {
    /// The codec with the options it takes (the others' are not used).
    pub fn with_options(self, jpeg_quality: u8, h264_encoder: H264Backend) -> MovieCodec {
        match self {
            CodecArg::Png => MovieCodec::Png,
            CodecArg::Mjpeg => MovieCodec::Mjpeg {
                quality: jpeg_quality,
            },
            CodecArg::H264 => MovieCodec::H264 {
                encoder: h264_encoder,
            },
        }
    }
}
