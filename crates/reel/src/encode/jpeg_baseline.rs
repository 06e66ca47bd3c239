//! Baseline JPEG (ITU T.81) of 4:2:0 YCbCr planes, in two passes: every
//! block is transformed and quantized once ([`super::jpeg_dct`]) and the
//! symbols that code it are counted and kept, then Huffman tables are
//! fitted to the counts ([`super::jpeg_huffman`]) and the kept symbols
//! written with them. Fitted
//! tables are what ffmpeg's MJPEG writes by default; JPEG's example tables
//! (Annex K) spend most on flat frames, where the end-of-block code is a
//! large share of the bits.

use super::jpeg_dct::{Quantizer, ZIGZAG};
use super::jpeg_huffman::HuffmanTable;

/// Y, Cb and Cr of a frame, 4:2:0, each padded to whole blocks of its MCUs
/// by repeating the last column and row (see [`Planes::fill`]).
#[derive(Debug, Default, Clone)]
pub struct Planes {
    width: usize,
    height: usize,
    /// Padded to a multiple of 16 × 16.
    pub(super) luma: Vec<u8>,
    /// Each padded to a multiple of 8 × 8 (half the luma plane's size).
    pub(super) cb: Vec<u8>,
    /// See `cb`.
    pub(super) cr: Vec<u8>,
}

impl Planes {
    /// Planes for a `width` × `height` frame whose rows `row_pair(j, top,
    /// bottom)` writes as YCbCr (for chroma rows `j`: image rows `2j` and
    /// `2j + 1`, the bottom one repeating the top on an odd last row): luma
    /// into `top` and `bottom` (`width` bytes each), block-averaged chroma
    /// into the chroma rows it is also given.
    pub fn fill<E>(
        &mut self,
        width: usize,
        height: usize,
        mut row_pair: impl FnMut(usize, [&mut [u8]; 4]) -> Result<(), E>,
    ) -> Result<(), E> {
        let (luma_w, luma_h) = (width.div_ceil(16) * 16, height.div_ceil(16) * 16);
        let (chroma_w, chroma_h) = (luma_w / 2, luma_h / 2);
        self.width = width;
        self.height = height;
        self.luma.resize(luma_w * luma_h, 0);
        self.cb.resize(chroma_w * chroma_h, 0);
        self.cr.resize(chroma_w * chroma_h, 0);
        let chroma_rows = height.div_ceil(2);
        let chroma_cols = width.div_ceil(2);
        for j in 0..chroma_rows {
            let (top, bottom) =
                self.luma[2 * j * luma_w..(2 * j + 2) * luma_w].split_at_mut(luma_w);
            let cb = &mut self.cb[j * chroma_w..(j + 1) * chroma_w];
            let cr = &mut self.cr[j * chroma_w..(j + 1) * chroma_w];
            row_pair(
                j,
                [
                    &mut top[..width],
                    &mut bottom[..width],
                    &mut cb[..chroma_cols],
                    &mut cr[..chroma_cols],
                ],
            )?;
            // Pad each row to the right with its last sample.
            for (row, used) in [
                (top, width),
                (bottom, width),
                (cb, chroma_cols),
                (cr, chroma_cols),
            ] {
                let last = row[used - 1];
                row[used..].fill(last);
            }
        }
        // Pad downwards with the last row.
        pad_rows(&mut self.luma, luma_w, height);
        pad_rows(&mut self.cb, chroma_w, chroma_rows);
        pad_rows(&mut self.cr, chroma_w, chroma_rows);
        Ok(())
    }
}

/// Copies row `used - 1` of `plane` (`stride` bytes a row) into every row after it.
fn pad_rows(plane: &mut [u8], stride: usize, used: usize) {
    let (head, tail) = plane.split_at_mut(used * stride);
    let last = &head[(used - 1) * stride..];
    for row in tail.chunks_exact_mut(stride) {
        row.copy_from_slice(last);
    }
}

