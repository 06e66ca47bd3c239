//! Draining a thread's pools when it exits (objc4's TLS destructor).
//!
//! On Unix this is a pthread key destructor, as in objc4: glibc runs those after every Rust
//! thread-local destructor, so objects autoreleased by those destructors are drained too, and it
//! works for threads started by C code that never ran Rust before. The key is set on a thread only
//! when its first page is allocated, so threads that never autorelease pay nothing.

#[cfg(not(unix))]
use crate::pool_stack;

#[cfg(unix)]
mod key {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Once;

    use crate::pool_stack;
    use crate::valgrind;

    // Not a `OnceLock`: its value is written after its initialiser returns, where no annotation
    // can reach, and helgrind and drd (which cannot see `Once`'s futex) took every other thread's
    // read of it for a race. Here the key is published with an annotation of its own.
    static CREATED: Once = Once::new();
    static KEY: AtomicUsize = AtomicUsize::new(0);

    extern "C" fn drain_on_exit(_value: *mut libc::c_void) {
        // Unwinding out of a pthread destructor would abort anyway; say why first.
        if std::panic::catch_unwind(pool_stack::drain_thread).is_err() {
            eprintln!(
                "{} panic while draining an exiting thread's pools",
                crate::diagnostics::prefix()
            );
            std::process::abort();
        }
    }

    /// Creates the process's key, once. Called when the runtime is loaded (with the fork
    /// handlers, see `page_source`), before the program can start a thread: a thread inside
    /// `call_once` when another forks would leave the child a `Once` running for ever.
    pub(crate) fn create() {
        CREATED.call_once(|| {
            let mut key: libc::pthread_key_t = 0;
            // SAFETY: `key` is a valid out-pointer and the destructor is an `extern "C"` fn with
            // the right signature.
            let rc = unsafe { libc::pthread_key_create(&mut key, Some(drain_on_exit)) };
            assert_eq!(
                rc, 0,
                "autorelease: pthread_key_create failed ({rc}): no thread-exit draining possible"
            );
            KEY.store(key as usize, Ordering::Relaxed);
            valgrind::happens_before(&KEY);
        });
    }

    /// The key, created if the load-time constructor did not run (other platforms).
    pub(super) fn get() -> libc::pthread_key_t {
        create();
        // `call_once` returned, so the closure ran and published the key (its `happens_before`
        // precedes this `happens_after`, as drd requires).
        valgrind::happens_after(&KEY);
        KEY.load(Ordering::Relaxed) as libc::pthread_key_t
    }
}

#[cfg(unix)]
pub(crate) use key::create as create_key;

/// Registers the thread-exit drain for the calling thread; returns whether it is registered.
#[cfg(unix)]
pub(crate) fn arm() -> bool {
    let key = key::get();
    // Any non-null value makes the destructor run; it is never read.
    // SAFETY: `key` was created above and is never deleted.
    let rc = unsafe {
        libc::pthread_setspecific(key, std::ptr::NonNull::<u8>::dangling().as_ptr().cast())
    };
    assert_eq!(rc, 0, "autorelease: pthread_setspecific failed ({rc})");
    true
}

/// Registers the thread-exit drain for the calling thread; returns whether it is registered.
#[cfg(not(unix))]
pub(crate) fn arm() -> bool {
    struct DrainOnExit;
    impl Drop for DrainOnExit {
        fn drop(&mut self) {
            pool_stack::drain_thread();
        }
    }
    thread_local! {
        static GUARD: DrainOnExit = const { DrainOnExit };
    }
    GUARD.try_with(|_| ()).is_ok()
}
