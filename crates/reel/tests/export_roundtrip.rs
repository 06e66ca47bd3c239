//! Pixel-exact round trips: known frames in, decoded PNGs and png-codec
//! movie samples out, compared with the independently computed upright RGB.

mod common;

use std::fs::File;
use std::path::Path;

use common::{decode_png, expected_names, expected_rgb, file_names, write_cache, write_raw};
use reel::cache::format::{FRAME_HEADER_LEN, HEADER_LEN};
use reel::cache::{FrameInput, FrameLayout, RowOrder};
use reel::movie::MovieIndex;
use reel::H264Backend;
use reel::Progress;
use reel::{export, ExportReport, ExportTarget, FilePattern, MovieCodec, PipelineConfig};

const W: u32 = 34;
const H: u32 = 18;

fn run(input: FrameInput, target: &ExportTarget, threads: usize) -> ExportReport {
    let progress = Progress::new();
    let report = export(
        input,
        target,
        PipelineConfig::with_threads(threads),
        &progress,
    )
    .unwrap();
    assert!(progress.is_finished());
    assert_eq!(progress.done(), report.written);
    report
}

fn png_target(dir: &Path) -> ExportTarget {
    ExportTarget::PngSequence {
        dir: dir.to_path_buf(),
        pattern: FilePattern::parse("image-%04d.png").unwrap(),
        start_number: None,
        compression: reel::PngCompression::default(),
        overwrite: false,
    }
}

fn movie_target(path: &Path, codec: MovieCodec) -> ExportTarget {
    ExportTarget::Movie {
        path: path.to_path_buf(),
        codec,
        rate: reel::FrameRate::integer(30).unwrap(),
        overwrite: false,
    }
}

fn h264_target(path: &Path, encoder: H264Backend) -> ExportTarget {
    movie_target(path, MovieCodec::H264 { encoder })
}

#[test]
fn png_sequence_decodes_to_the_flipped_rgb_of_every_frame_numbered_from_zero() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, W, H, 9);
    for threads in [1, 3] {
        let out = dir.path().join(format!("png{threads}"));
        let report = run(
            FrameInput::open(&cache, None).unwrap(),
            &png_target(&out),
            threads,
        );
        assert_eq!(
            (report.written, report.expected, report.aborted),
            (9, 9, false)
        );
        assert_eq!(
            file_names(&out),
            expected_names(9),
            "only complete files, no temporaries"
        );
        for i in 0..9u32 {
            let (w, h, rgb) =
                decode_png(&std::fs::read(out.join(format!("image-{i:04}.png"))).unwrap());
            assert_eq!((w, h), (W, H));
            assert_eq!(
                rgb,
                expected_rgb(W, H, i),
                "frame {i} with {threads} threads"
            );
        }
    }
}

#[test]
fn raw_input_exports_the_same_pixels_as_a_cache() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("frames.raw");
    write_raw(&raw, W, H, 4);
    let out = dir.path().join("png");
    let report = run(
        FrameInput::open(&raw, Some((W, H))).unwrap(),
        &png_target(&out),
        2,
    );
    assert_eq!(report.written, 4);
    assert_eq!(report.damage, None);
    for i in 0..4u32 {
        let (_, _, rgb) =
            decode_png(&std::fs::read(out.join(format!("image-{i:04}.png"))).unwrap());
        assert_eq!(rgb, expected_rgb(W, H, i));
    }
}

/// Frames of many rows (1024 pixels make 4 KiB rows), converted row by row.
const TALL: (u32, u32) = (1024, 150);

fn check_png_sequence(out: &Path, (w, h): (u32, u32), frames: u32) {
    assert_eq!(file_names(out), expected_names(u64::from(frames)));
    for i in 0..frames {
        let (dw, dh, rgb) =
            decode_png(&std::fs::read(out.join(format!("image-{i:04}.png"))).unwrap());
        assert_eq!((dw, dh), (w, h));
        assert!(rgb == expected_rgb(w, h, i), "frame {i} differs");
    }
}

#[test]
fn tall_frames_come_out_upright_and_exact_from_every_kind_of_input() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, TALL.0, TALL.1, 3);
    let out = dir.path().join("from-cache");
    let report = run(
        FrameInput::open(&cache, None).unwrap(),
        &png_target(&out),
        2,
    );
    assert_eq!((report.written, report.damage), (3, None));
    check_png_sequence(&out, TALL, 3);

    // A cache whose rows are stored top-down needs no flip.
    let top_down = dir.path().join("top-down.reel");
    let layout = FrameLayout::rgba(TALL.0, TALL.1, RowOrder::TopDown).unwrap();
    let mut writer = reel::cache::CacheWriter::create(&top_down, layout).unwrap();
    let row = TALL.0 as usize * 4;
    for i in 0..3 {
        let bottom_up = common::known_frame(TALL.0, TALL.1, i);
        let upright: Vec<u8> = bottom_up
            .chunks_exact(row)
            .rev()
            .flatten()
            .copied()
            .collect();
        writer.append(&upright).unwrap();
    }
    writer.finish().unwrap();
    let out = dir.path().join("from-top-down");
    let report = run(
        FrameInput::open(&top_down, None).unwrap(),
        &png_target(&out),
        2,
    );
    assert_eq!(report.written, 3);
    check_png_sequence(&out, TALL, 3);

    let raw = dir.path().join("frames.raw");
    write_raw(&raw, TALL.0, TALL.1, 3);
    let out = dir.path().join("from-raw");
    let report = run(
        FrameInput::open(&raw, Some(TALL)).unwrap(),
        &png_target(&out),
        2,
    );
    assert_eq!(report.written, 3);
    check_png_sequence(&out, TALL, 3);
}

