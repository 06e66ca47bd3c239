//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

/// Records the order in which tracked values are dropped.
#[derive(Clone, Default)]
pub struct DropLog(Arc<Mutex<Vec<u32>>>);

impl DropLog {
    pub fn new() -> DropLog {
        DropLog::default()
    }
    pub fn track(&self, id: u32) -> Tracked {
        Tracked {
            id,
            log: self.clone(),
        }
    }
    pub fn dropped(&self) -> Vec<u32> {
        self.0.lock().unwrap().clone()
    }
}

/// A value that logs its id when dropped.
pub struct Tracked {
    pub id: u32,
    log: DropLog,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.log.0.lock().unwrap().push(self.id);
    }
}

/// Env var that marks a test run as the child half of a subprocess test.
pub const CHILD: &str = "AUTORELEASE_TEST_CHILD";

/// Whether this process is the child half of a subprocess test.
pub fn is_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

/// Re-runs the single test `name` of this test binary in a child process with `envs` set.
pub fn run_child(name: &str, envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output()
        .expect("failed to run the test binary as a child")
}

pub fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `f` on a fresh thread, so its pool statistics start from zero.
pub fn on_fresh_thread<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::spawn(f).join().unwrap()
}
