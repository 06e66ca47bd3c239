//! Turning stored RGBA frames into upright RGB images.

use crate::cache::{FrameLayout, RowOrder};

/// Drops alpha and puts rows top-down, in one pass over the frame.
///
/// `rgba` holds `layout.frame_len()` bytes in `layout.row_order`; `rgb`
/// receives `width * height * 3` bytes, first row at the top. Works row by
/// row so each source row is read once and written once.
///
/// # Panics
///
/// If the buffers do not have the sizes the layout implies.
pub fn rgba_to_upright_rgb(rgba: &[u8], layout: FrameLayout, rgb: &mut [u8]) {
    let (w, h) = (layout.width as usize, layout.height as usize);
    assert_eq!(rgba.len(), w * h * 4, "RGBA buffer size");
    assert_eq!(rgb.len(), w * h * 3, "RGB buffer size");
    let src_rows = rgba.chunks_exact(w * 4);
    let dst_rows = rgb.chunks_exact_mut(w * 3);
    match layout.row_order {
        RowOrder::BottomUp => dst_rows
            .zip(src_rows.rev())
            .for_each(|(d, s)| drop_alpha_row(s, d)),
        RowOrder::TopDown => dst_rows
            .zip(src_rows)
            .for_each(|(d, s)| drop_alpha_row(s, d)),
    }
}

/// Copies one row of RGBA pixels (`src`, 4 bytes each) to RGB (`dst`, 3 bytes each).
///
/// # Panics
///
/// If `dst` does not hold three bytes for every four of `src`.
pub fn rgba_row_to_rgb(src: &[u8], dst: &mut [u8]) {
    assert!(
        src.len().is_multiple_of(4) && dst.len() == src.len() / 4 * 3,
        "RGB row size"
    );
    drop_alpha_row(src, dst);
}

/// Copies one row of RGBA pixels to RGB: with AVX-512's byte permute, or
/// AVX2's or else SSSE3's byte shuffle, where the processor has it (SSSE3:
/// 16 bytes in, 12 out, per instruction, about 3x the word version on rows
/// in cache; AVX2 twice that per instruction, 1.65x SSSE3's speed on 720p
/// rows; AVX-512 twice that again), else [`drop_alpha_words`].
#[inline]
fn drop_alpha_row(src: &[u8], dst: &mut [u8]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512vbmi")
        && std::arch::is_x86_feature_detected!("avx512bw")
    {
        // SAFETY: AVX-512 VBMI and BW (so AVX-512 F too) were just detected
        // on this processor, which is all `drop_alpha_avx512`'s target
        // features ask of its caller.
        unsafe { drop_alpha_avx512(src, dst) };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 was just detected on this processor, which is all
        // `drop_alpha_avx2`'s target feature asks of its caller.
        unsafe { drop_alpha_avx2(src, dst) };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("ssse3") {
        // SAFETY: SSSE3 was just detected on this processor, which is all
        // `drop_alpha_ssse3`'s target feature asks of its caller.
        unsafe { drop_alpha_ssse3(src, dst) };
        return;
    }
    drop_alpha_words(src, dst);
}

/// [`drop_alpha_row`] with SSSE3: each 16 bytes of RGBA are shuffled into 12
/// of RGB and stored as 16, the last 4 overwritten by the next store; the
/// last pixels, with no room for a 16-byte store, go through
/// [`drop_alpha_words`].
///
/// # Safety
///
/// The processor must support SSSE3.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "ssse3")]
unsafe fn drop_alpha_ssse3(src: &[u8], dst: &mut [u8]) {
    use std::arch::x86_64::{
        __m128i, _mm_loadu_si128, _mm_setr_epi8, _mm_shuffle_epi8, _mm_storeu_si128,
    };
    let pixels = (src.len() / 4).min(dst.len() / 3);
    // Groups of 4 pixels whose 16-byte store stays inside `dst`: all but the
    // last group when the row ends exactly after it.
    let groups = if pixels * 3 >= 16 {
        (pixels * 3 - 16) / 12 + 1
    } else {
        0
    };
    let keep_rgb = _mm_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1);
    for g in 0..groups {
        let (s, d) = (&src[g * 16..g * 16 + 16], &mut dst[g * 12..g * 12 + 16]);
        // SAFETY: `s` and `d` are 16-byte slices (checked by the indexing
        // above), the loads and stores are unaligned ones, and SSSE3 is
        // enabled for this function.
        unsafe {
            let rgb = _mm_shuffle_epi8(_mm_loadu_si128(s.as_ptr().cast::<__m128i>()), keep_rgb);
            _mm_storeu_si128(d.as_mut_ptr().cast::<__m128i>(), rgb);
        }
    }
    drop_alpha_words(&src[groups * 16..], &mut dst[groups * 12..]);
}

