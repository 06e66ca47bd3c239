//! Parallel, in-order, bounded-memory frame encoding.
//!
//! ```text
//!   export thread                workers (N)               sink thread
//!   ImageSource::next_image ──►  FrameStage::process  ──►  reorder ──► OrderedSink::write
//!        ▲  (one pool per frame)                                     │
//!        └────────────────── window tokens (one per frame in flight) ◄┘
//! ```
//!
//! The export thread takes a token before reading each frame and the sink
//! gives it back after writing one, so at most `window` frames exist at
//! once, whatever the frame count. A frame whose pixels a worker finds
//! damaged as it reads them ([`CacheError::FrameChecksum`]) is skipped by
//! the sink and handed back to the source as lost
//! ([`ImageSource::frame_lost`]) before the source ends, so the export
//! reports it with the rest of the input's damage and goes on.

use std::collections::BTreeMap;
use std::sync::mpsc::{channel, sync_channel, Receiver};
use std::sync::Mutex;

use autorelease::{autoreleasepool, AutoreleasePool, Obj};

use crate::error::{CacheError, ExportError};
use crate::progress::Progress;
use crate::source::{Image, ImageSource, SourceEnd, SourceInfo};
use crate::stage::{FrameStage, OrderedSink};

/// How image autoreleases are scoped on the export thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolMode {
    /// One autorelease pool per frame: memory stays flat (the fix).
    PerFrame,
    /// One pool around the whole export: every image stays alive until the
    /// end (the classic bug, kept to demonstrate it).
    Single,
}

/// Threads, window and pool scoping of a pipeline run.
#[derive(Debug, Clone, Copy)]
pub struct PipelineConfig {
    /// Worker threads encoding frames (the parallel stage).
    pub threads: usize,
    /// Frames in flight at most (read but not yet written). [`export`](super::export)
    /// adds one for PNG sequences and sizes its own for x264.
    pub window: usize,
    /// Autorelease pool scoping.
    pub pool_mode: PoolMode,
    /// With [`PoolMode::Single`]: the pool size at which the runtime warns.
    pub growth_warning: usize,
}

impl PipelineConfig {
    /// `threads` workers (at least 1) and a window of one frame more: enough
    /// to keep every worker busy while the sink writes a movie sample. (PNG
    /// sequences get one frame more from [`export`](super::export): their
    /// writes take uneven time.)
    pub fn with_threads(threads: usize) -> Self {
        let threads = threads.max(1);
        PipelineConfig {
            threads,
            window: threads + 1,
            pool_mode: PoolMode::PerFrame,
            growth_warning: 64,
        }
    }
}

/// The result of a pipeline run that did not fail.
#[derive(Debug, Clone)]
pub struct PipelineOutcome {
    /// What the source said at begin.
    pub info: SourceInfo,
    /// What the source said at end.
    pub source_end: SourceEnd,
    /// Frames written by the sink (0..written, in order).
    pub written: u64,
    /// Whether the run stopped early because an abort was requested.
    pub aborted: bool,
    /// The most objects waiting in this thread's autorelease pools at once.
    pub pool_high_water: usize,
}

/// A failed run: the error, and how many frames were completely written before it.
#[derive(Debug)]
pub struct PipelineFailure {
    /// What went wrong.
    pub error: ExportError,
    /// Frames completely written (0..written) before the failure.
    pub written: u64,
}

