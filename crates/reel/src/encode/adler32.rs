//! Adler-32, the zlib stream's checksum (RFC 1950, section 8.2): with
//! AVX-512 where the processor has it, else `simd-adler32` (AVX2 and
//! others, chosen at run time).
//!
//! The repeat coder sums every byte of a PNG's filtered rows; on a 720p
//! frame that was 5% of a default export's CPU with AVX2.

/// The modulus of both sums.
const BASE: u64 = 65521;

/// Bytes summed between reductions modulo [`BASE`]: zlib's 5552 rounded
/// down to whole 64-byte steps. The vector sums cannot overflow within it
/// (see [`adler32_avx512`]).
#[cfg(target_arch = "x86_64")]
const STRETCH: usize = 5504;

/// The Adler-32 of `data` continued from the checksum `adler` (1 for a new
/// stream).
pub fn adler32(adler: u32, data: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512bw") {
        // SAFETY: AVX-512 BW was just detected on this processor (it implies
        // AVX-512 F), which is all `adler32_avx512`'s target features ask of
        // its caller.
        return unsafe { adler32_avx512(adler, data) };
    }
    let mut sums = simd_adler32::Adler32::from_checksum(adler);
    sums.write(data);
    sums.finish()
}

/// [`adler32`] 64 bytes a step: for `n` bytes `x_i` after sums `a` and `b`,
/// `a' = a + Σ x_i` and `b' = b + n·a + Σ (n - i)·x_i`. Over steps `j` of
/// 64 bytes, `(n - i)` is `64·(steps left after j) + (64 - t)` for byte `t`
/// of step `j`: so each step adds its byte sums (`vpsadbw`) to `a_parts`,
/// its bytes weighted 64 down to 1 (`vpmaddubsw`, `vpmaddwd`) to `b_parts`,
/// and, before that, `a_parts` to `earlier`, which counts 64 times per step
/// still to come.
///
/// Lane bounds per [`STRETCH`] (86 steps): an `a_parts` lane (u64) grows by
/// at most 8·255 a step, an `earlier` lane by at most 86·2040 a step; a
/// `b_parts` lane (i32) by at most 2·(64 + 63)·255 = 64,770 a step, 5.6
/// million in all, and sixteen of them 89 million: no overflow.
///
/// # Safety
///
/// The processor must support AVX-512 F and BW.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn adler32_avx512(adler: u32, data: &[u8]) -> u32 {
    use std::arch::x86_64::{
        __m512i, _mm512_add_epi32, _mm512_add_epi64, _mm512_loadu_si512, _mm512_madd_epi16,
        _mm512_maddubs_epi16, _mm512_reduce_add_epi32, _mm512_reduce_add_epi64, _mm512_sad_epu8,
        _mm512_set1_epi16, _mm512_set_epi8, _mm512_setzero_si512,
    };
    let (mut a, mut b) = (u64::from(adler & 0xffff), u64::from(adler >> 16));
    // The weight of byte t of a step, 64 - t (set_epi8 lists the last first).
    #[rustfmt::skip]
    let weights = _mm512_set_epi8(
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
        17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
        33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48,
        49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64,
    );
    let ones = _mm512_set1_epi16(1);
    let whole = data.len() / 64 * 64;
    for stretch in data[..whole].chunks(STRETCH) {
        let zero = _mm512_setzero_si512();
        let (mut a_parts, mut b_parts, mut earlier) = (zero, zero, zero);
        for step in stretch.chunks_exact(64) {
            // SAFETY: `step` is 64 bytes (chunks_exact), read with an
            // unaligned load; AVX-512 F and BW are enabled for this function.
            let bytes = unsafe { _mm512_loadu_si512(step.as_ptr().cast::<__m512i>()) };
            earlier = _mm512_add_epi64(earlier, a_parts);
            a_parts = _mm512_add_epi64(a_parts, _mm512_sad_epu8(bytes, zero));
            let weighted = _mm512_madd_epi16(_mm512_maddubs_epi16(bytes, weights), ones);
            b_parts = _mm512_add_epi32(b_parts, weighted);
        }
        let n = stretch.len() as u64;
        let sum = _mm512_reduce_add_epi64(a_parts) as u64;
        let earlier = _mm512_reduce_add_epi64(earlier) as u64;
        let weighted = _mm512_reduce_add_epi32(b_parts) as u32 as u64;
        b = (b + n * a + 64 * earlier + weighted) % BASE;
        a = (a + sum) % BASE;
    }
    for &x in &data[whole..] {
        a = (a + u64::from(x)) % BASE;
        b = (b + a) % BASE;
    }
    (b << 16 | a) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(adler: u32, data: &[u8]) -> u32 {
        let (mut a, mut b) = (adler & 0xffff, adler >> 16);
        for &x in data {
            a = (a + u32::from(x)) % 65521;
            b = (b + a) % 65521;
        }
        b << 16 | a
    }

    #[test]
    fn known_checksums() {
        assert_eq!(adler32(1, b""), 1);
        assert_eq!(adler32(1, b"Wikipedia"), 0x11E6_0398);
    }

    #[test]
    fn every_length_offset_and_start_matches_the_definition() {
        // All 0xff bytes are the sums' worst case for overflow.
        let noise: Vec<u8> = (0..20_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        let full = vec![0xffu8; 20_000];
        for data in [&noise, &full] {
            for len in (0..300).chain([5503, 5504, 5505, 11_008, 11_009, 19_000]) {
                for offset in [0, 1, 63] {
                    let slice = &data[offset..offset + len];
                    for start in [1, 0xfff0_fff0, 0x1234_5678] {
                        assert_eq!(
                            adler32(start, slice),
                            reference(start, slice),
                            "length {len}, offset {offset}, start {start:#x}"
                        );
                    }
                }
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_avx512_version_matches_simd_adler32_where_the_processor_has_it() {
        if !std::arch::is_x86_feature_detected!("avx512bw") {
            eprintln!("no AVX-512 BW here: only the dispatch's other path was tested");
            return;
        }
        let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 / 13) as u8).collect();
        let mut expected = simd_adler32::Adler32::from_checksum(1);
        expected.write(&data);
        // SAFETY: AVX-512 BW was just detected.
        assert_eq!(unsafe { adler32_avx512(1, &data) }, expected.finish());
    }
}
