//! Signalled sources: callbacks the loop runs when another party marks them ready.

use std::fmt;
use std::panic::resume_unwind;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::mode::mode_item;
use crate::registration::{Registration, Validity};
use crate::wake::LoopShared;

/// A callback the loop runs once each time the source has been signalled (a CFRunLoopSource of
/// version 0).
///
/// Signal it from the loop's thread with [`signal`](Source::signal), or from any thread through a
/// [`SourceSignaller`]; either marks it ready and wakes the loop. Ready sources of a pass are
/// handled in ascending [`order`](Source::order), ties in the order they were added. Signals that
/// arrive before the source is handled coalesce into one call.
///
/// ```
/// use runloop::{Mode, RunLoop, RunResult, Source};
/// use std::time::Duration;
///
/// let run_loop = RunLoop::current();
/// let source = Source::new(|_| println!("work arrived"));
/// run_loop.add_source(&source, &Mode::DEFAULT);
/// let signaller = source.signaller();
/// std::thread::spawn(move || signaller.signal()).join().unwrap();
/// let result = run_loop.run_in_mode(&Mode::DEFAULT, Duration::from_secs(10), true);
/// assert_eq!(result, RunResult::HandledSource);
/// ```
#[derive(Clone)]
pub struct Source(Rc<SourceInner>);

/// What a source runs when handled: told itself (to invalidate itself, say).
type SourceCallback = dyn FnMut(&Source);

struct SourceInner {
    order: i64,
    /// Its validity is the `valid` flag of the state signallers share.
    registration: Registration<SourceCallback, Arc<SourceShared>>,
}

/// What signallers on other threads share with the source.
struct SourceShared {
    signalled: AtomicBool,
    valid: AtomicBool,
    /// The loop to wake; set when the source is added to one.
    target: Mutex<std::sync::Weak<LoopShared>>,
}

impl Source {
    /// A source with order 0.
    pub fn new(callback: impl FnMut(&Source) + 'static) -> Source {
        Source::with_order(0, callback)
    }

    /// A source handled, among those ready in the same pass, in ascending `order`.
    pub fn with_order(order: i64, callback: impl FnMut(&Source) + 'static) -> Source {
        let shared = Arc::new(SourceShared {
            signalled: AtomicBool::new(false),
            valid: AtomicBool::new(true),
            target: Mutex::new(std::sync::Weak::new()),
        });
        Source(Rc::new(SourceInner {
            order,
            registration: Registration::with_validity(shared, Box::new(callback)),
        }))
    }

    /// A `Send + Sync` signaller for this source, for other threads.
    pub fn signaller(&self) -> SourceSignaller {
        SourceSignaller(Arc::clone(self.0.registration.validity()))
    }

    /// Marks the source ready and wakes its run loop (CFRunLoopSourceSignal + CFRunLoopWakeUp).
    pub fn signal(&self) {
        self.shared().signal();
    }

    /// Whether the source is signalled and not yet handled.
    pub fn is_signalled(&self) -> bool {
        self.shared().signalled.load(Ordering::Acquire)
    }

    /// The source's order among ready sources (lower first).
    pub fn order(&self) -> i64 {
        self.0.order
    }

    /// Stops the source for good: removes it from its run loop's modes, makes signals no-ops and
    /// drops its callback (after it returns, if called from inside it).
    pub fn invalidate(&self) {
        self.0.registration.invalidate();
    }

    /// Whether the source can still be handled.
    pub fn is_valid(&self) -> bool {
        self.0.registration.is_valid()
    }

    /// Whether both handles are the same source.
    pub fn ptr_eq(a: &Source, b: &Source) -> bool {
        Rc::ptr_eq(&a.0, &b.0)
    }

    pub(crate) fn is_firing(&self) -> bool {
        self.0.registration.is_firing()
    }

    /// Makes signals wake `target`, the loop the source was just added to.
    pub(crate) fn wake_on_signal(&self, target: &Arc<LoopShared>) {
        *self
            .shared()
            .target
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Arc::downgrade(target);
    }

    /// Clears the signal; true if it was set (the source is then handled).
    pub(crate) fn take_signal(&self) -> bool {
        self.shared().signalled.swap(false, Ordering::AcqRel)
    }

    /// Runs the callback; a panic resumes after the callback slot is restored.
    pub(crate) fn fire(&self) {
        if let Err(panic) = self.0.registration.fire(|callback| callback(self)) {
            resume_unwind(panic);
        }
    }

    fn shared(&self) -> &SourceShared {
        self.0.registration.validity()
    }
}

impl SourceShared {
    fn signal(&self) {
        if !self.is_valid() {
            return;
        }
        // Set before waking: the loop clears its wake flag before it looks for ready sources, so
        // either it sees this flag or it sees the wake-up.
        self.signalled.store(true, Ordering::Release);
        let target = self
            .target
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .upgrade();
        if let Some(target) = target {
            target.wake();
        }
    }
}

impl Validity for SourceShared {
    fn is_valid(&self) -> bool {
        self.valid.load(Ordering::Acquire)
    }

    /// Also drops a pending signal: an invalidated source is never handled.
    fn invalidate(&self) -> bool {
        let was_valid = self.valid.swap(false, Ordering::AcqRel);
        if was_valid {
            self.signalled.store(false, Ordering::Release);
        }
        was_valid
    }
}

mode_item!(Source in sources, debug { order: order, signalled: is_signalled });

/// Signals a [`Source`] from any thread: marks it ready and wakes the run loop it was added to.
#[derive(Clone)]
pub struct SourceSignaller(Arc<SourceShared>);

impl SourceSignaller {
    /// Marks the source ready and wakes its loop; a no-op once the source is invalidated.
    pub fn signal(&self) {
        self.0.signal();
    }

    /// Whether the source is still valid.
    pub fn is_valid(&self) -> bool {
        self.0.is_valid()
    }
}

impl fmt::Debug for SourceSignaller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceSignaller")
            .field("valid", &self.is_valid())
            .finish()
    }
}
