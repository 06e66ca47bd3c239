//! `reel capture` on real programs under a real X server (Xvfb, Mesa llvmpipe): the project's
//! frame-counter program in three variants (GLX linked, GLX through dlsym, EGL through dlopen),
//! glxgears and glmark2-es2. Each test starts its own Xvfb.

mod common;
#[path = "capture/harness.rs"]
mod harness;

use std::path::Path;

use harness::{capture, frame_counter, Run, Variant, Xvfb};
use reel::cache::{CacheReader, RowOrder};

/// The colour the frame counter clears frame `n` to (below its white top band).
fn counter_colour(n: u64) -> [u8; 3] {
    [(n % 256) as u8, (n / 256 % 256) as u8, 77]
}

/// Reads every frame of a cache: (width, height, frames), rows bottom-up RGBA.
fn read_cache(path: &Path) -> (u32, u32, Vec<Vec<u8>>) {
    let mut reader = CacheReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let layout = reader.layout();
    assert_eq!(layout.row_order, RowOrder::BottomUp);
    let mut frames = Vec::new();
    let mut buf = vec![0; layout.frame_len()];
    while reader.read_frame(&mut buf).unwrap() {
        frames.push(buf.clone());
    }
    (layout.width, layout.height, frames)
}

/// The frame number a frame-counter frame (bottom-up RGBA) shows in its bottom-left pixel.
fn counter_frame_number(frame: &[u8]) -> u64 {
    assert_eq!(
        frame[2], 77,
        "bottom-left pixel is not a frame-counter colour"
    );
    u64::from(frame[0]) + 256 * u64::from(frame[1])
}

/// The frame counter's numbers of the frames in the cache at `path`, in cache order.
fn cached_frame_numbers(path: &Path) -> Vec<u64> {
    read_cache(path)
        .2
        .iter()
        .map(|f| counter_frame_number(f))
        .collect()
}

fn assert_ran(run: &Run, code: i32) {
    assert_eq!(
        run.status.code(),
        Some(code),
        "reel capture exit status; stderr:\n{}",
        run.stderr
    );
}

/// Captures `frames` frames of the frame counter with `options`, checks each was captured
/// once, in order, with the program's GL state intact (the program exits 3 otherwise), read
/// back as `readback` says, and exported upright.
fn frame_counter_round_trip(variant: Variant, options: &[&str], readback: &str) {
    const FRAMES: u64 = 30;
    let x = Xvfb::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("counter.reel");
    let png_dir = dir.path().join("png");
    let exe = frame_counter(variant);
    let mut all_options = vec!["--export", png_dir.to_str().unwrap(), "--quiet"];
    all_options.extend_from_slice(options);
    let run = capture(
        &x,
        &all_options,
        &out,
        &[exe.to_str().unwrap(), &FRAMES.to_string()],
        &[],
    );
    assert_ran(&run, 0);
    assert!(run.stdout.contains("drew 30 frames"), "{}", run.stdout);
    assert_eq!(run.stat("captured"), FRAMES);
    assert_eq!(run.stat("dropped"), 0);
    assert_eq!(run.stats["readback"], readback, "{}", run.stderr);

    let (w, h, frames) = read_cache(&out);
    assert_eq!((w, h), (64, 48));
    let numbers: Vec<u64> = frames.iter().map(|f| counter_frame_number(f)).collect();
    assert_eq!(numbers, (0..FRAMES).collect::<Vec<_>>());

    for n in 0..FRAMES {
        let png = std::fs::read(png_dir.join(format!("image-{n:04}.png"))).unwrap();
        let (pw, ph, rgb) = common::decode_png(&png);
        assert_eq!((pw, ph), (w, h));
        let pixel = |x: u32, y: u32| {
            let i = ((y * pw + x) * 3) as usize;
            [rgb[i], rgb[i + 1], rgb[i + 2]]
        };
        assert_eq!(
            pixel(3, 0),
            [255, 255, 255],
            "frame {n}: top row is not the white band"
        );
        assert_eq!(pixel(3, ph - 1), counter_colour(n), "frame {n}: bottom row");
    }
}

