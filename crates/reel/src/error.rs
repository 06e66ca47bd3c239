//! Error types of the library: a few meaningful variants each, their
//! causes kept as sources, no free-form messages.

use std::path::PathBuf;

use crate::cache::Damage;

/// Errors reading or writing frame caches and raw frame files.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// An I/O error, with the file it happened on.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A frame's pixels could not be read where they are stored.
    #[error("{path}: reading frame {frame} at byte offset {offset}: {source}")]
    FrameRead {
        /// The file.
        path: PathBuf,
        /// The frame's recorded number.
        frame: u64,
        /// Where the read started.
        offset: u64,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A cache record's pixels do not match its checksum: the frame is damaged.
    #[error("{path}: frame {frame} at byte offset {offset}: checksum mismatch (damaged pixels)")]
    FrameChecksum {
        /// The cache.
        path: PathBuf,
        /// The frame's recorded number.
        frame: u64,
        /// Where its record starts.
        offset: u64,
    },
    /// The file does not start with the cache magic.
    #[error("not a reel cache (missing the REELCACH magic); for headerless frames use --raw WxH")]
    NotACache,
    /// The file ends inside the header.
    #[error("cache header is cut short: {len} of 64 bytes present")]
    ShortHeader {
        /// Bytes present.
        len: usize,
    },
    /// The header checksum does not match.
    #[error("cache header checksum mismatch (header is damaged)")]
    HeaderChecksum,
    /// A version this crate cannot read.
    #[error("unsupported cache format version {0}")]
    UnsupportedVersion(u16),
    /// A header field has an impossible value.
    #[error("corrupt cache header: {field} {value}")]
    CorruptHeader {
        /// Which field.
        field: HeaderField,
        /// The value found.
        value: u64,
    },
    /// A frame size that cannot be stored.
    #[error("impossible frame size {width}x{height}")]
    BadSize {
        /// Width.
        width: u32,
        /// Height.
        height: u32,
    },
    /// A new cache would be written over an existing file.
    #[error("{path} already exists: reel does not write over a file it was not asked to replace")]
    AlreadyExists {
        /// The path.
        path: PathBuf,
    },
    /// A cache would be written to something that is not a regular file.
    #[error("{path} is not a regular file (a FIFO, device, socket or directory): a cache must be a regular, seekable file")]
    NotARegularFile {
        /// The path.
        path: PathBuf,
    },
    /// A file given as headerless raw frames is a reel cache.
    #[error("{path} is a reel cache, not headerless raw frames: leave out --raw")]
    RawIsACache {
        /// The file.
        path: PathBuf,
    },
    /// A raw file cannot hold even one frame of the given size.
    #[error("{path}: {len} bytes cannot hold one {width}x{height} RGBA frame ({frame_len} bytes); is the size right?")]
    RawTooSmall {
        /// The file.
        path: PathBuf,
        /// File length.
        len: u64,
        /// Width given.
        width: u32,
        /// Height given.
        height: u32,
        /// Bytes in one frame.
        frame_len: u64,
    },
    /// A frame handed to the writer has the wrong number of bytes.
    #[error("frame has {got} bytes, expected {expected}")]
    WrongFrameLen {
        /// Bytes given.
        got: usize,
        /// Bytes expected.
        expected: usize,
    },
    /// The writer already holds `u32::MAX` frames.
    #[error("cache is full: frame indices are 32-bit")]
    TooManyFrames,
}

/// A cache header field that can hold an impossible value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderField {
    /// The header length (must be 64).
    HeaderLength,
    /// The pixel format code.
    PixelFormat,
    /// The row order code.
    RowOrder,
}

impl std::fmt::Display for HeaderField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HeaderField::HeaderLength => "header length (expected 64)",
            HeaderField::PixelFormat => "unknown pixel format code",
            HeaderField::RowOrder => "unknown row order code",
        })
    }
}

impl CacheError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> CacheError {
        let path = path.into();
        move |source| CacheError::Io { path, source }
    }
}

