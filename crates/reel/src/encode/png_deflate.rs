//! The zlib stream inside a PNG's IDAT chunks, compressed with `zlib-rs`
//! ([`ZlibPieces`]) or `fdeflate` ([`FdeflatePieces`]) as filtered rows
//! arrive and handed on in pieces of bounded size, so no whole frame of
//! compressed bytes is held.

use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;

use zlib_rs::{Deflate, DeflateConfig, DeflateFlush, Status, Strategy};

/// A zlib level and strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateSettings {
    /// zlib level, 1 (fastest) to 9 (smallest).
    pub level: i32,
    /// zlib strategy.
    pub strategy: Strategy,
}

impl DeflateSettings {
    /// zlib's full match search at `level`.
    pub const fn matches(level: i32) -> DeflateSettings {
        DeflateSettings {
            level,
            strategy: Strategy::Default,
        }
    }
}

/// Compresses bytes into a zlib stream, passing each full piece of output
/// (one IDAT chunk's data) to a sink.
pub struct ZlibPieces {
    stream: Deflate,
    piece: Vec<u8>,
    filled: usize,
}

impl ZlibPieces {
    /// A new stream with `settings`, handing on pieces of `piece_bytes`
    /// (at least 1).
    pub fn new(settings: DeflateSettings, piece_bytes: usize) -> Self {
        let config = DeflateConfig {
            level: settings.level,
            strategy: settings.strategy,
            ..DeflateConfig::default()
        };
        ZlibPieces {
            stream: Deflate::new_with_config(config),
            piece: vec![0; piece_bytes.max(1)],
            filled: 0,
        }
    }

    /// Compresses `data`, calling `sink` with every piece that fills up.
    pub fn write(
        &mut self,
        mut data: &[u8],
        sink: &mut impl FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        while !data.is_empty() {
            let consumed = self.step(data, DeflateFlush::NoFlush)?.0;
            data = &data[consumed..];
            self.hand_on_if_full(sink)?;
        }
        Ok(())
    }

    /// Ends the stream, calling `sink` with the remaining pieces.
    pub fn finish(mut self, sink: &mut impl FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
        loop {
            let status = self.step(&[], DeflateFlush::Finish)?.1;
            if status == Status::StreamEnd {
                break;
            }
            self.hand_on_if_full(sink)?;
        }
        if self.filled > 0 {
            sink(&self.piece[..self.filled])?;
        }
        Ok(())
    }

    /// One call into zlib: bytes of `input` consumed, and its status.
    fn step(&mut self, input: &[u8], flush: DeflateFlush) -> io::Result<(usize, Status)> {
        let (in_before, out_before) = (self.stream.total_in(), self.stream.total_out());
        let status = self
            .stream
            .compress(input, &mut self.piece[self.filled..], flush)
            .map_err(|e| io::Error::other(format!("zlib-rs deflate failed: {}", e.as_str())))?;
        self.filled += (self.stream.total_out() - out_before) as usize;
        Ok(((self.stream.total_in() - in_before) as usize, status))
    }

    fn hand_on_if_full(
        &mut self,
        sink: &mut impl FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        if self.filled == self.piece.len() {
            sink(&self.piece)?;
            self.filled = 0;
        }
        Ok(())
    }
}

impl std::fmt::Debug for ZlibPieces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZlibPieces")
            .field("total_in", &self.stream.total_in())
            .field("filled", &self.filled)
            .finish_non_exhaustive()
    }
}

/// Compresses bytes into a zlib stream with `fdeflate` (the `png` crate's
/// fast path: one fixed Huffman code, runs of zeros), passing each full piece
/// of output to a sink.
pub struct FdeflatePieces {
    compressor: fdeflate::Compressor<SharedBuffer>,
    /// What the compressor wrote and the sink has not had yet: the
    /// compressor owns its writer and gives no way back to it, so the two
    /// share the buffer.
    out: Rc<RefCell<Vec<u8>>>,
    piece_bytes: usize,
}

/// A writer appending to a buffer shared with its owner.
struct SharedBuffer(Rc<RefCell<Vec<u8>>>);

impl Write for SharedBuffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl FdeflatePieces {
    /// A new stream handing on pieces of `piece_bytes` (at least 1).
    pub fn new(piece_bytes: usize) -> Self {
        let out = Rc::new(RefCell::new(Vec::new()));
        let compressor = fdeflate::Compressor::new(SharedBuffer(Rc::clone(&out)))
            .expect("writing to memory cannot fail");
        FdeflatePieces {
            compressor,
            out,
            piece_bytes: piece_bytes.max(1),
        }
    }

