//! The library as a user sees it: a background export with progress, abort
//! and a typed result, and errors a caller can match on.

mod common;

use std::path::Path;

use common::{expected_names, file_names, write_cache};
use reel::{
    Damage, ExportError, ExportJob, ExportTarget, FilePattern, FrameInput, H264Backend, Kept,
    MovieCodec, PipelineConfig, SizeLimit,
};

fn png_target(dir: &Path) -> ExportTarget {
    ExportTarget::PngSequence {
        dir: dir.to_path_buf(),
        pattern: FilePattern::parse("image-%04d.png").unwrap(),
        start_number: None,
        compression: reel::PngCompression::default(),
        overwrite: false,
    }
}

#[test]
fn a_job_runs_in_the_background_and_its_progress_reaches_the_frames_written() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, 32, 16, 12);
    let out = dir.path().join("png");
    let input = FrameInput::open(&cache, None).unwrap();
    let job = ExportJob::start(input, png_target(&out), PipelineConfig::with_threads(2)).unwrap();
    // Polled from another thread, as a UI would.
    let progress = std::sync::Arc::clone(job.progress());
    let poller = std::thread::spawn(move || {
        while !progress.is_finished() {
            std::thread::yield_now();
        }
        (progress.done(), progress.total())
    });
    let report = job.wait().unwrap();
    assert_eq!(poller.join().unwrap(), (12, 12));
    assert_eq!((report.written, report.aborted), (12, false));
    assert_eq!(
        report.kept,
        Kept::PngFiles {
            count: 12,
            dir: out.clone()
        }
    );
    assert_eq!(file_names(&out), expected_names(12));
}

#[test]
fn an_aborted_job_reports_aborted_and_keeps_only_whole_files() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, 32, 16, 40);
    let out = dir.path().join("png");
    let input = FrameInput::open(&cache, None).unwrap();
    let job = ExportJob::start(input, png_target(&out), PipelineConfig::with_threads(2)).unwrap();
    job.abort();
    let report = job.wait().unwrap();
    assert!(report.aborted);
    assert!(report.written < 40, "{}", report.written);
    // No temporary file is left; the names are contiguous from 0.
    assert_eq!(file_names(&out), expected_names(report.written));
}

#[test]
fn an_odd_size_h264_export_fails_with_invalid_size_naming_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, 33, 18, 2);
    let movie = dir.path().join("out.mov");
    let target = ExportTarget::Movie {
        path: movie.clone(),
        codec: MovieCodec::H264 {
            encoder: H264Backend::OpenH264,
        },
        rate: reel::FrameRate::integer(30).unwrap(),
        overwrite: false,
    };
    let input = FrameInput::open(&cache, None).unwrap();
    let failure = ExportJob::start(input, target, PipelineConfig::with_threads(2))
        .unwrap()
        .wait()
        .unwrap_err();
    assert!(
        matches!(
            failure.error,
            ExportError::InvalidSize {
                limit: SizeLimit::EvenFor420,
                width: 33,
                height: 18
            }
        ),
        "{failure:?}"
    );
    assert_eq!((failure.written, failure.kept), (0, Kept::Nothing));
    assert!(!movie.exists());
}

#[test]
fn a_cache_torn_inside_its_first_frame_fails_with_nothing_to_export_and_the_damage() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, 32, 16, 1);
    // Cut the only frame short: the header stays, the frame is torn.
    let len = std::fs::metadata(&cache).unwrap().len();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&cache)
        .unwrap();
    file.set_len(len - 100).unwrap();
    let movie = dir.path().join("out.mov");
    let target = ExportTarget::Movie {
        path: movie.clone(),
        codec: MovieCodec::Png,
        rate: reel::FrameRate::integer(30).unwrap(),
        overwrite: false,
    };
    let input = FrameInput::open(&cache, None).unwrap();
    let failure = ExportJob::start(input, target, PipelineConfig::with_threads(1))
        .unwrap()
        .wait()
        .unwrap_err();
    match &failure.error {
        ExportError::NothingToExport {
            damage: Some(Damage::Cache(cache)),
        } if cache.recovered == 0 => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(
        failure.kept,
        Kept::NoMovie {
            path: movie.clone()
        }
    );
    assert!(!movie.exists());
}

#[test]
fn a_raw_file_cut_during_a_png_export_fails_on_the_lost_frame_and_keeps_the_whole_files_before_it()
{
    // Frames of a raw file are read by the encoder threads as they encode them: a file that
    // loses its end after it was opened fails as an input error naming the frame, not as an
    // error writing the output, and keeps the files of the frames before it.
    let (w, h) = (32u32, 16u32);
    let frame_len = (w * h * 4) as u64;
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("frames.raw");
    std::fs::write(&raw, vec![90u8; (frame_len * 6) as usize]).unwrap();
    let input = FrameInput::open(&raw, Some((w, h))).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&raw)
        .unwrap()
        .set_len(frame_len * 3 + 100)
        .unwrap();
    let out = dir.path().join("png");
    let failure = ExportJob::start(input, png_target(&out), PipelineConfig::with_threads(2))
        .unwrap()
        .wait()
        .unwrap_err();
    match &failure.error {
        ExportError::Input(reel::CacheError::FrameRead { path, frame, .. }) => {
            assert_eq!((path.as_path(), *frame), (raw.as_path(), 3));
        }
        other => panic!("expected a frame read error, got {other:?}"),
    }
    assert!(failure.to_string().contains("shrank"), "{failure}");
    assert_eq!(failure.written, 3);
    assert_eq!(file_names(&out), expected_names(3));
}
