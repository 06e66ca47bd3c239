//! Records the demo scene into a raw file of concatenated bottom-up RGBA frames.
//!
//! `cargo run -p glcapture --example record_raw -- FRAMES WIDTHxHEIGHT OUT.raw [MODE]`
//! with MODE `auto` (default), `sync`, `pbo` or `pboN`. View a frame with e.g.
//! `ffmpeg -f rawvideo -pix_fmt rgba -s WIDTHxHEIGHT -i OUT.raw -vf vflip -frames:v 1 f.png`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

use glcapture::{record_demo, CaptureMode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: record_raw FRAMES WIDTHxHEIGHT OUT.raw [auto|sync|pbo|pboN]";
    if !(3..=4).contains(&args.len()) {
        eprintln!("{usage}");
        return ExitCode::FAILURE;
    }
    let Ok(frames) = args[0].parse::<u64>() else {
        eprintln!("FRAMES {:?} is not a number; {usage}", args[0]);
        return ExitCode::FAILURE;
    };
    let Some((width, height)) = args[1]
        .split_once('x')
        .and_then(|(w, h)| Some((w.parse::<u32>().ok()?, h.parse::<u32>().ok()?)))
    else {
        eprintln!("size {:?} is not WIDTHxHEIGHT; {usage}", args[1]);
        return ExitCode::FAILURE;
    };
    let mode = match args.get(3).map_or(Ok(CaptureMode::Auto), |m| m.parse()) {
        Ok(mode) => mode,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = match File::create(&args[2]) {
        Ok(file) => BufWriter::new(file),
        Err(e) => {
            eprintln!("cannot create {}: {e}", args[2]);
            return ExitCode::FAILURE;
        }
    };
    let mut sink = |_: u64, rgba: &[u8]| out.write_all(rgba);
    let stats = match record_demo(frames, width, height, mode, &mut sink) {
        Ok(stats) => stats,
        Err(e) => {
            eprintln!("record_raw: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = out.flush() {
        eprintln!("record_raw: writing {}: {e}", args[2]);
        return ExitCode::FAILURE;
    }
    println!(
        "{} frames {}x{} ({}) on {}: {:.1} fps, render thread blocked {:.3} ms/frame",
        stats.capture.frames,
        width,
        height,
        stats.mode,
        stats.context.renderer,
        stats.frames_per_second(),
        stats.capture.blocked_per_frame().as_secs_f64() * 1e3
    );
    ExitCode::SUCCESS
}
