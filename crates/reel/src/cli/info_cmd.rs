//! `reel info`: what a cache (or raw file) holds.

use std::path::Path;

use anyhow::{Context, Result};
use reel::cache::{scan_cache, RawReader};

/// Prints size, frames, format and any torn or damaged frames.
pub fn run(path: &Path, raw: Option<(u32, u32)>) -> Result<bool> {
    if let Some((w, h)) = raw {
        let r = RawReader::open(path, w, h)?;
        println!("file:        {}", path.display());
        println!("kind:        headerless raw frames");
        println!("size:        {} bytes", r.file_len());
        println!(
            "format:      {w}x{h}, {}, {}",
            r.layout().pixel_format,
            r.layout().row_order
        );
        println!("frames:      {} whole", r.frames());
        match r.partial_tail() {
            Some(tail) => {
                println!("damage:      {tail}");
                return Ok(false);
            }
            None => println!("damage:      none"),
        }
        return Ok(true);
    }
    let scan = scan_cache(path).with_context(|| format!("reading {}", path.display()))?;
    let layout = scan.header.layout;
    println!("file:        {}", path.display());
    println!(
        "kind:        reel cache, format version {}",
        reel::cache::format::VERSION
    );
    println!("size:        {} bytes", scan.file_len);
    println!(
        "format:      {}x{}, {}, {}",
        layout.width, layout.height, layout.pixel_format, layout.row_order
    );
    if scan.header_damaged {
        println!("header:      damaged (checksum mismatch); recovered from the frame records, frame count unknown");
    }
    match scan.header.frame_count {
        Some(n) => println!("recording:   finished, header counts {n} frames"),
        None if scan.header_damaged => println!("recording:   unknown (header damaged)"),
        None => println!("recording:   not finished (recorder stopped before finish)"),
    }
    let recovered = if scan.header.frame_count.is_none() && !scan.header_damaged {
        " (recovered from an unfinished recording)"
    } else {
        ""
    };
    println!("frames:      {} intact{recovered}", scan.frames);
    if scan.damage.is_empty() {
        println!("damaged:     none");
    } else {
        println!(
            "damaged:     {} frame(s): {}",
            scan.lost_frames(),
            reel::cache::describe_ranges(&scan.damage)
        );
        for run in &scan.damage {
            println!("             {run}");
        }
    }
    println!("end:         {}", scan.end);
    Ok(scan.is_whole())
}
