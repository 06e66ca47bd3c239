//! What timers, sources and observers share: whether the item is valid, and its callback.

use std::any::Any;
use std::cell::Cell;
use std::sync::Arc;

use crate::callback::CallbackSlot;

/// Where an item keeps its validity: a `Cell` for timers and observers, state shared with other
/// threads for sources (their signallers must see it).
pub(crate) trait Validity {
    fn is_valid(&self) -> bool;
    /// Marks the item invalid; true if it was valid until now.
    fn invalidate(&self) -> bool;
}

impl Validity for Cell<bool> {
    fn is_valid(&self) -> bool {
        self.get()
    }
    fn invalidate(&self) -> bool {
        self.replace(false)
    }
}

impl<V: Validity + ?Sized> Validity for Arc<V> {
    fn is_valid(&self) -> bool {
        (**self).is_valid()
    }
    fn invalidate(&self) -> bool {
        (**self).invalidate()
    }
}

/// The part of a timer, source or observer that a run loop deals with (the common state of
/// CFRunLoopTimer, CFRunLoopSource and CFRunLoopObserver): validity and callback.
///
/// It does not know the loops it was added to: a loop owns its items, and an invalidated item
/// counts as absent from every mode at once (the mode table skips it and drops it the next time
/// it changes). Invalidation is one-way and drops the callback (when it returns, if it is
/// running), so a callback can invalidate its own item.
pub(crate) struct Registration<F: ?Sized, V = Cell<bool>> {
    valid: V,
    callback: CallbackSlot<F>,
}

impl<F: ?Sized> Registration<F> {
    /// A valid registration whose validity only the loop's thread sees.
    pub(crate) fn new(callback: Box<F>) -> Registration<F> {
        Registration::with_validity(Cell::new(true), callback)
    }
}

impl<F: ?Sized, V: Validity> Registration<F, V> {
    /// A registration keeping its validity in `valid` (which must start valid).
    pub(crate) fn with_validity(valid: V, callback: Box<F>) -> Registration<F, V> {
        Registration {
            valid,
            callback: CallbackSlot::new(callback),
        }
    }

    pub(crate) fn validity(&self) -> &V {
        &self.valid
    }

    pub(crate) fn is_valid(&self) -> bool {
        self.valid.is_valid()
    }

    pub(crate) fn is_firing(&self) -> bool {
        self.callback.is_firing()
    }

    /// Marks the item invalid and drops its callback. Does nothing the second time.
    ///
    /// Afterwards the item holds no user code, so dropping it runs none: the mode table relies
    /// on that to drop invalidated items while it is borrowed.
    pub(crate) fn invalidate(&self) {
        if self.valid.invalidate() {
            self.callback.clear();
        }
    }

    /// Runs `call` on the callback (see [`CallbackSlot::fire`]); the callback is kept only if
    /// the item is still valid afterwards.
    pub(crate) fn fire(&self, call: impl FnOnce(&mut F)) -> Result<bool, Box<dyn Any + Send>> {
        self.callback.fire(call, || self.is_valid())
    }
}
