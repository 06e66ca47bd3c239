//! How `reel capture` and its preloaded capture library (the `reel-capture` crate) talk to each
//! other: settings go in through environment variables, and the library reports back one text
//! line per event over a Unix socket whose path `reel` passes in [`ENV_STATUS_SOCKET`].

use std::path::PathBuf;

/// The cache the first captured frame goes to (later sizes go to `OUT-1.reel`, `OUT-2.reel`, …).
pub const ENV_OUTPUT: &str = "REEL_CAPTURE_OUTPUT";
/// The Unix socket the library connects to and writes [`Status`] lines on.
pub const ENV_STATUS_SOCKET: &str = "REEL_CAPTURE_STATUS_SOCKET";
/// Swaps to let pass before the first captured frame.
pub const ENV_SKIP: &str = "REEL_CAPTURE_SKIP";
/// Frames to capture before the library stops capturing and reports [`Status::LimitReached`].
pub const ENV_FRAMES: &str = "REEL_CAPTURE_FRAMES";
/// `block` or `drop`: what the hook does when the writer is [`QUEUE_FRAMES`] frames behind.
pub const ENV_WHEN_BEHIND: &str = "REEL_CAPTURE_WHEN_BEHIND";
/// Which drawable to capture: the N-th distinct one to swap (1, the first, by default).
pub const ENV_DRAWABLE: &str = "REEL_CAPTURE_DRAWABLE";
/// `auto`, `sync` or `pbo-ring`: how the hook reads frames back (glcapture's `ReadbackMode`).
pub const ENV_READBACK: &str = "REEL_CAPTURE_READBACK";
/// Test only: the writer sleeps this many milliseconds before each frame, to simulate a slow
/// disk.
pub const ENV_TEST_WRITE_DELAY_MS: &str = "REEL_CAPTURE_TEST_WRITE_DELAY_MS";
/// `reel`'s own process id. The library captures only in a process whose parent that is: the
/// program `reel` started, and whatever that process `exec`s (a wrapper such as `env`, `nice`
/// or a shell script ending in `exec`), but not processes the program forks.
pub const ENV_PARENT_PID: &str = "REEL_CAPTURE_PARENT_PID";
/// Where `reel` looks for the capture library when it is not next to the `reel` binary.
pub const ENV_LIBRARY: &str = "REEL_CAPTURE_LIBRARY";
/// The capture library's file name, as `cargo build` names it.
pub const LIBRARY_FILE_NAME: &str = "libreel_capture.so";

/// Frames read back but not yet written that the capture holds at most (the writer's queue
/// bound); memory is this many frames of the program's drawable size.
pub const QUEUE_FRAMES: usize = 8;

/// The cache path for the `index`-th drawable size: `OUT.reel`, then `OUT-1.reel`, `OUT-2.reel`…
pub fn cache_path(first: &std::path::Path, index: u32) -> PathBuf {
    if index == 0 {
        return first.to_path_buf();
    }
    let stem = first
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match first.extension() {
        Some(ext) => format!("{stem}-{index}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{index}"),
    };
    first.with_file_name(name)
}

/// One event the capture library reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// A cache was started for frames of this size.
    CacheStarted {
        /// Frame width.
        width: u32,
        /// Frame height.
        height: u32,
        /// The cache file.
        path: PathBuf,
    },
    /// A cache was finished holding `frames` frames.
    CacheFinished {
        /// Frames in the cache.
        frames: u64,
        /// The cache file.
        path: PathBuf,
    },
    /// Frames are read from the context's renderer (`GL_RENDERER`) this way (`sync` or
    /// `pbo-ring`); sent when the hook first reads a context.
    Readback {
        /// The readback in use.
        mode: String,
        /// The context's `GL_RENDERER` string.
        renderer: String,
    },
    /// Another drawable than the one captured swapped (only one is captured).
    IgnoredDrawable {
        /// The drawable's id (an X id or an EGL surface address).
        id: u64,
    },
    /// Capturing stopped because something failed; the program runs on.
    Stopped {
        /// What failed.
        reason: String,
    },
    /// The frame limit was reached and every frame is written.
    LimitReached,
    /// The final counts, sent once when capture ends.
    Summary(Summary),
}

