//! A zlib stream for filtered PNG rows that looks for repeats only at a few
//! fixed distances (the previous byte, the previous pixel) and codes each
//! block with Huffman codes fitted to it.
//!
//! After a row filter, flat and smoothly shaded areas become runs of one
//! byte or of one pixel; a general match search (zlib's hash chains) spends
//! most of its time finding what these two comparisons find, and the
//! per-block codes are what the `png` crate's fixed-code fast path lacks.
//! With no distances at all it codes Huffman only, which is what noise
//! wants.
//!
//! Each block goes through three passes, none of which branches on the
//! content where the processor could not predict it:
//!
//! ```text
//! filtered rows ─► block (256 KiB) ─► find_matches ─► symbols ─► count_symbols ─► fitted codes
//!                                                        │                             │
//!                                                        └──────► write_symbols ◄──────┘ ─► zlib pieces
//! ```

use std::io;

use super::adler32::adler32;
use super::png_deflate::hand_on_pieces;
use super::png_huffman::{canonical_codes, code_lengths};

/// Input bytes per deflate block: each block gets codes of its own. Fitting
/// them costs a few microseconds a block, so blocks are large (against 128
/// KiB: 3–10% faster, 0.2–2.8% more bytes; BENCHMARKS.md, issue 16).
const BLOCK_BYTES: usize = 256 << 10;
const MAX_MATCH: usize = 258;
/// Literal/length and distance alphabets (RFC 1951, 3.2.5).
const LITLEN_SYMBOLS: usize = 286;
const DISTANCE_SYMBOLS: usize = 30;
const END_OF_BLOCK: usize = 256;
/// Worst case of the coded bytes of a block of `input` bytes: a literal
/// takes at most 14 bits, and each piece of a repeat (3 bytes or more) at
/// most 48; plus the header and the 8 bytes [`Bits::put`] writes past its
/// last whole byte.
const fn block_out_bytes(input: usize) -> usize {
    2 * input + 1024
}

/// Compresses bytes into a zlib stream, passing each full piece of output
/// (one IDAT chunk's data) to a sink.
#[derive(Debug)]
pub struct RepeatDeflate {
    distances: &'static [usize],
    /// Input waiting for the current block: its first `filled` bytes (it
    /// is always [`BLOCK_BYTES`] long, so that rows can be filtered
    /// straight into it).
    block: Vec<u8>,
    filled: usize,
    /// A row that does not fit the current block, made here first.
    spill: Vec<u8>,
    /// The current block's symbols (see [`Symbol`]); only the first ones
    /// written for a block count.
    symbols: Vec<Symbol>,
    out: BitWriter,
    adler: u32,
    piece_bytes: usize,
}

impl RepeatDeflate {
    /// A new stream matching at `distances` (none: Huffman codes only),
    /// handing on pieces of `piece_bytes` (at least 1).
    pub fn new(distances: &'static [usize], piece_bytes: usize) -> Self {
        assert!(distances.len() <= MAX_DISTANCES);
        assert!(distances.iter().all(|&d| (1..=32768).contains(&d)));
        let spare = SPARE_BUFFERS.take().unwrap_or_default();
        let mut out = BitWriter::new(spare.ready, spare.coded);
        // CMF: deflate, 32 KiB window; FLG: fastest level, no dictionary,
        // check bits making the pair a multiple of 31.
        out.ready.extend_from_slice(&[0x78, 0x01]);
        let mut block = spare.block;
        if block.len() < BLOCK_BYTES {
            block.resize(BLOCK_BYTES, 0);
        }
        RepeatDeflate {
            distances,
            block,
            filled: 0,
            spill: spare.spill,
            symbols: spare.symbols,
            out,
            adler: 1,
            piece_bytes: piece_bytes.max(1),
        }
    }

    /// Compresses `data`, calling `sink` with every piece that fills up.
    pub fn write(
        &mut self,
        mut data: &[u8],
        sink: &mut impl FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        while !data.is_empty() {
            let take = data.len().min(BLOCK_BYTES - self.filled);
            self.block[self.filled..self.filled + take].copy_from_slice(&data[..take]);
            self.filled += take;
            data = &data[take..];
            self.end_full_block(sink)?;
        }
        Ok(())
    }

    /// Compresses the `n` bytes `fill` writes (all of its slice), written
    /// straight into the block where it has room for them: a filtered row
    /// is not copied once more.
    pub fn write_with(
        &mut self,
        n: usize,
        fill: impl FnOnce(&mut [u8]),
        sink: &mut impl FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        if self.filled + n <= BLOCK_BYTES {
            fill(&mut self.block[self.filled..self.filled + n]);
            self.filled += n;
            return self.end_full_block(sink);
        }
        let mut spill = std::mem::take(&mut self.spill);
        spill.resize(n, 0);
        fill(&mut spill);
        let written = self.write(&spill, sink);
        self.spill = spill;
        written
    }

    /// Codes the block if it is full, calling `sink` with the pieces that
    /// fill up.
    fn end_full_block(&mut self, sink: &mut impl FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
        if self.filled == BLOCK_BYTES {
            self.end_block(false);
            hand_on_pieces(&mut self.out.ready, self.piece_bytes, sink, false)?;
        }
        Ok(())
    }

    /// Ends the stream, calling `sink` with the remaining pieces.
    pub fn finish(mut self, sink: &mut impl FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
        self.end_block(true);
        self.out.align_to_byte();
        self.out.ready.extend_from_slice(&self.adler.to_be_bytes());
        hand_on_pieces(&mut self.out.ready, self.piece_bytes, sink, true)
    }

