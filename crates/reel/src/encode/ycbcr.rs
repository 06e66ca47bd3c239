//! RGB to YCbCr with chroma averaged over 2×2 blocks, in two flavours:
//!
//! - [`jfif_row_pair_420`] gives full-range YCbCr (JFIF), two rows at a
//!   time, for JPEG: each chroma sample is its 2×2 block's average (the
//!   box-filtered chroma other encoders use; taking one pixel of each block
//!   instead keeps noisy frames further from the source at the same file
//!   size, BENCHMARKS.md).
//! - [`rgb_to_i420_bt601`] gives limited-range ("TV", Y 16–235, Cb/Cr
//!   16–240) BT.601 YCbCr as planar 4:2:0 (I420), for H.264 through x264:
//!   the matrix and range of ffmpeg's `rgb24` to `yuv420p` conversion, and
//!   what decoders assume for untagged SD and tagged BT.601 video.

/// The JFIF block-chroma conversion of a whole top-down frame, pixel by
/// pixel from its definition, as interleaved YCbCr, each chroma sample its
/// block's: what [`jfif_row_pair_420`] must agree with.
#[cfg(test)]
pub(super) fn jfif_reference(rgb: &[u8], w: usize, h: usize) -> Vec<u8> {
    let mut out = vec![0; rgb.len()];
    for y0 in (0..h).step_by(2) {
        for x0 in (0..w).step_by(2) {
            let block: Vec<(usize, usize)> = (y0..(y0 + 2).min(h))
                .flat_map(|y| (x0..(x0 + 2).min(w)).map(move |x| (x, y)))
                .collect();
            let (mut cb, mut cr) = (0, 0);
            for &(x, y) in &block {
                let at = (y * w + x) * 3;
                let (r, g, b) = (
                    i32::from(rgb[at]),
                    i32::from(rgb[at + 1]),
                    i32::from(rgb[at + 2]),
                );
                out[at] = luma_of(r, g, b);
                cb += cb_of(r, g, b);
                cr += cr_of(r, g, b);
            }
            for &(x, y) in &block {
                let at = (y * w + x) * 3;
                out[at + 1] = chroma(cb, block.len() as i32);
                out[at + 2] = chroma(cr, block.len() as i32);
            }
        }
    }
    out
}

/// Converts two rows of RGB (`top`, and `bottom` below it: the same row on
/// an odd bottom edge) into full-range YCbCr (JFIF) for 4:2:0: each row's
/// luma, and one Cb and one Cr per 2×2 block, their average (a block cut by
/// an odd right edge averages the pixels it has).
///
/// # Panics
///
/// If the rows differ in length, or an output is not one byte per pixel
/// (luma) or per block (chroma).
pub fn jfif_row_pair_420(
    top: &[u8],
    bottom: &[u8],
    [luma_top, luma_bottom, cb, cr]: [&mut [u8]; 4],
) {
    let w = top.len() / 3;
    assert_eq!(bottom.len(), top.len(), "bottom row size");
    assert!(
        luma_top.len() == w && luma_bottom.len() == w,
        "luma row sizes"
    );
    assert!(
        cb.len() == w.div_ceil(2) && cr.len() == w.div_ceil(2),
        "chroma row sizes"
    );
    #[inline(always)]
    fn luma(p: &[u8]) -> u8 {
        luma_of(i32::from(p[0]), i32::from(p[1]), i32::from(p[2]))
    }
    for (l, p) in luma_top.iter_mut().zip(top.chunks_exact(3)) {
        *l = luma(p);
    }
    for (l, p) in luma_bottom.iter_mut().zip(bottom.chunks_exact(3)) {
        *l = luma(p);
    }
    #[inline(always)]
    fn block(a: &[u8], b: &[u8], right: usize) -> (u8, u8) {
        let sum = |c: usize| {
            i32::from(a[c]) + i32::from(a[right + c]) + i32::from(b[c]) + i32::from(b[right + c])
        };
        let (r, g, b) = (sum(0), sum(1), sum(2));
        (chroma(cb_of(r, g, b), 4), chroma(cr_of(r, g, b), 4))
    }
    let (top_pairs, bottom_pairs) = (top.chunks_exact(6), bottom.chunks_exact(6));
    let (top_rest, bottom_rest) = (top_pairs.remainder(), bottom_pairs.remainder());
    for (((a, b), cb), cr) in top_pairs
        .zip(bottom_pairs)
        .zip(cb.iter_mut())
        .zip(cr.iter_mut())
    {
        (*cb, *cr) = block(a, b, 3);
    }
    if w % 2 == 1 {
        // A block cut by an odd right edge: its one column counted twice averages the
        // pixels it has.
        (cb[w / 2], cr[w / 2]) = block(top_rest, bottom_rest, 0);
    }
}

