//! Bad input and failing output: clear messages, every complete frame kept,
//! nothing left that looks complete but is not.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{
    decode_png, expected_names, expected_rgb, file_names, reel, run_reel, write_cache, write_raw,
};

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn no_temporaries(dir: &Path) {
    let names = file_names(dir);
    assert!(
        names
            .iter()
            .all(|n| !n.contains("reel-tmp") && !n.contains("reel-lock")),
        "temporary or lock files left: {names:?}"
    );
}

/// The size of the movie's hidden temporary file in `dir`, if there is one.
fn movie_temp_len(dir: &Path, movie: &str) -> Option<u64> {
    std::fs::read_dir(dir).ok()?.find_map(|e| {
        let e = e.ok()?;
        let name = e.file_name().to_string_lossy().into_owned();
        (name.starts_with(&format!(".{movie}.")) && name.ends_with(".reel-tmp"))
            .then(|| e.metadata().map(|m| m.len()).unwrap_or(0))
    })
}

/// Cuts the last `bytes` bytes off `path`, as a recorder killed mid-write leaves it.
fn truncate_by(path: &std::path::Path, bytes: u64) {
    let len = std::fs::metadata(path).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len - bytes)
        .unwrap();
}

#[test]
fn raw_size_too_large_for_the_file_is_an_error_before_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("frames.raw");
    write_raw(&raw, 16, 8, 2);
    let out = dir.path().join("out");
    let o = run_reel(&[
        "export",
        raw.to_str().unwrap(),
        "--raw",
        "64x64",
        "--png",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("1024 bytes cannot hold one 64x64 RGBA frame (16384 bytes)"),
        "{e}"
    );
    assert!(!out.exists(), "no output directory created");
}

#[test]
fn raw_file_with_a_partial_last_frame_exports_whole_frames_and_reports_the_tail() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("frames.raw");
    write_raw(&raw, 16, 8, 3);
    // Half of a fourth frame.
    let mut bytes = std::fs::read(&raw).unwrap();
    bytes.extend_from_slice(&vec![9u8; 256]);
    std::fs::write(&raw, bytes).unwrap();
    let out = dir.path().join("out");
    let o = run_reel(&[
        "export",
        raw.to_str().unwrap(),
        "--raw",
        "16x8",
        "--png",
        out.to_str().unwrap(),
        "-q",
    ]);
    // Exit 2: finished, with damaged frames skipped (the warning names them).
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("partial frame at byte offset 1536: 256 of 512 bytes present"),
        "{e}"
    );
    assert_eq!(file_names(&out), expected_names(3));
    let (_, _, rgb) = decode_png(&std::fs::read(out.join("image-0002.png")).unwrap());
    assert_eq!(rgb, expected_rgb(16, 8, 2));
}

#[test]
fn torn_cache_exports_the_intact_frames_and_warns_where_it_tore() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, 16, 8, 5);
    truncate_by(&cache, 100);
    let out = dir.path().join("out");
    let o = run_reel(&[
        "export",
        cache.to_str().unwrap(),
        "--png",
        out.to_str().unwrap(),
        "-q",
    ]);
    // Exit 2: finished, with damaged frames skipped (the warning names them).
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    // Record length 16 + 16*8*4 = 528; frame 4 starts at 64 + 4*528 = 2176.
    assert!(e.contains("torn frame 4 at byte offset 2176"), "{e}");
    assert!(e.contains("4 intact frames recovered"), "{e}");
    assert_eq!(file_names(&out), expected_names(4));

    let info = run_reel(&["info", cache.to_str().unwrap()]);
    assert_eq!(
        info.status.code(),
        Some(2),
        "info exits 2 for a damaged cache"
    );
    let text = String::from_utf8_lossy(&info.stdout);
    // A finished cache is not "recovered" (issue 14: it said so before); it has a damaged frame.
    assert!(
        text.contains("frames:      4 intact\n") && text.contains("torn frame 4"),
        "{text}"
    );
    assert!(text.contains("damaged:     1 frame(s): 4"), "{text}");
    assert!(!text.contains("recovered"), "{text}");
}

#[test]
fn info_says_recovered_only_for_an_unfinished_cache_and_exits_0_when_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    let layout = reel::cache::FrameLayout::rgba(16, 8, reel::cache::RowOrder::BottomUp).unwrap();
    let mut w = reel::cache::CacheWriter::create(&cache, layout).unwrap();
    for i in 0..3 {
        w.append(&common::known_frame(16, 8, i)).unwrap();
    }
    drop(w); // never finished, every record whole
    let info = run_reel(&["info", cache.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&info.stdout);
    assert_eq!(info.status.code(), Some(0), "{text}");
    assert!(
        text.contains("3 intact (recovered from an unfinished recording)"),
        "{text}"
    );
    assert!(text.contains("damaged:     none"), "{text}");

    write_cache(&cache, 16, 8, 3);
    let info = run_reel(&["info", cache.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&info.stdout);
    assert_eq!(info.status.code(), Some(0), "{text}");
    assert!(!text.contains("recovered"), "{text}");
}

#[test]
fn unwritable_output_directory_is_a_clear_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, 16, 8, 2);
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, b"x").unwrap();
    let out = blocker.join("frames");
    let o = run_reel(&[
        "export",
        cache.to_str().unwrap(),
        "--png",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains(out.to_str().unwrap()) && e.contains("Not a directory"),
        "{e}"
    );

    let mov = dir.path().join("missing-dir").join("out.mov");
    let o = run_reel(&[
        "export",
        cache.to_str().unwrap(),
        "--movie",
        mov.to_str().unwrap(),
        "-q",
    ]);
    // --movie creates missing parent directories, as --png does (issue 15).
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(mov.exists());
}

