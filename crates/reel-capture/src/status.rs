//! The line-per-event channel back to `reel capture`.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::Mutex;

use reel::capture_protocol::Status;

/// Sends [`Status`] lines to `reel`; silently does nothing once `reel` is gone, since the
/// program must run on regardless.
///
/// It connects at the first line, not at load: a wrapper that `exec`s the real program (and so
/// never swaps) then never connects, and `reel` reads the one connection of the process that
/// does the drawing.
pub struct StatusChannel {
    path: Option<OsString>,
    stream: Mutex<Connection>,
}

enum Connection {
    NotYet,
    Open(UnixStream),
    Gone,
}

impl StatusChannel {
    /// A channel to the socket `reel` listens on (none without a path).
    pub fn new(path: Option<OsString>) -> Self {
        StatusChannel {
            path,
            stream: Mutex::new(Connection::NotYet),
        }
    }

    /// Sends one status line.
    pub fn send(&self, status: &Status) {
        let mut line = status.encode();
        line.push('\n');
        let mut guard = self.stream.lock().unwrap_or_else(|e| e.into_inner());
        if let Connection::NotYet = *guard {
            *guard = match self.path.as_deref().map(UnixStream::connect) {
                Some(Ok(stream)) => Connection::Open(stream),
                _ => Connection::Gone,
            };
        }
        if let Connection::Open(stream) = &mut *guard {
            if stream.write_all(line.as_bytes()).is_err() {
                *guard = Connection::Gone;
            }
        }
    }
}