/// [`drop_alpha_row`] with AVX-512: each 64 bytes of RGBA permuted into 48
/// of RGB by one byte permute (VBMI) and stored with a 48-byte mask; the
/// last pixels, fewer than 16, go through [`drop_alpha_avx2`].
///
/// # Safety
///
/// The processor must support AVX-512 F, BW and VBMI (and so AVX2).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
unsafe fn drop_alpha_avx512(src: &[u8], dst: &mut [u8]) {
    use std::arch::x86_64::{
        __m512i, _mm512_loadu_si512, _mm512_mask_storeu_epi8, _mm512_permutexvar_epi8,
        _mm512_set_epi8,
    };
    let groups = (src.len() / 64).min(dst.len() / 48);
    // Byte i of the result is byte i + i / 3 of the group (alpha skipped);
    // the last 16 are not stored.
    #[rustfmt::skip]
    let keep_rgb = _mm512_set_epi8(
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        62, 61, 60, 58, 57, 56, 54, 53, 52, 50, 49, 48, 46, 45, 44, 42,
        41, 40, 38, 37, 36, 34, 33, 32, 30, 29, 28, 26, 25, 24, 22, 21,
        20, 18, 17, 16, 14, 13, 12, 10, 9, 8, 6, 5, 4, 2, 1, 0,
    );
    const RGB_BYTES: u64 = (1 << 48) - 1;
    for g in 0..groups {
        let (s, d) = (&src[g * 64..g * 64 + 64], &mut dst[g * 48..g * 48 + 48]);
        // SAFETY: `s` is a 64-byte slice and `d` a 48-byte one (checked by
        // the indexing above); the load is an unaligned one, the store
        // writes only the 48 bytes its mask selects, and AVX-512 F, BW and
        // VBMI are enabled for this function.
        unsafe {
            let rgba = _mm512_loadu_si512(s.as_ptr().cast::<__m512i>());
            let rgb = _mm512_permutexvar_epi8(keep_rgb, rgba);
            _mm512_mask_storeu_epi8(d.as_mut_ptr().cast(), RGB_BYTES, rgb);
        }
    }
    // SAFETY: a processor with AVX-512 F has AVX2.
    unsafe { drop_alpha_avx2(&src[groups * 64..], &mut dst[groups * 48..]) };
}

/// [`drop_alpha_row`] with AVX2: each 32 bytes of RGBA (two lanes of 16)
/// are shuffled within their lanes into 12 bytes of RGB each, the two
/// twelves moved together by a dword permute and stored as 32, the last 8
/// overwritten by the next store; the last pixels, with no room for a
/// 32-byte store, go through [`drop_alpha_ssse3`].
///
/// # Safety
///
/// The processor must support AVX2 (and so SSSE3).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn drop_alpha_avx2(src: &[u8], dst: &mut [u8]) {
    use std::arch::x86_64::{
        __m256i, _mm256_loadu_si256, _mm256_permutevar8x32_epi32, _mm256_setr_epi32,
        _mm256_setr_epi8, _mm256_shuffle_epi8, _mm256_storeu_si256,
    };
    let pixels = (src.len() / 4).min(dst.len() / 3);
    // Groups of 8 pixels whose 32-byte store stays inside `dst`.
    let groups = if pixels * 3 >= 32 {
        (pixels * 3 - 32) / 24 + 1
    } else {
        0
    };
    let keep_rgb = _mm256_setr_epi8(
        0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1, //
        0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1,
    );
    let together = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 7, 7);
    for g in 0..groups {
        let (s, d) = (&src[g * 32..g * 32 + 32], &mut dst[g * 24..g * 24 + 32]);
        // SAFETY: `s` and `d` are 32-byte slices (checked by the indexing
        // above), the loads and stores are unaligned ones, and AVX2 is
        // enabled for this function.
        unsafe {
            let rgb =
                _mm256_shuffle_epi8(_mm256_loadu_si256(s.as_ptr().cast::<__m256i>()), keep_rgb);
            let rgb = _mm256_permutevar8x32_epi32(rgb, together);
            _mm256_storeu_si256(d.as_mut_ptr().cast::<__m256i>(), rgb);
        }
    }
    // SAFETY: a processor with AVX2 has SSSE3.
    unsafe { drop_alpha_ssse3(&src[groups * 32..], &mut dst[groups * 24..]) };
}