// On llvmpipe, `--readback auto` reads synchronously (a ring measured slower there).

#[test]
fn glx_linked_program_every_frame_captured_once_in_order_upright_and_gl_state_untouched() {
    frame_counter_round_trip(Variant::GlxDirect, &[], "sync");
}

#[test]
fn glx_dlsym_program_every_frame_captured_once_in_order_upright_and_gl_state_untouched() {
    frame_counter_round_trip(Variant::GlxDlsym, &[], "sync");
}

#[test]
fn egl_dlopen_program_every_frame_captured_once_in_order_upright_and_gl_state_untouched() {
    frame_counter_round_trip(Variant::EglDlopen, &[], "sync");
}

#[test]
fn pbo_ring_glx_every_frame_captured_once_in_order_upright_and_gl_state_untouched() {
    frame_counter_round_trip(Variant::GlxDirect, &["--readback", "pbo-ring"], "pbo-ring");
}

#[test]
fn pbo_ring_egl_every_frame_captured_once_in_order_upright_and_gl_state_untouched() {
    frame_counter_round_trip(Variant::EglDlopen, &["--readback", "pbo-ring"], "pbo-ring");
}

/// The frame counter releases its context, destroys it and closes its display before it
/// exits: the frames still in the ring must be read before that, not lost.
#[test]
fn pbo_ring_frames_in_flight_are_read_before_the_program_releases_and_destroys_its_context() {
    let x = Xvfb::start();
    let dir = tempfile::tempdir().unwrap();
    for (n, variant) in [Variant::GlxDirect, Variant::GlxDlsym, Variant::EglDlopen]
        .into_iter()
        .enumerate()
    {
        let out = dir.path().join(format!("teardown{n}.reel"));
        let exe = frame_counter(variant);
        let run = capture(
            &x,
            &["--readback", "pbo-ring"],
            &out,
            &[exe.to_str().unwrap(), "20"],
            &[("FRAME_COUNTER_TEARDOWN", "1")],
        );
        assert_ran(&run, 0);
        assert_eq!(run.stat("dropped"), 0, "{variant:?}: {}", run.stderr);
        assert_eq!(
            cached_frame_numbers(&out),
            (0..20).collect::<Vec<_>>(),
            "{variant:?}"
        );
    }
}

#[test]
fn pbo_ring_size_change_and_a_second_window_lose_no_frame() {
    size_change_round_trip(&["--readback", "pbo-ring"]);
    // The second window is made current (same context) and swapped after every frame.
    two_windows_round_trip(Variant::GlxDirect, &["--readback", "pbo-ring"]);
}

#[test]
fn glx_oml_swap_looked_up_at_run_time_every_frame_captured_once_in_order() {
    let x = Xvfb::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("oml.reel");
    let exe = frame_counter(Variant::GlxDlsym);
    let run = capture(
        &x,
        &[],
        &out,
        &[exe.to_str().unwrap(), "15", "0", "-1", "0", "oml"],
        &[],
    );
    assert_ran(&run, 0);
    assert!(run.stdout.contains("drew 15 frames"), "{}", run.stdout);
    assert_eq!(run.stat("captured"), 15, "{}", run.stderr);
    assert_eq!(cached_frame_numbers(&out), (0..15).collect::<Vec<_>>());
}

#[test]
fn program_exit_status_and_signal_death_are_passed_through() {
    let x = Xvfb::start();
    let dir = tempfile::tempdir().unwrap();
    let exe = frame_counter(Variant::GlxDirect);
    let run = capture(
        &x,
        &[],
        &dir.path().join("a.reel"),
        &[exe.to_str().unwrap(), "5", "7"],
        &[],
    );
    assert_ran(&run, 7);
    assert_eq!(run.stat("captured"), 5);
    let run = capture(
        &x,
        &[],
        &dir.path().join("b.reel"),
        &["sh", "-c", "kill -KILL $$"],
        &[],
    );
    assert_ran(&run, 128 + 9);
}