// JFIF coefficients in fixed point, scaled by 2^16.
#[inline]
fn luma_of(r: i32, g: i32, b: i32) -> u8 {
    ((19595 * r + 38470 * g + 7471 * b + 32768) >> 16) as u8
}

#[inline]
fn cb_of(r: i32, g: i32, b: i32) -> i32 {
    -11059 * r - 21709 * g + 32768 * b
}

#[inline]
fn cr_of(r: i32, g: i32, b: i32) -> i32 {
    32768 * r - 27439 * g - 5329 * b
}

/// The average of `n` scaled chroma values, offset to 128 and rounded.
#[inline]
fn chroma(sum: i32, n: i32) -> u8 {
    ((sum / n + (128 << 16) + 32768) >> 16).clamp(0, 255) as u8
}

/// The bytes of a `w`×`h` I420 frame: a full-size Y plane, then Cb and Cr
/// planes of (`w`/2)×(`h`/2).
pub fn i420_len(w: usize, h: usize) -> usize {
    w * h + 2 * (w / 2) * (h / 2)
}

/// Converts top-down RGB (`w * h * 3` bytes) into planar I420 in `out`
/// (`i420_len(w, h)` bytes: Y, then Cb, then Cr, rows without padding),
/// with BT.601 limited-range coefficients and each chroma sample the average
/// of its 2×2 block.
///
/// # Panics
///
/// If `w` or `h` is odd (4:2:0 needs whole 2×2 blocks) or a buffer has the
/// wrong length.
pub fn rgb_to_i420_bt601(rgb: &[u8], w: usize, h: usize, out: &mut [u8]) {
    assert!(
        w.is_multiple_of(2) && h.is_multiple_of(2),
        "I420 needs an even size"
    );
    assert_eq!(rgb.len(), w * h * 3, "RGB size");
    assert_eq!(out.len(), i420_len(w, h), "I420 size");
    if w == 0 || h == 0 {
        return;
    }
    let (luma, chroma) = out.split_at_mut(w * h);
    let (cb_plane, cr_plane) = chroma.split_at_mut(w * h / 4);
    for (((src, y_rows), cb_row), cr_row) in rgb
        .chunks_exact(6 * w)
        .zip(luma.chunks_exact_mut(2 * w))
        .zip(cb_plane.chunks_exact_mut(w / 2))
        .zip(cr_plane.chunks_exact_mut(w / 2))
    {
        let (top, bottom) = src.split_at(3 * w);
        let (y_top, y_bottom) = y_rows.split_at_mut(w);
        for (((((t, b), yt), yb), cb), cr) in top
            .chunks_exact(6)
            .zip(bottom.chunks_exact(6))
            .zip(y_top.chunks_exact_mut(2))
            .zip(y_bottom.chunks_exact_mut(2))
            .zip(cb_row.iter_mut())
            .zip(cr_row.iter_mut())
        {
            let px =
                |p: &[u8], i: usize| (i32::from(p[i]), i32::from(p[i + 1]), i32::from(p[i + 2]));
            let (r0, g0, b0) = px(t, 0);
            let (r1, g1, b1) = px(t, 3);
            let (r2, g2, b2) = px(b, 0);
            let (r3, g3, b3) = px(b, 3);
            yt[0] = tv_luma(r0, g0, b0);
            yt[1] = tv_luma(r1, g1, b1);
            yb[0] = tv_luma(r2, g2, b2);
            yb[1] = tv_luma(r3, g3, b3);
            // The matrix is linear: the chroma of the block's average colour
            // is the average of its pixels' chroma.
            let (r, g, b) = (r0 + r1 + r2 + r3, g0 + g1 + g2 + g3, b0 + b1 + b2 + b3);
            *cb = tv_chroma(TV_CB_R * r + TV_CB_G * g + TV_CB_B * b);
            *cr = tv_chroma(TV_CR_R * r + TV_CR_G * g + TV_CR_B * b);
        }
    }
}