/// The counts reported when capture ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Buffer swaps of the captured drawable seen by the hook (skipped ones included).
    pub swaps: u64,
    /// Frames written to caches.
    pub captured: u64,
    /// Frames dropped because the writer was behind (`--when-behind drop`), could not be read
    /// without changing the program's GL state, or were still in a pixel-buffer ring when its
    /// context went away unannounced.
    pub dropped: u64,
    /// The hook's median cost on the program's thread per captured frame, in nanoseconds.
    pub hook_median_ns: u64,
    /// The 95th percentile of the same.
    pub hook_p95_ns: u64,
    /// CPU time the background writer thread used (swizzling, checksums, writes), in
    /// nanoseconds.
    pub writer_cpu_ns: u64,
}

impl Status {
    /// The status as one line (without the newline).
    pub fn encode(&self) -> String {
        let one_line = |s: &str| s.replace(['\n', '\r'], " ");
        match self {
            Status::CacheStarted {
                width,
                height,
                path,
            } => format!(
                "cache-started {width} {height} {}",
                one_line(&path.to_string_lossy())
            ),
            Status::CacheFinished { frames, path } => {
                format!(
                    "cache-finished {frames} {}",
                    one_line(&path.to_string_lossy())
                )
            }
            Status::Readback { mode, renderer } => {
                format!(
                    "readback {} {}",
                    one_line(mode).replace(' ', "_"),
                    one_line(renderer)
                )
            }
            Status::IgnoredDrawable { id } => format!("ignored-drawable {id}"),
            Status::Stopped { reason } => format!("stopped {}", one_line(reason)),
            Status::LimitReached => "limit-reached".to_string(),
            Status::Summary(s) => format!(
                "summary {} {} {} {} {} {}",
                s.swaps, s.captured, s.dropped, s.hook_median_ns, s.hook_p95_ns, s.writer_cpu_ns
            ),
        }
    }

    /// Parses a line made by [`encode`](Status::encode); `None` for anything else.
    pub fn parse(line: &str) -> Option<Status> {
        let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
        let mut words = rest.splitn(3, ' ');
        let mut num = || words.next()?.parse::<u64>().ok();
        Some(match kind {
            "cache-started" => {
                let (width, height) = (u32::try_from(num()?).ok()?, u32::try_from(num()?).ok()?);
                let path = PathBuf::from(rest.splitn(3, ' ').nth(2)?);
                Status::CacheStarted {
                    width,
                    height,
                    path,
                }
            }
            "cache-finished" => Status::CacheFinished {
                frames: num()?,
                path: PathBuf::from(rest.split_once(' ')?.1),
            },
            "readback" => {
                let (mode, renderer) = rest.split_once(' ').unwrap_or((rest, ""));
                Status::Readback {
                    mode: mode.to_string(),
                    renderer: renderer.to_string(),
                }
            }
            "ignored-drawable" => Status::IgnoredDrawable { id: num()? },
            "stopped" => Status::Stopped {
                reason: rest.to_string(),
            },
            "limit-reached" => Status::LimitReached,
            "summary" => {
                let mut w = rest.split(' ').map(|s| s.parse::<u64>().ok());
                let mut n = || w.next().flatten();
                Status::Summary(Summary {
                    swaps: n()?,
                    captured: n()?,
                    dropped: n()?,
                    hook_median_ns: n()?,
                    hook_p95_ns: n()?,
                    writer_cpu_ns: n()?,
                })
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips_through_its_line() {
        let all = [
            Status::CacheStarted {
                width: 640,
                height: 360,
                path: "/tmp/a b/out-1.reel".into(),
            },
            Status::CacheFinished {
                frames: 12,
                path: "/tmp/a b/out.reel".into(),
            },
            Status::IgnoredDrawable { id: 0x4200002 },
            Status::Readback {
                mode: "pbo-ring".into(),
                renderer: "llvmpipe (LLVM 15.0.6, 256 bits)".into(),
            },
            Status::Stopped {
                reason: "writing /x: No space left on device".into(),
            },
            Status::LimitReached,
            Status::Summary(Summary {
                swaps: 10,
                captured: 8,
                dropped: 2,
                hook_median_ns: 1500,
                hook_p95_ns: 9000,
                writer_cpu_ns: 123_456_789,
            }),
        ];
        for s in all {
            assert_eq!(Status::parse(&s.encode()), Some(s));
        }
        assert_eq!(Status::parse("nonsense 1 2"), None);
    }

    #[test]
    fn later_sizes_get_numbered_cache_names() {
        let first = std::path::Path::new("/d/out.reel");
        assert_eq!(cache_path(first, 0), first);
        assert_eq!(cache_path(first, 2), std::path::Path::new("/d/out-2.reel"));
    }
}
