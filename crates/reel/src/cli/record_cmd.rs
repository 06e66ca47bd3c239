//! `reel record`: write frames to a cache.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use glcapture::{CaptureMode, DemoStats, GlError};
use reel::cache::{CacheWriter, FrameLayout, RowOrder};
use reel::Progress;

use super::progress_driver::run_with_progress;

/// Where a recording goes, and whether an existing file there may be written over.
#[derive(Debug, Clone, Copy)]
pub struct CacheTarget<'a> {
    /// The cache file.
    pub path: &'a Path,
    /// `--overwrite`: replace an existing cache.
    pub overwrite: bool,
}

impl CacheTarget<'_> {
    /// Refuses an existing file unless `--overwrite` was given, before anything is recorded.
    pub fn check(&self) -> Result<()> {
        match std::fs::metadata(self.path) {
            Ok(meta) if !meta.is_file() => Err(reel::CacheError::NotARegularFile {
                path: self.path.to_path_buf(),
            }
            .into()),
            Ok(_) if !self.overwrite => bail!(
                "{} already exists; pass --overwrite to replace it, or choose another -o",
                self.path.display()
            ),
            _ => Ok(()),
        }
    }

    /// The cache writer: a new file, or (with `--overwrite`) the existing one replaced. Refused
    /// when the file appeared since [`check`](Self::check) and `--overwrite` was not given.
    pub fn create(&self, layout: FrameLayout) -> Result<CacheWriter, reel::CacheError> {
        if self.overwrite {
            CacheWriter::replace(self.path, layout)
        } else {
            CacheWriter::create(self.path, layout)
        }
    }
}

/// Records `frames` synthetic frames of `width`×`height` to `out`.
pub fn synthetic(
    out: CacheTarget<'_>,
    (width, height): (u32, u32),
    frames: u64,
    noise: f32,
    quiet: bool,
) -> Result<u64> {
    out.check()?;
    let progress = Arc::new(Progress::new());
    progress.set_total(frames);
    let p = Arc::clone(&progress);
    let recorded = run_with_progress("recording", progress, quiet, move || {
        let writer = out.create(reel::FrameLayout::rgba(width, height, RowOrder::BottomUp)?)?;
        super::synthetic::record_synthetic(writer, width, height, frames, noise, |_| p.frame_done())
    })
    .with_context(|| format!("recording to {}", out.path.display()))?;
    Ok(recorded)
}

/// Records `frames` frames of the OpenGL demo scene (headless EGL) to `out`, captured with
/// `mode`. Returns `Err` with a [`GlError`] inside when OpenGL cannot be used here; the cache
/// file is removed then, so nothing that looks like a recording is left behind.
pub fn gl(
    out: CacheTarget<'_>,
    (width, height): (u32, u32),
    frames: u64,
    mode: CaptureMode,
    quiet: bool,
) -> Result<(u64, DemoStats)> {
    out.check()?;
    let layout = FrameLayout::rgba(width, height, RowOrder::BottomUp)?;
    let progress = Arc::new(Progress::new());
    progress.set_total(frames);
    let p = Arc::clone(&progress);
    let result = run_with_progress("recording (OpenGL)", progress, quiet, move || {
        let mut writer = out.create(layout)?;
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
            let _ = std::fs::remove_file(out.path);
        }
    }
    result.with_context(|| format!("recording OpenGL frames to {}", out.path.display()))
}

/// Whether `e` says OpenGL is not available on this machine (as opposed to failing).
pub fn is_gl_unavailable(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<GlError>()
            .is_some_and(GlError::is_unavailable)
    })
}