    /// Codes the buffered input as one block (the stream's last if `last`).
    fn end_block(&mut self, last: bool) {
        let block = &self.block[..self.filled];
        self.adler = adler32(self.adler, block);
        let mut counts = SymbolCounts::new();
        // Huffman codes alone code the bytes as they are, without symbols.
        let symbols = if self.distances.is_empty() {
            count_block_literals(block, &mut counts);
            None
        } else {
            let n = find_matches(block, self.distances, &mut self.symbols);
            count_symbols(&self.symbols[..n], self.distances, &mut counts);
            Some(&self.symbols[..n])
        };
        let codes = BlockCodes::fitted(&counts);
        let mut bits = self.out.bits(block.len());
        bits.put(u64::from(last), 1);
        bits.put(2, 2); // dynamic Huffman codes
        codes.write_header(&mut bits);
        match symbols {
            Some(symbols) => codes.write_symbols(symbols, self.distances, &mut bits),
            None => codes.write_literals(block, &mut bits),
        }
        let state = bits.end();
        self.out.keep(state);
        self.filled = 0;
    }
}

impl Drop for RepeatDeflate {
    /// Leaves the stream's buffers to the thread's next stream.
    fn drop(&mut self) {
        let mut spare = StreamBuffers {
            block: std::mem::take(&mut self.block),
            spill: std::mem::take(&mut self.spill),
            symbols: std::mem::take(&mut self.symbols),
            ready: std::mem::take(&mut self.out.ready),
            coded: std::mem::take(&mut self.out.block),
        };
        spare.ready.clear();
        SPARE_BUFFERS.set(Some(spare));
    }
}

/// A stream's buffers, empty, for the next stream on the same thread.
#[derive(Default)]
struct StreamBuffers {
    block: Vec<u8>,
    spill: Vec<u8>,
    symbols: Vec<Symbol>,
    ready: Vec<u8>,
    coded: Vec<u8>,
}

thread_local! {
    /// The buffers of the last stream dropped on this thread. A PNG export
    /// makes one stream per frame and per probe, each with about 1 MiB of
    /// buffers: allocating them afresh each time cost page faults and
    /// zeroing (3% of a 720p export's time on reel's GL frames). At most one
    /// set is kept per thread.
    static SPARE_BUFFERS: std::cell::Cell<Option<StreamBuffers>> =
        const { std::cell::Cell::new(None) };
}

/// Bytes from `data[at]` on, to the end of `data`, that equal those
/// `distance` before them.
#[inline(always)]
fn match_length(data: &[u8], at: usize, distance: usize) -> usize {
    let (here, back) = (&data[at..], &data[at - distance..data.len() - distance]);
    let mut length = 0;
    let max = here.len();
    // Whole blocks of 32 bytes compare as vectors, the rest 8 bytes at a time.
    while length + 32 <= max {
        let a: &[u8; 32] = here[length..length + 32].try_into().expect("32 bytes");
        let b: &[u8; 32] = back[length..length + 32].try_into().expect("32 bytes");
        if a != b {
            break;
        }
        length += 32;
    }
    while length + 8 <= max {
        let a = u64::from_le_bytes(here[length..length + 8].try_into().expect("8 bytes"));
        let b = u64::from_le_bytes(back[length..length + 8].try_into().expect("8 bytes"));
        if a != b {
            return length + ((a ^ b).trailing_zeros() / 8) as usize;
        }
        length += 8;
    }
    while length < max && here[length] == back[length] {
        length += 1;
    }
    length
}

/// One symbol of a block, as the matcher leaves it for the writer: a
/// literal byte (its value), or one piece of a repeat (at most 258 bytes,
/// see [`match_pieces`]) as two symbols, its length
/// ([`REPEAT_LENGTH`]` + length`) then its distance ([`REPEAT_SLOT`]` +`
/// the distance's slot). The writer looks each up in one table and codes
/// two per put, without branching on what they are: branching on the
/// number of literals between repeats, which varies too much to predict,
/// made writing from a list of repeats twice as slow (BENCHMARKS.md).
type Symbol = u16;
/// The symbol of a repeat piece's length 0 (lengths 3 to 258 follow).
const REPEAT_LENGTH: Symbol = 256;
/// The symbol of a repeat piece's distance slot 0 (slots up to
/// [`MAX_DISTANCES`] follow).
const REPEAT_SLOT: Symbol = REPEAT_LENGTH + MAX_MATCH as Symbol + 1;
/// How many different [`Symbol`]s there are.
const SYMBOL_KINDS: usize = REPEAT_SLOT as usize + MAX_DISTANCES;

/// The longest literal/length code [`BlockCodes`] fits: four literals fit
/// one [`Bits::put`].
const LITLEN_MAX_BITS: u8 = 14;

/// The shortest repeat coded as one (deflate allows 3): after a row filter,
/// three literals cost about the bits of a 3-byte repeat, and much less
/// time (BENCHMARKS.md, issue 16).
const MIN_REPEAT: usize = 4;

/// The most distances a stream matches at.
const MAX_DISTANCES: usize = 8;

/// Bytes the matcher looks at in one step: one 64-bit mask per distance.
const WINDOW: usize = 64;