/// Errors of an export.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the input failed.
    #[error(transparent)]
    Input(#[from] CacheError),
    /// Writing an output file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The output cannot be written as asked (it exists, is not a regular file, is the input,
    /// another export is writing it, ...).
    #[error(transparent)]
    Output(#[from] crate::output::OutputError),
    /// A thread of the export could not be started (the system's thread or memory limits).
    #[error("cannot start an export thread: {0}")]
    ThreadSpawn(#[source] std::io::Error),
    /// The input has not a single intact frame.
    #[error("nothing to export: {}", NothingToExport(.damage))]
    NothingToExport {
        /// What was wrong with the input, if it was damaged rather than empty.
        damage: Option<Damage>,
    },
    /// The frames' size does not fit the output.
    #[error("{}", SizeMessage { limit: *.limit, width: *.width, height: *.height })]
    InvalidSize {
        /// The limit broken.
        limit: SizeLimit,
        /// Frame width.
        width: u32,
        /// Frame height.
        height: u32,
    },
    /// An option has a value the output cannot use.
    #[error(transparent)]
    InvalidOption(#[from] InvalidOption),
    /// The H.264 encoder asked for cannot be used here.
    #[error(
        "H.264 encoder x264 requested, but {source}; install it with `{hint}` \
         (or set {env} to its path), or use the openh264 encoder",
        hint = crate::encode::h264::x264::INSTALL_HINT,
        env = crate::encode::h264::x264::LIBRARY_ENV
    )]
    CodecUnavailable {
        /// Why x264 could not be loaded.
        #[source]
        source: crate::encode::h264::x264::X264Unavailable,
    },
    /// PNG encoding failed on a frame.
    #[error("encoding frame {index}: {source}")]
    Png {
        /// The frame.
        index: u64,
        /// The encoder's error.
        #[source]
        source: png::EncodingError,
    },
    /// OpenH264 failed (frame 0 also for starting the encoder).
    #[error("encoding frame {index}: {source}")]
    OpenH264 {
        /// The frame.
        index: u64,
        /// What went wrong.
        #[source]
        source: OpenH264Error,
    },
    /// x264 failed (frame 0 also for opening the encoder).
    #[error("encoding frame {index}: {source}")]
    X264 {
        /// The frame.
        index: u64,
        /// What went wrong.
        #[source]
        source: X264Error,
    },
}

impl ExportError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ExportError {
        let path = path.into();
        move |source| ExportError::Io { path, source }
    }
}

/// Why there is nothing to export, in words.
struct NothingToExport<'a>(&'a Option<Damage>);

impl std::fmt::Display for NothingToExport<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            None => f.write_str("the input holds no frames"),
            Some(d) => write!(f, "the input holds no intact frame ({d})"),
        }
    }
}

/// A frame-size limit of an output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeLimit {
    /// A QuickTime movie here stores at most 32767 pixels per side: the track header holds its
    /// size as 16.16 fixed point, which players read as signed (32768 reads as negative).
    Movie,
    /// JPEG stores at most 65535 pixels per side.
    Jpeg,
    /// A PNG movie sample of this size could pass 2 GiB, more than players read in one sample.
    PngSample,
    /// 4:2:0 chroma needs an even width and height.
    EvenFor420,
    /// OpenH264 encodes 16x16 to 3840x2160.
    OpenH264,
    /// x264 here encodes at most 65535 pixels per side.
    X264,
}

struct SizeMessage {
    limit: SizeLimit,
    width: u32,
    height: u32,
}

impl std::fmt::Display for SizeMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (w, h) = (self.width, self.height);
        match self.limit {
            SizeLimit::Movie => write!(
                f,
                "a movie cannot hold {w}x{h} frames (32767 pixels per side at most)"
            ),
            SizeLimit::PngSample => write!(
                f,
                "a PNG movie cannot hold {w}x{h} frames: a sample could pass 2 GiB, which players \
                 do not read (export a PNG sequence instead)"
            ),
            SizeLimit::Jpeg => write!(
                f,
                "JPEG cannot hold {w}x{h} frames (65535 pixels per side at most)"
            ),
            SizeLimit::EvenFor420 => write!(
                f,
                "H.264 (4:2:0) needs an even width and height, got {w}x{h}"
            ),
            SizeLimit::OpenH264 => {
                write!(f, "OpenH264 encodes 16x16 to 3840x2160 frames, got {w}x{h}")
            }
            SizeLimit::X264 => write!(
                f,
                "x264 here encodes at most 65535 pixels per side, got {w}x{h}"
            ),
        }
    }
}

/// An export option with a value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidOption {
    /// Frames per second out of 1 to 1000.
    #[error("fps must be 1 to 1000, got {0}")]
    Fps(u32),
    /// JPEG quality out of 1 to 100.
    #[error("JPEG quality must be 1 to 100, got {0}")]
    JpegQuality(u8),
    /// A movie path without a file name.
    #[error("{} is not a file path", .0.display())]
    NotAFilePath(PathBuf),
    /// A PNG file name pattern that cannot be used.
    #[error("bad file pattern {pattern:?}: {problem}")]
    FilePattern {
        /// The pattern given.
        pattern: String,
        /// What is wrong with it.
        problem: PatternProblem,
    },
}

/// What is wrong with a file name pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PatternProblem {
    /// It holds a `/` or `\`.
    #[error("must be a file name, not a path")]
    NotAFileName,
    /// A `%` not followed by `d`, `0Nd` or `%`.
    #[error("only %d and %0Nd placeholders are supported")]
    UnsupportedPlaceholder,
    /// Two number placeholders.
    #[error("more than one number placeholder")]
    TwoPlaceholders,
    /// A width too large to parse.
    #[error("width too large")]
    WidthTooLarge,
    /// A width over 20 digits.
    #[error("width over 20 digits")]
    WidthOver20,
    /// No number placeholder.
    #[error("no %d placeholder for the frame number")]
    NoPlaceholder,
    /// Only a number.
    #[error("names would be bare numbers")]
    BareNumbers,
}