#[test]
fn program_started_through_an_exec_wrapper_is_captured_and_processes_it_forks_are_not() {
    let x = Xvfb::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("wrapped.reel");
    let exe = frame_counter(Variant::GlxDirect);
    let exe = exe.to_str().unwrap();
    // The shell forks a first frame counter (a child of the program: not captured), then
    // replaces itself with `env`, which replaces itself with a second one (captured).
    let script = format!("{exe} 12 && exec env {exe} 10");
    let run = capture(&x, &[], &out, &["sh", "-c", &script], &[]);
    assert_ran(&run, 0);
    assert!(run.stdout.contains("drew 12 frames"), "{}", run.stdout);
    assert!(run.stdout.contains("drew 10 frames"), "{}", run.stdout);
    assert!(!run.stderr.contains("ignoring"), "{}", run.stderr);
    assert_eq!(run.stat("captured"), 10, "{}", run.stderr);
    assert_eq!(cached_frame_numbers(&out), (0..10).collect::<Vec<_>>());
}

#[test]
fn window_size_change_starts_a_new_cache_and_no_frame_is_lost() {
    size_change_round_trip(&[]);
}

/// The frame counter's window grows from 64x48 to 80x40 at frame 10 of 20: a second cache
/// takes the frames from there, and none is lost or repeated.
fn size_change_round_trip(options: &[&str]) {
    let x = Xvfb::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sizes.reel");
    let exe = frame_counter(Variant::GlxDirect);
    let run = capture(
        &x,
        options,
        &out,
        &[exe.to_str().unwrap(), "20", "0", "10"],
        &[],
    );
    assert_ran(&run, 0);
    assert_eq!(run.stat("caches"), 2, "{}", run.stderr);
    assert_eq!(run.stat("dropped"), 0, "{}", run.stderr);
    let (w0, h0, first) = read_cache(&out);
    let (w1, h1, second) = read_cache(&dir.path().join("sizes-1.reel"));
    assert_eq!(((w0, h0), (w1, h1)), ((64, 48), (80, 40)));
    let numbers: Vec<u64> = first
        .iter()
        .chain(&second)
        .map(|f| counter_frame_number(f))
        .collect();
    assert_eq!(numbers, (0..20).collect::<Vec<_>>());
    assert!(run.stderr.contains("sizes-1.reel"), "{}", run.stderr);
}

/// The frame counter swaps a second window after each of its 12 frames: the first window's
/// frames are all captured, in order, and the second is reported ignored once.
fn two_windows_round_trip(variant: Variant, options: &[&str]) {
    let x = Xvfb::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("two.reel");
    let exe = frame_counter(variant);
    let run = capture(
        &x,
        options,
        &out,
        &[exe.to_str().unwrap(), "12", "0", "-1", "1"],
        &[],
    );
    assert_ran(&run, 0);
    assert_eq!(run.stat("caches"), 1, "{}", run.stderr);
    assert_eq!(run.stat("dropped"), 0, "{}", run.stderr);
    let (w, h, _) = read_cache(&out);
    assert_eq!((w, h), (64, 48));
    assert_eq!(cached_frame_numbers(&out), (0..12).collect::<Vec<_>>());
    assert_eq!(
        run.stderr.matches("ignoring another drawable").count(),
        1,
        "{}",
        run.stderr
    );
}

#[test]
fn when_behind_drop_counts_dropped_frames_under_a_slow_writer_and_block_loses_none() {
    const FRAMES: u64 = 40;
    let x = Xvfb::start();
    let dir = tempfile::tempdir().unwrap();
    let exe = frame_counter(Variant::GlxDirect);
    let slow = [("REEL_CAPTURE_TEST_WRITE_DELAY_MS", "40")];
    let program = [exe.to_str().unwrap(), "40"];

    let out = dir.path().join("drop.reel");
    let run = capture(&x, &["--when-behind", "drop"], &out, &program, &slow);
    assert_ran(&run, 0);
    let (captured, dropped) = (run.stat("captured"), run.stat("dropped"));
    assert!(
        dropped > 0,
        "no frame dropped under a 40 ms writer:\n{}",
        run.stderr
    );
    assert_eq!(captured + dropped, FRAMES);
    assert!(
        run.stderr.contains(&format!("dropped {dropped}")),
        "{}",
        run.stderr
    );
    let numbers: Vec<u64> = read_cache(&out)
        .2
        .iter()
        .map(|f| counter_frame_number(f))
        .collect();
    assert_eq!(numbers.len() as u64, captured);
    assert!(
        numbers.windows(2).all(|w| w[0] < w[1]),
        "frames out of order: {numbers:?}"
    );

    let out = dir.path().join("block.reel");
    let run = capture(&x, &["--when-behind", "block"], &out, &program, &slow);
    assert_ran(&run, 0);
    assert_eq!((run.stat("captured"), run.stat("dropped")), (FRAMES, 0));
    assert_eq!(read_cache(&out).2.len() as u64, FRAMES);
}

