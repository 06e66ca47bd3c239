//! The C API from C: programs in `tests/c/` built against the static library (and the shared
//! one), their outputs read back by ffmpeg, ffprobe and `reel info`, and valgrind's memcheck.

mod support;

use std::path::Path;
use std::process::Command;

#[path = "../../reel/tests/capture/xvfb.rs"]
mod xvfb;

use support::{
    compile, compile_gl, compile_glx, compile_with, library, require, run_passing, texts,
};

const W: u32 = 13;
const H: u32 = 7;

/// The upright RGB of test frame `i` (tests/c/check.h's `pixel_channel`).
fn expected_rgb(i: u32) -> Vec<u8> {
    let mut rgb = Vec::new();
    for y in 0..H {
        for x in 0..W {
            for c in 0..3 {
                rgb.push(((x * 7 + y * 13 + i * 29 + c * 71) & 0xFF) as u8);
            }
        }
    }
    rgb
}

/// Decodes a PNG (or every frame of a movie, one after the other) to RGB with ffmpeg.
fn ffmpeg_rgb(png: &Path) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(png)
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn frames_appended_with_padded_strides_and_either_row_order_come_out_upright_and_exact() {
    if !require("ffmpeg") || !require("ffprobe") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    run_passing(
        &compile("record_then_export"),
        "record_then_export",
        &[dir.path()],
    );
    let png = dir.path().join("png");
    assert_eq!(
        names(&png),
        ["image-0000.png", "image-0001.png", "image-0002.png"]
    );
    for i in 0..3 {
        let rgb = ffmpeg_rgb(&png.join(format!("image-{i:04}.png")));
        assert_eq!(rgb, expected_rgb(i), "frame {i} exact and upright");
    }
    let probe = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
        .args([
            "-show_entries",
            "stream=codec_name,nb_read_frames,r_frame_rate",
            "-of",
            "default=nw=1",
        ])
        .arg(dir.path().join("out.mov"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&probe.stdout);
    assert!(
        text.contains("codec_name=mjpeg") && text.contains("nb_read_frames=3"),
        "{text}"
    );
    assert!(text.contains("r_frame_rate=24/1"), "{text}");
    // No hidden temporary files anywhere.
    assert_eq!(names(dir.path()), ["frames.reel", "out.mov", "png"]);
}

#[test]
fn reel_info_reads_a_cache_written_from_c() {
    let dir = tempfile::tempdir().unwrap();
    run_passing(
        &compile("record_then_export"),
        "record_then_export",
        &[dir.path()],
    );
    // `reel info` is the reel package's binary; run it through cargo's target directory.
    let reel = support::deps_dir().parent().unwrap().join("reel");
    if reel.exists() {
        let info = Command::new(&reel)
            .arg("info")
            .arg(dir.path().join("frames.reel"))
            .output()
            .unwrap();
        let (stdout, stderr) = texts(&info);
        assert_eq!(info.status.code(), Some(0), "{stdout}{stderr}");
        assert!(
            stdout.contains("13x7") && stdout.contains("3 intact"),
            "{stdout}"
        );
    }
    let scan = reel::cache::scan_cache(dir.path().join("frames.reel")).unwrap();
    assert!(scan.is_whole());
    assert_eq!((scan.frames, scan.header.frame_count), (3, Some(3)));
    assert_eq!(
        (scan.header.layout.width, scan.header.layout.height),
        (W, H)
    );
}

#[test]
fn every_refusal_comes_back_as_an_error_value_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    run_passing(&compile("errors"), "errors", &[dir.path()]);
}

#[test]
fn an_aborted_export_reports_1_and_leaves_only_complete_files() {
    let dir = tempfile::tempdir().unwrap();
    run_passing(&compile("abort"), "abort", &[dir.path()]);
    let png = dir.path().join("png");
    let files = names(&png);
    assert!(
        !files.is_empty() && files.len() < 150,
        "stopped early: {} files",
        files.len()
    );
    for (i, name) in files.iter().enumerate() {
        assert_eq!(
            name,
            &format!("image-{i:04}.png"),
            "only complete, numbered files"
        );
        let bytes = std::fs::read(png.join(name)).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut buf).unwrap();
    }
}

