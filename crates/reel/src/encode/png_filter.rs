//! PNG row filters for 8-bit RGB (3 bytes per pixel) and the choice of a
//! filter per row.
//!
//! The `png` crate filters only inside its own writer; reel compresses
//! filtered rows with a deflate stream of its own choosing (see
//! [`super::png_deflate`]), so it filters them here.

/// Bytes per pixel of 8-bit RGB: the distance Sub, Average and Paeth look left.
const BPP: usize = 3;

/// One of PNG's five row filters (the number is the row's filter-type byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum RowFilter {
    /// The row as it is.
    None = 0,
    /// Each byte minus the byte one pixel to its left.
    Sub = 1,
    /// Each byte minus the byte above.
    Up = 2,
    /// Each byte minus the average of the left and upper bytes.
    Average = 3,
    /// Each byte minus the Paeth predictor of left, upper and upper-left.
    Paeth = 4,
}

/// The Paeth predictor (PNG specification, section 9.4), written with
/// selects rather than branches so that the row loop vectorizes.
#[inline(always)]
fn paeth_predictor(a: u8, b: u8, c: u8) -> u8 {
    let (ia, ib, ic) = (i16::from(a), i16::from(b), i16::from(c));
    // p = a + b - c; the distances of p from a, b and c.
    let pa = (ib - ic).abs();
    let pb = (ia - ic).abs();
    let pc = (ia + ib - 2 * ic).abs();
    let b_or_c = if pb <= pc { b } else { c };
    if pa <= pb && pa <= pc {
        a
    } else {
        b_or_c
    }
}

/// Writes `row` filtered with `filter` against `prev` (the row above, all
/// zeros for the first row) into `out`; all three have the same length.
pub fn filter_row(filter: RowFilter, row: &[u8], prev: &[u8], out: &mut [u8]) {
    let n = row.len();
    assert!(prev.len() == n && out.len() == n);
    let head = BPP.min(n);
    match filter {
        RowFilter::None => out.copy_from_slice(row),
        RowFilter::Sub => {
            out[..head].copy_from_slice(&row[..head]);
            for ((o, &x), &a) in out[head..].iter_mut().zip(&row[head..]).zip(row) {
                *o = x.wrapping_sub(a);
            }
        }
        RowFilter::Up => up(row, prev, out),
        RowFilter::Average => {
            for i in 0..head {
                out[i] = row[i].wrapping_sub(prev[i] >> 1);
            }
            let left_up = row.iter().zip(&prev[head..]);
            for ((o, &x), (&a, &b)) in out[head..].iter_mut().zip(&row[head..]).zip(left_up) {
                *o = x.wrapping_sub(((u16::from(a) + u16::from(b)) >> 1) as u8);
            }
        }
        RowFilter::Paeth => {
            for i in 0..head {
                out[i] = row[i].wrapping_sub(prev[i]);
            }
            let neighbours = row.iter().zip(&prev[head..]).zip(prev);
            for ((o, &x), ((&a, &b), &c)) in
                out[head..].iter_mut().zip(&row[head..]).zip(neighbours)
            {
                *o = x.wrapping_sub(paeth_predictor(a, b, c));
            }
        }
    }
}

/// The Up filter, with AVX2's 32-byte subtraction where the processor has
/// it (the default build's SSE2 takes 16 bytes at a time; Up is the filter
/// of every rendered frame at the default level).
fn up(row: &[u8], prev: &[u8], out: &mut [u8]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 was just detected on this processor, which is all
        // `up_avx2`'s target feature asks of its caller.
        unsafe { up_avx2(row, prev, out) };
        return;
    }
    up_bytes(row, prev, out);
}

/// [`up_bytes`] compiled for AVX2.
///
/// # Safety
///
/// The processor must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn up_avx2(row: &[u8], prev: &[u8], out: &mut [u8]) {
    up_bytes(row, prev, out);
}

/// Each byte of `row` minus the byte of `prev` at the same place, into `out`.
#[inline(always)]
fn up_bytes(row: &[u8], prev: &[u8], out: &mut [u8]) {
    for ((o, &x), &b) in out.iter_mut().zip(row).zip(prev) {
        *o = x.wrapping_sub(b);
    }
}

/// libpng's estimate of how well a filtered row compresses: the sum of its
/// bytes read as signed values, without sign (smaller is better).
fn signed_abs_sum(filtered: &[u8]) -> u64 {
    // u32 lanes vectorize better; a chunk's sum cannot overflow them.
    filtered
        .chunks(1 << 16)
        .map(|chunk| {
            let sum: u32 = chunk
                .iter()
                .map(|&b| u32::from((b as i8).unsigned_abs()))
                .sum();
            u64::from(sum)
        })
        .sum()
}

