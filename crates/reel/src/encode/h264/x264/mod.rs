//! H.264 through x264, loaded at run time.
//!
//! x264 is what ffmpeg uses for `-c:v libx264`; at `-preset ultrafast` it
//! needs far less CPU per frame than OpenH264 (BENCHMARKS.md). reel does not link
//! it: [`X264Library`] opens `libx264.so.164` with `dlopen` (through
//! `libloading`) when an export asks for it, so reel builds, and its other
//! codecs run, on machines without x264. Set `REEL_LIBX264` to load another
//! file. Only x264 build 164 is accepted (the ABI the versioned symbol
//! `x264_encoder_open_164` names: Debian 12's `libx264-164`, which Debian's
//! ffmpeg already installs); any other build is refused with a message
//! saying which build it is.
//!
//! **Licensing.** x264 is GPL-2.0-or-later. reel (MIT OR Apache-2.0) neither
//! links against it nor ships it: it only loads a copy the user installed,
//! when present, and falls back to OpenH264 (BSD-2-Clause) otherwise. Whoever
//! distributes reel together with libx264 distributes GPL software and must
//! follow its terms.
//!
//! Work is split like the OpenH264 path: [`I420Stage`] converts RGB to
//! BT.601 limited-range I420 in the parallel stage, and only the
//! [`X264Encoder`] call is sequential. x264 runs its own frame threads and
//! holds a few frames back; [`X264Encoder::flush`] drains them at the end.
//! The settings mirror what ffmpeg gives libx264 ([`X264Settings::like_ffmpeg`]).
//!
//! Every `unsafe` block is in the `ffi` submodule.

mod ffi;

use std::sync::Arc;

pub use ffi::{disable_transparent_huge_pages, X264Encoder, X264Library};

use crate::encode::ycbcr::{i420_len, rgb_to_i420_bt601};
use crate::error::{ExportError, SizeLimit};
use crate::recycle::BufferRecycler;
use crate::source::Image;
use crate::stage::FrameStage;

/// The x264 build (`X264_BUILD`) whose ABI this module is written for.
pub const X264_BUILD: u32 = 164;

/// The library file loaded by default (found by the dynamic loader).
pub const LIBRARY_NAME: &str = "libx264.so.164";

/// Environment variable naming the libx264 file to load instead of
/// [`LIBRARY_NAME`] (a path, or a name for the dynamic loader).
pub const LIBRARY_ENV: &str = "REEL_LIBX264";

/// How to get x264, for messages.
pub const INSTALL_HINT: &str = "apt-get install libx264-164";

/// libx264 could not be loaded (missing, or not build 164).
#[derive(Debug, Clone)]
pub struct X264Unavailable {
    /// The file name or path tried.
    pub library: String,
    /// Why it failed.
    pub reason: X264LoadFailure,
}

/// Why libx264 could not be loaded.
#[derive(Debug, Clone)]
pub enum X264LoadFailure {
    /// The dynamic loader could not open the file.
    Open(Arc<libloading::Error>),
    /// The file is another x264 build.
    OtherBuild(u32),
    /// The file has no `x264_encoder_open_164`: not x264 build 164.
    NotX264,
    /// A function is missing from the file.
    MissingSymbol {
        /// The function.
        symbol: &'static str,
        /// What the loader said.
        error: Arc<libloading::Error>,
    },
}

impl std::error::Error for X264Unavailable {}

impl std::fmt::Display for X264Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let library = &self.library;
        write!(f, "x264 is not available: {library} could not be loaded: ")?;
        match &self.reason {
            X264LoadFailure::Open(e) => {
                // dlerror() names the file again: say it once.
                let e = e.to_string();
                let prefix = format!("{library}: ");
                f.write_str(e.strip_prefix(&prefix).unwrap_or(&e))
            }
            X264LoadFailure::OtherBuild(build) => write!(
                f,
                "it is x264 build {build}, but reel's x264 bindings are for build \
                 {X264_BUILD} only (Debian 12's libx264-164)"
            ),
            X264LoadFailure::NotX264 => write!(
                f,
                "it has no x264_encoder_open_{X264_BUILD}: not x264 build {X264_BUILD}"
            ),
            X264LoadFailure::MissingSymbol { symbol, error } => write!(f, "{symbol}: {error}"),
        }
    }
}

/// Encoder settings, applied with `x264_param_default_preset` and
/// `x264_param_parse`.
#[derive(Debug, Clone, PartialEq)]
pub struct X264Settings {
    /// Frame width (even).
    pub width: u32,
    /// Frame height (even).
    pub height: u32,
    /// Frames per second.
    pub fps: u32,
    /// x264's frame threads.
    pub threads: usize,
    /// The preset (`ultrafast` … `placebo`).
    pub preset: String,
    /// Constant rate factor (quality; lower is better).
    pub crf: f32,
}