#[test]
fn the_header_compiles_as_cxx() {
    run_passing(&compile("cxx_header"), "cxx_header", &[]);
}

#[test]
fn the_shared_library_links_with_the_documented_flags() {
    let so = library("libreel_ffi.so");
    let dir = so.parent().unwrap().to_string_lossy().into_owned();
    let exe = compile_with("errors", &[&format!("-L{dir}"), "-lreel_ffi"]);
    let work = tempfile::tempdir().unwrap();
    let output = Command::new(&exe)
        .arg(work.path())
        .env("LD_LIBRARY_PATH", &dir)
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&output);
    assert!(
        output.status.success() && stdout.contains("errors: ok"),
        "{stdout}{stderr}"
    );
    let ldd = Command::new("ldd")
        .arg(&exe)
        .env("LD_LIBRARY_PATH", &dir)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&ldd.stdout).contains("libreel_ffi.so"));
}

#[test]
fn recording_and_exporting_from_c_is_clean_under_valgrind_memcheck() {
    if !require("valgrind") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for program in ["record_then_export", "errors"] {
        let exe = compile(program);
        let output = Command::new("valgrind")
            .args([
                "-q",
                "--error-exitcode=99",
                "--leak-check=full",
                "--errors-for-leak-kinds=definite",
                "--show-leak-kinds=definite",
            ])
            .arg(&exe)
            .arg(dir.path())
            .output()
            .unwrap();
        let (stdout, stderr) = texts(&output);
        assert!(
            output.status.success() && stdout.contains(&format!("{program}: ok")),
            "{program} under memcheck ({}):\n{stdout}\n{stderr}",
            output.status
        );
        let _ = std::fs::remove_dir_all(dir.path().join("png"));
        let _ = std::fs::remove_file(dir.path().join("out.mov"));
        let _ = std::fs::remove_file(dir.path().join("frames.reel"));
    }
}

/// Checks that `dir` holds `frames` PNGs of 64x48 drawn by tests/c/capture_gl.c or
/// capture_glx.c: frame i in its colour (their `colour`), with a white top-left quadrant.
fn check_quadrant_frames(dir: &Path, frames: usize) {
    let (w, h) = (64u32, 48u32);
    let files = names(dir);
    assert_eq!(files.len(), frames, "{files:?}");
    for (i, name) in files.iter().enumerate() {
        let rgb = ffmpeg_rgb(&dir.join(name));
        let mut expected = Vec::new();
        for y in 0..h {
            for x in 0..w {
                let white = x < w / 2 && y < h / 2;
                for c in 0..3 {
                    let colour = ((i as u32 * 53 + c * 97 + 11) & 0xFF) as u8;
                    expected.push(if white { 255 } else { colour });
                }
            }
        }
        assert!(
            rgb == expected,
            "frame {i} exact and upright (white top-left)"
        );
    }
}

#[test]
fn frames_captured_from_gl_come_out_exact_and_upright_with_the_programs_gl_state_untouched() {
    if !require("ffmpeg") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The program checks the pack state, pixel-pack buffer, read framebuffer and pending errors
    // after every capture, and the error messages (no context, no surface, another size).
    let (stdout, _) = run_passing(&compile_gl("capture_gl"), "capture_gl", &[dir.path()]);
    assert!(stdout.contains("65x48"), "{stdout}");
    // Five frames, and one more after the refused capture without a surface.
    check_quadrant_frames(&dir.path().join("png"), 6);
    let other = reel::cache::scan_cache(dir.path().join("other-size.reel")).unwrap();
    assert_eq!(other.frames, 0, "a refused capture appends nothing");
}

