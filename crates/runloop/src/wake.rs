//! The part of a run loop other threads can touch: its wake-up flag, stop request, queued
//! closures, and the condition variable it sleeps on.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, ThreadId};
use std::time::Instant;

use crate::mode::Mode;

/// A closure queued from another thread, to run on the loop in `mode`.
pub(crate) struct RemoteBlock {
    pub(crate) mode: Mode,
    pub(crate) work: Box<dyn FnOnce() + Send>,
}

struct WakeState {
    /// Set by every wake-up; cleared at the start of each pass, so a wake-up that arrives after
    /// the pass looked for work is never lost.
    wake_pending: bool,
    /// A stop request for the innermost run.
    stop_requested: bool,
    /// The loop is blocked in [`LoopShared::wait`].
    waiting: bool,
    /// False once the loop's thread has torn it down; queued closures are then refused.
    alive: bool,
    blocks: VecDeque<RemoteBlock>,
}

/// Shared between a run loop and its handles and source signallers.
pub(crate) struct LoopShared {
    state: Mutex<WakeState>,
    condvar: Condvar,
    thread: ThreadId,
}

impl LoopShared {
    /// State for a run loop owned by the calling thread.
    pub(crate) fn new() -> LoopShared {
        LoopShared {
            state: Mutex::new(WakeState {
                wake_pending: false,
                stop_requested: false,
                waiting: false,
                alive: true,
                blocks: VecDeque::new(),
            }),
            condvar: Condvar::new(),
            thread: thread::current().id(),
        }
    }

    /// No user code runs under this lock, so a poisoned lock still holds consistent state.
    fn lock(&self) -> MutexGuard<'_, WakeState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn thread(&self) -> ThreadId {
        self.thread
    }

    /// Makes the current or next wait return at once.
    pub(crate) fn wake(&self) {
        self.lock().wake_pending = true;
        self.condvar.notify_one();
    }

    pub(crate) fn clear_wake(&self) {
        self.lock().wake_pending = false;
    }

    /// Whether a wake-up or a stop request is pending. A stop counts on its own: it may have
    /// arrived just before the pass cleared the wake-up flag.
    pub(crate) fn wake_pending(&self) -> bool {
        let state = self.lock();
        state.wake_pending || state.stop_requested
    }

    /// Asks the innermost run to return [`RunResult::Stopped`](crate::RunResult::Stopped).
    pub(crate) fn request_stop(&self) {
        let mut state = self.lock();
        state.stop_requested = true;
        state.wake_pending = true;
        drop(state);
        self.condvar.notify_one();
    }

    /// Consumes a stop request.
    pub(crate) fn take_stop(&self) -> bool {
        std::mem::replace(&mut self.lock().stop_requested, false)
    }

    /// Sets the stop request, returning the previous one (runs save and restore it, so a stop
    /// reaches only the run it was meant for).
    pub(crate) fn replace_stop(&self, stop: bool) -> bool {
        std::mem::replace(&mut self.lock().stop_requested, stop)
    }

    pub(crate) fn is_waiting(&self) -> bool {
        self.lock().waiting
    }

    pub(crate) fn is_alive(&self) -> bool {
        self.lock().alive
    }

    /// Queues `work` for the loop and wakes it, or hands `work` back if the loop is gone.
    pub(crate) fn push_block<F: FnOnce() + Send + 'static>(
        &self,
        mode: &Mode,
        work: F,
    ) -> Result<(), F> {
        let mut state = self.lock();
        if !state.alive {
            return Err(work);
        }
        state.blocks.push_back(RemoteBlock {
            mode: mode.clone(),
            work: Box::new(work),
        });
        state.wake_pending = true;
        drop(state);
        self.condvar.notify_one();
        Ok(())
    }

    /// Takes every queued closure (the caller runs or re-queues them, outside the lock).
    pub(crate) fn take_blocks(&self) -> VecDeque<RemoteBlock> {
        std::mem::take(&mut self.lock().blocks)
    }

    pub(crate) fn has_block_for(&self, matches: impl Fn(&Mode) -> bool) -> bool {
        self.lock().blocks.iter().any(|b| matches(&b.mode))
    }

    /// Marks the loop gone and returns the closures that will never run, for the caller to drop
    /// outside the lock (their drops are user code).
    pub(crate) fn shut_down(&self) -> VecDeque<RemoteBlock> {
        let mut state = self.lock();
        state.alive = false;
        std::mem::take(&mut state.blocks)
    }

    /// Blocks the calling thread until a wake-up or stop request is pending or `until` passes
    /// (never, if `None`).
    ///
    /// The thread sleeps on the condition variable: no CPU is used while waiting. Spurious
    /// condvar wake-ups go back to sleep.
    pub(crate) fn wait(&self, until: Option<Instant>) {
        let mut state = self.lock();
        state.waiting = true;
        while !state.wake_pending && !state.stop_requested {
            match until {
                None => {
                    state = self
                        .condvar
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner)
                }
                Some(until) => {
                    let now = Instant::now();
                    if now >= until {
                        break;
                    }
                    state = self
                        .condvar
                        .wait_timeout(state, until - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            }
        }
        state.waiting = false;
    }
}
