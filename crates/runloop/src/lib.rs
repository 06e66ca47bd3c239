//! A CFRunLoop-style run loop for Rust, on the [`autorelease`] runtime.
//!
//! Each thread has one [`RunLoop`] ([`RunLoop::current`]). It sleeps, using no CPU, until a
//! [`Timer`] is due, a [`Source`] is signalled or a closure is scheduled with
//! [`RunLoop::perform`], fires them, and notifies [`Observer`]s at each step of a pass
//! ([`Activity`]). Items belong to [`Mode`]s, and a run fires only the items of the mode it runs
//! in. Other threads reach a loop through a `Send + Sync` [`RunLoopHandle`], which can wake it,
//! stop it and schedule closures on it; [`RunLoop::main`] gives the main thread's.
//!
//! ```
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use std::sync::Arc;
//! use std::time::Duration;
//! use runloop::{Mode, RunLoop, RunResult, Timer};
//!
//! let run_loop = RunLoop::current();
//! let progress = Arc::new(AtomicU64::new(0));
//!
//! // A worker reports progress, and stops the loop through its handle when done.
//! let handle = run_loop.handle();
//! let reported = progress.clone();
//! let worker = std::thread::spawn(move || {
//!     for step in 1..=5 {
//!         reported.store(step, Ordering::Relaxed);
//!     }
//!     handle.perform(&Mode::DEFAULT, || RunLoop::current().stop()).unwrap();
//! });
//!
//! // The loop polls the progress with a repeating timer.
//! let seen = progress.clone();
//! let poll = Timer::repeating(Duration::from_millis(10), move |_| {
//!     println!("progress: {}", seen.load(Ordering::Relaxed));
//! });
//! run_loop.add_timer(&poll, &Mode::DEFAULT);
//!
//! assert_eq!(run_loop.run(), RunResult::Stopped);
//! worker.join().unwrap();
//! assert_eq!(progress.load(Ordering::Relaxed), 5);
//! ```
//!
//! # Autorelease pools
//!
//! Like Foundation on Cocoa's run loops, every run loop starts with two observers in the common
//! modes ([`AutoreleaseObservers`]):
//!
//! - on [`Activity::ENTRY`], at order [`AUTORELEASE_PUSH_ORDER`] (-2147483647), it pushes a pool;
//! - on [`Activity::BEFORE_WAITING`], at order [`AUTORELEASE_DRAIN_ORDER`] (2147483647), it pops
//!   that pool and pushes a new one; on [`Activity::EXIT`], same order, it pops it.
//!
//! So whatever a callback autoreleases is released before the loop next goes to sleep, not when
//! the run ends, and a loop that runs for hours keeps a flat pool. Passes that do not sleep (a
//! source was just handled, or more work is pending) do not drain; the next sleeping pass does.
//! A run in a mode that is not common gets no pool: mark it with [`RunLoop::add_common_mode`].
//!
//! ```
//! use std::time::Duration;
//! use autorelease::Obj;
//! use runloop::{Mode, RunLoop, Timer};
//!
//! let run_loop = RunLoop::current();
//! run_loop.add_timer(
//!     &Timer::once(Duration::ZERO, |_| Obj::new(vec![0u8; 1024]).autorelease_to_innermost()),
//!     &Mode::DEFAULT,
//! );
//! run_loop.run();
//! assert_eq!(autorelease::stats().pending, 0);
//! ```
//!
//! # Callbacks
//!
//! Callbacks may add and remove timers, sources and observers, invalidate themselves, stop the
//! loop, run it again (a nested run) and autorelease freely: the loop never holds a borrow of its
//! state across user code. An item already firing is not fired again by a nested run. A callback
//! that panics leaves the loop usable: the run pops the pools it pushed, restores the loop's state
//! and lets the panic propagate out of [`RunLoop::run_in_mode`].

mod activity;
mod autorelease_observers;
mod callback;
mod handle;
mod loop_pools;
mod main_thread;
mod mode;
mod observer;
mod perform;
mod registration;
mod run;
mod run_loop;
mod run_result;
mod source;
mod timer;
mod wake;

pub use activity::Activity;
pub use autorelease_observers::{
    AutoreleaseObservers, AUTORELEASE_DRAIN_ORDER, AUTORELEASE_PUSH_ORDER,
};
pub use handle::{RunLoopGone, RunLoopHandle};
pub use mode::Mode;
pub use observer::Observer;
pub use run_loop::RunLoop;
pub use run_result::RunResult;
pub use source::{Source, SourceSignaller};
pub use timer::Timer;
