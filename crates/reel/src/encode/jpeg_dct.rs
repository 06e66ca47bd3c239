//! The forward DCT of 8×8 blocks and their quantization, for baseline JPEG.
//!
//! The DCT is Arai, Agui and Nakajima's scaled algorithm in single precision
//! (libjpeg's "float" method): five multiplications per eight samples, the
//! output off by one known factor per coefficient, which the quantizer's
//! divisors take in. Eight rows (then, transposed, eight columns) go
//! through it side by side, so the compiler turns each step into vector
//! operations.
//!
//! Quantization rounds AC coefficients with a dead zone, as MPEG encoders
//! and ffmpeg's MJPEG do: a coefficient becomes level `n` from `n - 3/8` of
//! a step on (not `n - 1/2`), so the many coefficients just past half a
//! step, which cost bits and show little, become zeros. DC rounds to the
//! nearest step: a block's mean shows.

/// JPEG's zigzag order: `ZIGZAG[k]` is the natural (row-major) index of the
/// `k`-th coefficient sent.
pub const ZIGZAG: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// Where AC coefficients start rounding up, in steps: 3/8 (ffmpeg's MJPEG
/// and MPEG intra quantization), against 1/2 for rounding to nearest.
const AC_ROUNDING: f32 = 0.375;

/// Quantizes DCT blocks with one table.
#[derive(Debug, Clone)]
pub struct Quantizer {
    /// Per coefficient, in the order [`Quantizer::quantize`] reads the
    /// transform's output (column-major: index `u * 8 + v` for horizontal
    /// frequency `u`, vertical `v`): 1 / (step × the DCT's scale factor).
    divisors: [f32; 64],
    /// The same order: the rounding offset (DC 1/2, AC 3/8).
    rounding: [f32; 64],
    /// The same order: where each coefficient goes in zigzag order.
    zigzag_of: [usize; 64],
}

impl Quantizer {
    /// A quantizer for `table`, the steps in natural (row-major) order.
    ///
    /// # Panics
    ///
    /// If a step is 0.
    pub fn new(table: &[u16; 64]) -> Self {
        // AAN's output for frequency k is the true coefficient times
        // scale(k) (and times 8 overall, JPEG's DCT normalization).
        let scale = |k: usize| {
            if k == 0 {
                1.0
            } else {
                (k as f64 * std::f64::consts::PI / 16.0).cos() * std::f64::consts::SQRT_2
            }
        };
        let mut zigzag_position = [0usize; 64];
        for (position, &natural) in ZIGZAG.iter().enumerate() {
            zigzag_position[natural] = position;
        }
        let (mut divisors, mut rounding, mut zigzag_of) = ([0f32; 64], [0f32; 64], [0usize; 64]);
        for u in 0..8 {
            for v in 0..8 {
                let natural = v * 8 + u;
                let step = f64::from(table[natural]);
                assert!(step > 0.0, "a quantization step of 0");
                let i = u * 8 + v;
                divisors[i] = (1.0 / (step * scale(u) * scale(v) * 8.0)) as f32;
                rounding[i] = if natural == 0 { 0.5 } else { AC_ROUNDING };
                zigzag_of[i] = zigzag_position[natural];
            }
        }
        Quantizer {
            divisors,
            rounding,
            zigzag_of,
        }
    }

    /// Transforms the 8×8 block at `(x, y)` of `plane` (`stride` bytes a
    /// row), writes its quantized coefficients in zigzag order to `out`, and
    /// returns a mask of those that are not zero (bit `k` for zigzag
    /// position `k`).
    ///
    /// # Panics
    ///
    /// If the block is not inside the plane.
    pub fn quantize(
        &self,
        plane: &[u8],
        stride: usize,
        x: usize,
        y: usize,
        out: &mut [i16; 64],
    ) -> u64 {
        let mut block = [[0u8; 8]; 8];
        for (r, row) in block.iter_mut().enumerate() {
            let start = (y + r) * stride + x;
            row.copy_from_slice(&plane[start..start + 8]);
        }
        let first = block[0][0];
        // Eight samples a word: flat when every word is the first sample eight times.
        let flat_word = u64::from(first) * 0x0101_0101_0101_0101;
        if block
            .iter()
            .all(|row| u64::from_ne_bytes(*row) == flat_word)
        {
            // A flat block (most of a rendered frame's background): the
            // transform would give 64 × (sample - 128) at DC and exact zeros
            // elsewhere, so this is the same level, without it.
            let dc = 64.0 * (f32::from(first) - 128.0) * self.divisors[0];
            out.fill(0);
            out[0] = level(dc, self.rounding[0]) as i16;
            return u64::from(out[0] != 0);
        }
        self.transform_and_quantize(&block, out)
    }