/// Finds in `data` (greedily) the longest repeat at one of `distances`
/// (at least one) wherever one of at least [`MIN_REPEAT`] bytes starts,
/// writes the block's [`Symbol`]s into `symbols` (grown to `data.len() + 4`
/// if shorter) and returns how many; bytes outside matches are literals.
/// [`count_symbols`] counts them afterwards.
///
/// It looks at 64 bytes at a time: one mask per distance with a bit for each
/// byte equal to the one that far back. A stretch of literals costs a few
/// vector compares, the starts of repeats are where [`MIN_REPEAT`] bits in a
/// row are set, and a short repeat's length is a count of trailing ones.
fn find_matches(data: &[u8], distances: &[usize], symbols: &mut Vec<Symbol>) -> usize {
    assert!(!distances.is_empty());
    // A symbol takes at least one byte (a repeat piece's two, three); more
    // take the writes of a short run's symbols past its end.
    if symbols.len() < data.len() + SHORT_RUN {
        symbols.resize(data.len() + SHORT_RUN, 0);
    }
    let mut written = 0;
    let mut literals_from = 0;
    let mut at = 0;
    while at + MIN_REPEAT <= data.len() {
        let window = at;
        let n = (data.len() - window).min(WINDOW);
        let mut masks = [0u64; MAX_DISTANCES];
        let mut all_starts = 0;
        for (mask, &distance) in masks.iter_mut().zip(distances) {
            *mask = equal_mask(data, window, distance, n);
            all_starts |= (0..MIN_REPEAT).fold(u64::MAX, |starts, k| starts & (*mask >> k));
        }
        // Starts whose first MIN_REPEAT bytes all lie in the window; the
        // last positions are looked at again in the next one.
        let looked_at = n - (MIN_REPEAT - 1);
        all_starts &= (1 << looked_at) - 1;
        // The repeats starting in this window, one after the other.
        while at < window + looked_at {
            let starts = all_starts & !((1 << (at - window)) - 1);
            if starts == 0 {
                at = window + looked_at;
                break;
            }
            let offset = starts.trailing_zeros() as usize;
            let start = window + offset;
            let mut best = (0, 0);
            for (slot, (&mask, &distance)) in masks.iter().zip(distances).enumerate() {
                let mut length = (mask >> offset).trailing_ones() as usize;
                if offset + length == n && start + length < data.len() {
                    // Equal to the window's end: the rest compares further on.
                    length += match_length(data, start + length, distance);
                }
                if length > best.0 {
                    best = (length, slot);
                }
            }
            let (length, slot) = best;
            debug_assert!(length >= MIN_REPEAT);
            written += take_literals(data, literals_from..start, &mut symbols[written..]);
            let slot_symbol = REPEAT_SLOT + slot as Symbol;
            if length <= MAX_MATCH {
                symbols[written] = REPEAT_LENGTH + length as Symbol;
                symbols[written + 1] = slot_symbol;
                written += 2;
            } else {
                let (full, tail) = match_pieces(length);
                for _ in 0..full {
                    symbols[written] = REPEAT_LENGTH + MAX_MATCH as Symbol;
                    symbols[written + 1] = slot_symbol;
                    written += 2;
                }
                for piece in tail.into_iter().filter(|&p| p > 0) {
                    symbols[written] = REPEAT_LENGTH + piece as Symbol;
                    symbols[written + 1] = slot_symbol;
                    written += 2;
                }
            }
            at = start + length;
            literals_from = at;
        }
    }
    let tail = &data[literals_from..];
    for (symbol, &byte) in symbols[written..].iter_mut().zip(tail) {
        *symbol = Symbol::from(byte);
    }
    written + tail.len()
}

/// Counts the deflate symbols `symbols` (repeats at `distances`) will be
/// coded with, and the block's end: one pass, four tables so that runs of
/// one symbol do not wait on one counter.
fn count_symbols(symbols: &[Symbol], distances: &[usize], counts: &mut SymbolCounts) {
    let mut tables = [[0u32; SYMBOL_KINDS]; 4];
    count_in_four(symbols, &mut tables);
    let total = |kind: usize| tables.iter().map(|table| table[kind]).sum::<u32>();
    for (byte, count) in counts.litlen[..256].iter_mut().enumerate() {
        *count += total(byte);
    }
    for (length, &symbol) in LENGTH_SYMBOL.iter().enumerate().skip(3) {
        counts.litlen[usize::from(symbol)] += total(usize::from(REPEAT_LENGTH) + length);
    }
    for (slot, &distance) in distances.iter().enumerate() {
        counts.distance[distance_code(distance).0] += total(usize::from(REPEAT_SLOT) + slot);
    }
    counts.litlen[END_OF_BLOCK] += 1;
}

/// Counts a block coded with Huffman codes alone: its bytes as literals,
/// and the block's end.
fn count_block_literals(data: &[u8], counts: &mut SymbolCounts) {
    let mut literals = [[0u32; 256]; 4];
    count_in_four(data, &mut literals);
    for (symbol, count) in counts.litlen[..256].iter_mut().enumerate() {
        *count += literals.iter().map(|table| table[symbol]).sum::<u32>();
    }
    counts.litlen[END_OF_BLOCK] += 1;
}

/// A repeat of `length` (at least 3) bytes as deflate codes it: how many of
/// the longest (258 bytes), then up to two shorter ones (0: none). A rest of
/// one or two bytes, too short alone, joins the last long piece as 256 or
/// 257 bytes and 3.
fn match_pieces(length: usize) -> (usize, [usize; 2]) {
    let (full, rest) = (length / MAX_MATCH, length % MAX_MATCH);
    match rest {
        0 => (full, [0, 0]),
        1 | 2 => (full - 1, [MAX_MATCH - 3 + rest, 3]),
        _ => (full, [rest, 0]),
    }
}

/// Bit `i` set where `data[at + i]` equals the byte `distance` before it,
/// for `i` below `n` (at most 64, and `at + n` at most `data.len()`).
#[inline(always)]
fn equal_mask(data: &[u8], at: usize, distance: usize, n: usize) -> u64 {
    if n == WINDOW && at >= distance {
        let here: &[u8; WINDOW] = data[at..at + WINDOW].try_into().expect("64 bytes");
        let back: &[u8; WINDOW] = data[at - distance..at - distance + WINDOW]
            .try_into()
            .expect("64 bytes");
        equal_bytes(here, back)
    } else {
        // The block's first bytes (nothing that far back) and its last few.
        (0..n)
            .filter(|&i| at + i >= distance && data[at + i] == data[at + i - distance])
            .fold(0, |mask, i| mask | 1 << i)
    }
}