/// What went wrong in OpenH264.
#[derive(Debug, thiserror::Error)]
pub enum OpenH264Error {
    /// The encoder could not be started.
    #[error("cannot start OpenH264: {0}")]
    Start(#[source] openh264::Error),
    /// Encoding a frame failed.
    #[error("{0}")]
    Encode(#[source] openh264::Error),
    /// The encoder skipped the frame.
    #[error("OpenH264 gave no picture ({0:?})")]
    NoPicture(openh264::encoder::FrameType),
    /// The encoder gave a picture without data.
    #[error("OpenH264 gave no picture data")]
    NoPictureData,
    /// No SPS or PPS came out with the first frame.
    #[error("OpenH264 gave no SPS/PPS")]
    NoParameterSets,
}

/// What went wrong in x264.
#[derive(Debug, thiserror::Error)]
pub enum X264Error {
    /// x264 does not know the preset.
    #[error("x264 has no preset {0:?}")]
    NoPreset(String),
    /// An option contains a NUL byte.
    #[error("NUL in x264 option {0:?}")]
    NulInOption(String),
    /// `x264_param_parse` refused an option.
    #[error("x264 option {name}={value}: {}", match .status { -1 => "unknown option", -2 => "bad value", _ => "out of memory" })]
    Option {
        /// Option name.
        name: String,
        /// Its value.
        value: String,
        /// x264's status code.
        status: i32,
    },
    /// `x264_encoder_open` refused the settings.
    #[error("x264 refused the settings ({0}; see its messages above)")]
    Refused(crate::encode::h264::x264::X264Settings),
    /// No stream headers came out.
    #[error("x264 gave no stream headers")]
    NoHeaders,
    /// The headers lack an SPS or a PPS.
    #[error("x264's headers hold no SPS/PPS")]
    NoParameterSets,
    /// The SPS is too short for an `avcC` record.
    #[error("x264 gave an unusable SPS")]
    UnusableSps,
    /// An input frame of the wrong size.
    #[error("I420 frame has {got} bytes, {width}x{height} needs {expected}")]
    WrongInputSize {
        /// Bytes given.
        got: usize,
        /// Bytes needed.
        expected: usize,
        /// Width.
        width: usize,
        /// Height.
        height: usize,
    },
    /// `x264_encoder_encode` failed.
    #[error("x264_encoder_encode failed ({0})")]
    EncodeFailed(i32),
    /// A NAL unit count or length x264 cannot have meant.
    #[error("x264 gave {0} NAL units")]
    NalCount(i32),
    /// A NAL payload length x264 cannot have meant.
    #[error("x264 gave a NAL unit of {0} bytes")]
    NalLength(i32),
    /// A NAL unit whose length prefix is wrong.
    #[error("x264 NAL unit of {len} bytes has length prefix {prefix} (is annexb off?)")]
    NalPrefix {
        /// Payload bytes.
        len: usize,
        /// The prefix found.
        prefix: usize,
    },
    /// NAL units not one after the other in memory.
    #[error("x264's NAL units are not contiguous")]
    NotContiguous,
    /// The byte count disagrees with the NAL units.
    #[error("x264 said {said} bytes but its NAL units hold {total}")]
    ByteCount {
        /// What x264 returned.
        said: i32,
        /// What its NAL units hold.
        total: usize,
    },
    /// A frame out of order.
    #[error(
        "x264 gave frame {got} where frame {due} was due (reordered frames are not supported)"
    )]
    Reordered {
        /// The frame given.
        got: i64,
        /// The frame due.
        due: i64,
    },
    /// Frames lost while draining.
    #[error("x264 gave back {out} of {given} frames")]
    LostFrames {
        /// Frames out.
        out: i64,
        /// Frames in.
        given: i64,
    },
    /// Delayed frames that never come out.
    #[error("x264 holds frames back but gives none")]
    Stuck,
    /// The movie has another number of frames than were encoded.
    #[error("x264 gave {samples} frames for {written}")]
    FrameCount {
        /// Samples in the movie.
        samples: u64,
        /// Frames given to x264.
        written: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_errors_name_the_size_and_the_limit() {
        let e = ExportError::InvalidSize {
            limit: SizeLimit::EvenFor420,
            width: 641,
            height: 360,
        };
        assert_eq!(
            e.to_string(),
            "H.264 (4:2:0) needs an even width and height, got 641x360"
        );
    }

    #[test]
    fn nothing_to_export_says_whether_the_input_was_empty_or_damaged() {
        let e = ExportError::NothingToExport { damage: None };
        assert_eq!(
            e.to_string(),
            "nothing to export: the input holds no frames"
        );
    }
}
