//! Where exported files land: the last step of the data flow, and the one that must never lose
//! or clobber anything.
//!
//! ```text
//!   encoded bytes ──▶ TempFile (.NAME.reel-tmp-PID-N, O_EXCL, registered for signal cleanup)
//!                        │ persist: fsync + rename onto the resolved target
//!                        ▼
//!   target ◀── MovieTarget / SequenceTarget::prepare
//!               · resolves symlinks to the file they name, refuses directories and
//!                 non-regular files (devices, FIFOs, sockets)
//!               · refuses the export's own input (same device and inode)
//!               · refuses an existing output unless asked to overwrite
//!               · takes the target's lock (TargetLock), so a second export into the same
//!                 target refuses at once, and removes stale temporary files of killed runs
//! ```
//!
//! Nothing here knows about frames or codecs: exporters ask for a target, write temporary files
//! and persist them.

mod cleanup;
mod lock;
mod target;
mod temp;

pub use cleanup::remove_registered_temp_files;
pub use lock::TargetLock;
pub use target::{MovieTarget, SequenceTarget};
pub use temp::TempFile;

use std::io;
use std::path::PathBuf;

/// Why an output could not be prepared or written. Every variant names the user's path, never
/// an internal temporary name.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The output exists and replacing it was not asked for.
    #[error("{path} already exists (pass --overwrite to replace it)")]
    Exists {
        /// The existing output.
        path: PathBuf,
    },
    /// Files of the sequence exist in the directory and replacing them was not asked for.
    #[error(
        "{dir} already holds {count} file(s) named like {pattern}, e.g. {example} \
         (pass --overwrite to remove exactly those first)"
    )]
    SequenceExists {
        /// The output directory.
        dir: PathBuf,
        /// The file name pattern.
        pattern: String,
        /// How many matching files there are.
        count: usize,
        /// One of them.
        example: String,
    },
    /// A directory was given where a file is written.
    #[error("{path} is a directory; give a file path for the movie")]
    IsADirectory {
        /// The directory.
        path: PathBuf,
    },
    /// A file was given where a directory is needed.
    #[error("{path} is not a directory")]
    NotADirectory {
        /// The path that is not a directory.
        path: PathBuf,
    },
    /// The output exists and is not a regular file, which reel never replaces.
    #[error("{path} is a {kind}, not a regular file; reel writes movies only to regular files")]
    NotRegular {
        /// The output.
        path: PathBuf,
        /// What it is: "character device", "FIFO", ...
        kind: &'static str,
    },
    /// The output is the export's own input.
    #[error("{path} is the input being exported; choose another output")]
    SameAsInput {
        /// The output, which is also the input.
        path: PathBuf,
    },
    /// Another export is writing this target right now.
    #[error("another reel export is writing {path} right now (it holds {lock})")]
    Busy {
        /// The output.
        path: PathBuf,
        /// The lock file held by the other export.
        lock: PathBuf,
    },
    /// An I/O error on the user's path.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
}

impl OutputError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> OutputError {
        let path = path.into();
        move |source| OutputError::Io { path, source }
    }
}