#[test]
fn a_frame_damaged_after_its_first_chunk_is_dropped_whole() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, TALL.0, TALL.1, 3);
    // Flip one bit in row 100 of frame 1, after the first chunk: rows before
    // it were already converted when the checksum fails.
    let layout = FrameLayout::rgba(TALL.0, TALL.1, RowOrder::BottomUp).unwrap();
    let frame1 = HEADER_LEN as u64 + layout.record_len();
    let mut bytes = std::fs::read(&cache).unwrap();
    bytes[(frame1 as usize) + FRAME_HEADER_LEN + 100 * 4096 + 7] ^= 0x10;
    std::fs::write(&cache, bytes).unwrap();
    let out = dir.path().join("png");
    let report = run(
        FrameInput::open(&cache, None).unwrap(),
        &png_target(&out),
        2,
    );
    // Frame 1 is skipped whole (the rows converted before its checksum failed are dropped);
    // frames 0 and 2 are exported.
    assert_eq!(report.written, 2);
    let damage = report.damage.unwrap().to_string();
    assert!(damage.contains("checksum"), "{damage}");
    assert!(damage.contains("skipped: 1 "), "{damage}");
    assert_eq!(file_names(&out).len(), 2);
    let (_, _, first) = decode_png(&std::fs::read(out.join("image-0000.png")).unwrap());
    assert!(first == expected_rgb(TALL.0, TALL.1, 0));
}

#[test]
fn png_movie_samples_decode_to_the_flipped_rgb_and_index_is_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, W, H, 7);
    let mov = dir.path().join("out.mov");
    let report = run(
        FrameInput::open(&cache, None).unwrap(),
        &movie_target(&mov, MovieCodec::Png),
        2,
    );
    assert_eq!(report.written, 7);
    assert_eq!(report.output_bytes, std::fs::metadata(&mov).unwrap().len());
    assert_eq!(
        file_names(dir.path()),
        ["c.reel", "out.mov"],
        "no temporary left"
    );

    let mut file = File::open(&mov).unwrap();
    let index = MovieIndex::read(&mut file).unwrap();
    assert_eq!(&index.brand, b"qt  ");
    assert_eq!(&index.codec_tag, b"png ");
    assert_eq!((index.width, index.height), (W as u16, H as u16));
    assert_eq!(index.sample_sizes.len(), 7);
    assert_eq!(index.sync_samples, None, "every PNG sample is a keyframe");
    assert!(index
        .sample_durations
        .iter()
        .all(|&d| d * 30 == index.timescale));
    assert!(!index.co64);
    let mut sample = Vec::new();
    for i in 0..7 {
        index.read_sample(&mut file, i, &mut sample).unwrap();
        let (w, h, rgb) = decode_png(&sample);
        assert_eq!((w, h), (W, H));
        assert_eq!(rgb, expected_rgb(W, H, i as u32), "sample {i}");
    }
}

#[test]
fn mjpeg_movie_holds_one_jpeg_per_frame() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, W, H, 5);
    let mov = dir.path().join("out.mov");
    run(
        FrameInput::open(&cache, None).unwrap(),
        &movie_target(&mov, MovieCodec::Mjpeg { quality: 90 }),
        2,
    );
    let mut file = File::open(&mov).unwrap();
    let index = MovieIndex::read(&mut file).unwrap();
    assert_eq!(&index.codec_tag, b"jpeg");
    assert_eq!(index.sample_sizes.len(), 5);
    let mut sample = Vec::new();
    for i in 0..5 {
        index.read_sample(&mut file, i, &mut sample).unwrap();
        assert_eq!(&sample[..2], &[0xFF, 0xD8], "SOI");
        assert_eq!(&sample[sample.len() - 2..], &[0xFF, 0xD9], "EOI");
    }
}

#[test]
fn openh264_movie_has_avcc_config_keyframe_first_and_length_prefixed_samples() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, 64, 48, 70);
    let mov = dir.path().join("out.mov");
    let report = run(
        FrameInput::open(&cache, None).unwrap(),
        &h264_target(&mov, H264Backend::OpenH264),
        2,
    );
    assert_eq!(report.h264_encoder, Some(H264Backend::OpenH264));
    let mut file = File::open(&mov).unwrap();
    let index = MovieIndex::read(&mut file).unwrap();
    assert_eq!(&index.codec_tag, b"avc1");
    assert_eq!(index.sample_sizes.len(), 70);
    assert_eq!(&index.extensions[4..8], b"avcC");
    // Keyframes every 2 seconds at 30 fps: samples 1 and 61.
    assert_eq!(index.sync_samples, Some(vec![1, 61]));
    let mut sample = Vec::new();
    for i in 0..70 {
        index.read_sample(&mut file, i, &mut sample).unwrap();
        let mut at = 0;
        while at < sample.len() {
            at += 4 + u32::from_be_bytes(sample[at..at + 4].try_into().unwrap()) as usize;
        }
        assert_eq!(at, sample.len(), "sample {i} is whole NAL units");
    }
}

#[test]
fn odd_sized_frames_cannot_become_h264_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, 33, 18, 2);
    let mov = dir.path().join("out.mov");
    // OpenH264, and x264 when it is installed (auto).
    for backend in [H264Backend::OpenH264, H264Backend::Auto] {
        let progress = Progress::new();
        let e = export(
            FrameInput::open(&cache, None).unwrap(),
            &h264_target(&mov, backend),
            PipelineConfig::with_threads(1),
            &progress,
        )
        .unwrap_err();
        assert!(e.to_string().contains("33x18"), "{backend}: {e}");
        assert_eq!(e.written, 0);
        assert_eq!(file_names(dir.path()), ["c.reel"]);
    }
}