/// Encodes frames as baseline JPEG with one quantization table for all
/// three components; keeps its buffers from frame to frame.
#[derive(Debug, Clone)]
pub struct BaselineEncoder {
    quantizer: Quantizer,
    /// The table in natural order, for the DQT segment.
    table: [u16; 64],
    /// The frame's symbols in coding order, each with its table and extra
    /// bits (see [`Symbol`]).
    symbols: Vec<Symbol>,
}

/// One coded symbol, packed: the extra bits' value (bits 0–15), their count
/// (16–20), the symbol (21–28) and its table (29–30: DC luma, AC luma, DC
/// chroma, AC chroma).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Symbol(u32);

impl Symbol {
    #[inline(always)]
    fn new(table: usize, symbol: u8, extra: u16, extra_bits: u8) -> Self {
        Symbol(
            u32::from(extra)
                | u32::from(extra_bits) << 16
                | u32::from(symbol) << 21
                | (table as u32) << 29,
        )
    }

    #[inline(always)]
    fn table(self) -> usize {
        (self.0 >> 29) as usize
    }

    #[inline(always)]
    fn symbol(self) -> u8 {
        (self.0 >> 21) as u8
    }

    #[inline(always)]
    fn extra(self) -> (u64, u32) {
        (u64::from(self.0 & 0xFFFF), (self.0 >> 16) & 0x1F)
    }
}

/// A quantized block: levels in zigzag order, and which are not zero.
#[derive(Debug, Clone, Copy)]
struct Block {
    levels: [i16; 64],
    /// Bit `k` set for a nonzero level at zigzag position `k`.
    nonzero: u64,
}

impl BaselineEncoder {
    /// An encoder quantizing with `table` (steps in natural order).
    pub fn new(table: [u16; 64]) -> Self {
        BaselineEncoder {
            quantizer: Quantizer::new(&table),
            table,
            symbols: Vec::new(),
        }
    }

    /// Encodes `planes` as a JPEG file, appended to `out`.
    ///
    /// # Panics
    ///
    /// If the frame is larger than 65535 on a side (JPEG's limit).
    pub fn encode(&mut self, planes: &Planes, out: &mut Vec<u8>) {
        let (width, height) = (planes.width, planes.height);
        assert!(
            width <= 65535 && height <= 65535 && width > 0 && height > 0,
            "JPEG size"
        );
        let (mcus_x, mcus_y) = (width.div_ceil(16), height.div_ceil(16));
        let (luma_w, chroma_w) = (mcus_x * 16, mcus_x * 8);
        self.symbols.clear();
        // Per table (DC luma, AC luma, DC chroma, AC chroma): symbol counts.
        let mut counts = [[0u32; 256]; 4];
        let mut previous_dc = [0i16; 3];
        for my in 0..mcus_y {
            for mx in 0..mcus_x {
                let places = [
                    (0, mx * 16, my * 16),
                    (0, mx * 16 + 8, my * 16),
                    (0, mx * 16, my * 16 + 8),
                    (0, mx * 16 + 8, my * 16 + 8),
                    (1, mx * 8, my * 8),
                    (2, mx * 8, my * 8),
                ];
                for (component, x, y) in places {
                    let (plane, stride) = match component {
                        0 => (&planes.luma, luma_w),
                        1 => (&planes.cb, chroma_w),
                        _ => (&planes.cr, chroma_w),
                    };
                    let mut levels = [0i16; 64];
                    let nonzero = self.quantizer.quantize(plane, stride, x, y, &mut levels);
                    let block = Block { levels, nonzero };
                    let dc_table = if component == 0 { 0 } else { 2 };
                    let symbols = &mut self.symbols;
                    each_symbol(
                        &block,
                        previous_dc[component],
                        |dc, symbol, extra, extra_bits| {
                            let table = dc_table + usize::from(!dc);
                            counts[table][usize::from(symbol)] += 1;
                            symbols.push(Symbol::new(table, symbol, extra, extra_bits));
                        },
                    );
                    previous_dc[component] = levels[0];
                }
            }
        }
        let tables = counts.map(|c| HuffmanTable::fitted(&c));
        self.write_headers(width, height, &tables, out);
        let mut bits = BitWriter::new(out);
        for &symbol in &self.symbols {
            let (code, length) = tables[symbol.table()].code(symbol.symbol());
            let (extra, extra_bits) = symbol.extra();
            bits.put(
                u64::from(code) << extra_bits | extra,
                u32::from(length) + extra_bits,
            );
        }
        bits.finish();
        out.extend_from_slice(&[0xFF, 0xD9]); // EOI
    }

