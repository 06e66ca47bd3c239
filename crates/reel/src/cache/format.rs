//! The on-disk layout of a reel frame cache.
//!
//! A cache is one file: a fixed 64-byte header followed by frame records.
//! All integers are little-endian.
//!
//! # Header (64 bytes)
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `b"REELCACH"` |
//! | 8 | 2 | format version, currently [`VERSION`] (1) |
//! | 10 | 2 | header length in bytes, currently [`HEADER_LEN`] (64) |
//! | 12 | 4 | width in pixels (> 0) |
//! | 16 | 4 | height in pixels (> 0) |
//! | 20 | 1 | pixel format: 1 = RGBA, 8 bits per channel ([`PixelFormat`]) |
//! | 21 | 1 | row order: 0 = bottom-up (as `glReadPixels` returns it), 1 = top-down ([`RowOrder`]) |
//! | 22 | 2 | reserved, zero |
//! | 24 | 8 | frame count, or `u64::MAX` ([`OPEN_FRAME_COUNT`]) while the recorder is still writing |
//! | 32 | 28 | reserved, zero |
//! | 60 | 4 | CRC-32 (IEEE) of bytes 0..60 |
//!
//! A recorder writes the header with the count 'open' first and rewrites the
//! count (and the header checksum) only in `finish()`. A cache whose count is
//! still open was not finished: its recorder crashed or was killed, and the
//! reader recovers every complete frame.
//!
//! # Frame record (16-byte record header + payload)
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | marker `b"FRAM"` |
//! | 4 | 4 | frame index, counting from 0 in file order |
//! | 8 | 4 | payload length: width × height × 4 |
//! | 12 | 4 | CRC-32 (IEEE) of the index bytes, the length bytes and the payload |
//! | 16 | len | the pixels, rows in the header's row order |
//!
//! The recorder writes each record with a single `write` call from one
//! reused buffer, so a killed recorder leaves at most one torn record at
//! the end. A reader stops at the first record that is short (torn),
//! carries a wrong marker, index or length, or fails its checksum, and
//! reports which of these it was and at what byte offset.

use crate::error::{CacheError, HeaderField};

/// The first eight bytes of every cache file.
pub const MAGIC: [u8; 8] = *b"REELCACH";
/// The format version this crate writes and reads.
pub const VERSION: u16 = 1;
/// The length of the file header in bytes.
pub const HEADER_LEN: usize = 64;
/// The frame count stored while a recording is still open (not finished).
pub const OPEN_FRAME_COUNT: u64 = u64::MAX;
/// The marker at the start of every frame record.
pub const FRAME_MARKER: [u8; 4] = *b"FRAM";
/// The length of a frame record's header in bytes.
pub const FRAME_HEADER_LEN: usize = 16;

/// How the bytes of one pixel are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    /// Red, green, blue, alpha: one byte each.
    Rgba8,
}

impl PixelFormat {
    /// Bytes per pixel.
    pub fn bytes_per_pixel(self) -> usize {
        match self {
            PixelFormat::Rgba8 => 4,
        }
    }

    fn code(self) -> u8 {
        match self {
            PixelFormat::Rgba8 => 1,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(PixelFormat::Rgba8),
            _ => None,
        }
    }
}

impl std::fmt::Display for PixelFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PixelFormat::Rgba8 => f.write_str("RGBA 8-bit"),
        }
    }
}

/// The order of rows in a stored frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowOrder {
    /// The first stored row is the bottom of the image (OpenGL's order).
    BottomUp,
    /// The first stored row is the top of the image.
    TopDown,
}

impl RowOrder {
    fn code(self) -> u8 {
        match self {
            RowOrder::BottomUp => 0,
            RowOrder::TopDown => 1,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(RowOrder::BottomUp),
            1 => Some(RowOrder::TopDown),
            _ => None,
        }
    }
}

impl std::fmt::Display for RowOrder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RowOrder::BottomUp => f.write_str("bottom-up"),
            RowOrder::TopDown => f.write_str("top-down"),
        }
    }
}

/// Width, height and layout of the frames in a cache or raw file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameLayout {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Pixel format.
    pub pixel_format: PixelFormat,
    /// Row order.
    pub row_order: RowOrder,
}

