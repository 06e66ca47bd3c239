//! The `reel` command's subcommands.

pub mod capture_cmd;
pub mod codec_arg;
pub mod demo_cmd;
pub mod error_report;
pub mod export_cmd;
pub mod info_cmd;
pub mod interrupt;
pub mod memory;
pub mod progress_driver;
pub mod range_arg;
pub mod record_cmd;
pub mod size_arg;
pub mod synthetic;

/// The most encoder threads `--threads` accepts: every thread holds frames in flight, so more
/// only costs memory.
pub const MAX_THREADS: usize = 64;

/// One encoder thread per core.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}
