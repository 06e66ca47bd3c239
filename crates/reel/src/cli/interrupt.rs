//! Ctrl-C, SIGTERM and SIGHUP: the first asks the running export to stop after the frames in
//! hand (it then removes its temporary files and keeps only complete output); a second exits at
//! once, after removing the temporary and lock files the export has open.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use reel::Progress;

static CURRENT: Mutex<Option<Arc<Progress>>> = Mutex::new(None);
static PRESSES: AtomicUsize = AtomicUsize::new(0);
static INSTALLED: OnceLock<()> = OnceLock::new();

/// Routes Ctrl-C to `progress` until the returned guard is dropped.
pub fn abort_on_ctrl_c(progress: Arc<Progress>) -> Guard {
    INSTALLED.get_or_init(|| {
        let result = ctrlc::set_handler(|| {
            if PRESSES.fetch_add(1, Ordering::SeqCst) > 0 {
                exit_now("interrupted again, exiting now");
            }
            match CURRENT.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
                Some(p) => p.request_abort(),
                None => exit_now("interrupted"),
            }
        });
        if let Err(e) = result {
            eprintln!("reel: warning: cannot catch Ctrl-C ({e}); it will kill the export");
        }
    });
    *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = Some(progress);
    Guard
}

/// Ends the process at once, leaving no temporary file behind.
fn exit_now(why: &str) -> ! {
    let removed = reel::output::remove_registered_temp_files();
    eprintln!("\nreel: {why} (removed {removed} temporary file(s))");
    std::process::exit(130);
}

/// Stops routing Ctrl-C to the export when dropped.
pub struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}