/// A tmpfs of `size` mounted at `dir`, unmounted when dropped; `None` where mounting is not
/// allowed.
struct Tmpfs<'a>(&'a Path);

impl<'a> Tmpfs<'a> {
    fn mount(dir: &'a Path, size: &str) -> Option<Self> {
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Tmpfs(dir))
    }
}

impl Drop for Tmpfs<'_> {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(self.0).status();
    }
}

#[test]
fn full_disk_stops_capture_with_one_message_and_the_program_runs_to_its_end() {
    let x = Xvfb::start();
    let dir = tempfile::tempdir().unwrap();
    let exe = frame_counter(Variant::GlxDirect);
    // 48 KiB holds the header and three 64x48 frames; a machine that cannot mount gets
    // /dev/full, where the very first write fails.
    let mount_dir = dir.path().join("small");
    std::fs::create_dir(&mount_dir).unwrap();
    let tmpfs = Tmpfs::mount(&mount_dir, "48k");
    let out = mount_dir.join("full.reel");
    if tmpfs.is_none() {
        eprintln!("note: cannot mount a tmpfs here; the cache goes to /dev/full instead");
        std::os::unix::fs::symlink("/dev/full", &out).unwrap();
    }
    let run = capture(&x, &[], &out, &[exe.to_str().unwrap(), "60", "4"], &[]);
    assert_ran(&run, 4);
    assert!(run.stdout.contains("drew 60 frames"), "{}", run.stdout);
    assert_eq!(
        run.stderr
            .matches("reel capture: stopped capturing")
            .count(),
        1,
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("No space left on device"),
        "{}",
        run.stderr
    );
    assert!(!run.stats["stopped"].is_empty());
    assert!(run.stat("captured") < 60);
    drop(tmpfs);
}

#[test]
fn glxgears_frames_60_gives_60_distinct_upright_frames_and_exit_status_0() {
    let x = Xvfb::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gears.reel");
    let png_dir = dir.path().join("png");
    let run = capture(
        &x,
        &[
            "--frames",
            "60",
            "--export",
            png_dir.to_str().unwrap(),
            "--quiet",
        ],
        &out,
        &["glxgears"],
        &[],
    );
    assert_ran(&run, 0);
    let (w, h, frames) = read_cache(&out);
    assert_eq!((w, h), (300, 300));
    assert_eq!(frames.len(), 60);
    // glxgears turns its gears by wall-clock time: two frames drawn a fraction of a
    // millisecond apart can rasterize to the same pixels, so an odd repeat is glxgears' own.
    // A capture that repeated or lost frames would repeat many.
    let distinct: std::collections::HashSet<&Vec<u8>> = frames.iter().collect();
    assert!(
        distinct.len() >= 57,
        "glxgears frames repeat: {} distinct of 60",
        distinct.len()
    );
    for n in [0, 59] {
        let png = std::fs::read(png_dir.join(format!("image-{n:04}.png"))).unwrap();
        let (pw, _, rgb) = common::decode_png(&png);
        // Upright glxgears: the blue gear is above the red one (rows counted from the top).
        let mean_row = |is: fn(&[u8]) -> bool| {
            let rows: Vec<usize> = rgb
                .chunks_exact(3)
                .enumerate()
                .filter(|(_, p)| is(p))
                .map(|(i, _)| i / pw as usize)
                .collect();
            assert!(rows.len() > 100, "frame {n}: too few gear pixels");
            rows.iter().sum::<usize>() / rows.len()
        };
        let red = mean_row(|p| p[0] > 120 && p[1] < 60 && p[2] < 60);
        let blue = mean_row(|p| p[2] > 120 && p[0] < 60 && p[1] < 60);
        assert!(
            blue < red,
            "frame {n}: blue gear (row {blue}) not above red (row {red})"
        );
    }
}