    /// [`quantize`](Self::quantize) of the samples `block[y][x]` through the
    /// transform, whatever they are.
    fn transform_and_quantize(&self, block: &[[u8; 8]; 8], out: &mut [i16; 64]) -> u64 {
        // rows[y][x], centred on zero.
        let rows = block.map(|row| row.map(|p| f32::from(p) - 128.0));
        // Down the columns (eight at once), then along the rows.
        let columns = transpose(&aan_dct(&rows));
        let coefficients = aan_dct(&columns);
        // coefficients[u][v]: horizontal frequency u, vertical v; flat, so
        // that the loop below is one the compiler vectorizes.
        let mut flat = [0f32; 64];
        for (chunk, row) in flat.chunks_exact_mut(8).zip(&coefficients) {
            chunk.copy_from_slice(row);
        }
        let mut levels = [0i32; 64];
        for i in 0..64 {
            levels[i] = level(flat[i] * self.divisors[i], self.rounding[i]);
        }
        let mut nonzero = 0u64;
        for (i, &level) in levels.iter().enumerate() {
            let k = self.zigzag_of[i];
            out[k] = level as i16;
            nonzero |= u64::from(level != 0) << k;
        }
        nonzero
    }
}

/// The level of `x` (a coefficient divided by its step): floor(|x| +
/// `rounding`), with the sign of `x`. That is the integer nearest |x| +
/// `rounding` - 1/2, which adding 1.5 × 2^23 leaves in the float's low
/// mantissa bits (|x| is far below 2^22): bit operations and a select,
/// which the compiler vectorizes, unlike a float-to-integer cast.
#[inline(always)]
fn level(x: f32, rounding: f32) -> i32 {
    const NEAREST: f32 = 12_582_912.0;
    let magnitude =
        ((x.abs() + (rounding - 0.5)) + NEAREST).to_bits() as i32 - NEAREST.to_bits() as i32;
    if x < 0.0 {
        -magnitude
    } else {
        magnitude
    }
}

/// The scaled 8-point DCT (AAN) of eight signals side by side: `d[k][lane]`
/// is sample `k` of signal `lane`; the result's `[k][lane]` is frequency
/// `k` of it, times 8 × scale(k) (see [`Quantizer::new`]) for a 2-D pass.
#[inline(always)]
fn aan_dct(d: &[[f32; 8]; 8]) -> [[f32; 8]; 8] {
    const C4: f32 = std::f32::consts::FRAC_1_SQRT_2; // cos(4π/16)
    const C6_MINUS_C2: f32 = 0.382_683_43; // cos(6π/16)
    const C6_PLUS: f32 = 0.541_196_1; // cos(6π/16) √2
    const C2_PLUS: f32 = 1.306_563; // cos(2π/16) √2
    let mut o = [[0f32; 8]; 8];
    for l in 0..8 {
        let tmp0 = d[0][l] + d[7][l];
        let tmp7 = d[0][l] - d[7][l];
        let tmp1 = d[1][l] + d[6][l];
        let tmp6 = d[1][l] - d[6][l];
        let tmp2 = d[2][l] + d[5][l];
        let tmp5 = d[2][l] - d[5][l];
        let tmp3 = d[3][l] + d[4][l];
        let tmp4 = d[3][l] - d[4][l];
        // Even part.
        let tmp10 = tmp0 + tmp3;
        let tmp13 = tmp0 - tmp3;
        let tmp11 = tmp1 + tmp2;
        let tmp12 = tmp1 - tmp2;
        o[0][l] = tmp10 + tmp11;
        o[4][l] = tmp10 - tmp11;
        let z1 = (tmp12 + tmp13) * C4;
        o[2][l] = tmp13 + z1;
        o[6][l] = tmp13 - z1;
        // Odd part.
        let tmp10 = tmp4 + tmp5;
        let tmp11 = tmp5 + tmp6;
        let tmp12 = tmp6 + tmp7;
        let z5 = (tmp10 - tmp12) * C6_MINUS_C2;
        let z2 = C6_PLUS * tmp10 + z5;
        let z4 = C2_PLUS * tmp12 + z5;
        let z3 = tmp11 * C4;
        let z11 = tmp7 + z3;
        let z13 = tmp7 - z3;
        o[5][l] = z13 + z2;
        o[3][l] = z13 - z2;
        o[1][l] = z11 + z4;
        o[7][l] = z11 - z4;
    }
    o
}

