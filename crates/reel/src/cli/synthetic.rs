//! An animated test scene rendered on the CPU: gradients, moving shapes, noise.
//!
//! Frames come out as OpenGL would return them: RGBA, rows bottom-up.

/// Renders frames of the synthetic scene.
#[derive(Debug, Clone, Copy)]
pub struct Scene {
    width: u32,
    height: u32,
    noise: f32,
}

impl Scene {
    /// A scene of `width`×`height` pixels; `noise` (0 to 1) is the share of
    /// each pixel's value that is random (0.0: smooth, 1.0: pure noise).
    pub fn new(width: u32, height: u32, noise: f32) -> Self {
        Scene {
            width,
            height,
            noise: noise.clamp(0.0, 1.0),
        }
    }

    /// Renders frame `index` into `rgba` (`width * height * 4` bytes, bottom-up).
    ///
    /// # Panics
    ///
    /// If `rgba` has the wrong length.
    pub fn render(&self, index: u64, rgba: &mut [u8]) {
        let (w, h) = (self.width as usize, self.height as usize);
        assert_eq!(rgba.len(), w * h * 4, "frame buffer size");
        let t = index as f32 / 30.0;
        // A disc moving on a Lissajous path and a bar sweeping across.
        let cx = (0.5 + 0.35 * (t * 1.3).sin()) * w as f32;
        let cy = (0.5 + 0.35 * (t * 0.9).cos()) * h as f32;
        let radius = (w.min(h) as f32 * 0.15).max(1.0);
        let bar_x = ((t * 0.25).fract() * w as f32) as usize;
        let bar_w = (w / 16).max(1);
        let keep = 1.0 - self.noise;
        let noise_amp = (self.noise * 256.0) as u32;
        let mut rng = XorShift::new(index.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let shift = (index * 3) as usize;
        for (row_index, row) in rgba.chunks_exact_mut(w * 4).enumerate() {
            // Stored bottom-up: stored row 0 is the image's last row.
            let y = h - 1 - row_index;
            let gy = (y * 255 / h.max(1)) as u8;
            let dy = y as f32 + 0.5 - cy;
            for (x, px) in row.chunks_exact_mut(4).enumerate() {
                let gx = (((x + shift) % w) * 255 / w) as u8;
                let mut rgb = [gx, gy, 255 - gx / 2 - gy / 2];
                let dx = x as f32 + 0.5 - cx;
                if dx * dx + dy * dy < radius * radius {
                    rgb = [250, 200, 40];
                }
                if (bar_x..bar_x + bar_w).contains(&x) {
                    rgb = [30, 30, 30];
                }
                if noise_amp > 0 {
                    let r = rng.next();
                    for (c, v) in rgb.iter_mut().enumerate() {
                        let n = ((r >> (c * 8)) & 0xFF) as u32 * noise_amp / 256;
                        *v = (f32::from(*v) * keep) as u8 + n as u8;
                    }
                }
                px.copy_from_slice(&[rgb[0], rgb[1], rgb[2], 255]);
            }
        }
    }
}

/// Records `frames` frames of the scene with `writer` (a cache of `width`×`height`), as a GL
/// recorder would (bottom-up RGBA), calling `on_frame` after each one. Returns the number of
/// frames recorded.
pub fn record_synthetic(
    mut writer: reel::CacheWriter,
    width: u32,
    height: u32,
    frames: u64,
    noise: f32,
    mut on_frame: impl FnMut(u64),
) -> Result<u64, reel::CacheError> {
    let scene = Scene::new(width, height, noise);
    for index in 0..frames {
        writer.append_with(|pixels| scene.render(index, pixels))?;
        on_frame(index);
    }
    writer.finish()
}

/// A tiny deterministic generator (xorshift64): same scene every run.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        XorShift(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pixel_is_opaque() {
        let scene = Scene::new(64, 36, 0.1);
        let mut frame = vec![0u8; 64 * 36 * 4];
        scene.render(0, &mut frame);
        assert!(frame.chunks(4).all(|px| px[3] == 255));
    }

    #[test]
    fn frames_are_deterministic_and_change_over_time() {
        let scene = Scene::new(40, 30, 0.2);
        let (mut a, mut b, mut c) = (vec![0; 4800], vec![0; 4800], vec![0; 4800]);
        scene.render(5, &mut a);
        scene.render(5, &mut b);
        scene.render(6, &mut c);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn smooth_scene_is_stored_bottom_up_with_green_growing_downward() {
        // Green is the vertical gradient: 0 at the top of the image, high
        // at the bottom; the first stored row is the bottom one. Column 15
        // is clear of the disc and the bar in frame 0.
        let scene = Scene::new(16, 64, 0.0);
        let mut f = vec![0; 16 * 64 * 4];
        scene.render(0, &mut f);
        let first_stored_row_green = f[15 * 4 + 1];
        let last_stored_row_green = f[(63 * 16 + 15) * 4 + 1];
        assert!(first_stored_row_green > last_stored_row_green);
    }
}