/// A bit for each byte of `a` equal to the byte of `b` at the same place.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn equal_bytes(a: &[u8; WINDOW], b: &[u8; WINDOW]) -> u64 {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8};
    let mut mask = 0;
    for (k, (a, b)) in a.chunks_exact(16).zip(b.chunks_exact(16)).enumerate() {
        // SAFETY: this code is compiled only where SSE2 is enabled for the
        // whole build (target_feature = "sse2", part of every x86_64
        // target), so the instructions exist; each load reads the 16 bytes
        // of a chunk that `chunks_exact(16)` guarantees, with no alignment
        // required (loadu).
        let equal = unsafe {
            _mm_movemask_epi8(_mm_cmpeq_epi8(
                _mm_loadu_si128(a.as_ptr().cast()),
                _mm_loadu_si128(b.as_ptr().cast()),
            ))
        };
        mask |= u64::from(equal as u16) << (16 * k);
    }
    mask
}

/// A bit for each byte of `a` equal to the byte of `b` at the same place.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
fn equal_bytes(a: &[u8; WINDOW], b: &[u8; WINDOW]) -> u64 {
    a.iter()
        .zip(b)
        .enumerate()
        .fold(0, |mask, (i, (x, y))| mask | u64::from(x == y) << i)
}

/// Literals between repeats written as symbols at once, whatever their
/// number up to this: the processor cannot predict how many there are.
const SHORT_RUN: usize = 16;

/// Writes the literals `data[run]` as symbols at the start of `symbols`;
/// returns how many. A run of up to [`SHORT_RUN`] (most runs between
/// repeats) goes without a branch on its length: that many symbols are
/// written, the run's length of them kept.
#[inline(always)]
fn take_literals(data: &[u8], run: std::ops::Range<usize>, symbols: &mut [Symbol]) -> usize {
    let n = run.len();
    if n <= SHORT_RUN && run.start + SHORT_RUN <= data.len() {
        let bytes = &data[run.start..run.start + SHORT_RUN];
        for (symbol, &byte) in symbols[..SHORT_RUN].iter_mut().zip(bytes) {
            *symbol = Symbol::from(byte);
        }
    } else {
        for (symbol, &byte) in symbols[..n].iter_mut().zip(&data[run]) {
            *symbol = Symbol::from(byte);
        }
    }
    n
}

/// Counts `items` (bytes or [`Symbol`]s) in four tables, so that runs of
/// one value do not wait on one counter; the caller adds them up.
fn count_in_four<T: Copy + Into<usize>, const KINDS: usize>(
    items: &[T],
    tables: &mut [[u32; KINDS]; 4],
) {
    let mut quads = items.chunks_exact(4);
    for quad in &mut quads {
        for (table, &item) in tables.iter_mut().zip(quad) {
            table[item.into()] += 1;
        }
    }
    for &item in quads.remainder() {
        tables[0][item.into()] += 1;
    }
}

/// The length symbol of a match length (3 to 258), its extra bits and
/// their value (RFC 1951, 3.2.5).
const fn length_code(length: usize) -> (usize, u32, u32) {
    match length {
        3..=10 => (257 + length - 3, 0, 0),
        258 => (285, 0, 0),
        _ => {
            let x = (length - 3) as u32;
            let log = 31 - x.leading_zeros();
            let symbol = 257 + 4 * (log - 1) + ((x >> (log - 2)) & 3);
            (symbol as usize, log - 2, x & ((1 << (log - 2)) - 1))
        }
    }
}

/// The length symbol of each match length, by length.
const LENGTH_SYMBOL: [u16; MAX_MATCH + 1] = {
    let mut symbols = [0; MAX_MATCH + 1];
    let mut length = 3;
    while length <= MAX_MATCH {
        symbols[length] = length_code(length).0 as u16;
        length += 1;
    }
    symbols
};

/// The extra bits' count and value of each match length, by length.
const LENGTH_EXTRA: [(u8, u8); MAX_MATCH + 1] = {
    let mut extra = [(0, 0); MAX_MATCH + 1];
    let mut length = 3;
    while length <= MAX_MATCH {
        let (_, bits, value) = length_code(length);
        extra[length] = (bits as u8, value as u8);
        length += 1;
    }
    extra
};

/// The distance symbol of a distance (1 to 32768), its extra bits and
/// their value (RFC 1951, 3.2.5).
#[inline(always)]
fn distance_code(distance: usize) -> (usize, u32, u32) {
    if distance <= 4 {
        return (distance - 1, 0, 0);
    }
    let x = (distance - 1) as u32;
    let log = 31 - x.leading_zeros();
    let symbol = 2 * log + ((x >> (log - 1)) & 1);
    (symbol as usize, log - 1, x & ((1 << (log - 1)) - 1))
}

/// How often each symbol occurs in a block.
struct SymbolCounts {
    litlen: [u32; LITLEN_SYMBOLS],
    distance: [u32; DISTANCE_SYMBOLS],
}

impl SymbolCounts {
    fn new() -> Self {
        SymbolCounts {
            litlen: [0; LITLEN_SYMBOLS],
            distance: [0; DISTANCE_SYMBOLS],
        }
    }
}