/// The upright RGB of frame `i` drawn by examples/record_and_export.c: its colour, a white bar
/// 16 pixels wide at x = i * 8 % (width - 16), a black band over the top quarter.
fn example_frame(i: u32) -> Vec<u8> {
    let (w, h, bar) = (320u32, 180u32, 16u32);
    let bar_x = i * 8 % (w - bar);
    let mut rgb = Vec::new();
    for y in 0..h {
        for x in 0..w {
            for c in 0..3 {
                rgb.push(if y < h / 4 {
                    0
                } else if (bar_x..bar_x + bar).contains(&x) {
                    255
                } else {
                    ((i * 53 + c * 97 + 11) & 0xFF) as u8
                });
            }
        }
    }
    rgb
}

#[test]
fn the_record_and_export_example_exports_what_it_drew_exact_and_upright_to_pngs_and_a_movie() {
    if !require("ffmpeg") || !require("ffprobe") {
        return;
    }
    let exe = compile_gl("record_and_export");
    let dir = tempfile::tempdir().unwrap();
    let (cache, png, movie) = (
        dir.path().join("frames.reel"),
        dir.path().join("png"),
        dir.path().join("out.mov"),
    );
    let frames = 12u32;
    let count = frames.to_string();
    let output = Command::new(&exe)
        .args([cache.as_os_str(), png.as_os_str(), count.as_ref()])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&output);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("recorded 12 frames of 320x180 from GL") && stdout.contains("exported 12"),
        "{stdout}"
    );
    assert!(stderr.contains("exporting 12/12"), "{stderr}");
    assert!(
        !cache.exists(),
        "the example removes its cache after the export"
    );
    let files = names(&png);
    assert_eq!(files.len(), frames as usize, "{files:?}");
    for (i, name) in files.iter().enumerate() {
        let rgb = ffmpeg_rgb(&png.join(name));
        assert!(rgb == example_frame(i as u32), "PNG {i} exact and upright");
    }

    let output = Command::new(&exe)
        .args([
            cache.as_os_str(),
            movie.as_os_str(),
            count.as_ref(),
            "png".as_ref(),
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&output);
    assert!(output.status.success(), "{stdout}{stderr}");
    let all: Vec<u8> = (0..frames).flat_map(example_frame).collect();
    assert!(
        ffmpeg_rgb(&movie) == all,
        "every movie frame exact and upright"
    );
}

#[test]
fn the_record_and_export_example_refuses_bad_arguments_with_a_message() {
    let exe = compile_gl("record_and_export");
    let dir = tempfile::tempdir().unwrap();
    let usage = Command::new(&exe).output().unwrap();
    assert_eq!(usage.status.code(), Some(2));
    assert!(texts(&usage).1.contains("usage: record_and_export"));
    let cache = dir.path().join("f.reel");
    let missing = dir.path().join("no/such/dir/out.mov");
    let output = Command::new(&exe)
        .args([cache.as_os_str(), missing.as_os_str(), "2".as_ref()])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("record_and_export: "), "{stderr}");
}

#[test]
fn the_record_and_export_example_is_clean_under_valgrind_memcheck() {
    if !require("valgrind") {
        return;
    }
    let exe = compile_gl("record_and_export");
    let dir = tempfile::tempdir().unwrap();
    let suppressions = support::crate_dir().join("tests").join("mesa.supp");
    let output = Command::new("valgrind")
        .args([
            "-q",
            "--error-exitcode=99",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite",
            "--show-leak-kinds=definite",
            // Mesa's noise only (the file says what and why).
            "--keep-debuginfo=yes",
            "--num-callers=40",
        ])
        .arg(format!("--suppressions={}", suppressions.display()))
        .arg(&exe)
        .arg(dir.path().join("frames.reel"))
        .arg(dir.path().join("png"))
        .arg("2")
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&output);
    assert!(
        output.status.success() && stdout.contains("exported 2"),
        "record_and_export under memcheck ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert_eq!(names(&dir.path().join("png")).len(), 2);
}

