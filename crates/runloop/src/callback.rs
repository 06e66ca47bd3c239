//! The slot that holds an item's callback and fires it without re-entrance.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A timer's, source's or observer's callback.
///
/// While it runs, the callback is taken out of the slot: no borrow is held across user code, an
/// item can invalidate itself from inside its callback (the callback is then dropped when it
/// returns), and a nested run skips an item that is already firing instead of re-entering it.
pub(crate) struct CallbackSlot<F: ?Sized> {
    callback: RefCell<Option<Box<F>>>,
    firing: Cell<bool>,
}

impl<F: ?Sized> CallbackSlot<F> {
    pub(crate) fn new(callback: Box<F>) -> CallbackSlot<F> {
        CallbackSlot {
            callback: RefCell::new(Some(callback)),
            firing: Cell::new(false),
        }
    }

    pub(crate) fn is_firing(&self) -> bool {
        self.firing.get()
    }

    /// Runs `call` on the callback, catching a panic so the caller can finish its bookkeeping
    /// before resuming it. Afterwards the callback is put back if `keep()` (the item is still
    /// valid), dropped otherwise. Returns `Ok(false)` if there was no callback (already dropped
    /// or firing).
    pub(crate) fn fire(
        &self,
        call: impl FnOnce(&mut F),
        keep: impl FnOnce() -> bool,
    ) -> Result<bool, Box<dyn Any + Send>> {
        let Some(mut callback) = self.callback.borrow_mut().take() else {
            return Ok(false);
        };
        self.firing.set(true);
        let result = catch_unwind(AssertUnwindSafe(|| call(&mut callback)));
        self.firing.set(false);
        if keep() {
            *self.callback.borrow_mut() = Some(callback);
        } else {
            drop(callback);
        }
        result.map(|()| true)
    }

    /// Drops the callback (and what it captured) unless it is running, in which case it is
    /// dropped when it returns.
    pub(crate) fn clear(&self) {
        let callback = self.callback.borrow_mut().take();
        drop(callback);
    }
}