impl X264Settings {
    /// What `ffmpeg -c:v libx264 -preset ultrafast` uses: preset ultrafast,
    /// crf 23, x264's default keyframe interval (250), no B-frames (the
    /// preset's), the given threads (frame threads) and rate; without huge
    /// pages.
    pub fn like_ffmpeg(width: u32, height: u32, fps: u32, threads: usize) -> Self {
        X264Settings {
            width,
            height,
            fps,
            threads,
            preset: "ultrafast".into(),
            crf: 23.0,
        }
    }

    /// The `x264_param_parse` options applied after the preset.
    fn options(&self) -> Vec<(String, String)> {
        [
            ("threads", self.threads.clamp(1, 64).to_string()),
            ("fps", self.fps.to_string()),
            ("crf", self.crf.to_string()),
            // MP4/QuickTime samples: 4-byte lengths instead of start codes,
            // SPS/PPS once in the `avcC` box instead of before every keyframe.
            ("annexb", "0".into()),
            ("repeat-headers", "0".into()),
            // Say which matrix the pixels were converted with.
            ("colormatrix", "smpte170m".into()),
            // Warnings and errors only (x264 prints to stderr).
            ("log", "1".into()),
            // The same as the preset's, but the sink relies on it: frames
            // come out in input order.
            ("bframes", "0".into()),
            // Prepare frames for rate control on the calling thread instead
            // of a lookahead thread: the same bitstream, one frame buffer
            // less.
            ("sync-lookahead", "0".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

impl std::fmt::Display for X264Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}x{}, {} fps, preset {}, crf {}, {} threads",
            self.width, self.height, self.fps, self.preset, self.crf, self.threads
        )
    }
}

/// Checks that x264 can encode frames of this size here (even sides, for
/// 4:2:0, and at most 65535 on a side, for the movie).
pub fn check_size(width: u32, height: u32) -> Result<(), ExportError> {
    let limit =
        if !width.is_multiple_of(2) || !height.is_multiple_of(2) || width == 0 || height == 0 {
            SizeLimit::EvenFor420
        } else if width > u32::from(u16::MAX) || height > u32::from(u16::MAX) {
            SizeLimit::X264
        } else {
            return Ok(());
        };
    Err(ExportError::InvalidSize {
        limit,
        width,
        height,
    })
}

/// One frame as I420 (Y, Cb, Cr planes without padding), in a buffer that
/// goes back to its recycler when dropped.
pub struct I420Frame {
    data: Vec<u8>,
    recycler: Arc<BufferRecycler>,
}

impl I420Frame {
    /// The planes.
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }
}

impl Drop for I420Frame {
    fn drop(&mut self) {
        self.recycler.give(std::mem::take(&mut self.data));
    }
}

/// The parallel part of the x264 path: RGB to BT.601 limited-range I420
/// (as ffmpeg's `rgb24` to `yuv420p`), into recycled buffers.
#[derive(Debug, Clone)]
pub struct I420Stage {
    recycler: Arc<BufferRecycler>,
    /// The frame being converted, read and converted to upright RGB here
    /// (frames reach the encoder threads unread: see `Conversion`).
    rgb: Vec<u8>,
}

impl I420Stage {
    /// A stage whose buffers come from (and return to) `recycler`.
    pub fn new(recycler: Arc<BufferRecycler>) -> Self {
        I420Stage {
            recycler,
            rgb: Vec::new(),
        }
    }
}

impl FrameStage for I420Stage {
    type Output = I420Frame;

    fn process(&mut self, image: &Image) -> Result<I420Frame, ExportError> {
        check_size(image.width(), image.height())?;
        let (w, h) = (image.width() as usize, image.height() as usize);
        let mut data = self.recycler.take(i420_len(w, h));
        rgb_to_i420_bt601(image.upright_rgb(&mut self.rgb)?, w, h, &mut data);
        Ok(I420Frame {
            data,
            recycler: Arc::clone(&self.recycler),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::RowOrder;

    #[test]
    fn the_stage_gives_the_same_planes_for_a_frame_held_upright_or_as_stored() {
        let (w, h) = (10usize, 6usize);
        let rgb: Vec<u8> = (0..w * h * 3).map(|i| (i * 53 % 251) as u8).collect();
        let mut expected = vec![0; i420_len(w, h)];
        rgb_to_i420_bt601(&rgb, w, h, &mut expected);
        let mut stage = I420Stage::new(BufferRecycler::new(1));
        for stored in [None, Some(RowOrder::BottomUp), Some(RowOrder::TopDown)] {
            let image = Image::new_as(0, w as u32, h as u32, rgb.clone(), stored);
            let frame = stage.process(&image).unwrap();
            assert_eq!(frame.bytes(), &expected[..], "{stored:?}");
        }
    }
}
