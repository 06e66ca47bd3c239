//! Ctrl-C: the first press asks the running export to stop after the
//! frames in hand; a second press exits at once.

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
                eprintln!("\nreel: interrupted again, exiting now");
                std::process::exit(130);
            }
            match CURRENT.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
                Some(p) => p.request_abort(),
                None => std::process::exit(130),
            }
        });
        if let Err(e) = result {
            eprintln!("reel: warning: cannot catch Ctrl-C ({e}); it will kill the export");
        }
    });
    *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = Some(progress);
    Guard
}

/// Stops routing Ctrl-C to the export when dropped.
pub struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}
