//! `reel export`: a background export with a progress bar and Ctrl-C abort.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use reel::cache::{Follow, FrameInput};
use reel::Progress;
use reel::{export, ExportReport, ExportTarget, Kept, PipelineConfig, PoolMode};

use super::interrupt::abort_on_ctrl_c;
use super::progress_driver::run_with_progress;

/// Everything `reel export` needs.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    /// Cache or raw file.
    pub input: PathBuf,
    /// Frame size of a headerless raw input.
    pub raw: Option<(u32, u32)>,
    /// What to write.
    pub target: ExportTarget,
    /// Encoder threads.
    pub threads: usize,
    /// Reproduce the classic one-pool bug.
    pub single_pool: bool,
    /// No progress bar.
    pub quiet: bool,
    /// Only these recorded frames.
    pub range: Option<Range<u64>>,
    /// Follow a cache still being recorded, ending after this long without growth.
    pub follow: Option<Duration>,
}

/// The export stopped because Ctrl-C asked it to.
#[derive(Debug, thiserror::Error)]
#[error("aborted after {written} of {expected} frames; {kept}")]
pub struct Aborted {
    /// Frames written.
    pub written: u64,
    /// Frames expected.
    pub expected: u64,
    /// What was left on disk.
    pub kept: Kept,
}

/// Opens the input (checking the header or the raw size before any output exists), following
/// it or warning about an unfinished cache, and restricted to the range asked for.
fn open_input(req: &ExportRequest, progress: &Arc<Progress>) -> Result<FrameInput> {
    let mut input = match req.follow {
        Some(idle_timeout) => {
            let p = Arc::clone(progress);
            let follow = Follow {
                idle_timeout,
                should_stop: Arc::new(move || p.abort_requested()),
            };
            FrameInput::open_following(&req.input, follow)?
        }
        None => FrameInput::open(&req.input, req.raw)?,
    };
    if let Some(frames) = input.unfinished_frames() {
        eprintln!(
            "reel: warning: {} was not finished (its recorder was killed, or is still writing it): \
             exporting the {frames} frames it holds so far; use --follow to wait for the rest",
            req.input.display()
        );
    }
    if let Some(range) = &req.range {
        input.restrict_to(range.clone())?;
    }
    Ok(input)
}

/// Runs an export and prints its summary.
pub fn run(req: &ExportRequest) -> Result<ExportReport> {
    let progress = Arc::new(Progress::new());
    let input = open_input(req, &progress)?;
    let mut config = PipelineConfig::with_threads(req.threads);
    if req.single_pool {
        config.pool_mode = PoolMode::Single;
        eprintln!(
            "reel: --single-pool: one autorelease pool around the whole export (the classic bug); \
             every frame stays alive until the end"
        );
    }
    let _ctrl_c = abort_on_ctrl_c(Arc::clone(&progress));
    let p = Arc::clone(&progress);
    let target = req.target.clone();
    let label = match &target {
        ExportTarget::PngSequence { .. } => "png",
        ExportTarget::Movie { .. } => "movie",
    };
    let result = run_with_progress(label, progress, req.quiet, move || {
        export(input, &target, config, &p)
    });
    let report = result?;
    if let Some(note) = report.fallback_note() {
        eprintln!("reel: note: {note}");
    }
    if report.stale_removed > 0 {
        eprintln!(
            "reel: removed {} temporary file(s) left by an earlier export that was killed",
            report.stale_removed
        );
    }
    if let Some(damage) = &report.damage {
        eprintln!("reel: warning: {damage}");
    }
    let peak = super::memory::peak_rss_bytes().unwrap_or(0);
    if report.aborted {
        return Err(Aborted {
            written: report.written,
            expected: report.expected,
            kept: report.kept.clone(),
        }
        .into());
    }
    let secs = report.elapsed.as_secs_f64().max(1e-9);
    eprintln!(
        "reel: exported {} frames in {:.2} s ({:.1} frames/s){}; {} ({:.2} MB, {} bytes/frame); \
         peak memory {:.1} MiB; autorelease pool high-water {} objects",
        report.written,
        secs,
        report.written as f64 / secs,
        report
            .h264_encoder
            .map_or(String::new(), |e| format!(" with {e}")),
        report.kept,
        report.output_bytes as f64 / 1e6,
        report.output_bytes / report.written.max(1),
        peak as f64 / (1024.0 * 1024.0),
        report.pool_high_water
    );
    Ok(report)
}
