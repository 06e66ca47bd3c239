//! H.264: choosing an encoder ([`H264Backend`]) and the `avcC` record.
//!
//! Two encoders are available. x264 ([`x264`], loaded at run time when
//! `libx264.so.164` is installed) is the fast one, the encoder behind
//! ffmpeg's `libx264`; OpenH264 ([`openh264`], built in) always works and
//! is the fallback.

pub mod openh264;
pub mod x264;

use crate::error::ExportError;
use x264::{X264Library, X264Unavailable};

/// Which H.264 encoder an export uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum H264Backend {
    /// x264 when `libx264.so.164` loads, else OpenH264.
    #[default]
    Auto,
    /// x264, loaded at run time; an error if it cannot be loaded.
    X264,
    /// OpenH264, built in.
    OpenH264,
}

impl H264Backend {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            H264Backend::Auto => "auto",
            H264Backend::X264 => "x264",
            H264Backend::OpenH264 => "openh264",
        }
    }

    /// Decides which encoder to use: [`Auto`](H264Backend::Auto) becomes
    /// x264 when it loads, else OpenH264 (with the reason x264 could not be
    /// used); [`X264`](H264Backend::X264) fails, saying why, when x264 does
    /// not load.
    pub fn choose(self) -> Result<H264Choice, ExportError> {
        match self {
            H264Backend::OpenH264 => Ok(H264Choice::OpenH264 { x264_missing: None }),
            H264Backend::Auto => Ok(match X264Library::get() {
                Ok(lib) => H264Choice::X264(lib),
                Err(e) => H264Choice::OpenH264 {
                    x264_missing: Some(e),
                },
            }),
            H264Backend::X264 => X264Library::get()
                .map(H264Choice::X264)
                .map_err(|source| ExportError::CodecUnavailable { source }),
        }
    }
}

/// Checks that x264 loads here, as an export with [`H264Backend::X264`]
/// would load it (the result is remembered for the process).
pub fn probe_x264() -> Result<(), X264Unavailable> {
    X264Library::get().map(|_| ())
}

impl std::fmt::Display for H264Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for H264Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(H264Backend::Auto),
            "x264" => Ok(H264Backend::X264),
            "openh264" => Ok(H264Backend::OpenH264),
            other => Err(format!(
                "unknown H.264 encoder {other:?} (expected auto, x264 or openh264)"
            )),
        }
    }
}

/// The encoder [`H264Backend::choose`] settled on.
#[derive(Debug, Clone)]
pub enum H264Choice {
    /// x264, loaded.
    X264(&'static X264Library),
    /// OpenH264; with `Auto`, also why x264 was not used.
    OpenH264 {
        /// Why x264 could not be loaded, when it was wanted.
        x264_missing: Option<X264Unavailable>,
    },
}

impl H264Choice {
    /// The concrete backend.
    pub fn backend(&self) -> H264Backend {
        match self {
            H264Choice::X264(_) => H264Backend::X264,
            H264Choice::OpenH264 { .. } => H264Backend::OpenH264,
        }
    }

    /// Why x264 was not used, when `Auto` fell back to OpenH264.
    pub fn into_x264_missing(self) -> Option<X264Unavailable> {
        match self {
            H264Choice::OpenH264 { x264_missing } => x264_missing,
            H264Choice::X264(_) => None,
        }
    }
}

/// The `avcC` decoder configuration record (ISO 14496-15) for one SPS and
/// one PPS (NAL units without start code or length), with 4-byte NAL
/// lengths; `None` if the SPS is too short to hold a profile and level.
pub fn avc_decoder_config(sps: &[u8], pps: &[u8]) -> Option<Vec<u8>> {
    if sps.len() < 4 || pps.is_empty() {
        return None;
    }
    let profile = sps[1];
    let mut c = vec![1, profile, sps[2], sps[3], 0xFF, 0xE1];
    c.extend_from_slice(&(sps.len() as u16).to_be_bytes());
    c.extend_from_slice(sps);
    c.push(1);
    c.extend_from_slice(&(pps.len() as u16).to_be_bytes());
    c.extend_from_slice(pps);
    if matches!(profile, 100 | 110 | 122 | 144 | 244) {
        // High profiles: chroma format 4:2:0 and 8-bit depths (all reel
        // encodes), no SPS extensions.
        c.extend_from_slice(&[0xFC | 1, 0xF8, 0xF8, 0]);
    }
    Some(c)
}