// BT.601 limited range in fixed point, scaled by 2^16: Y = 16 + (65.481 R +
// 128.553 G + 24.966 B) / 255, Cb = 128 + (-37.797 R - 74.203 G + 112 B) /
// 255, Cr = 128 + (112 R - 93.786 G - 18.214 B) / 255.
const TV_Y_R: i32 = 16829;
const TV_Y_G: i32 = 33039;
const TV_Y_B: i32 = 6416;
const TV_CB_R: i32 = -9714;
const TV_CB_G: i32 = -19070;
const TV_CB_B: i32 = 28784;
const TV_CR_R: i32 = 28784;
const TV_CR_G: i32 = -24103;
const TV_CR_B: i32 = -4681;

#[inline(always)]
fn tv_luma(r: i32, g: i32, b: i32) -> u8 {
    // At most 16 + 219 = 235: no clamp needed.
    ((TV_Y_R * r + TV_Y_G * g + TV_Y_B * b + (16 << 16) + 32768) >> 16) as u8
}

/// Chroma from a sum over four pixels (scaled by 2^16): the average, offset
/// to 128 and rounded; within 16–240 by construction.
#[inline(always)]
fn tv_chroma(sum4: i32) -> u8 {
    ((sum4 + (128 << 18) + (1 << 17)) >> 18) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn white_is_limited_range_luma_235_with_neutral_chroma() {
        let mut out = vec![0; i420_len(2, 2)];
        rgb_to_i420_bt601(&[255; 12], 2, 2, &mut out);
        assert_eq!(out, [235, 235, 235, 235, 128, 128]);
    }

    /// A whole frame through [`jfif_row_pair_420`], a pair of rows at a
    /// time, as interleaved YCbCr with each block's chroma at its pixels.
    fn jfif_frame(rgb: &[u8], w: usize, h: usize) -> Vec<u8> {
        let mut out = vec![0; rgb.len()];
        let row = |y: usize| &rgb[y * w * 3..(y + 1) * w * 3];
        for top in (0..h).step_by(2) {
            let bottom = (top + 1).min(h - 1);
            let (mut y0, mut y1) = (vec![0; w], vec![0; w]);
            let (mut cb, mut cr) = (vec![0; w.div_ceil(2)], vec![0; w.div_ceil(2)]);
            jfif_row_pair_420(row(top), row(bottom), [&mut y0, &mut y1, &mut cb, &mut cr]);
            for (y, luma) in [(top, &y0), (bottom, &y1)] {
                for x in 0..w {
                    let at = (y * w + x) * 3;
                    out[at..at + 3].copy_from_slice(&[luma[x], cb[x / 2], cr[x / 2]]);
                }
            }
        }
        out
    }

    #[test]
    fn gray_has_neutral_chroma_and_primaries_match_jfif() {
        let out = jfif_frame(&[128, 128, 128], 1, 1);
        assert_eq!(out, [128, 128, 128]);
        let out = jfif_frame(&[255, 0, 0], 1, 1);
        // JFIF: Y = 76.2, Cb = 85.0, Cr = 255.5 (clamped).
        assert_eq!(out, [76, 85, 255]);
    }

    #[test]
    fn rows_match_the_block_by_block_definition_for_odd_and_even_sizes() {
        for (w, h) in [(1, 1), (2, 2), (3, 3), (4, 5), (7, 2), (16, 9)] {
            let rgb: Vec<u8> = (0..w * h * 3).map(|i| (i * 53 % 256) as u8).collect();
            assert_eq!(
                jfif_frame(&rgb, w, h),
                jfif_reference(&rgb, w, h),
                "{w}x{h}"
            );
        }
    }

    #[test]
    fn chroma_is_the_average_of_each_block_including_odd_edges() {
        // 3x1: block {red, blue} and the lone edge pixel green.
        let rgb = [255, 0, 0, 0, 0, 255, 0, 255, 0];
        let out = jfif_frame(&rgb, 3, 1);
        assert_eq!(out[1], out[4]);
        assert_eq!(out[2], out[5]);
        // Average of red (Cb 85) and blue (Cb 255.5): 170.
        assert_eq!(out[1], 170);
        // Green keeps its own chroma.
        assert_eq!((out[7], out[8]), (44, 21));
    }

    /// BT.601 limited range from its definition, in floating point.
    fn i420_reference(rgb: &[u8], w: usize, h: usize) -> Vec<u8> {
        let px = |x: usize, y: usize| {
            let at = (y * w + x) * 3;
            (
                f64::from(rgb[at]),
                f64::from(rgb[at + 1]),
                f64::from(rgb[at + 2]),
            )
        };
        let mut out = Vec::new();
        for y in 0..h {
            for x in 0..w {
                let (r, g, b) = px(x, y);
                out.push((16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0).round() as u8);
            }
        }
        for (coef, _) in [
            ((-37.797, -74.203, 112.0), 'u'),
            ((112.0, -93.786, -18.214), 'v'),
        ] {
            for y in (0..h).step_by(2) {
                for x in (0..w).step_by(2) {
                    let mut sum = 0.0;
                    for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                        let (r, g, b) = px(x + dx, y + dy);
                        sum += (coef.0 * r + coef.1 * g + coef.2 * b) / 255.0;
                    }
                    out.push((128.0 + sum / 4.0).round() as u8);
                }
            }
        }
        out
    }

    #[test]
    fn i420_matches_bt601_limited_range_within_rounding() {
        for (w, h) in [(2, 2), (4, 6), (16, 10), (64, 48)] {
            let rgb: Vec<u8> = (0..w * h * 3)
                .map(|i| ((i * 131 + i / 7 * 29) % 256) as u8)
                .collect();
            let mut out = vec![0; i420_len(w, h)];
            rgb_to_i420_bt601(&rgb, w, h, &mut out);
            let reference = i420_reference(&rgb, w, h);
            for (i, (&a, &b)) in out.iter().zip(&reference).enumerate() {
                assert!(a.abs_diff(b) <= 1, "{w}x{h} byte {i}: {a} against {b}");
            }
        }
    }

    #[test]
    fn i420_primaries_and_extremes_stay_in_the_limited_range() {
        let mut out = vec![0; i420_len(2, 2)];
        let solid = |rgb: [u8; 3], out: &mut Vec<u8>| {
            rgb_to_i420_bt601(&rgb.repeat(4), 2, 2, out);
            (out[0], out[4], out[5])
        };
        assert_eq!(solid([0, 0, 0], &mut out), (16, 128, 128));
        assert_eq!(solid([255, 255, 255], &mut out), (235, 128, 128));
        // BT.601: red Y 81, Cb 90, Cr 240; blue Y 41, Cb 240, Cr 110.
        assert_eq!(solid([255, 0, 0], &mut out), (81, 90, 240));
        assert_eq!(solid([0, 0, 255], &mut out), (41, 240, 110));
        assert_eq!(solid([255, 255, 0], &mut out), (210, 16, 146));
    }

    #[test]
    fn i420_chroma_is_the_average_of_each_2x2_block() {
        // Left block: red and blue on top, black below; right block: white.
        #[rustfmt::skip]
        let rgb = [
            255, 0, 0,  0, 0, 255,  255, 255, 255,  255, 255, 255,
            0, 0, 0,    0, 0, 0,    255, 255, 255,  255, 255, 255,
        ];
        let mut out = vec![0; i420_len(4, 2)];
        rgb_to_i420_bt601(&rgb, 4, 2, &mut out);
        assert_eq!(&out[..8], &[81, 41, 235, 235, 16, 16, 235, 235]);
        // Cb: (90.2 + 240 + 128 + 128) / 4 = 146.6; Cr: (240 + 109.8 + 128 + 128) / 4 = 151.4.
        assert_eq!(out[8..], [147, 128, 151, 128]);
    }
}
