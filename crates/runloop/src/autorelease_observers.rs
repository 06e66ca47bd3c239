//! The observers that give every run-loop turn its own autorelease pool, as Foundation installs
//! them on Cocoa's run loops.

use std::rc::Rc;

use crate::activity::Activity;
use crate::loop_pools::LoopPools;
use crate::observer::Observer;

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

/// Creates the two observers, pushing and popping `pools` (the loop's pool stack, which they
/// share with it).
pub(crate) fn create(pools: Rc<LoopPools>) -> AutoreleaseObservers {
    let pusher = Rc::clone(&pools);
    let push = Observer::new(
        Activity::ENTRY,
        true,
        AUTORELEASE_PUSH_ORDER,
        move |_, _| pusher.push(),
    );
    let drain = Observer::new(
        Activity::BEFORE_WAITING | Activity::EXIT,
        true,
        AUTORELEASE_DRAIN_ORDER,
        move |_, activity| {
            if activity == Activity::BEFORE_WAITING {
                pools.pop_innermost();
                pools.push();
            } else {
                pools.pop_run();
            }
        },
    );
    AutoreleaseObservers { push, drain }
}
