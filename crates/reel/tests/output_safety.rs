//! Outputs are never clobbered, mixed or stranded, and every bad option is a clear error
//! (issue 15: one test per case found by the probe).

mod common;

use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{file_names, reel, run_reel, skip_or_fail, which, write_cache};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn export(args: &[&str]) -> Output {
    let mut all = vec!["export"];
    all.extend_from_slice(args);
    all.push("-q");
    run_reel(&all)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A cache big enough that an export of it takes a while (noise compresses slowly).
fn slow_cache(path: &Path, frames: u32) {
    common::record_synthetic(path, frames, "320x240", "0.9");
}

fn hidden_leftovers(dir: &Path) -> Vec<String> {
    file_names(dir)
        .into_iter()
        .filter(|n| n.contains("reel-tmp") || n.contains("reel-lock"))
        .collect()
}

fn mkfifo(path: &Path) {
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
}

#[test]
fn a_fifo_given_as_the_movie_is_refused_and_left_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, 16, 8, 3);
    let fifo = dir.path().join("pipe.mov");
    mkfifo(&fifo);
    for extra in [&[][..], &["--overwrite"][..]] {
        let mut args = vec![s(&cache), "--movie", s(&fifo)];
        args.extend_from_slice(extra);
        let o = export(&args);
        assert_eq!(o.status.code(), Some(1));
        assert!(
            stderr(&o).contains("is a FIFO, not a regular file"),
            "{}",
            stderr(&o)
        );
    }
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
    assert_eq!(file_names(dir.path()), ["c.reel", "pipe.mov"]);
}

#[test]
fn a_symlink_given_as_the_movie_is_followed_and_stays_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, 16, 8, 3);
    let real = dir.path().join("real.mov");
    std::fs::write(&real, b"an older movie").unwrap();
    let link = dir.path().join("link.mov");
    std::os::unix::fs::symlink("real.mov", &link).unwrap();
    let o = export(&[s(&cache), "--movie", s(&link)]);
    assert_eq!(o.status.code(), Some(1), "refused without --overwrite");
    assert_eq!(std::fs::read(&real).unwrap(), b"an older movie");
    let o = export(&[s(&cache), "--movie", s(&link), "--overwrite"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(
        std::fs::metadata(&real).unwrap().len() > 100,
        "the target holds the movie"
    );
}

#[test]
fn the_input_is_never_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, 16, 8, 3);
    let before = std::fs::read(&cache).unwrap();
    let o = export(&[s(&cache), "--movie", s(&cache), "--overwrite"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("is the input being exported"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&cache).unwrap(), before);
}

/// Starts `reel export ARGS` in the background.
fn spawn_export(args: &[&str]) -> Child {
    reel()
        .arg("export")
        .args(args)
        .arg("-q")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until `dir` holds a file whose name contains `part`.
fn wait_for_file(dir: &Path, part: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let names = |dir: &Path| {
        if dir.exists() {
            file_names(dir)
        } else {
            Vec::new()
        }
    };
    while !names(dir).iter().any(|n| n.contains(part)) {
        assert!(Instant::now() < deadline, "no {part} in {dir:?}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn a_second_export_into_a_movie_being_written_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    slow_cache(&cache, 200);
    let mov = dir.path().join("m.mov");
    // Staggered: the second starts only once the first is writing.
    let first = spawn_export(&[s(&cache), "--movie", s(&mov), "--threads", "1"]);
    wait_for_file(dir.path(), "reel-tmp");
    let second = run_reel(&["export", s(&cache), "--movie", s(&mov), "-q", "--overwrite"]);
    assert_eq!(second.status.code(), Some(1));
    assert!(
        stderr(&second).contains("another reel export is writing"),
        "{}",
        stderr(&second)
    );
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(hidden_leftovers(dir.path()).is_empty());
    if which("ffprobe").is_some() {
        let probe = Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-count_frames",
                "-show_entries",
                "stream=nb_read_frames",
                "-of",
                "csv=p=0",
            ])
            .arg(&mov)
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&probe.stdout).trim(), "200");
    }
}

#[test]
fn a_second_png_export_into_a_directory_being_written_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    slow_cache(&cache, 200);
    let out = dir.path().join("png");
    let first = spawn_export(&[s(&cache), "--png", s(&out), "--threads", "1"]);
    wait_for_file(&out.clone(), "image-0001.png");
    let second = run_reel(&["export", s(&cache), "--png", s(&out), "-q", "--overwrite"]);
    assert_eq!(second.status.code(), Some(1));
    assert!(
        stderr(&second).contains("another reel export is writing"),
        "{}",
        stderr(&second)
    );
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(
        file_names(&out),
        common::expected_names(200),
        "one whole sequence, nothing mixed"
    );
}

