//! The `reel` command's subcommands.

pub mod bench_cmd;
pub mod capture_cmd;
pub mod demo_cmd;
pub mod error_report;
pub mod export_cmd;
pub mod info_cmd;
pub mod interrupt;
pub mod progress_driver;
pub mod record_cmd;
pub mod size_arg;

/// One encoder thread per core.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}