#[test]
fn glmark2_es2_build_scene_every_frame_captured() {
    glmark2_es2_build_scene(&[]);
}

/// glmark2 ends its EGL context itself at exit: the ring's last frames are read before.
#[test]
fn pbo_ring_glmark2_es2_build_scene_every_frame_captured() {
    glmark2_es2_build_scene(&["--readback", "pbo-ring"]);
}

fn glmark2_es2_build_scene(options: &[&str]) {
    let x = Xvfb::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("glmark2.reel");
    let run = capture(
        &x,
        options,
        &out,
        &["glmark2-es2", "-b", "build:duration=1", "--size", "320x240"],
        &[],
    );
    assert_ran(&run, 0);
    assert!(run.stdout.contains("glmark2 Score"), "{}", run.stdout);
    let (w, h, frames) = read_cache(&out);
    assert_eq!((w, h), (320, 240));
    assert!(frames.len() > 10, "only {} frames", frames.len());
    assert_eq!(run.stat("dropped"), 0);
    assert_eq!(frames.len() as u64, run.stat("swaps"));
    let distinct: std::collections::HashSet<&Vec<u8>> = frames.iter().collect();
    assert!(distinct.len() > frames.len() / 2, "the scene does not move");
}

#[test]
fn skip_lets_the_first_frames_pass_and_export_to_mov_writes_every_captured_frame() {
    let x = Xvfb::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("skip.reel");
    let movie = dir.path().join("skip.mov");
    let exe = frame_counter(Variant::EglDlopen);
    let run = capture(
        &x,
        &[
            "--skip",
            "3",
            "--export",
            movie.to_str().unwrap(),
            "--quiet",
        ],
        &out,
        &[exe.to_str().unwrap(), "10"],
        &[],
    );
    assert_ran(&run, 0);
    let numbers: Vec<u64> = read_cache(&out)
        .2
        .iter()
        .map(|f| counter_frame_number(f))
        .collect();
    assert_eq!(numbers, (3..10).collect::<Vec<_>>());
    let probe = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
        .args([
            "-show_entries",
            "stream=nb_read_frames,width,height",
            "-of",
            "csv=p=0",
        ])
        .arg(&movie)
        .output()
        .expect("ffprobe is installed (scripts/test.sh installs ffmpeg)");
    assert_eq!(String::from_utf8_lossy(&probe.stdout).trim(), "64,48,7");
}

#[test]
fn ctrl_c_ends_the_program_and_reel_reports_the_frames_kept_and_exits_130() {
    use std::os::unix::process::CommandExt;
    let x = Xvfb::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("interrupted.reel");
    let exe = frame_counter(Variant::GlxDirect);
    // reel and the program in a process group of their own, as a terminal's Ctrl-C sees them.
    let reel = std::process::Command::new(harness::reel_exe())
        .args(["capture", "-o"])
        .arg(&out)
        .arg("--")
        .arg(&exe)
        .arg("100000")
        .env("DISPLAY", &x.display)
        .env("REEL_CAPTURE_LIBRARY", harness::capture_library())
        .process_group(0)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::fs::metadata(&out).map_or(0, |m| m.len()) < 100_000 {
        assert!(std::time::Instant::now() < deadline, "no frames captured");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", "--", &format!("-{}", reel.id())])
        .status()
        .unwrap();
    assert!(status.success());
    let output = reel.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(128 + 2), "{stderr}");
    assert!(stderr.contains("killed by signal 2"), "{stderr}");
    let kept = read_cache(&out).2.len();
    assert!(kept > 0);
    assert!(stderr.contains(&format!("{kept} frames")), "{stderr}");
}