/// One block's Huffman codes: lengths and bit-reversed codes.
struct BlockCodes {
    litlen_lengths: [u8; LITLEN_SYMBOLS],
    litlen_codes: [u16; LITLEN_SYMBOLS],
    distance_lengths: [u8; DISTANCE_SYMBOLS],
    distance_codes: [u16; DISTANCE_SYMBOLS],
}

/// The order code-length code lengths are sent in (RFC 1951, 3.2.7).
const CODE_LENGTH_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

impl BlockCodes {
    fn fitted(counts: &SymbolCounts) -> Self {
        let mut codes = BlockCodes {
            litlen_lengths: [0; LITLEN_SYMBOLS],
            litlen_codes: [0; LITLEN_SYMBOLS],
            distance_lengths: [0; DISTANCE_SYMBOLS],
            distance_codes: [0; DISTANCE_SYMBOLS],
        };
        // 14 bits rather than deflate's 15: four literals then fit one put
        // (a 15-bit code is for a symbol rarer than 1 in 10,000 or so; the
        // limit costs nothing measurable).
        code_lengths(&counts.litlen, LITLEN_MAX_BITS, &mut codes.litlen_lengths);
        code_lengths(&counts.distance, 15, &mut codes.distance_lengths);
        canonical_codes(&codes.litlen_lengths, &mut codes.litlen_codes);
        canonical_codes(&codes.distance_lengths, &mut codes.distance_codes);
        codes
    }

    /// The dynamic block header: both codes' lengths, run-length coded with
    /// a code-length code of their own (RFC 1951, 3.2.7).
    fn write_header(&self, out: &mut Bits) {
        let used = |lengths: &[u8], min: usize| {
            let last = lengths.iter().rposition(|&l| l > 0).map_or(0, |i| i + 1);
            last.max(min)
        };
        let litlens = used(&self.litlen_lengths, 257);
        let distances = used(&self.distance_lengths, 1);
        let mut all = Vec::with_capacity(litlens + distances);
        all.extend_from_slice(&self.litlen_lengths[..litlens]);
        all.extend_from_slice(&self.distance_lengths[..distances]);
        let runs = length_runs(&all);
        let mut counts = [0u32; 19];
        for &(symbol, _) in &runs {
            counts[usize::from(symbol)] += 1;
        }
        let (mut lengths, mut codes) = ([0u8; 19], [0u16; 19]);
        code_lengths(&counts, 7, &mut lengths);
        canonical_codes(&lengths, &mut codes);
        let sent = CODE_LENGTH_ORDER
            .iter()
            .rposition(|&s| lengths[s] > 0)
            .map_or(0, |i| i + 1)
            .max(4);
        out.put((litlens - 257) as u64, 5);
        out.put((distances - 1) as u64, 5);
        out.put((sent - 4) as u64, 4);
        for &symbol in &CODE_LENGTH_ORDER[..sent] {
            out.put(u64::from(lengths[symbol]), 3);
        }
        for (symbol, extra) in runs {
            let s = usize::from(symbol);
            out.put(u64::from(codes[s]), u32::from(lengths[s]));
            match symbol {
                16 => out.put(u64::from(extra), 2),
                17 => out.put(u64::from(extra), 3),
                18 => out.put(u64::from(extra), 7),
                _ => {}
            }
        }
    }

    /// The block's [`Symbol`]s (repeats at `distances`), and its
    /// end-of-block symbol.
    fn write_symbols(&self, symbols: &[Symbol], distances: &[usize], out: &mut Bits) {
        // Each symbol's code with its extra bits, and their count above bit
        // 32: a literal takes at most 14 bits, a length 14 + 5, a distance
        // 15 + 13, so any two fit one put.
        let mut table = [0u64; SYMBOL_KINDS];
        let entry = |code: u64, bits: u32| code | u64::from(bits) << 32;
        for (byte, slot) in table[..256].iter_mut().enumerate() {
            *slot = entry(
                u64::from(self.litlen_codes[byte]),
                u32::from(self.litlen_lengths[byte]),
            );
        }
        for length in 3..=MAX_MATCH {
            let s = usize::from(LENGTH_SYMBOL[length]);
            let (extra_bits, extra) = LENGTH_EXTRA[length];
            let code = u64::from(self.litlen_codes[s]) | u64::from(extra) << self.litlen_lengths[s];
            let bits = u32::from(self.litlen_lengths[s]) + u32::from(extra_bits);
            table[usize::from(REPEAT_LENGTH) + length] = entry(code, bits);
        }
        for (slot, &distance) in distances.iter().enumerate() {
            let (s, extra_bits, extra) = distance_code(distance);
            let code =
                u64::from(self.distance_codes[s]) | u64::from(extra) << self.distance_lengths[s];
            let bits = u32::from(self.distance_lengths[s]) + extra_bits;
            table[usize::from(REPEAT_SLOT) + slot] = entry(code, bits);
        }
        let mut pairs = symbols.chunks_exact(2);
        for pair in &mut pairs {
            let (a, b) = (table[usize::from(pair[0])], table[usize::from(pair[1])]);
            let a_bits = (a >> 32) as u32;
            out.put(
                (a & 0xffff_ffff) | (b & 0xffff_ffff) << a_bits,
                a_bits + (b >> 32) as u32,
            );
        }
        for &symbol in pairs.remainder() {
            let a = table[usize::from(symbol)];
            out.put(a & 0xffff_ffff, (a >> 32) as u32);
        }
        self.write_end_of_block(out);
    }

    /// A block coded with Huffman codes alone: `data` as literals, and the
    /// end-of-block symbol.
    fn write_literals(&self, data: &[u8], out: &mut Bits) {
        // Code and length of each literal in one word: one load per byte.
        let mut literal = [0u32; 256];
        for (byte, entry) in literal.iter_mut().enumerate() {
            *entry =
                u32::from(self.litlen_codes[byte]) | u32::from(self.litlen_lengths[byte]) << 16;
        }
        out.literals(data, &literal);
        self.write_end_of_block(out);
    }