#[test]
fn an_existing_sequence_is_refused_and_with_overwrite_replaced_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.reel");
    let small = dir.path().join("small.reel");
    write_cache(&big, 16, 8, 20);
    write_cache(&small, 16, 8, 10);
    let out = dir.path().join("png");
    assert!(export(&[s(&big), "--png", s(&out)]).status.success());
    std::fs::write(out.join("notes.txt"), b"mine").unwrap();
    let o = export(&[s(&small), "--png", s(&out)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("already holds 20 file(s)"),
        "{}",
        stderr(&o)
    );
    assert_eq!(file_names(&out).len(), 21, "nothing touched");
    let o = export(&[s(&small), "--png", s(&out), "--overwrite"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut expected = common::expected_names(10);
    expected.push("notes.txt".into());
    assert_eq!(
        file_names(&out),
        expected,
        "ten new files, no stale ones, the rest untouched"
    );
}

#[test]
fn an_existing_movie_is_refused_and_with_overwrite_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, 16, 8, 3);
    let mov = dir.path().join("m.mov");
    std::fs::write(&mov, b"keep me").unwrap();
    let o = export(&[s(&cache), "--movie", s(&mov)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("already exists (pass --overwrite"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&mov).unwrap(), b"keep me");
    assert!(export(&[s(&cache), "--movie", s(&mov), "--overwrite"])
        .status
        .success());
    assert!(std::fs::metadata(&mov).unwrap().len() > 100);
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("sh")
        .args(["-c", &format!("kill -{sig} {}", child.id())])
        .status()
        .unwrap();
    assert!(ok.success());
}

#[test]
fn sigterm_sighup_and_a_second_ctrl_c_leave_no_temporary_file() {
    for (signals, code) in [
        (&["TERM"][..], 130),
        (&["HUP"][..], 130),
        (&["INT", "INT"][..], 130),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("c.reel");
        slow_cache(&cache, 300);
        let mov = dir.path().join("m.mov");
        let child = spawn_export(&[s(&cache), "--movie", s(&mov), "--threads", "1"]);
        wait_for_file(dir.path(), "reel-tmp");
        for sig in signals {
            signal(&child, sig);
        }
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(code), "{signals:?}: {}", stderr(&o));
        assert!(
            hidden_leftovers(dir.path()).is_empty(),
            "{signals:?}: {:?}",
            file_names(dir.path())
        );
        assert!(!mov.exists(), "{signals:?}");
    }
}

#[test]
fn temporary_files_of_an_export_killed_with_sigkill_are_removed_by_the_next_one_and_mentioned() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    slow_cache(&cache, 300);
    let mov = dir.path().join("m.mov");
    let mut child = spawn_export(&[s(&cache), "--movie", s(&mov), "--threads", "1"]);
    wait_for_file(dir.path(), "reel-tmp");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !hidden_leftovers(dir.path()).is_empty(),
        "SIGKILL cannot be caught"
    );
    let small = dir.path().join("small.reel");
    write_cache(&small, 16, 8, 3);
    let o = run_reel(&["export", s(&small), "--movie", s(&mov)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("removed 1 temporary file"),
        "{}",
        stderr(&o)
    );
    assert!(hidden_leftovers(dir.path()).is_empty());
}

#[test]
fn threads_beyond_the_cap_are_refused_with_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, 16, 8, 3);
    let o = export(&[
        s(&cache),
        "--movie",
        s(&dir.path().join("m.mov")),
        "--threads",
        "20000",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("1..=64") || stderr(&o).contains("64"),
        "{}",
        stderr(&o)
    );
    assert_eq!(file_names(dir.path()), ["c.reel"]);
}

#[test]
fn a_movie_side_of_32768_is_refused_before_any_output_with_the_limit_named() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("wide.reel");
    write_cache(&cache, 32768, 2, 1);
    let o = export(&[s(&cache), "--movie", s(&dir.path().join("m.mov"))]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("32767 pixels per side"),
        "{}",
        stderr(&o)
    );
    assert_eq!(file_names(dir.path()), ["wide.reel"]);
}

#[test]
fn ntsc_rates_are_written_as_exact_fractions() {
    if which("ffprobe").is_none() {
        return skip_or_fail("ntsc rates", "ffprobe is not installed");
    }
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, 16, 8, 6);
    for fps in ["29.97", "30000/1001"] {
        let mov = dir.path().join("m.mov");
        let o = export(&[s(&cache), "--movie", s(&mov), "--fps", fps, "--overwrite"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let probe = Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "stream=r_frame_rate",
                "-of",
                "csv=p=0",
            ])
            .arg(&mov)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&probe.stdout).trim(),
            "30000/1001",
            "{fps}"
        );
    }
    let o = export(&[
        s(&cache),
        "--movie",
        s(&dir.path().join("x.mov")),
        "--fps",
        "0",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("out of range"), "{}", stderr(&o));
}

#[test]
fn openh264_below_16_pixels_is_refused_before_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("tiny.reel");
    write_cache(&cache, 8, 8, 2);
    let mov = dir.path().join("m.mov");
    let o = export(&[
        s(&cache),
        "--movie",
        s(&mov),
        "--codec",
        "h264",
        "--h264-encoder",
        "openh264",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("16x16 to 3840x2160"), "{}", stderr(&o));
    assert_eq!(file_names(dir.path()), ["tiny.reel"]);
}

