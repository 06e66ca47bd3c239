//! Which thread is the main thread, and the handle of its run loop.

use std::sync::OnceLock;

use crate::handle::RunLoopHandle;

static MAIN_LOOP: OnceLock<RunLoopHandle> = OnceLock::new();

/// Whether the calling thread is the process's main thread (the one `main` runs on).
pub(crate) fn is_main_thread() -> bool {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        // SAFETY: gettid and getpid take no arguments and cannot fail; the main thread's id is
        // the process id.
        unsafe { libc::gettid() == libc::getpid() }
    }
    #[cfg(target_vendor = "apple")]
    {
        // SAFETY: pthread_main_np takes no arguments and only reads the calling thread's state.
        unsafe { libc::pthread_main_np() == 1 }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android", target_vendor = "apple")))]
    {
        // The standard library names the main thread "main".
        std::thread::current().name() == Some("main")
    }
}

/// Publishes the main thread's loop (first registration wins; there is only one main thread).
pub(crate) fn register_main_loop(handle: RunLoopHandle) {
    let _ = MAIN_LOOP.set(handle);
}

pub(crate) fn main_loop() -> Option<RunLoopHandle> {
    MAIN_LOOP.get().cloned()
}