    /// Compresses `data`, calling `sink` with every piece that fills up.
    pub fn write(
        &mut self,
        data: &[u8],
        sink: &mut impl FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        self.compressor.write_data(data)?;
        hand_on_pieces(&mut self.out.borrow_mut(), self.piece_bytes, sink, false)
    }

    /// Ends the stream, calling `sink` with the remaining pieces.
    pub fn finish(self, sink: &mut impl FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
        let FdeflatePieces {
            compressor,
            out,
            piece_bytes,
        } = self;
        compressor.finish()?;
        let mut rest = out.take();
        hand_on_pieces(&mut rest, piece_bytes, sink, true)
    }
}

/// Passes the whole pieces of `piece_bytes` in `out` (and with `all` the
/// rest) to `sink`, and removes them from `out`: how every coder here hands
/// on the compressed stream.
pub(super) fn hand_on_pieces(
    out: &mut Vec<u8>,
    piece_bytes: usize,
    sink: &mut impl FnMut(&[u8]) -> io::Result<()>,
    all: bool,
) -> io::Result<()> {
    let mut sent = 0;
    while out.len() - sent >= piece_bytes {
        sink(&out[sent..sent + piece_bytes])?;
        sent += piece_bytes;
    }
    if all && sent < out.len() {
        sink(&out[sent..])?;
        sent = out.len();
    }
    out.drain(..sent);
    Ok(())
}

impl std::fmt::Debug for FdeflatePieces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FdeflatePieces")
            .field("pending", &self.out.borrow().len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PIECE_BYTES: usize = 64 << 10;

    fn compress(data: &[u8], settings: DeflateSettings) -> (Vec<u8>, usize) {
        let mut out = Vec::new();
        let mut pieces = 0;
        let mut sink = |p: &[u8]| {
            out.extend_from_slice(p);
            pieces += 1;
            Ok(())
        };
        let mut z = ZlibPieces::new(settings, PIECE_BYTES);
        for chunk in data.chunks(1000) {
            z.write(chunk, &mut sink).unwrap();
        }
        z.finish(&mut sink).unwrap();
        (out, pieces)
    }

    #[test]
    fn every_setting_decompresses_to_the_input_across_several_pieces() {
        // Pseudo-random bytes: incompressible, so the output spans pieces.
        let mut x = 1u32;
        let data: Vec<u8> = (0..3 * PIECE_BYTES)
            .map(|_| {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (x >> 24) as u8
            })
            .collect();
        for settings in [DeflateSettings::matches(1), DeflateSettings::matches(6)] {
            let (zlib, pieces) = compress(&data, settings);
            assert!(pieces >= 3, "{settings:?}: {pieces} pieces");
            let mut back = vec![0; data.len()];
            let (out, rc) =
                zlib_rs::decompress_slice(&mut back, &zlib, zlib_rs::InflateConfig::default());
            assert_eq!(rc, zlib_rs::ReturnCode::Ok, "{settings:?}");
            assert!(out == &data[..], "{settings:?}");
        }
    }

    #[test]
    fn fdeflate_pieces_are_bounded_and_decompress_to_the_input() {
        // Noise spans pieces; a run of zeros is fdeflate's one repeat.
        let mut x = 7u32;
        let mut data: Vec<u8> = (0..3 * PIECE_BYTES)
            .map(|_| {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (x >> 24) as u8
            })
            .collect();
        data.extend(std::iter::repeat_n(0, 100_000));
        let mut zlib = Vec::new();
        let mut pieces = Vec::new();
        let mut sink = |p: &[u8]| {
            zlib.extend_from_slice(p);
            pieces.push(p.len());
            Ok(())
        };
        let mut z = FdeflatePieces::new(PIECE_BYTES);
        for chunk in data.chunks(3841) {
            z.write(chunk, &mut sink).unwrap();
        }
        z.finish(&mut sink).unwrap();
        assert!(pieces.len() >= 3, "{pieces:?}");
        assert!(
            pieces[..pieces.len() - 1].iter().all(|&p| p == PIECE_BYTES),
            "{pieces:?}"
        );
        let mut back = vec![0; data.len()];
        let (out, rc) =
            zlib_rs::decompress_slice(&mut back, &zlib, zlib_rs::InflateConfig::default());
        assert_eq!(rc, zlib_rs::ReturnCode::Ok);
        assert!(out == &data[..]);
    }
}
