//! `reel record`: write frames to a cache.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use reel::progress::ExportProgress;

use super::progress_driver::run_with_progress;

/// Records `frames` synthetic frames of `width`×`height` to `out`.
pub fn synthetic(
    out: &Path,
    (width, height): (u32, u32),
    frames: u64,
    noise: f32,
    quiet: bool,
) -> Result<u64> {
    let progress = Arc::new(ExportProgress::new());
    progress.set_total(frames);
    let p = Arc::clone(&progress);
    let recorded = run_with_progress("recording", progress, quiet, move || {
        reel::synthetic::record_synthetic(out, width, height, frames, noise, |_| p.frame_done())
    })
    .with_context(|| format!("recording to {}", out.display()))?;
    Ok(recorded)
}