impl FrameLayout {
    /// A layout for RGBA frames with the given size and row order.
    ///
    /// Fails if either side is zero or one frame would not fit in a record
    /// (payloads are limited to `u32::MAX` bytes).
    pub fn rgba(width: u32, height: u32, row_order: RowOrder) -> Result<Self, CacheError> {
        let layout = FrameLayout {
            width,
            height,
            pixel_format: PixelFormat::Rgba8,
            row_order,
        };
        if width == 0 || height == 0 || layout.frame_len_u64() > u64::from(u32::MAX) {
            return Err(CacheError::BadSize { width, height });
        }
        Ok(layout)
    }

    fn frame_len_u64(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height) * self.pixel_format.bytes_per_pixel() as u64
    }

    /// Bytes in one frame's pixels.
    pub fn frame_len(&self) -> usize {
        self.frame_len_u64() as usize
    }

    /// Checks that a buffer of `len` bytes holds exactly one frame.
    ///
    /// ```
    /// use reel::cache::{FrameLayout, RowOrder};
    /// let layout = FrameLayout::rgba(2, 2, RowOrder::BottomUp).unwrap();
    /// assert!(layout.check_frame_len(16).is_ok());
    /// assert_eq!(
    ///     layout.check_frame_len(15).unwrap_err().to_string(),
    ///     "frame has 15 bytes, expected 16"
    /// );
    /// ```
    pub fn check_frame_len(&self, len: usize) -> Result<(), CacheError> {
        let expected = self.frame_len();
        if len == expected {
            Ok(())
        } else {
            Err(CacheError::WrongFrameLen { got: len, expected })
        }
    }

    /// Bytes in one frame record (record header plus pixels).
    pub fn record_len(&self) -> u64 {
        FRAME_HEADER_LEN as u64 + self.frame_len_u64()
    }
}

/// A decoded cache header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Frame size and layout.
    pub layout: FrameLayout,
    /// The number of frames, or `None` while the recording is open.
    pub frame_count: Option<u64>,
}

impl Header {
    /// Encodes the header into its 64 on-disk bytes.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..8].copy_from_slice(&MAGIC);
        b[8..10].copy_from_slice(&VERSION.to_le_bytes());
        b[10..12].copy_from_slice(&(HEADER_LEN as u16).to_le_bytes());
        b[12..16].copy_from_slice(&self.layout.width.to_le_bytes());
        b[16..20].copy_from_slice(&self.layout.height.to_le_bytes());
        b[20] = self.layout.pixel_format.code();
        b[21] = self.layout.row_order.code();
        let count = self.frame_count.unwrap_or(OPEN_FRAME_COUNT);
        b[24..32].copy_from_slice(&count.to_le_bytes());
        let crc = crc32fast::hash(&b[0..60]);
        b[60..64].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Decodes and validates a header read from the start of a file.
    ///
    /// `bytes` may be shorter than [`HEADER_LEN`] (a file cut short), which is
    /// reported as [`CacheError::ShortHeader`].
    pub fn decode(bytes: &[u8]) -> Result<Self, CacheError> {
        if bytes.len() < 8 || bytes[0..8] != MAGIC {
            return Err(CacheError::NotACache);
        }
        if bytes.len() < HEADER_LEN {
            return Err(CacheError::ShortHeader { len: bytes.len() });
        }
        let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().expect("4 bytes"));
        let stored_crc = u32_at(60);
        if crc32fast::hash(&bytes[0..60]) != stored_crc {
            return Err(CacheError::HeaderChecksum);
        }
        Header::decode_unchecked(bytes)
    }

    /// Decodes a header without checking its checksum (to recover a damaged one: the caller
    /// must confirm the fields some other way). The fields are still validated.
    pub fn decode_unchecked(bytes: &[u8]) -> Result<Self, CacheError> {
        if bytes.len() < HEADER_LEN || bytes[0..8] != MAGIC {
            return Err(CacheError::NotACache);
        }
        let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]);
        let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().expect("4 bytes"));
        let version = u16_at(8);
        if version != VERSION {
            return Err(CacheError::UnsupportedVersion(version));
        }
        let header_len = u16_at(10);
        if usize::from(header_len) != HEADER_LEN {
            return Err(CacheError::CorruptHeader {
                field: HeaderField::HeaderLength,
                value: header_len.into(),
            });
        }
        let corrupt = |field, value: u8| CacheError::CorruptHeader {
            field,
            value: value.into(),
        };
        let pixel_format = PixelFormat::from_code(bytes[20])
            .ok_or_else(|| corrupt(HeaderField::PixelFormat, bytes[20]))?;
        let row_order = RowOrder::from_code(bytes[21])
            .ok_or_else(|| corrupt(HeaderField::RowOrder, bytes[21]))?;
        let (width, height) = (u32_at(12), u32_at(16));
        let mut layout = FrameLayout::rgba(width, height, row_order)?;
        layout.pixel_format = pixel_format;
        let count = u64::from_le_bytes(bytes[24..32].try_into().expect("8 bytes"));
        Ok(Header {
            layout,
            frame_count: (count != OPEN_FRAME_COUNT).then_some(count),
        })
    }
}