/// Runs `source` through `threads` stages (made by `make_stage`) into `sink`.
///
/// Stops early, after the frames in flight, when `progress` asks to abort.
/// Returns the sink so the caller can finish or discard its output.
pub fn run_pipeline<Src, Stage, Sink>(
    source: &mut Src,
    make_stage: impl Fn() -> Result<Stage, ExportError>,
    sink: Sink,
    config: PipelineConfig,
    progress: &Progress,
) -> (Sink, Result<PipelineOutcome, PipelineFailure>)
where
    Src: ImageSource,
    Stage: FrameStage,
    Sink: OrderedSink<Input = Stage::Output>,
{
    let info = match source.begin() {
        Ok(info) => info,
        Err(error) => return (sink, Err(PipelineFailure { error, written: 0 })),
    };
    progress.set_total(info.expected_frames);
    let stages: Result<Vec<Stage>, ExportError> =
        (0..config.threads).map(|_| make_stage()).collect();
    let stages = match stages {
        Ok(s) => s,
        Err(error) => return (sink, Err(PipelineFailure { error, written: 0 })),
    };
    let window = config.window.max(1);

    autorelease::reset_high_water();
    let (job_tx, job_rx) = sync_channel::<Obj<Image>>(window);
    let job_rx = Mutex::new(job_rx);
    // The sink waits here until its thread takes it, so a thread that cannot be started
    // leaves it with us to hand back.
    let sink_slot = Mutex::new(Some(sink));
    std::thread::scope(|scope| {
        let (result_tx, result_rx) = channel::<(u64, u64, Result<Stage::Output, ExportError>)>();
        let (token_tx, token_rx) = sync_channel::<()>(window);
        for _ in 0..window {
            token_tx.send(()).expect("receiver alive");
        }
        let slot = &sink_slot;
        let sink_thread = std::thread::Builder::new()
            .name("reel-sink".into())
            .spawn_scoped(scope, move || {
                let sink = take(slot).expect("the sink is taken once");
                sink_loop(sink, result_rx, token_tx, progress)
            });
        let sink_thread = match sink_thread {
            Ok(thread) => thread,
            Err(e) => {
                let sink = take(slot).expect("the sink thread never started");
                return (sink, Err(spawn_failure(e)));
            }
        };

        let mut spawn_error = None;
        for mut stage in stages {
            let job_rx = &job_rx;
            let result_tx = result_tx.clone();
            let worker = std::thread::Builder::new()
                .name("reel-encoder".into())
                .spawn_scoped(scope, move || loop {
                    let job = job_rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    let Ok(image) = job else { break };
                    let out = stage.process(&image);
                    let (index, frame) = (image.index(), image.frame());
                    drop(image);
                    if result_tx.send((index, frame, out)).is_err() {
                        break;
                    }
                });
            if let Err(e) = worker {
                spawn_error = Some(e);
                break;
            }
        }
        drop(result_tx);
        if let Some(e) = spawn_error {
            // The workers that did start end with the job channel; the sink with theirs.
            drop(job_tx);
            drop(token_rx);
            let (sink, _) = sink_thread.join().expect("sink thread panicked");
            return (sink, Err(spawn_failure(e)));
        }

        let produced = produce(source, &job_tx, &token_rx, config, progress);
        drop(job_tx);
        drop(token_rx);
        let pool_high_water = autorelease::stats().high_water_pending;
        let (sink, sunk) = sink_thread.join().expect("sink thread panicked");

        let result = match (produced, sunk) {
            (_, Err(failure)) => Err(failure),
            (Err(error), Ok(sunk)) => Err(PipelineFailure {
                error,
                written: sunk.written,
            }),
            (Ok(aborted), Ok(Sunk { written, lost })) => {
                for frame in lost {
                    source.frame_lost(frame);
                }
                match source.end() {
                    Ok(source_end) => Ok(PipelineOutcome {
                        info,
                        source_end,
                        written,
                        aborted,
                        pool_high_water,
                    }),
                    Err(error) => Err(PipelineFailure { error, written }),
                }
            }
        };
        (sink, result)
    })
}

fn take<T>(slot: &Mutex<Option<T>>) -> Option<T> {
    slot.lock().unwrap_or_else(|e| e.into_inner()).take()
}

fn spawn_failure(error: std::io::Error) -> PipelineFailure {
    PipelineFailure {
        error: ExportError::ThreadSpawn(error),
        written: 0,
    }
}

/// Feeds images to the workers; returns whether it stopped for an abort.
fn produce<Src: ImageSource>(
    source: &mut Src,
    jobs: &std::sync::mpsc::SyncSender<Obj<Image>>,
    tokens: &Receiver<()>,
    config: PipelineConfig,
    progress: &Progress,
) -> Result<bool, ExportError> {
    // One step: wait for room, read one image, hand it on. Ok(None) = stop.
    let mut step = |pool: AutoreleasePool<'_>| -> Result<Option<bool>, ExportError> {
        if progress.abort_requested() {
            return Ok(Some(true));
        }
        if tokens.recv().is_err() {
            return Ok(Some(false)); // the sink stopped (failed); it reports why
        }
        match source.next_image(pool)? {
            None => Ok(Some(false)),
            Some(image) => Ok(jobs.send(image).err().map(|_| false)),
        }
    };
    match config.pool_mode {
        PoolMode::PerFrame => loop {
            if let Some(aborted) = autoreleasepool(&mut step)? {
                return Ok(aborted);
            }
        },
        PoolMode::Single => {
            autorelease::set_growth_warning(Some(config.growth_warning));
            let result = autoreleasepool(|pool| loop {
                match step(pool) {
                    Ok(Some(aborted)) => break Ok(aborted),
                    Ok(None) => {}
                    Err(e) => break Err(e),
                }
            });
            autorelease::set_growth_warning(None);
            result
        }
    }
}

/// What the sink thread did in a run that did not fail.
struct Sunk {
    /// Frames written.
    written: u64,
    /// Recorded numbers of the frames found damaged when their pixels were read, and so not
    /// written, in order.
    lost: Vec<u64>,
}