#[test]
fn options_that_do_not_apply_to_the_output_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, 16, 8, 2);
    let png = dir.path().join("png");
    for extra in [
        &["--codec", "mjpeg"][..],
        &["--quality", "5"][..],
        &["--fps", "12"][..],
    ] {
        let mut args = vec![s(&cache), "--png", s(&png)];
        args.extend_from_slice(extra);
        let o = export(&args);
        assert_eq!(o.status.code(), Some(1), "{extra:?}");
        assert!(stderr(&o).contains("--movie"), "{extra:?}: {}", stderr(&o));
    }
    let mov = dir.path().join("m.mov");
    let o = export(&[s(&cache), "--movie", s(&mov), "--quality", "5"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("--quality applies to --codec mjpeg"),
        "{}",
        stderr(&o)
    );
    assert!(!png.exists() && !mov.exists());
}

#[test]
fn an_unfinished_cache_exported_without_follow_gets_a_warning_with_its_frame_count() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    let layout = reel::FrameLayout::rgba(16, 8, reel::RowOrder::BottomUp).unwrap();
    let mut w = reel::CacheWriter::create(&cache, layout).unwrap();
    for i in 0..4 {
        w.append(&common::known_frame(16, 8, i)).unwrap();
    }
    drop(w);
    let o = export(&[s(&cache), "--png", s(&dir.path().join("png"))]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("was not finished"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the 4 frames it holds so far; use --follow"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_directory_given_as_the_movie_is_refused_before_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, 16, 8, 2);
    let o = export(&[s(&cache), "--movie", s(dir.path())]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("is a directory"), "{}", stderr(&o));
}

#[test]
fn messages_name_the_users_path_never_a_temporary_name() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, 16, 8, 2);
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o500)).unwrap();
    let mov = locked.join("m.mov");
    let o = export(&[s(&cache), "--movie", s(&mov)]);
    let e = stderr(&o);
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    // As root the directory is writable anyway: then the export simply succeeds.
    if !o.status.success() {
        assert!(e.contains(s(&mov)), "{e}");
        assert!(!e.contains("reel-tmp") && !e.contains("reel-lock"), "{e}");
    }
}

/// `reel record --synthetic` of `frames` 8x8 frames to `out`, with `extra` arguments.
fn record_8x8(out: &Path, frames: u32, extra: &[&str]) -> Output {
    let frames = frames.to_string();
    let mut args = vec![
        "record",
        "--synthetic",
        "--frames",
        &frames,
        "--size",
        "8x8",
        "-q",
        "-o",
        s(out),
    ];
    args.extend_from_slice(extra);
    run_reel(&args)
}

#[test]
fn record_refuses_an_unseekable_output_and_zero_frames_before_recording() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.reel");
    mkfifo(&fifo);
    let o = record_8x8(&fifo, 5, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not a regular file"), "{}", stderr(&o));
    let out = dir.path().join("none.reel");
    let o = record_8x8(&out, 0, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!out.exists());
}

#[test]
fn a_png_movie_whose_samples_could_pass_2_gib_is_refused_before_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("huge.reel");
    // A header-only cache of 30000x30000 frames (3.6 GB each; none is stored).
    let layout = reel::FrameLayout::rgba(30000, 30000, reel::RowOrder::BottomUp).unwrap();
    reel::CacheWriter::create(&cache, layout)
        .unwrap()
        .finish()
        .unwrap();
    let o = export(&[s(&cache), "--movie", s(&dir.path().join("m.mov"))]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("could pass 2 GiB"), "{}", stderr(&o));
    assert_eq!(file_names(dir.path()), ["huge.reel"]);
}

#[test]
fn a_thread_that_cannot_be_started_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, 16, 8, 3);
    let png = dir.path().join("png");
    // Every new thread asks for a 100 TB stack: none can start.
    let o = reel()
        .args(["export", s(&cache), "--png", s(&png), "-q"])
        .env("RUST_MIN_STACK", "100000000000000")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot start an export thread"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    assert!(hidden_leftovers(&png).is_empty());
}

#[test]
fn record_refuses_an_existing_cache_and_with_overwrite_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("kept.reel");
    std::fs::write(&out, b"somebody's file").unwrap();
    let o = record_8x8(&out, 2, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    assert!(stderr(&o).contains("--overwrite"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&out).unwrap(), b"somebody's file");

    let o = record_8x8(&out, 2, &["--overwrite"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let reader = reel::cache::CacheReader::open(&out).unwrap();
    assert_eq!(reader.expected_frames(), 2);
}

#[test]
fn a_cache_writer_never_writes_over_an_existing_file_unless_asked_to_replace_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("taken.reel");
    std::fs::write(&path, b"taken").unwrap();
    let layout = reel::FrameLayout::rgba(2, 2, reel::RowOrder::BottomUp).unwrap();
    match reel::CacheWriter::create(&path, layout) {
        Err(reel::CacheError::AlreadyExists { path: p }) => assert_eq!(p, path),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("an existing file was opened for writing"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), b"taken");
    let mut w = reel::CacheWriter::replace(&path, layout).unwrap();
    w.append(&[1; 16]).unwrap();
    assert_eq!(w.finish().unwrap(), 1);
}