/// Encodes the 16-byte header of frame record `index` for `pixels`.
pub fn encode_frame_header(index: u32, pixels: &[u8]) -> [u8; FRAME_HEADER_LEN] {
    let len =
        u32::try_from(pixels.len()).expect("frame payload fits in u32 (checked by FrameLayout)");
    let mut crc = crc32fast::Hasher::new();
    crc.update(&index.to_le_bytes());
    crc.update(&len.to_le_bytes());
    crc.update(pixels);
    let mut h = [0u8; FRAME_HEADER_LEN];
    h[0..4].copy_from_slice(&FRAME_MARKER);
    h[4..8].copy_from_slice(&index.to_le_bytes());
    h[8..12].copy_from_slice(&len.to_le_bytes());
    h[12..16].copy_from_slice(&crc.finalize().to_le_bytes());
    h
}

/// The fields of a frame record header, not yet checked against its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Whether the marker was `b"FRAM"`.
    pub marker_ok: bool,
    /// The stored frame index.
    pub index: u32,
    /// The stored payload length.
    pub len: u32,
    /// The stored checksum.
    pub crc: u32,
}

impl FrameHeader {
    /// Splits a 16-byte record header into its fields.
    pub fn decode(h: &[u8; FRAME_HEADER_LEN]) -> Self {
        let u32_at = |o: usize| u32::from_le_bytes(h[o..o + 4].try_into().expect("4 bytes"));
        FrameHeader {
            marker_ok: h[0..4] == FRAME_MARKER,
            index: u32_at(4),
            len: u32_at(8),
            crc: u32_at(12),
        }
    }

    /// Whether `pixels` match this header's checksum.
    pub fn checksum_matches(&self, pixels: &[u8]) -> bool {
        let mut crc = crc32fast::Hasher::new();
        crc.update(&self.index.to_le_bytes());
        crc.update(&self.len.to_le_bytes());
        crc.update(pixels);
        crc.finalize() == self.crc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_open_and_finished_counts() {
        let layout = FrameLayout::rgba(640, 360, RowOrder::BottomUp).unwrap();
        for count in [None, Some(0), Some(12345)] {
            let h = Header {
                layout,
                frame_count: count,
            };
            assert_eq!(Header::decode(&h.encode()).unwrap(), h);
        }
    }

    #[test]
    fn header_with_flipped_bit_fails_checksum() {
        let layout = FrameLayout::rgba(4, 4, RowOrder::TopDown).unwrap();
        let mut b = Header {
            layout,
            frame_count: Some(3),
        }
        .encode();
        b[13] ^= 1;
        assert!(matches!(
            Header::decode(&b),
            Err(CacheError::HeaderChecksum)
        ));
    }

    #[test]
    fn header_rejects_foreign_files_and_short_headers() {
        assert!(matches!(
            Header::decode(b"PNG...."),
            Err(CacheError::NotACache)
        ));
        let b = Header {
            layout: FrameLayout::rgba(1, 1, RowOrder::BottomUp).unwrap(),
            frame_count: None,
        }
        .encode();
        assert!(matches!(
            Header::decode(&b[..20]),
            Err(CacheError::ShortHeader { len: 20 })
        ));
    }

    #[test]
    fn zero_sized_layout_is_rejected() {
        assert!(FrameLayout::rgba(0, 10, RowOrder::BottomUp).is_err());
        assert!(FrameLayout::rgba(10, 0, RowOrder::BottomUp).is_err());
        assert!(FrameLayout::rgba(70000, 70000, RowOrder::BottomUp).is_err());
    }

    #[test]
    fn frame_header_checksum_detects_changed_pixels() {
        let pixels = vec![7u8; 64];
        let h = FrameHeader::decode(&encode_frame_header(5, &pixels));
        assert!(h.marker_ok);
        assert_eq!((h.index, h.len), (5, 64));
        assert!(h.checksum_matches(&pixels));
        let mut changed = pixels.clone();
        changed[63] = 8;
        assert!(!h.checksum_matches(&changed));
    }
}