    /// SOI, JFIF APP0, DQT, SOF0, DHT and SOS; `tables`: DC luma, AC luma,
    /// DC chroma, AC chroma.
    fn write_headers(
        &self,
        width: usize,
        height: usize,
        tables: &[HuffmanTable; 4],
        out: &mut Vec<u8>,
    ) {
        out.extend_from_slice(&[0xFF, 0xD8]); // SOI
                                              // JFIF 1.01, no density, no thumbnail.
        out.extend_from_slice(&[
            0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
        ]);
        // One 8-bit table (0) for every component, in zigzag order.
        out.extend_from_slice(&[0xFF, 0xDB, 0, 67, 0x00]);
        out.extend(ZIGZAG.iter().map(|&n| self.table[n].min(255) as u8));
        // Baseline frame: 8-bit, 3 components; Y sampled 2×2, chroma 1×1.
        out.extend_from_slice(&[0xFF, 0xC0, 0, 17, 8]);
        out.extend_from_slice(&(height as u16).to_be_bytes());
        out.extend_from_slice(&(width as u16).to_be_bytes());
        out.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0]);
        let entries = [
            (0x00, &tables[0]),
            (0x10, &tables[1]),
            (0x01, &tables[2]),
            (0x11, &tables[3]),
        ];
        let length = 2 + entries
            .iter()
            .map(|(_, t)| t.dht_entry_len())
            .sum::<usize>();
        out.extend_from_slice(&[0xFF, 0xC4]);
        out.extend_from_slice(&(length as u16).to_be_bytes());
        for (class_and_id, table) in entries {
            table.write_dht_entry(class_and_id, out);
        }
        // One interleaved scan of all coefficients; chroma uses tables 1.
        out.extend_from_slice(&[0xFF, 0xDA, 0, 12, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]);
    }
}

/// Calls `each(is_dc, symbol, extra_bits_value, extra_bits)` for each
/// symbol that codes `block` after a block whose DC was `previous_dc`: the
/// DC difference, then AC runs of zeros and levels (ZRL for 16 zeros, EOB
/// after the last nonzero level).
#[inline(always)]
fn each_symbol(block: &Block, previous_dc: i16, mut each: impl FnMut(bool, u8, u16, u8)) {
    let (size, extra) = magnitude(i32::from(block.levels[0]) - i32::from(previous_dc));
    each(true, size, extra, size);
    // The nonzero AC levels, one after another: runs of zeros are the gaps.
    let mut nonzero = block.nonzero & !1;
    let mut next = 1;
    while nonzero != 0 {
        let k = nonzero.trailing_zeros() as usize;
        nonzero &= nonzero - 1;
        let mut run = k - next;
        while run >= 16 {
            each(false, 0xF0, 0, 0);
            run -= 16;
        }
        let (size, extra) = magnitude(i32::from(block.levels[k]));
        each(false, (run as u8) << 4 | size, extra, size);
        next = k + 1;
    }
    if next < 64 {
        each(false, 0x00, 0, 0);
    }
}

/// A value's size category and its extra bits (T.81 F.1.2.1): negative
/// values are sent as `value - 1` in `size` bits.
#[inline(always)]
fn magnitude(value: i32) -> (u8, u16) {
    let size = (32 - value.unsigned_abs().leading_zeros()) as u8;
    let extra = if value < 0 { value - 1 } else { value };
    (size, (extra & ((1 << size) - 1)) as u16)
}

/// Writes codes most significant bit first, stuffing a zero byte after
/// every 0xFF byte of coded data (T.81 F.1.2.3).
struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    bits: u64,
    count: u32,
}

impl<'a> BitWriter<'a> {
    fn new(out: &'a mut Vec<u8>) -> Self {
        BitWriter {
            out,
            bits: 0,
            count: 0,
        }
    }