/// Writes results in index order, each under its recorded frame number, skipping frames whose
/// pixels turned out damaged; returns the sink and what it did.
fn sink_loop<Sink: OrderedSink>(
    mut sink: Sink,
    results: Receiver<(u64, u64, Result<Sink::Input, ExportError>)>,
    tokens: std::sync::mpsc::SyncSender<()>,
    progress: &Progress,
) -> (Sink, Result<Sunk, PipelineFailure>) {
    let mut pending = BTreeMap::new();
    let mut next = 0u64;
    let mut sunk = Sunk {
        written: 0,
        lost: Vec::new(),
    };
    for (index, frame, result) in results {
        pending.insert(index, (frame, result));
        while let Some((frame, result)) = pending.remove(&next) {
            match result.and_then(|item| sink.write(frame, item)) {
                Ok(()) => {
                    sunk.written += 1;
                    progress.frame_done();
                }
                // Damage found as the frame was read loses that frame, as damage found by
                // the source would have; the export goes on.
                Err(ExportError::Input(CacheError::FrameChecksum { .. })) => sunk.lost.push(frame),
                Err(error) => {
                    // Dropping `tokens` (on return) tells the producer to stop;
                    // dropping `results` makes the workers stop.
                    let written = sunk.written;
                    return (sink, Err(PipelineFailure { error, written }));
                }
            }
            next += 1;
            let _ = tokens.send(());
        }
    }
    (sink, Ok(sunk))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    use super::*;

    /// Gives `n` tiny images, counting how many it has produced.
    struct CountingSource {
        n: u64,
        produced: Arc<AtomicU64>,
        fail_at: Option<u64>,
        lost: Vec<u64>,
    }

    impl ImageSource for CountingSource {
        fn begin(&mut self) -> Result<SourceInfo, ExportError> {
            Ok(SourceInfo {
                width: 2,
                height: 1,
                expected_frames: self.n,
            })
        }
        fn next_image(
            &mut self,
            pool: AutoreleasePool<'_>,
        ) -> Result<Option<Obj<Image>>, ExportError> {
            let i = self.produced.load(Ordering::SeqCst);
            if Some(i) == self.fail_at {
                return Err(ExportError::Io {
                    path: format!("source broke at {i}").into(),
                    source: std::io::Error::other("read failed"),
                });
            }
            if i == self.n {
                return Ok(None);
            }
            self.produced.fetch_add(1, Ordering::SeqCst);
            let image = Obj::new(Image::new(i, 2, 1, vec![i as u8; 6]));
            let _: &Image = image.clone().autorelease(pool);
            Ok(Some(image))
        }
        fn frame_lost(&mut self, frame: u64) {
            self.lost.push(frame);
        }
        fn end(&mut self) -> Result<SourceEnd, ExportError> {
            Ok(SourceEnd {
                frames: self.produced.load(Ordering::SeqCst),
                end_frame: self.produced.load(Ordering::SeqCst),
                damage: None,
            })
        }
    }

    /// Slower for even frames so results arrive out of order.
    struct UnevenStage;
    impl FrameStage for UnevenStage {
        type Output = u8;
        fn process(&mut self, image: &Image) -> Result<u8, ExportError> {
            if image.index().is_multiple_of(2) {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }

            let mut row = vec![0; image.rgb_row_len()];
            image
                .upright_rgb_row(0, &mut row, &mut crate::source::RowBuffer::new())
                .unwrap();
            Ok(row[0])
        }
    }

    /// [`UnevenStage`], whose frames 3 and 4 "fail their checksum" as they are read.
    struct DamagingStage;
    impl FrameStage for DamagingStage {
        type Output = u8;
        fn process(&mut self, image: &Image) -> Result<u8, ExportError> {
            if (3..5).contains(&image.frame()) {
                return Err(ExportError::Input(CacheError::FrameChecksum {
                    path: "c.reel".into(),
                    frame: image.frame(),
                    offset: 0,
                }));
            }
            UnevenStage.process(image)
        }
    }

    /// Records what it is given and the most frames in flight it saw.
    struct RecordingSink {
        seen: Vec<(u64, u8)>,
        produced: Arc<AtomicU64>,
        max_in_flight: u64,
        abort_at: Option<(u64, Arc<Progress>)>,
        fail_at: Option<u64>,
    }
    impl OrderedSink for RecordingSink {
        type Input = u8;
        fn write(&mut self, index: u64, item: u8) -> Result<(), ExportError> {
            if Some(index) == self.fail_at {
                return Err(ExportError::Io {
                    path: "out".into(),
                    source: std::io::Error::other("disk said no"),
                });
            }
            let in_flight = self.produced.load(Ordering::SeqCst) - index;
            self.max_in_flight = self.max_in_flight.max(in_flight);
            self.seen.push((index, item));
            if let Some((at, progress)) = &self.abort_at {
                if index == *at {
                    progress.request_abort();
                }
            }
            Ok(())
        }
    }

    fn setup(n: u64) -> (CountingSource, RecordingSink) {
        let produced = Arc::new(AtomicU64::new(0));
        (
            CountingSource {
                n,
                produced: Arc::clone(&produced),
                fail_at: None,
                lost: Vec::new(),
            },
            RecordingSink {
                seen: Vec::new(),
                produced,
                max_in_flight: 0,
                abort_at: None,
                fail_at: None,
            },
        )
    }

    #[test]
    fn frames_are_written_in_order_with_at_most_window_in_flight() {
        let (mut source, sink) = setup(40);
        let progress = Progress::new();
        let config = PipelineConfig::with_threads(3);
        let (sink, result) = run_pipeline(&mut source, || Ok(UnevenStage), sink, config, &progress);
        let outcome = result.unwrap();
        assert_eq!((outcome.written, outcome.aborted), (40, false));
        assert_eq!(outcome.pool_high_water, 1, "one image per per-frame pool");
        let expected: Vec<(u64, u8)> = (0..40).map(|i| (i, i as u8)).collect();
        assert_eq!(sink.seen, expected);
        assert!(
            sink.max_in_flight as usize <= config.window,
            "{}",
            sink.max_in_flight
        );
        assert_eq!(progress.done(), 40);
        assert_eq!(progress.total(), 40);
    }

    #[test]
    fn abort_stops_after_the_frames_in_flight_and_keeps_them_in_order() {
        let (mut source, mut sink) = setup(1000);
        let progress = Arc::new(Progress::new());
        sink.abort_at = Some((5, Arc::clone(&progress)));
        let config = PipelineConfig::with_threads(2);
        let (sink, result) = run_pipeline(&mut source, || Ok(UnevenStage), sink, config, &progress);
        let outcome = result.unwrap();
        assert!(outcome.aborted);
        let written = outcome.written;
        assert!(
            (6..=6 + config.window as u64).contains(&written),
            "{written}"
        );
        assert_eq!(sink.seen.len() as u64, written);
        assert!(sink
            .seen
            .iter()
            .enumerate()
            .all(|(i, &(idx, _))| idx == i as u64));
    }

    #[test]
    fn sink_failure_reports_frames_written_before_it() {
        let (mut source, mut sink) = setup(100);
        sink.fail_at = Some(7);
        let progress = Progress::new();
        let (_, result) = run_pipeline(
            &mut source,
            || Ok(UnevenStage),
            sink,
            PipelineConfig::with_threads(2),
            &progress,
        );
        let failure = result.unwrap_err();
        assert_eq!(failure.written, 7);
        assert!(failure.error.to_string().contains("disk said no"));
    }

    #[test]
    fn source_failure_reports_frames_written_before_it() {
        let (mut source, sink) = setup(100);
        source.fail_at = Some(9);
        let progress = Progress::new();
        let (sink, result) = run_pipeline(
            &mut source,
            || Ok(UnevenStage),
            sink,
            PipelineConfig::with_threads(2),
            &progress,
        );
        let failure = result.unwrap_err();
        assert_eq!(failure.written, 9);
        assert_eq!(sink.seen.len(), 9);
        assert!(failure.error.to_string().contains("source broke at 9"));
    }

    #[test]
    fn single_pool_mode_keeps_every_image_until_the_end() {
        let (mut source, sink) = setup(50);
        let progress = Progress::new();
        let mut config = PipelineConfig::with_threads(2);
        config.pool_mode = PoolMode::Single;
        config.growth_warning = 1000;
        let (_, result) = run_pipeline(&mut source, || Ok(UnevenStage), sink, config, &progress);
        assert_eq!(result.unwrap().pool_high_water, 50);
    }

    #[test]
    fn frames_found_damaged_by_the_workers_are_skipped_and_reported_lost_to_the_source() {
        let (mut source, sink) = setup(8);
        let progress = Progress::new();
        let (sink, result) = run_pipeline(
            &mut source,
            || Ok(DamagingStage),
            sink,
            PipelineConfig::with_threads(2),
            &progress,
        );
        let outcome = result.unwrap();
        assert_eq!(outcome.written, 6);
        let frames: Vec<u64> = sink.seen.iter().map(|(f, _)| *f).collect();
        assert_eq!(frames, [0, 1, 2, 5, 6, 7]);
        assert_eq!(source.lost, [3, 4]);
        assert_eq!(progress.done(), 6);
    }
}
