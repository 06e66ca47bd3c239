//! Error types of the library.

use std::path::PathBuf;

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
    #[error("corrupt cache header: {0}")]
    Corrupt(String),
    /// A frame size that cannot be stored.
    #[error("impossible frame size {width}x{height}")]
    BadSize {
        /// Width.
        width: u32,
        /// Height.
        height: u32,
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
    Output {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An encoder failed on a frame.
    #[error("encoding frame {index}: {message}")]
    Encode {
        /// The frame.
        index: u64,
        /// What the encoder said.
        message: String,
    },
    /// The requested output cannot be made from this input or with these options.
    #[error("{0}")]
    Unsupported(String),
}

impl ExportError {
    pub(crate) fn output(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ExportError {
        let path = path.into();
        move |source| ExportError::Output { path, source }
    }
}