#[test]
fn frames_captured_from_a_glx_window_sync_or_through_the_ring_come_out_exact_with_gl_state_untouched(
) {
    if !require("ffmpeg") || !require("Xvfb") {
        return;
    }
    let x = xvfb::Xvfb::start();
    let exe = compile_glx("capture_glx");
    // Synchronously (what REEL_READBACK_AUTO picks on llvmpipe), through the ring, and on an
    // OpenGL 3.0 context (no fences), where the ring is refused and AUTO reads synchronously.
    for mode in [None, Some("ring"), Some("no-ring")] {
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new(&exe);
        command
            .arg(dir.path())
            .args(mode)
            .env("DISPLAY", &x.display);
        if mode == Some("no-ring") {
            command.env("MESA_GL_VERSION_OVERRIDE", "3.0");
        }
        let output = command.output().unwrap();
        let (stdout, stderr) = texts(&output);
        assert!(
            output.status.success() && stdout.contains("capture_glx: ok"),
            "{mode:?}: {stdout}{stderr}"
        );
        assert!(stdout.contains("64x49"), "{stdout}");
        check_quadrant_frames(&dir.path().join("png"), 4);
    }
}

#[test]
fn frames_captured_through_a_forced_pbo_ring_come_out_exact_in_order_and_all_stored_at_finish() {
    if !require("ffmpeg") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The program checks the GL state and its pending errors after every call, that each frame
    // is stored one capture later, the refusals (another context, no surface) and the lost
    // frame's message.
    let (stdout, _) = run_passing(
        &compile_gl("capture_gl_ring"),
        "capture_gl_ring",
        &[dir.path()],
    );
    assert!(stdout.contains("exported 11 frames"), "{stdout}");
    check_quadrant_frames(&dir.path().join("png"), 11);
    let ring = reel::cache::scan_cache(dir.path().join("ring.reel")).unwrap();
    assert!(ring.is_whole());
    assert_eq!((ring.frames, ring.header.frame_count), (11, Some(11)));
    let lost = reel::cache::scan_cache(dir.path().join("lost.reel")).unwrap();
    assert!(lost.is_whole(), "finished despite the lost frame");
    assert_eq!((lost.frames, lost.header.frame_count), (1, Some(1)));
}

#[test]
fn capturing_through_the_pbo_ring_is_clean_under_valgrind_memcheck() {
    if !require("valgrind") {
        return;
    }
    let exe = compile_gl("capture_gl_ring");
    let dir = tempfile::tempdir().unwrap();
    let suppressions = support::crate_dir().join("tests").join("mesa.supp");
    let output = Command::new("valgrind")
        .args([
            "-q",
            "--error-exitcode=99",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite",
            "--show-leak-kinds=definite",
            // Mesa's noise only (the file says what and why).
            "--keep-debuginfo=yes",
            "--num-callers=40",
        ])
        .arg(format!("--suppressions={}", suppressions.display()))
        .arg(&exe)
        .arg(dir.path())
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&output);
    assert!(
        output.status.success() && stdout.contains("capture_gl_ring: ok"),
        "capture_gl_ring under memcheck ({}):\n{stdout}\n{stderr}",
        output.status
    );
}

#[test]
fn a_read_gl_refuses_returns_minus_1_naming_the_gl_error_with_the_programs_errors_and_state_kept() {
    if !require("ffmpeg") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // A floating-point pbuffer on a driver without GL_EXT_read_format_bgra: ES 3 refuses the
    // 8-bit RGBA read. Mesa warns that it keeps the extension's functions; only the extension
    // string, which the reader goes by, loses it.
    let output = Command::new(compile_gl("capture_gl_read_error"))
        .arg(dir.path())
        .env("MESA_EXTENSION_OVERRIDE", "-GL_EXT_read_format_bgra")
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&output);
    assert!(
        output.status.success() && stdout.contains("capture_gl_read_error: ok"),
        "{stdout}{stderr}"
    );
    // Both refused reads recorded nothing; the two later frames are there, exact.
    check_quadrant_frames(&dir.path().join("png"), 2);
}
