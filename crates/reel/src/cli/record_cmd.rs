//! `reel record`: write frames to a cache.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use glcapture::{CaptureMode, DemoStats, GlError};
use reel::cache::{CacheWriter, FrameLayout, RowOrder};
use reel::Progress;

use super::progress_driver::run_with_progress;

/// Records `frames` synthetic frames of `width`×`height` to `out`.
pub fn synthetic(
    out: &Path,
    (width, height): (u32, u32),
    frames: u64,
    noise: f32,
    quiet: bool,
) -> Result<u64> {
    let progress = Arc::new(Progress::new());
    progress.set_total(frames);
    let p = Arc::clone(&progress);
    let recorded = run_with_progress("recording", progress, quiet, move || {
        super::synthetic::record_synthetic(out, width, height, frames, noise, |_| p.frame_done())
    })
    .with_context(|| format!("recording to {}", out.display()))?;
    Ok(recorded)
}

/// Records `frames` frames of the OpenGL demo scene (headless EGL) to `out`, captured with
/// `mode`. Returns `Err` with a [`GlError`] inside when OpenGL cannot be used here; the cache
/// file is removed then, so nothing that looks like a recording is left behind.
pub fn gl(
    out: &Path,
    (width, height): (u32, u32),
    frames: u64,
    mode: CaptureMode,
    quiet: bool,
) -> Result<(u64, DemoStats)> {
    let layout = FrameLayout::rgba(width, height, RowOrder::BottomUp)?;
    let progress = Arc::new(Progress::new());
    progress.set_total(frames);
    let p = Arc::clone(&progress);
    let result = run_with_progress("recording (OpenGL)", progress, quiet, move || {
        let mut writer = CacheWriter::create(out, layout)?;
        let mut sink = |_index: u64, rgba: &[u8]| {
            writer.append(rgba)?;
            p.frame_done();
            Ok::<(), reel::CacheError>(())
        };
        let stats = glcapture::record_demo(frames, width, height, mode, &mut sink)?;
        let recorded = writer.finish()?;
        anyhow::Ok((recorded, stats))
    });
    if let Err(e) = &result {
        if e.downcast_ref::<GlError>()
            .is_some_and(GlError::is_unavailable)
        {
            let _ = std::fs::remove_file(out);
        }
    }
    result.with_context(|| format!("recording OpenGL frames to {}", out.display()))
}

/// Whether `e` says OpenGL is not available on this machine (as opposed to failing).
pub fn is_gl_unavailable(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<GlError>()
            .is_some_and(GlError::is_unavailable)
    })
}
