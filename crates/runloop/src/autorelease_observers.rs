//! The observers that give every run-loop turn its own autorelease pool, as Foundation installs
//! them on Cocoa's run loops, and the stack of pools they push.

use std::cell::{Cell, RefCell};
use std::rc::Weak;

use autorelease::PoolToken;

use crate::activity::Activity;
use crate::observer::Observer;
use crate::run_loop::LoopInner;

/// Order of the observer that pushes a pool on entry: first of all entry observers, so every
/// other observer and callback of the run runs inside the pool.
pub const AUTORELEASE_PUSH_ORDER: i64 = -2_147_483_647;

/// Order of the observer that drains the pool before waiting and pops it on exit: last, after
/// every other observer of those activities.
pub const AUTORELEASE_DRAIN_ORDER: i64 = 2_147_483_647;

/// A run loop's two autorelease observers (see [the crate docs](crate#autorelease-pools)).
///
/// Remove them from a mode with [`RunLoop::remove_observer`](crate::RunLoop::remove_observer),
/// or from the loop with [`invalidate`](AutoreleaseObservers::invalidate);
/// [`RunLoop::install_autorelease_observers`](crate::RunLoop::install_autorelease_observers)
/// puts them back.
#[derive(Clone, Debug)]
pub struct AutoreleaseObservers {
    /// Entry ([`AUTORELEASE_PUSH_ORDER`]): pushes a pool.
    pub push: Observer,
    /// Before-waiting (pops the run's pool and pushes a new one) and exit (pops it), at
    /// [`AUTORELEASE_DRAIN_ORDER`].
    pub drain: Observer,
}

impl AutoreleaseObservers {
    /// Whether both observers are still valid.
    pub fn is_valid(&self) -> bool {
        self.push.is_valid() && self.drain.is_valid()
    }

    /// Removes both observers from the loop for good. Pools they pushed in runs still active
    /// are popped when those runs return.
    pub fn invalidate(&self) {
        self.push.invalidate();
        self.drain.invalidate();
    }
}

/// Creates the two observers for the loop `run_loop` (they hold it weakly: the loop owns them).
pub(crate) fn create(run_loop: Weak<LoopInner>) -> AutoreleaseObservers {
    let pusher = run_loop.clone();
    let push = Observer::new(
        Activity::ENTRY,
        true,
        AUTORELEASE_PUSH_ORDER,
        move |_, _| {
            if let Some(run_loop) = pusher.upgrade() {
                run_loop.pools.push();
            }
        },
    );
    let drain = Observer::new(
        Activity::BEFORE_WAITING | Activity::EXIT,
        true,
        AUTORELEASE_DRAIN_ORDER,
        move |_, activity| {
            if let Some(run_loop) = run_loop.upgrade() {
                if activity == Activity::BEFORE_WAITING {
                    run_loop.pools.pop_innermost();
                    run_loop.pools.push();
                } else {
                    run_loop.pools.pop_run();
                }
            }
        },
    );
    AutoreleaseObservers { push, drain }
}

/// The pools the autorelease observers pushed, innermost last, and where the innermost run's
/// pools start (a nested run pushes above its outer run's pool and must not pop it).
#[derive(Default)]
pub(crate) struct PoolStack {
    tokens: RefCell<Vec<PoolToken>>,
    run_base: Cell<usize>,
}

impl PoolStack {
    /// Pushes a pool for the innermost run.
    pub(crate) fn push(&self) {
        let token = autorelease::push();
        self.tokens.borrow_mut().push(token);
    }

    /// Pops the innermost run's newest pool, if it has one.
    pub(crate) fn pop_innermost(&self) {
        let base = self.run_base.get();
        let token = {
            let mut tokens = self.tokens.borrow_mut();
            if tokens.len() > base {
                tokens.pop()
            } else {
                None
            }
        };
        if let Some(token) = token {
            Self::pop_token(token);
        }
    }

    /// Pops every pool of the innermost run, newest first.
    pub(crate) fn pop_run(&self) {
        while self.tokens.borrow().len() > self.run_base.get() {
            self.pop_innermost();
        }
    }

    /// A run starts: its pools go above those already pushed. Returns the outer run's base.
    pub(crate) fn enter_run(&self) -> usize {
        self.run_base.replace(self.tokens.borrow().len())
    }

    /// A run ends: pops the pools it left open (after a panic, or if its observers were removed
    /// mid-run) and restores the outer run's base.
    pub(crate) fn leave_run(&self, outer_base: usize) {
        let base = self.run_base.get();
        // Restore first: if a destructor panics during a pop, the outer run keeps a consistent
        // base, and pools left above it are popped by the outer run's own drain or exit.
        self.run_base.set(outer_base);
        while self.tokens.borrow().len() > base {
            let token = self.tokens.borrow_mut().pop();
            if let Some(token) = token {
                Self::pop_token(token);
            }
        }
    }

    fn pop_token(token: PoolToken) {
        // SAFETY: `token` came from `autorelease::push` on this thread (a `PoolStack` lives in a
        // `!Send` run loop and its observers run on the loop's thread), and it was taken off the
        // stack, so it is popped once. Tokens are popped newest first, and pools that callbacks
        // opened with `autoreleasepool` closed before the callbacks returned, so it names the
        // innermost pool. No borrow into the pool can outlive the pop: `Obj::autorelease` hands
        // out borrows only through the innermost pool's marker, the loop's pools have no marker,
        // and callbacks are `'static`, so they cannot hold the marker of a pool outside the run.
        unsafe { autorelease::pop(token) };
    }
}
