//! The autorelease pools a run loop's observers pushed, per run.

use std::cell::{Cell, RefCell};

use autorelease::PoolToken;

/// The pools a run loop's autorelease observers pushed, innermost last, and where the innermost
/// run's pools start (a nested run pushes above its outer run's pool and must not pop it).
///
/// The loop and its two observers share it (`Rc`): the observers push and pop, the loop marks
/// where each run starts and pops what a run left open.
#[derive(Default)]
pub(crate) struct LoopPools {
    tokens: RefCell<Vec<PoolToken>>,
    run_base: Cell<usize>,
}

impl LoopPools {
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
        // SAFETY: `token` came from `autorelease::push` on this thread (a `LoopPools` is shared
        // only through `Rc`, by its `!Send` run loop and that loop's observers, so it never leaves
        // the loop's thread), and it was taken off the stack, so it is popped once. Tokens are popped newest first, and pools that callbacks
        // opened with `autoreleasepool` closed before the callbacks returned, so it names the
        // innermost pool. No borrow into the pool can outlive the pop: `Obj::autorelease` hands
        // out borrows only through the innermost pool's marker, the loop's pools have no marker,
        // and callbacks are `'static`, so they cannot hold the marker of a pool outside the run.
        unsafe { autorelease::pop(token) };
    }
}