#[test]
fn file_size_limit_during_a_movie_fails_cleanly_and_leaves_no_movie() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    common::record_synthetic(&cache, 40, "96x64", "0.8");
    let mov = dir.path().join("out.mov");
    // A child with RLIMIT_FSIZE at 100 KiB (SIGXFSZ ignored, so writes fail with EFBIG).
    let o = std::process::Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 200; exec \"$@\"")
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_reel"))
        .args([
            "export",
            cache.to_str().unwrap(),
            "--movie",
            mov.to_str().unwrap(),
            "-q",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("File too large") && e.contains("no movie written"),
        "{e}"
    );
    assert!(!mov.exists());
    no_temporaries(dir.path());
}

#[test]
fn full_disk_during_a_png_sequence_keeps_the_complete_files_and_says_how_many() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    common::record_synthetic(&cache, 30, "96x64", "0.8");
    let out = dir.path().join("small-disk");
    std::fs::create_dir(&out).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=160k", "tmpfs"])
        .arg(&out)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("note: cannot mount a small tmpfs here (needs root); full-disk PNG test skipped");
        return;
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(&out);
    let o = run_reel(&[
        "export",
        cache.to_str().unwrap(),
        "--png",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("No space left on device"), "{e}");
    let names = file_names(&out);
    let n = names.len() as u64;
    assert!(n > 0 && n < 30, "some but not all frames fit: {names:?}");
    assert_eq!(
        names,
        expected_names(n),
        "only complete files, contiguous from 0"
    );
    assert!(e.contains(&format!("{n} complete PNG files kept")), "{e}");
    for name in &names {
        decode_png(&std::fs::read(out.join(name)).unwrap());
    }
}

/// Starts an export, waits for its first output, sends SIGINT, returns the output.
fn interrupt_export(args: &[&str], started: impl Fn() -> bool) -> std::process::Output {
    let child = reel()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !started() {
        assert!(
            Instant::now() < deadline,
            "export produced no output in 60 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // The shell's built-in kill: no dependency on a kill binary.
    let kill = std::process::Command::new("sh")
        .args(["-c", &format!("kill -INT {}", child.id())])
        .status()
        .unwrap();
    assert!(kill.success());
    child.wait_with_output().unwrap()
}

#[test]
fn ctrl_c_mid_png_export_stops_keeps_complete_files_and_exits_nonzero() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    common::record_synthetic(&cache, 1500, "128x96", "0.3");
    let out = dir.path().join("out");
    let o = interrupt_export(
        &[
            "export",
            cache.to_str().unwrap(),
            "--png",
            out.to_str().unwrap(),
            "--threads",
            "1",
            "-q",
        ],
        || out.join("image-0002.png").exists(),
    );
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let e = stderr(&o);
    let names = file_names(&out);
    let n = names.len() as u64;
    assert!((3..1500).contains(&n), "stopped early: {n}");
    assert_eq!(names, expected_names(n));
    assert!(
        e.contains(&format!("aborted after {n} of 1500 frames")),
        "{e}"
    );
    assert!(e.contains(&format!("{n} complete PNG files kept")), "{e}");
}

#[test]
fn ctrl_c_mid_movie_export_leaves_no_movie_and_no_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    common::record_synthetic(&cache, 1500, "128x96", "0.3");
    let mov = dir.path().join("out.mov");
    let o = interrupt_export(
        &[
            "export",
            cache.to_str().unwrap(),
            "--movie",
            mov.to_str().unwrap(),
            "--threads",
            "1",
            "-q",
        ],
        || movie_temp_len(dir.path(), "out.mov").is_some_and(|len| len > 100_000),
    );
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("aborted after") && e.contains("no movie written"),
        "{e}"
    );
    assert!(!mov.exists());
    no_temporaries(dir.path());
}

#[test]
fn input_without_intact_frames_is_an_error_and_leaves_no_movie() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, 16, 8, 1);
    // Tear the only frame.
    truncate_by(&cache, 1);
    let mov = dir.path().join("out.mov");
    let o = run_reel(&[
        "export",
        cache.to_str().unwrap(),
        "--movie",
        mov.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("nothing to export") && e.contains("torn frame 0"),
        "{e}"
    );
    assert_eq!(file_names(dir.path()), ["c.reel"]);
    let out = dir.path().join("png");
    let o = run_reel(&[
        "export",
        cache.to_str().unwrap(),
        "--png",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("nothing to export"));
    assert!(file_names(&out).is_empty());
}

#[test]
fn a_failed_export_says_how_far_it_got_and_names_its_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("odd.reel");
    common::record_synthetic(&cache, 3, "63x48", "0.1");
    let mov = dir.path().join("odd.mov");
    let o = run_reel(&[
        "export",
        cache.to_str().unwrap(),
        "--movie",
        mov.to_str().unwrap(),
        "--codec",
        "h264",
        "-q",
    ]);
    assert!(!o.status.success());
    let e = stderr(&o);
    let cause = "H.264 (4:2:0) needs an even width and height, got 63x48";
    assert_eq!(e.matches(cause).count(), 1, "{e}");
    assert!(
        e.contains(&format!(
            "reel: error: {cause} (0 frames written; nothing written)"
        )),
        "{e}"
    );
    assert!(!mov.exists());
}

#[test]
fn an_io_error_is_reported_once_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.reel");
    let o = run_reel(&["info", missing.to_str().unwrap()]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert_eq!(e.matches("No such file or directory").count(), 1, "{e}");
    assert!(e.contains(missing.to_str().unwrap()), "{e}");
}
