//! Choosing the H.264 encoder, and x264's movies checked without ffmpeg
//! (reel's own movie index reader): the fallback to OpenH264, clear failures
//! when x264 is asked for but cannot be loaded, delayed frames flushed, odd
//! sizes refused. Tests that need libx264 (or a C compiler) skip with a note
//! when it is missing, and fail instead when `CI` is set.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{export_summary, file_names, reel, skip_or_fail, write_cache, x264_or_skip};
use reel::movie::MovieIndex;

const MISSING_LIBRARY: &str = "/nonexistent/libx264.so.164";

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `reel export CACHE --movie OUT --codec h264 ARGS…` with `REEL_LIBX264`
/// set to `library` (or left as it is).
fn export_h264(cache: &Path, out: &Path, args: &[&str], library: Option<&str>) -> Output {
    let mut cmd = reel();
    cmd.arg("export")
        .arg(cache)
        .arg("--movie")
        .arg(out)
        .args(["--codec", "h264", "-q"])
        .args(args);
    if let Some(library) = library {
        cmd.env("REEL_LIBX264", library);
    }
    cmd.output().unwrap()
}

fn index(mov: &Path) -> MovieIndex {
    MovieIndex::read(&mut std::fs::File::open(mov).unwrap()).unwrap()
}

/// Checks what every H.264 movie must be: `avc1`, the size, `frames`
/// samples each a whole run of length-prefixed NAL units, a keyframe first,
/// and an `avcC` box.
fn check_h264_movie(mov: &Path, w: u16, h: u16, frames: usize) {
    let idx = index(mov);
    assert_eq!(&idx.codec_tag, b"avc1");
    assert_eq!((idx.width, idx.height), (w, h));
    assert_eq!(idx.sample_sizes.len(), frames, "one sample per frame");
    if let Some(sync) = &idx.sync_samples {
        assert_eq!(sync.first(), Some(&1), "the first sample is a keyframe");
    }
    assert_eq!(&idx.extensions[4..8], b"avcC", "avcC box present");
    let data = std::fs::read(mov).unwrap();
    for (&offset, &size) in idx.sample_offsets.iter().zip(&idx.sample_sizes) {
        let sample = &data[offset as usize..offset as usize + size as usize];
        let mut at = 0;
        while at < sample.len() {
            let len = u32::from_be_bytes(sample[at..at + 4].try_into().unwrap()) as usize;
            assert!(len > 0, "empty NAL unit");
            at += 4 + len;
        }
        assert_eq!(at, sample.len(), "NAL lengths tile the sample");
    }
}

#[test]
fn auto_falls_back_to_openh264_with_a_one_line_note_when_libx264_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, 48, 32, 6);
    let mov = dir.path().join("out.mov");
    let o = export_h264(&cache, &mov, &[], Some(MISSING_LIBRARY));
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    let note = err
        .lines()
        .find(|l| l.starts_with("reel: note:"))
        .unwrap_or_else(|| panic!("no note in: {err}"));
    for part in ["OpenH264", MISSING_LIBRARY, "apt-get install libx264-164"] {
        assert!(
            note.contains(part),
            "{part:?} missing from the note: {note}"
        );
    }
    assert_eq!(
        export_summary(&err).h264_encoder.as_deref(),
        Some("openh264")
    );
    check_h264_movie(&mov, 48, 32, 6);
}

#[test]
fn explicit_x264_with_a_missing_library_fails_clearly_and_leaves_no_movie() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, 48, 32, 3);
    let mov = dir.path().join("out.mov");
    let o = export_h264(
        &cache,
        &mov,
        &["--h264-encoder", "x264"],
        Some(MISSING_LIBRARY),
    );
    let err = stderr(&o);
    assert!(!o.status.success(), "{err}");
    for part in [
        "x264",
        MISSING_LIBRARY,
        "No such file",
        "apt-get install libx264-164",
    ] {
        assert!(err.contains(part), "{part:?} missing from: {err}");
    }
    assert_eq!(err.lines().count(), 1, "one clear line: {err}");
    // Nothing that looks like a movie, finished or not.
    assert_eq!(file_names(dir.path()), ["c.reel"]);
}

/// Builds a shared library exporting only `symbol` (a stand-in for another
/// x264 build), or `None` after skipping when there is no C compiler.
fn fake_library(dir: &Path, symbol: &str, test: &str) -> Option<PathBuf> {
    let src = dir.join(format!("{symbol}.c"));
    let lib = dir.join(format!("lib{symbol}.so"));
    std::fs::write(&src, format!("void *{symbol}(void *p) {{ return 0; }}\n")).unwrap();
    match Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&lib)
        .arg(&src)
        .output()
    {
        Ok(o) if o.status.success() => Some(lib),
        Ok(o) => panic!("cc failed: {}", stderr(&o)),
        Err(e) => {
            skip_or_fail(test, &format!("no C compiler (cc): {e}"));
            None
        }
    }
}

#[test]
fn libraries_that_are_not_x264_build_164_are_refused_saying_what_they_are() {
    let test = "libraries_that_are_not_x264_build_164_are_refused_saying_what_they_are";
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, 48, 32, 3);
    let cases = [
        ("x264_encoder_open_165", "x264 build 165"),
        ("not_x264_at_all", "no x264_encoder_open_164"),
    ];
    for (symbol, expected) in cases {
        let Some(lib) = fake_library(dir.path(), symbol, test) else {
            return;
        };
        let mov = dir.path().join(format!("{symbol}.mov"));
        let o = export_h264(
            &cache,
            &mov,
            &["--h264-encoder", "x264"],
            Some(lib.to_str().unwrap()),
        );
        let err = stderr(&o);
        assert!(!o.status.success(), "{err}");
        assert!(err.contains(expected), "{expected:?} missing from: {err}");
        assert!(!mov.exists());
        // Auto uses OpenH264 instead, and says why.
        let o = export_h264(&cache, &mov, &[], Some(lib.to_str().unwrap()));
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stderr(&o).contains(expected), "{}", stderr(&o));
        check_h264_movie(&mov, 48, 32, 3);
    }
}

#[test]
fn x264_flushes_delayed_frames_so_movies_of_1_2_and_7_frames_are_whole() {
    if !x264_or_skip("x264_flushes_delayed_frames_so_movies_of_1_2_and_7_frames_are_whole") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for frames in [1u32, 2, 7] {
        let cache = dir.path().join(format!("c{frames}.reel"));
        write_cache(&cache, 64, 48, frames);
        for threads in ["1", "2", "4"] {
            let mov = dir.path().join(format!("{frames}-{threads}.mov"));
            let o = export_h264(
                &cache,
                &mov,
                &["--h264-encoder", "x264", "--threads", threads],
                None,
            );
            assert!(o.status.success(), "{}", stderr(&o));
            assert_eq!(
                export_summary(&stderr(&o)).h264_encoder.as_deref(),
                Some("x264")
            );
            check_h264_movie(&mov, 64, 48, frames as usize);
        }
    }
}

#[test]
fn x264_rejects_odd_sizes_naming_the_size_and_writes_nothing() {
    if !x264_or_skip("x264_rejects_odd_sizes_naming_the_size_and_writes_nothing") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, 47, 32, 2);
    let o = export_h264(
        &cache,
        &dir.path().join("odd.mov"),
        &["--h264-encoder", "x264"],
        None,
    );
    let err = stderr(&o);
    assert!(!o.status.success());
    assert!(err.contains("47x32") && err.contains("even"), "{err}");
    assert_eq!(file_names(dir.path()), ["c.reel"]);
}