    /// Appends the low `count` bits of `bits` (at most 32).
    #[inline(always)]
    fn put(&mut self, bits: u64, count: u32) {
        self.bits = self.bits << count | bits;
        self.count += count;
        if self.count >= 32 {
            self.count -= 32;
            let word = (self.bits >> self.count) as u32;
            let bytes = word.to_be_bytes();
            // Unless a byte of the word is all ones (a zero byte of its complement), the four
            // bytes go out as they are.
            if (!word).wrapping_sub(0x0101_0101) & word & 0x8080_8080 == 0 {
                self.out.extend_from_slice(&bytes);
            } else {
                for byte in bytes {
                    self.out.push(byte);
                    if byte == 0xFF {
                        self.out.push(0);
                    }
                }
            }
        }
    }

    /// Pads the last byte with ones.
    fn finish(mut self) {
        while self.count >= 8 {
            self.count -= 8;
            self.push_byte((self.bits >> self.count) as u8);
        }
        if self.count > 0 {
            let pad = 8 - self.count;
            self.push_byte(((self.bits << pad) as u8) | ((1u8 << pad) - 1));
        }
    }

    fn push_byte(&mut self, byte: u8) {
        self.out.push(byte);
        if byte == 0xFF {
            self.out.push(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magnitudes_follow_the_standard_s_table() {
        assert_eq!(magnitude(0), (0, 0));
        assert_eq!(magnitude(1), (1, 1));
        assert_eq!(magnitude(-1), (1, 0));
        assert_eq!(magnitude(-3), (2, 0));
        assert_eq!(magnitude(3), (2, 3));
        assert_eq!(magnitude(-1023), (10, 0));
        assert_eq!(magnitude(1024), (11, 1024));
    }

    #[test]
    fn ones_bytes_are_stuffed_and_the_end_is_padded_with_ones() {
        let mut out = Vec::new();
        let mut bits = BitWriter::new(&mut out);
        bits.put(0xFF, 8);
        bits.put(0x12345, 20);
        bits.put(0xFFF, 12);
        bits.put(0b10, 2);
        bits.finish();
        // 0xFF 0x12 0x34 0x5F | 0xFF 0x8? -> 0x5F, 0xFF stuffed, then 10 + six ones.
        assert_eq!(out, [0xFF, 0x00, 0x12, 0x34, 0x5F, 0xFF, 0x00, 0xBF]);
    }

    fn block_of(levels: [i16; 64]) -> Block {
        let nonzero = (0..64).fold(0, |mask, k| mask | u64::from(levels[k] != 0) << k);
        Block { levels, nonzero }
    }

    #[test]
    fn symbols_of_a_block_are_runs_levels_zrl_and_eob() {
        let mut levels = [0i16; 64];
        levels[0] = 5;
        levels[1] = -2;
        levels[20] = 1; // a run of 18 zeros: ZRL, then run 2
        let mut block = block_of(levels);
        let mut symbols = Vec::new();
        each_symbol(&block, 3, |dc, symbol, extra, size| {
            symbols.push((dc, symbol, extra, size))
        });
        assert_eq!(
            symbols,
            [
                (true, 2, 2, 2),     // +2
                (false, 0x02, 1, 2), // run 0, -2
                (false, 0xF0, 0, 0), // 16 zeros
                (false, 0x21, 1, 1), // run 2, +1
                (false, 0x00, 0, 0), // end of block
            ]
        );
        levels[63] = 1;
        block = block_of(levels);
        symbols.clear();
        each_symbol(&block, 5, |dc, symbol, extra, size| {
            symbols.push((dc, symbol, extra, size))
        });
        // 42 zeros: two ZRLs, then run 10; no EOB after the last coefficient.
        assert_eq!(
            symbols[symbols.len() - 3..],
            [
                (false, 0xF0, 0, 0),
                (false, 0xF0, 0, 0),
                (false, 0xA1, 1, 1)
            ]
        );
        assert_eq!(symbols[0], (true, 0, 0, 0));
    }
}
