//! What a timer and an observer share: whether it is valid, its callback, and the run loop it
//! was added to.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::rc::Weak;

use crate::callback::CallbackSlot;
use crate::mode::ModeItem;
use crate::run_loop::LoopInner;

/// The part of a timer or observer that ties it to a run loop (CFRunLoopTimer's and
/// CFRunLoopObserver's common state).
///
/// Invalidation is one-way: it removes the item from every mode of its loop and drops the
/// callback (when it returns, if it is running), so a callback can invalidate its own item.
pub(crate) struct Registration<F: ?Sized> {
    valid: Cell<bool>,
    callback: CallbackSlot<F>,
    /// The loop the item was added to; weak, since the loop holds the item.
    run_loop: RefCell<Weak<LoopInner>>,
}

impl<F: ?Sized> Registration<F> {
    pub(crate) fn new(callback: Box<F>) -> Registration<F> {
        Registration {
            valid: Cell::new(true),
            callback: CallbackSlot::new(callback),
            run_loop: RefCell::new(Weak::new()),
        }
    }

    pub(crate) fn is_valid(&self) -> bool {
        self.valid.get()
    }

    pub(crate) fn is_firing(&self) -> bool {
        self.callback.is_firing()
    }

    pub(crate) fn attach(&self, run_loop: Weak<LoopInner>) {
        *self.run_loop.borrow_mut() = run_loop;
    }

    /// Invalidates `item`, the handle this registration belongs to: removes it from its loop's
    /// modes and drops the callback. Does nothing the second time.
    pub(crate) fn invalidate<T: ModeItem>(&self, item: &T) {
        if !self.valid.replace(false) {
            return;
        }
        // No borrow of `run_loop` is held while the loop drops its clones of the item.
        let run_loop = self.run_loop.take().upgrade();
        if let Some(run_loop) = run_loop {
            run_loop.forget(item);
        }
        self.callback.clear();
    }

    /// Runs `call` on the callback (see [`CallbackSlot::fire`]); the callback is kept only if
    /// the item is still valid afterwards.
    pub(crate) fn fire(&self, call: impl FnOnce(&mut F)) -> Result<bool, Box<dyn Any + Send>> {
        self.callback.fire(call, || self.is_valid())
    }
}