/// Filters rows one at a time, each with the candidate filter whose output
/// has the smallest sum of its bytes read as signed values, without sign
/// (libpng's estimate), reusing its buffers.
#[derive(Debug)]
pub struct RowFilterChooser {
    candidates: Vec<RowFilter>,
    /// The filter-type byte followed by the best filtered row so far.
    best: Vec<u8>,
    trial: Vec<u8>,
}

impl RowFilterChooser {
    /// A chooser among `candidates` (at least one) for rows of `row_len` bytes.
    pub fn new(candidates: &[RowFilter], row_len: usize) -> Self {
        assert!(!candidates.is_empty(), "no candidate row filter");
        RowFilterChooser {
            candidates: candidates.to_vec(),
            best: vec![0; row_len + 1],
            trial: vec![0; row_len + 1],
        }
    }

    /// Writes what [`filter`](Self::filter) returns into `out` (one byte
    /// longer than `row`): straight there when there is one candidate.
    pub fn filter_into(&mut self, row: &[u8], prev: &[u8], out: &mut [u8]) {
        if let [only] = self.candidates[..] {
            out[0] = only as u8;
            filter_row(only, row, prev, &mut out[1..]);
        } else {
            out.copy_from_slice(self.filter(row, prev));
        }
    }

    /// The filter-type byte and the filtered bytes of `row` (below `prev`),
    /// as they go into the PNG's compressed data.
    pub fn filter<'s>(&'s mut self, row: &[u8], prev: &[u8]) -> &'s [u8] {
        let first = self.candidates[0];
        self.best[0] = first as u8;
        filter_row(first, row, prev, &mut self.best[1..]);
        if self.candidates.len() > 1 {
            let mut best_cost = signed_abs_sum(&self.best[1..]);
            for &filter in &self.candidates[1..] {
                self.trial[0] = filter as u8;
                filter_row(filter, row, prev, &mut self.trial[1..]);
                let cost = signed_abs_sum(&self.trial[1..]);
                if cost < best_cost {
                    best_cost = cost;
                    std::mem::swap(&mut self.best, &mut self.trial);
                }
            }
        }
        &self.best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Undoes `filter` the way a decoder does (PNG specification, section 9).
    fn unfilter(filter: RowFilter, filtered: &[u8], prev: &[u8]) -> Vec<u8> {
        let mut row = vec![0u8; filtered.len()];
        for i in 0..filtered.len() {
            let a = if i >= BPP { row[i - BPP] } else { 0 };
            let b = prev[i];
            let c = if i >= BPP { prev[i - BPP] } else { 0 };
            let pred = match filter {
                RowFilter::None => 0,
                RowFilter::Sub => a,
                RowFilter::Up => b,
                RowFilter::Average => ((u16::from(a) + u16::from(b)) >> 1) as u8,
                RowFilter::Paeth => paeth_predictor(a, b, c),
            };
            row[i] = filtered[i].wrapping_add(pred);
        }
        row
    }

    #[test]
    fn every_filter_is_undone_by_the_specifications_unfilter() {
        let filters = [
            RowFilter::None,
            RowFilter::Sub,
            RowFilter::Up,
            RowFilter::Average,
            RowFilter::Paeth,
        ];
        // Long rows too: the vector loops (Up with AVX2 takes 32 bytes a step).
        for len in [3, 6, 30, 99, 3840] {
            let prev: Vec<u8> = (0..len).map(|i| (i * 71 % 256) as u8).collect();
            let row: Vec<u8> = (0..len).map(|i| (i * 113 % 253 + 200) as u8).collect();
            for filter in filters {
                let mut out = vec![0; len];
                filter_row(filter, &row, &prev, &mut out);
                assert_eq!(
                    unfilter(filter, &out, &prev),
                    row,
                    "{filter:?}, {len} bytes"
                );
            }
        }
    }

    #[test]
    fn chooser_picks_the_filter_with_the_smallest_signed_sum() {
        // A row equal to the one above: Up gives all zeros.
        let prev: Vec<u8> = (0..12).map(|i| (i * 40) as u8).collect();
        let mut chooser = RowFilterChooser::new(&[RowFilter::Sub, RowFilter::Up], 12);
        let out = chooser.filter(&prev.clone(), &prev);
        assert_eq!(out[0], RowFilter::Up as u8);
        assert!(out[1..].iter().all(|&b| b == 0));
        // A flat row under a different one: Sub gives zeros after the first pixel.
        let flat = vec![9u8; 12];
        let out = chooser.filter(&flat, &prev);
        assert_eq!(out[0], RowFilter::Sub as u8);
        assert_eq!(&out[1..4], &[9, 9, 9]);
    }
}