    fn write_end_of_block(&self, out: &mut Bits) {
        out.put(
            u64::from(self.litlen_codes[END_OF_BLOCK]),
            u32::from(self.litlen_lengths[END_OF_BLOCK]),
        );
    }
}

/// Code lengths as code-length symbols with their extra bits' value: 0-15
/// as they are, 16 repeats the previous length 3-6 times, 17 and 18 are
/// runs of 3-10 and 11-138 zeros.
fn length_runs(lengths: &[u8]) -> Vec<(u8, u8)> {
    let mut runs = Vec::new();
    let mut at = 0;
    while at < lengths.len() {
        let value = lengths[at];
        let mut run = lengths[at..].iter().take_while(|&&l| l == value).count();
        at += run;
        if value == 0 {
            while run >= 11 {
                let n = run.min(138);
                runs.push((18, (n - 11) as u8));
                run -= n;
            }
            if run >= 3 {
                runs.push((17, (run - 3) as u8));
                run = 0;
            }
        } else {
            runs.push((value, 0));
            run -= 1;
            while run >= 3 {
                let n = run.min(6);
                runs.push((16, (n - 3) as u8));
                run -= n;
            }
        }
        runs.extend(std::iter::repeat_n((value, 0), run));
    }
    runs
}

/// A zlib stream's coded bytes: those ready for the sink, and a buffer
/// for the block being coded with the bits not yet a whole byte.
#[derive(Debug)]
struct BitWriter {
    ready: Vec<u8>,
    block: Vec<u8>,
    pending: u64,
    pending_bits: u32,
}

impl BitWriter {
    /// A writer with these buffers (emptied; `block`'s contents do not matter).
    fn new(mut ready: Vec<u8>, block: Vec<u8>) -> Self {
        ready.clear();
        BitWriter {
            ready,
            block,
            pending: 0,
            pending_bits: 0,
        }
    }

    /// A writer for one block of `input` bytes. Its state lives in locals
    /// while it writes, so the compiler keeps it in registers. The buffer
    /// grows to the largest block's worst case, not a full block's: a probe's
    /// stream codes a few rows.
    fn bits(&mut self, input: usize) -> Bits<'_> {
        let needed = block_out_bytes(input);
        if self.block.len() < needed {
            self.block.resize(needed, 0);
        }
        Bits {
            out: &mut self.block,
            at: 0,
            pending: self.pending,
            pending_bits: self.pending_bits,
        }
    }

    /// Takes back the state a block's writer ended in and makes its bytes
    /// ready.
    fn keep(&mut self, (at, pending, pending_bits): (usize, u64, u32)) {
        self.ready.extend_from_slice(&self.block[..at]);
        self.pending = pending;
        self.pending_bits = pending_bits;
    }

    /// Pads with zero bits to a whole byte and makes all bits ready.
    fn align_to_byte(&mut self) {
        if self.pending_bits > 0 {
            self.ready.push(self.pending as u8);
        }
        self.pending = 0;
        self.pending_bits = 0;
    }
}

/// Writes one block's bits, least significant first, as deflate packs them.
struct Bits<'a> {
    /// With room for 8 bytes past the last whole byte written.
    out: &'a mut [u8],
    at: usize,
    pending: u64,
    /// Fewer than 8 between calls.
    pending_bits: u32,
}

/// The most bits one [`Bits::put`] takes: with up to 7 pending, the word
/// written stays within 64 bits.
const MAX_PUT_BITS: u32 = 56;