#[inline(always)]
fn transpose(m: &[[f32; 8]; 8]) -> [[f32; 8]; 8] {
    let mut t = [[0f32; 8]; 8];
    for (i, row) in m.iter().enumerate() {
        for (j, &value) in row.iter().enumerate() {
            t[j][i] = value;
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The DCT as JPEG defines it (ITU T.81, A.3.3), in double precision.
    fn reference_dct(block: &[[f64; 8]; 8]) -> [[f64; 8]; 8] {
        let c = |k: usize| {
            if k == 0 {
                std::f64::consts::FRAC_1_SQRT_2
            } else {
                1.0
            }
        };
        let mut out = [[0.0; 8]; 8];
        for (v, row) in out.iter_mut().enumerate() {
            for (u, coefficient) in row.iter_mut().enumerate() {
                let mut sum = 0.0;
                for (y, samples) in block.iter().enumerate() {
                    for (x, &s) in samples.iter().enumerate() {
                        sum += s
                            * ((2 * x + 1) as f64 * u as f64 * std::f64::consts::PI / 16.0).cos()
                            * ((2 * y + 1) as f64 * v as f64 * std::f64::consts::PI / 16.0).cos();
                    }
                }
                *coefficient = c(u) * c(v) * sum / 4.0;
            }
        }
        out
    }

    fn plane_of(block: &[[u8; 8]; 8]) -> Vec<u8> {
        block.iter().flatten().copied().collect()
    }

    #[test]
    fn steps_of_one_give_the_reference_dct_rounded_with_the_dead_zone() {
        let mut seed = 12345u32;
        for _ in 0..50 {
            let mut block = [[0u8; 8]; 8];
            for pixel in block.iter_mut().flatten() {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                *pixel = (seed >> 16) as u8;
            }
            let centred = block.map(|row| row.map(|p| f64::from(p) - 128.0));
            let reference = reference_dct(&centred);
            let mut out = [0i16; 64];
            let nonzero = Quantizer::new(&[1; 64]).quantize(&plane_of(&block), 8, 0, 0, &mut out);
            for (k, level) in out.iter().enumerate() {
                assert_eq!(nonzero >> k & 1 == 1, *level != 0, "mask bit {k}");
            }
            for (k, &natural) in ZIGZAG.iter().enumerate() {
                let exact = reference[natural / 8][natural % 8];
                let rounding = if natural == 0 { 0.5 } else { AC_ROUNDING };
                let expected = (exact.abs() + rounding as f64).floor() * exact.signum();
                // Single precision: a coefficient within 0.01 of a rounding edge may land
                // either side of it.
                let edge = (exact.abs() + rounding as f64).fract();
                if edge > 0.01 && edge < 0.99 {
                    assert_eq!(
                        f64::from(out[k]),
                        expected,
                        "coefficient {natural} of {exact}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_dead_zone_zeroes_ac_below_five_eighths_of_a_step_and_dc_rounds_to_nearest() {
        // A flat block of 128 + 20: DC = 8 × 20 = 160.
        let flat = [[148u8; 8]; 8];
        let mut out = [0i16; 64];
        Quantizer::new(&[100; 64]).quantize(&plane_of(&flat), 8, 0, 0, &mut out);
        assert_eq!(out[0], 2, "160 / 100 rounds to 2");
        assert!(out[1..].iter().all(|&l| l == 0));
        // A horizontal cosine of amplitude a gives coefficient (0, 1) = 4√2 a: with a step
        // of 100, 0.55 steps stays 0 (rounding to nearest would make it 1) and 0.72 becomes 1.
        for (steps, level) in [(0.55f64, 0i16), (0.72, 1)] {
            let amplitude = steps * 100.0 / (4.0 * std::f64::consts::SQRT_2);
            let mut block = [[0u8; 8]; 8];
            for row in block.iter_mut() {
                for (x, pixel) in row.iter_mut().enumerate() {
                    let phase = (2 * x + 1) as f64 * std::f64::consts::PI / 16.0;
                    *pixel = (128.0 + amplitude * phase.cos()).round() as u8;
                }
            }
            let mut out = [0i16; 64];
            Quantizer::new(&[100; 64]).quantize(&plane_of(&block), 8, 0, 0, &mut out);
            assert_eq!(out[1], level, "{steps} steps");
        }
    }

    #[test]
    fn a_flat_block_skips_the_transform_with_the_same_levels() {
        for table in [[1u16; 64], [8; 64], [3; 64], [255; 64]] {
            let q = Quantizer::new(&table);
            for sample in 0..=255u8 {
                let plane = [sample; 64];
                let (mut direct, mut transformed) = ([0i16; 64], [0i16; 64]);
                let a = q.quantize(&plane, 8, 0, 0, &mut direct);
                let b = q.transform_and_quantize(&[[sample; 8]; 8], &mut transformed);
                assert_eq!(
                    (a, direct),
                    (b, transformed),
                    "sample {sample}, step {}",
                    table[0]
                );
            }
        }
    }

    #[test]
    fn the_block_is_read_at_its_place_in_the_plane() {
        let mut plane = vec![128u8; 24 * 16];
        for y in 8..16 {
            plane[y * 24 + 16..y * 24 + 24].fill(200);
        }
        let q = Quantizer::new(&[1; 64]);
        let mut out = [0i16; 64];
        q.quantize(&plane, 24, 16, 8, &mut out);
        assert_eq!(out[0], 8 * 72);
        q.quantize(&plane, 24, 8, 8, &mut out);
        assert_eq!(out[0], 0);
    }
}