#[test]
fn only_the_first_window_that_swaps_is_captured_or_the_one_drawable_picks_and_others_are_reported_ignored(
) {
    two_windows_round_trip(Variant::GlxDlsym, &[]);

    let x = Xvfb::start();
    let dir = tempfile::tempdir().unwrap();
    let exe = frame_counter(Variant::GlxDlsym);
    // --drawable 2 picks the second window (32x32, cleared black) instead.
    let out = dir.path().join("second.reel");
    let run = capture(
        &x,
        &["--drawable", "2"],
        &out,
        &[exe.to_str().unwrap(), "12", "0", "-1", "1"],
        &[],
    );
    assert_ran(&run, 0);
    let (w, h, frames) = read_cache(&out);
    assert_eq!((w, h, frames.len()), (32, 32, 12), "{}", run.stderr);
    assert!(frames
        .iter()
        .all(|f| f.chunks(4).all(|p| p[..3] == [0, 0, 0])));
    assert_eq!(
        run.stderr.matches("ignoring another drawable").count(),
        1,
        "{}",
        run.stderr
    );
}

#[test]
fn library_found_next_to_reel_or_named_by_env_and_missing_library_or_taken_names_are_errors() {
    let x = Xvfb::start();
    let dir = tempfile::tempdir().unwrap();
    let exe = frame_counter(Variant::GlxDirect);
    let lib = harness::capture_library();
    assert_eq!(lib.parent(), harness::reel_exe().parent());
    let reel = |out: &Path, library: Option<&str>| {
        let mut cmd = std::process::Command::new(harness::reel_exe());
        cmd.args(["capture", "-o"])
            .arg(out)
            .arg("--")
            .arg(&exe)
            .arg("3")
            .env("DISPLAY", &x.display)
            .env_remove("REEL_CAPTURE_LIBRARY");
        if let Some(l) = library {
            cmd.env("REEL_CAPTURE_LIBRARY", l);
        }
        cmd.output().unwrap()
    };

    let next_to_reel = dir.path().join("found.reel");
    let output = reel(&next_to_reel, None);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(read_cache(&next_to_reel).2.len(), 3);

    let output = reel(
        &dir.path().join("missing.reel"),
        Some("/nonexistent/libreel_capture.so"),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("REEL_CAPTURE_LIBRARY"), "{stderr}");
    assert!(
        !String::from_utf8_lossy(&output.stdout).contains("drew"),
        "the program ran"
    );

    // A file the user did not name must not be overwritten by a size change.
    std::fs::write(dir.path().join("taken-1.reel"), b"keep me").unwrap();
    let output = reel(&dir.path().join("taken.reel"), Some(lib.to_str().unwrap()));
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("taken-1.reel already exists"));
    assert_eq!(
        std::fs::read(dir.path().join("taken-1.reel")).unwrap(),
        b"keep me"
    );
}

#[test]
fn an_existing_output_is_refused_before_the_program_runs_and_overwrite_replaces_the_whole_series() {
    let x = Xvfb::start();
    let dir = tempfile::tempdir().unwrap();
    let exe = frame_counter(Variant::GlxDirect);
    let out = dir.path().join("again.reel");
    std::fs::write(&out, b"keep me").unwrap();
    let run = capture(&x, &[], &out, &[exe.to_str().unwrap(), "4"], &[]);
    assert_ran(&run, 1);
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);
    assert!(run.stderr.contains("--overwrite"), "{}", run.stderr);
    assert!(
        !run.stdout.contains("drew"),
        "the program ran: {}",
        run.stdout
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");

    // An earlier capture's later caches go too, so that none is taken for this capture's.
    for stale in ["again-1.reel", "again-2.reel"] {
        std::fs::write(dir.path().join(stale), b"earlier").unwrap();
    }
    let run = capture(
        &x,
        &["--overwrite"],
        &out,
        &[exe.to_str().unwrap(), "4"],
        &[],
    );
    assert_ran(&run, 0);
    assert_eq!(read_cache(&out).2.len(), 4);
    assert_eq!(common::file_names(dir.path()), ["again.reel"]);
    assert!(run.stderr.contains("removed"), "{}", run.stderr);
}
