//! The line-per-event channel back to `reel capture`.

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::Mutex;

use reel::capture_protocol::Status;

/// Sends [`Status`] lines to `reel`; silently does nothing once `reel` is gone, since the
/// program must run on regardless.
pub struct StatusChannel {
    stream: Mutex<Option<UnixStream>>,
}

impl StatusChannel {
    /// Connects to the socket `reel` listens on (no channel if that fails).
    pub fn connect(path: Option<&std::ffi::OsStr>) -> Self {
        StatusChannel {
            stream: Mutex::new(path.and_then(|p| UnixStream::connect(p).ok())),
        }
    }

    /// Sends one status line.
    pub fn send(&self, status: &Status) {
        let mut line = status.encode();
        line.push('\n');
        let mut guard = self.stream.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(stream) = guard.as_mut() {
            if stream.write_all(line.as_bytes()).is_err() {
                *guard = None;
            }
        }
    }
}