/// [`drop_alpha_row`] on any processor.
fn drop_alpha_words(src: &[u8], dst: &mut [u8]) {
    // Eight pixels at a time as four 64-bit words in, three out: whole-word shifts instead of
    // 3-byte copies (little-endian words, so byte order is the same on every target).
    let mut s = src.chunks_exact(32);
    let mut d = dst.chunks_exact_mut(24);
    for (sb, db) in (&mut s).zip(&mut d) {
        let word = |i: usize| {
            let v = u64::from_le_bytes(sb[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
            // Two pixels, RGBA RGBA, to their six RGB bytes in the low 48 bits.
            (v & 0x00FF_FFFF) | ((v >> 8) & 0xFFFF_FF00_0000)
        };
        let (a, b, c, e) = (word(0), word(1), word(2), word(3));
        db[0..8].copy_from_slice(&(a | (b << 48)).to_le_bytes());
        db[8..16].copy_from_slice(&((b >> 16) | (c << 32)).to_le_bytes());
        db[16..24].copy_from_slice(&((c >> 32) | (e << 16)).to_le_bytes());
    }
    for (sp, dp) in s
        .remainder()
        .chunks_exact(4)
        .zip(d.into_remainder().chunks_exact_mut(3))
    {
        dp.copy_from_slice(&sp[..3]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(rgba: &[u8], w: usize, h: usize, bottom_up: bool) -> Vec<u8> {
        let mut out = Vec::new();
        for y in 0..h {
            let sy = if bottom_up { h - 1 - y } else { y };
            for x in 0..w {
                let p = (sy * w + x) * 4;
                out.extend_from_slice(&rgba[p..p + 3]);
            }
        }
        out
    }

    #[test]
    fn a_bottom_up_frame_comes_out_upright_without_alpha() {
        // 1x2 frame, bottom-up: bottom pixel red, top pixel blue.
        let rgba = [255, 0, 0, 255, 0, 0, 255, 255];
        let layout = FrameLayout::rgba(1, 2, RowOrder::BottomUp).unwrap();
        let mut rgb = [0u8; 6];
        rgba_to_upright_rgb(&rgba, layout, &mut rgb);
        assert_eq!(rgb, [0, 0, 255, 255, 0, 0]);
    }

    #[test]
    fn matches_pixel_by_pixel_reference_for_odd_sizes_and_both_orders() {
        for (w, h) in [(1, 1), (3, 2), (8, 3), (9, 5), (17, 4), (33, 7)] {
            let rgba: Vec<u8> = (0..w * h * 4).map(|i| (i * 31 % 251) as u8).collect();
            for order in [RowOrder::BottomUp, RowOrder::TopDown] {
                let layout = FrameLayout::rgba(w as u32, h as u32, order).unwrap();
                let mut rgb = vec![0; w * h * 3];
                rgba_to_upright_rgb(&rgba, layout, &mut rgb);
                assert_eq!(
                    rgb,
                    reference(&rgba, w, h, order == RowOrder::BottomUp),
                    "{w}x{h} {order}"
                );
            }
        }
    }

    /// One way of dropping alpha from a row.
    type DropAlpha = fn(&[u8], &mut [u8]);

    #[test]
    fn every_row_length_drops_alpha_alike_in_every_version_this_processor_has() {
        let rgba: Vec<u8> = (0..4 * 70).map(|i| (i * 37 % 253) as u8).collect();
        for pixels in 0..70 {
            let src = &rgba[..pixels * 4];
            let expected: Vec<u8> = src
                .chunks_exact(4)
                .flat_map(|p| [p[0], p[1], p[2]])
                .collect();
            let mut versions: Vec<(&str, DropAlpha)> =
                vec![("dispatched", rgba_row_to_rgb), ("words", drop_alpha_words)];
            #[cfg(target_arch = "x86_64")]
            {
                if std::arch::is_x86_feature_detected!("ssse3") {
                    // SAFETY: SSSE3 was just detected.
                    versions.push(("ssse3", |s, d| unsafe { drop_alpha_ssse3(s, d) }));
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: AVX2 was just detected.
                    versions.push(("avx2", |s, d| unsafe { drop_alpha_avx2(s, d) }));
                }
                if std::arch::is_x86_feature_detected!("avx512vbmi")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                {
                    // SAFETY: AVX-512 VBMI and BW were just detected.
                    versions.push(("avx512", |s, d| unsafe { drop_alpha_avx512(s, d) }));
                }
            }
            for (name, version) in versions {
                // A filled output shows any byte left unwritten.
                let mut out = vec![0xAA; pixels * 3];
                version(src, &mut out);
                assert_eq!(out, expected, "{name}, {pixels} pixels");
            }
        }
    }
}
