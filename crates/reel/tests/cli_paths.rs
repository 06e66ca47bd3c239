//! Paths of the `reel` command that only a whole run shows: the default demo end to end, the
//! progress bar on a terminal, `--pattern`, and a recorder killed with SIGKILL.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{file_names, reel, run_reel, skip_or_fail, which, write_cache};
use reel::cache::format::{FRAME_HEADER_LEN, HEADER_LEN};
use reel::cache::CacheReader;

fn ffprobe_frames(movie: &Path) -> (String, u64) {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-count_frames",
            "-show_entries",
            "stream=codec_name,nb_read_frames",
            "-of",
            "default=nw=1",
        ])
        .arg(movie)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "ffprobe: {text}");
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in {text}"))
            .to_string()
    };
    (
        field("codec_name"),
        field("nb_read_frames").parse().unwrap(),
    )
}

#[test]
fn reel_demo_default_path_records_opengl_and_writes_an_h264_movie_ffprobe_reads() {
    if which("ffprobe").is_none() {
        return skip_or_fail("demo default path", "ffprobe is not installed");
    }
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("demo");
    let out = reel()
        .args(["demo", "--seconds", "1", "-q", "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    // The default scene is OpenGL; Mesa's software EGL is installed by scripts/test.sh.
    let gl = stdout.contains("OpenGL scene");
    if !gl {
        skip_or_fail(
            "demo default path",
            &format!("the demo fell back to the CPU scene: {stdout}{stderr}"),
        );
    }
    let movie = out_dir.join("reel-demo.mov");
    let (codec, frames) = ffprobe_frames(&movie);
    assert_eq!((codec.as_str(), frames), ("h264", 30), "1 s at 30 fps");
    assert_eq!(file_names(&out_dir.join("png")).len(), 30);
    assert!(stdout.contains("reel demo summary"), "{stdout}");
    for row in [
        "cache",
        "png sequence",
        "movie h264",
        "peak memory",
        "autorelease high-water",
    ] {
        let line = stdout
            .lines()
            .find(|l| l.trim_start().starts_with(row))
            .unwrap_or_else(|| panic!("no {row} row: {stdout}"));
        assert!(
            line.chars().any(|c| c.is_ascii_digit()),
            "{row} has numbers: {line}"
        );
    }
    let movie_row = stdout.lines().find(|l| l.contains("movie h264")).unwrap();
    assert!(movie_row.contains("30 frames"), "{movie_row}");
    assert!(movie_row.contains("frames/s"), "{movie_row}");
}

#[test]
fn the_progress_bar_is_drawn_on_a_terminal_by_the_run_loop_timer() {
    if which("script").is_none() {
        return skip_or_fail("progress bar", "script (util-linux) is not installed");
    }
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    // Big enough that the export outlasts several 100 ms polls of the progress timer.
    write_cache(&cache, 640, 360, 40);
    let command = format!(
        "{} export {} --png {} --threads 1",
        env!("CARGO_BIN_EXE_reel"),
        cache.display(),
        dir.path().join("png").display()
    );
    // `script` gives reel a pseudo-terminal as stderr, where indicatif draws.
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("TERM", "xterm")
        .env("COLUMNS", "120")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let terminal = String::from_utf8_lossy(&out.stdout);
    let tail: String = {
        let chars: Vec<char> = terminal.chars().collect();
        chars[chars.len().saturating_sub(300)..].iter().collect()
    };
    assert!(out.status.success(), "{tail}");
    // A bar line: label, elapsed time, frames out of the total and the rate, redrawn in place.
    let bar = terminal
        .split("\u{1b}[2K")
        .find(|line| line.starts_with("png [00:00:0") && line.contains("/40 frames"))
        .unwrap_or_else(|| panic!("no progress bar drawn: {tail}"));
    assert!(bar.contains("/s, ETA"), "{bar}");
    assert!(
        terminal.matches("/40 frames").count() >= 2,
        "redrawn as it goes: {tail}"
    );
    assert_eq!(file_names(&dir.path().join("png")).len(), 40);
}

#[test]
fn a_custom_pattern_names_the_png_files() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, 8, 4, 3);
    let png = dir.path().join("png");
    let out = run_reel(&[
        "export",
        cache.to_str().unwrap(),
        "--png",
        png.to_str().unwrap(),
        "--pattern",
        "shot_%03d_final.png",
        "-q",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        file_names(&png),
        [
            "shot_000_final.png",
            "shot_001_final.png",
            "shot_002_final.png"
        ]
    );
    let bad = run_reel(&[
        "export",
        cache.to_str().unwrap(),
        "--png",
        dir.path().join("bad").to_str().unwrap(),
        "--pattern",
        "no-number.png",
        "-q",
    ]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("no-number.png"),
        "names the bad pattern: {err}"
    );
}

#[test]
fn a_recorder_killed_with_sigkill_mid_frame_leaves_every_complete_frame_readable() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("killed.reel");
    let (w, h) = (640u64, 480u64);
    let record_len = FRAME_HEADER_LEN as u64 + w * h * 4;
    let mut child = reel()
        .args([
            "record",
            "--synthetic",
            "--frames",
            "100000",
            "--size",
            "640x480",
            "-q",
            "-o",
        ])
        .arg(&cache)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once a few frames are on disk, at whatever point of a frame it is.
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::metadata(&cache).map_or(0, |m| m.len()) < HEADER_LEN as u64 + 5 * record_len {
        assert!(Instant::now() < deadline, "the recorder wrote nothing");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let len = std::fs::metadata(&cache).unwrap().len();
    let whole_records = (len - HEADER_LEN as u64) / record_len;
    let mut reader = CacheReader::open(&cache).unwrap();
    assert_eq!(reader.header().frame_count, None, "never finished");
    let mut frame = vec![0; reader.layout().frame_len()];
    let mut read = 0;
    while reader.read_frame(&mut frame).unwrap() {
        read += 1;
    }
    assert!(read >= 5);
    assert_eq!(read, whole_records, "every complete record is a frame");
    let info = run_reel(&["info", cache.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(text.contains(&whole_records.to_string()), "{text}");
}