impl Bits<'_> {
    /// Bytes written, and the bits not yet a whole byte.
    fn end(self) -> (usize, u64, u32) {
        (self.at, self.pending, self.pending_bits)
    }

    /// Appends the low `count` (at most [`MAX_PUT_BITS`]) bits of `bits`.
    #[inline(always)]
    fn put(&mut self, bits: u64, count: u32) {
        debug_assert!(count <= MAX_PUT_BITS && bits >> count == 0);
        self.pending |= bits << self.pending_bits;
        self.pending_bits += count;
        // The whole word goes out every time; only its whole bytes count.
        self.out[self.at..self.at + 8].copy_from_slice(&self.pending.to_le_bytes());
        let bytes = self.pending_bits / 8;
        self.at += bytes as usize;
        self.pending >>= bytes * 8;
        self.pending_bits -= bytes * 8;
    }

    /// Appends `bytes` as literals, each `table` entry a code (at most
    /// [`LITLEN_MAX_BITS`]) with its length above bit 16; four literals per
    /// call to put.
    #[inline(always)]
    fn literals(&mut self, bytes: &[u8], table: &[u32; 256]) {
        let mut groups = bytes.chunks_exact(4);
        for group in &mut groups {
            self.four_literals(group, table);
        }
        // The rest (fewer than four) in one more put.
        let (mut bits, mut count) = (0u64, 0u32);
        for &byte in groups.remainder() {
            let entry = table[usize::from(byte)];
            bits |= u64::from(entry & 0xffff) << count;
            count += entry >> 16;
        }
        self.put(bits, count);
    }

    /// Appends four literals in one put.
    #[inline(always)]
    fn four_literals(&mut self, group: &[u8], table: &[u32; 256]) {
        let (mut bits, mut count) = (0u64, 0u32);
        for &byte in &group[..4] {
            let entry = table[usize::from(byte)];
            bits |= u64::from(entry & 0xffff) << count;
            count += entry >> 16;
        }
        self.put(bits, count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn compress(data: &[u8], distances: &'static [usize], write_len: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut sink = |piece: &[u8]| {
            assert!(!piece.is_empty() && piece.len() <= 1000);
            out.extend_from_slice(piece);
            Ok(())
        };
        let mut z = RepeatDeflate::new(distances, 1000);
        for chunk in data.chunks(write_len.max(1)) {
            z.write(chunk, &mut sink).unwrap();
        }
        z.finish(&mut sink).unwrap();
        out
    }

    fn inflate(zlib: &[u8], len: usize) -> Vec<u8> {
        let mut back = vec![0; len + 1];
        let (out, rc) =
            zlib_rs::decompress_slice(&mut back, zlib, zlib_rs::InflateConfig::default());
        assert_eq!(rc, zlib_rs::ReturnCode::Ok);
        out.to_vec()
    }

    const DISTANCE_SETS: [&[usize]; 4] = [&[], &[1], &[1, 3], &[1, 3, 6, 3841, 32768]];

    #[test]
    fn length_and_distance_codes_match_the_rfcs_table() {
        assert_eq!(length_code(3), (257, 0, 0));
        assert_eq!(length_code(11), (265, 1, 0));
        assert_eq!(length_code(12), (265, 1, 1));
        assert_eq!(length_code(19), (269, 2, 0));
        assert_eq!(length_code(257), (284, 5, 30));
        assert_eq!(length_code(258), (285, 0, 0));
        for (length, &symbol) in LENGTH_SYMBOL.iter().enumerate().skip(3) {
            assert_eq!(usize::from(symbol), length_code(length).0);
        }
        assert_eq!(distance_code(1), (0, 0, 0));
        assert_eq!(distance_code(5), (4, 1, 0));
        assert_eq!(distance_code(8), (5, 1, 1));
        assert_eq!(distance_code(3841), (23, 10, 3841 - 3073));
        assert_eq!(distance_code(32768), (29, 13, 8191));
    }

    #[test]
    fn a_repeat_of_any_length_splits_into_pieces_deflate_can_code() {
        for length in 3..3000 {
            let (full, tail) = match_pieces(length);
            let pieces: Vec<usize> = std::iter::repeat_n(MAX_MATCH, full)
                .chain(tail.into_iter().filter(|&p| p > 0))
                .collect();
            assert_eq!(pieces.iter().sum::<usize>(), length, "{length}");
            assert!(
                pieces.iter().all(|p| (3..=MAX_MATCH).contains(p)),
                "{length}: {pieces:?}"
            );
        }
    }

    #[test]
    fn literal_codes_stay_within_14_bits_so_four_fit_one_put() {
        // Counts doubling from symbol to symbol would want codes up to 255 bits long.
        let mut counts = SymbolCounts::new();
        for (symbol, count) in counts.litlen.iter_mut().enumerate().take(30) {
            *count = 1 << symbol;
        }
        counts.litlen[END_OF_BLOCK] = 1;
        let codes = BlockCodes::fitted(&counts);
        assert!(codes.litlen_lengths.iter().all(|&l| l <= LITLEN_MAX_BITS));
        assert_eq!(*codes.litlen_lengths.iter().max().unwrap(), LITLEN_MAX_BITS);
        // And such a block still decodes.
        let data: Vec<u8> = (0..20u8)
            .flat_map(|symbol| std::iter::repeat_n(symbol, 1 << (symbol / 2)))
            .collect();
        for distances in DISTANCE_SETS {
            assert_eq!(inflate(&compress(&data, distances, 999), data.len()), data);
        }
    }

    #[test]
    fn a_stream_after_one_dropped_midway_on_its_thread_writes_what_a_fresh_thread_writes() {
        let data: Vec<u8> = (0..BLOCK_BYTES + 5000).map(|i| (i / 7 % 5) as u8).collect();
        let expected = {
            let data = data.clone();
            std::thread::spawn(move || compress(&data, &[1, 3], 4096))
                .join()
                .unwrap()
        };
        // Leaves coded blocks, pending bits and symbols behind.
        let mut abandoned = RepeatDeflate::new(&[1], 100);
        let noise: Vec<u8> = (0..2 * BLOCK_BYTES).map(|i| (i * 31 % 251) as u8).collect();
        abandoned.write(&noise, &mut |_| Ok(())).unwrap();
        drop(abandoned);
        let zlib = compress(&data, &[1, 3], 4096);
        assert_eq!(zlib, expected);
        assert_eq!(inflate(&zlib, data.len()), data);
    }

    #[test]
    fn rows_filled_in_place_give_the_stream_copied_rows_give_across_blocks() {
        // Rows of 3841 bytes: some straddle the blocks' ends.
        let data: Vec<u8> = (0..2 * BLOCK_BYTES + 9000)
            .map(|i| (i / 5 % 7) as u8)
            .collect();
        for distances in DISTANCE_SETS {
            let mut filled = Vec::new();
            let mut sink = |piece: &[u8]| {
                filled.extend_from_slice(piece);
                Ok(())
            };
            let mut z = RepeatDeflate::new(distances, 1000);
            for row in data.chunks(3841) {
                z.write_with(row.len(), |out| out.copy_from_slice(row), &mut sink)
                    .unwrap();
            }
            z.finish(&mut sink).unwrap();
            assert_eq!(filled, compress(&data, distances, 3841), "{distances:?}");
            assert_eq!(inflate(&filled, data.len()), data);
        }
    }

    #[test]
    fn empty_input_is_a_valid_empty_stream() {
        for distances in DISTANCE_SETS {
            assert!(inflate(&compress(&[], distances, 1), 0).is_empty());
        }
    }

    #[test]
    fn long_runs_and_pixel_repeats_over_several_blocks_round_trip_and_shrink() {
        let pixel = [0u8, 0, 7];
        let data: Vec<u8> = (0..3 * BLOCK_BYTES)
            .map(|i| {
                if i % 5000 < 4900 {
                    pixel[i % 3]
                } else {
                    (i * 7) as u8
                }
            })
            .collect();
        for distances in DISTANCE_SETS {
            let zlib = compress(&data, distances, 4000);
            assert_eq!(inflate(&zlib, data.len()), data, "{distances:?}");
            if distances.contains(&3) {
                assert!(
                    zlib.len() < data.len() / 20,
                    "{distances:?}: {}",
                    zlib.len()
                );
            }
        }
    }

    #[test]
    fn noise_over_two_blocks_round_trips_through_zlib_rs_and_fdeflate() {
        // Noise: no repeats, every literal used, codes near 8 bits.
        let mut x = 1u32;
        let noise: Vec<u8> = (0..BLOCK_BYTES + 99)
            .map(|_| {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (x >> 24) as u8
            })
            .collect();
        for distances in DISTANCE_SETS {
            let zlib = compress(&noise, distances, 777);
            assert_eq!(inflate(&zlib, noise.len()), noise, "{distances:?}");
            // The `png` crate's own inflater: a second, independent reader.
            let decoded = fdeflate::decompress_to_vec(&zlib).unwrap();
            assert_eq!(decoded, noise, "{distances:?} (fdeflate)");
        }
    }

    /// The repeats (start, length, distance) that `symbols` code `data`
    /// with, checking that their literals are `data`'s bytes and that they
    /// cover it. Consecutive pieces at one distance are one repeat: a greedy
    /// matcher never ends a repeat where another at its distance starts.
    fn repeats_in(
        symbols: &[Symbol],
        data: &[u8],
        distances: &[usize],
    ) -> Vec<(usize, usize, usize)> {
        let mut found: Vec<(usize, usize, usize)> = Vec::new();
        let (mut at, mut i) = (0, 0);
        while i < symbols.len() {
            if symbols[i] < REPEAT_LENGTH {
                assert_eq!(symbols[i], Symbol::from(data[at]), "literal at {at}");
                at += 1;
                i += 1;
                continue;
            }
            let length = usize::from(symbols[i] - REPEAT_LENGTH);
            assert!(
                (3..=MAX_MATCH).contains(&length),
                "piece of {length} at {at}"
            );
            let distance = distances[usize::from(symbols[i + 1] - REPEAT_SLOT)];
            match found.last_mut() {
                Some(last) if last.0 + last.1 == at && last.2 == distance => last.1 += length,
                _ => found.push((at, length, distance)),
            }
            at += length;
            i += 2;
        }
        assert_eq!(at, data.len());
        found
    }

    /// The greedy matcher [`find_matches`] implements, byte by byte.
    fn reference_matches(data: &[u8], distances: &[usize]) -> Vec<(usize, usize, usize)> {
        let mut found = Vec::new();
        let mut at = 0;
        while !distances.is_empty() && at + MIN_REPEAT <= data.len() {
            let max = data.len() - at;
            let mut best = (0, 0);
            for &d in distances.iter().filter(|&&d| d <= at) {
                let length = (0..max)
                    .take_while(|&i| data[at + i] == data[at + i - d])
                    .count();
                if length > best.0 {
                    best = (length, d);
                }
            }
            if best.0 >= MIN_REPEAT {
                found.push((at, best.0, best.1));
                at += best.0;
            } else {
                at += 1;
            }
        }
        found
    }

    proptest! {
        #[test]
        fn the_masked_matcher_finds_what_a_byte_by_byte_greedy_search_finds(
            data in proptest::collection::vec(
                prop_oneof![4 => 0u8..2, 1 => any::<u8>()], 0..3000),
            set in 0usize..4,
        ) {
            let distances = DISTANCE_SETS[set];
            let mut counts = SymbolCounts::new();
            let found = if distances.is_empty() {
                count_block_literals(&data, &mut counts);
                Vec::new()
            } else {
                let mut symbols = Vec::new();
                let n = find_matches(&data, distances, &mut symbols);
                count_symbols(&symbols[..n], distances, &mut counts);
                repeats_in(&symbols[..n], &data, distances)
            };
            prop_assert_eq!(&found, &reference_matches(&data, distances));
            // Every byte outside the matches is counted as a literal, and no other.
            let mut expected = [0u32; 256];
            let mut from = 0;
            for &(at, length, _) in &found {
                data[from..at].iter().for_each(|&b| expected[usize::from(b)] += 1);
                from = at + length;
            }
            data[from..].iter().for_each(|&b| expected[usize::from(b)] += 1);
            prop_assert_eq!(&counts.litlen[..256], &expected[..]);
        }

        #[test]
        fn any_bytes_round_trip_through_zlib_rs_inflate(
            data in proptest::collection::vec(
                prop_oneof![3 => 0u8..3, 1 => any::<u8>()], 0..20_000),
            write_len in 1usize..5000,
            set in 0usize..4,
        ) {
            let zlib = compress(&data, DISTANCE_SETS[set], write_len);
            prop_assert_eq!(inflate(&zlib, data.len()), data);
        }

        #[test]
        fn long_runs_round_trip_through_zlib_rs_inflate(
            runs in proptest::collection::vec((any::<u8>(), 1usize..700), 1..200),
            set in 0usize..4,
        ) {
            let data: Vec<u8> = runs.iter().flat_map(|&(b, n)| std::iter::repeat_n(b, n)).collect();
            let zlib = compress(&data, DISTANCE_SETS[set], 4096);
            prop_assert_eq!(inflate(&zlib, data.len()), data);
        }
    }
}
