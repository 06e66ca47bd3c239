//! [`RunLoop`]: the calling thread's run loop, its modes and what they hold.

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;

use crate::autorelease_observers::{self, AutoreleaseObservers};
use crate::handle::RunLoopHandle;
use crate::loop_pools::LoopPools;
use crate::main_thread;
use crate::mode::{Mode, ModeItem, ModeTable};
use crate::observer::Observer;
use crate::perform::{block_matches, Block, BlockQueue};
use crate::source::Source;
use crate::timer::Timer;
use crate::wake::LoopShared;

/// A thread's run loop (CFRunLoop): sleeps until a timer is due, a source is signalled or a
/// closure is scheduled, then fires them, notifying observers at each step of a pass.
///
/// There is one per thread: [`RunLoop::current`] creates it on first use. `RunLoop` is a cheap,
/// clonable, `!Send` handle; other threads reach the loop through a [`RunLoopHandle`].
///
/// Every run loop starts with the [autorelease observers](crate#autorelease-pools) installed in
/// the common modes, so whatever callbacks autorelease is released each time the loop goes to
/// sleep.
///
/// A `RunLoop` cannot leave its thread:
///
/// ```compile_fail
/// fn send<T: Send>(_: T) {}
/// send(runloop::RunLoop::current());
/// ```
#[derive(Clone)]
pub struct RunLoop {
    inner: Rc<LoopInner>,
}

/// The loop's state, reached only through `RunLoop`'s methods. Borrows of its `RefCell`s are
/// never held across user code: callbacks are fired from snapshots, and removed items are dropped
/// after the borrow ends.
struct LoopInner {
    shared: Arc<LoopShared>,
    modes: RefCell<ModeTable>,
    blocks: RefCell<BlockQueue>,
    /// The mode of the innermost run, `None` when not running.
    current_mode: RefCell<Option<Mode>>,
    /// How many runs are active (nested runs count each).
    depth: Cell<usize>,
    /// Shared with the autorelease observers, which push and pop it.
    pools: Rc<LoopPools>,
    autorelease_observers: RefCell<Option<AutoreleaseObservers>>,
    is_main: bool,
}

/// What a run changed on the loop when it started, for [`RunLoop::leave_run`] to restore
/// (CoreFoundation's per-run data): the outer run's mode, its stop request (a stop reaches only
/// the run it was meant for) and where its autorelease pools end.
pub(crate) struct OuterRun {
    mode: Option<Mode>,
    stop: bool,
    pool_base: usize,
}

/// Owns the thread's loop; its drop (at thread exit) tears the loop down.
struct ThreadLoop(RunLoop);

impl Drop for ThreadLoop {
    fn drop(&mut self) {
        self.0.inner.tear_down();
    }
}

thread_local! {
    static CURRENT: OnceCell<ThreadLoop> = const { OnceCell::new() };
}

impl RunLoop {
    /// The calling thread's run loop, created (with the autorelease observers) on first use.
    ///
    /// On the main thread, creating it also publishes it for [`RunLoop::main`].
    ///
    /// # Panics
    /// If called while the thread's locals are being destroyed (after its loop was torn down).
    pub fn current() -> RunLoop {
        CURRENT
            .try_with(|cell| cell.get_or_init(|| ThreadLoop(RunLoop::create())).0.clone())
            .expect("RunLoop::current() called during thread exit, after the thread's run loop was torn down")
    }

    /// A handle to the main thread's run loop, once the main thread has created it.
    ///
    /// The main thread's loop exists from its first [`RunLoop::current`] call; until then this
    /// returns `None`. A program that wants other threads to reach the main loop calls
    /// `RunLoop::current()` at the top of `main`, before spawning them.
    pub fn main() -> Option<RunLoopHandle> {
        main_thread::main_loop()
    }

    fn create() -> RunLoop {
        let is_main = main_thread::is_main_thread();
        let run_loop = RunLoop {
            inner: Rc::new(LoopInner {
                shared: Arc::new(LoopShared::new()),
                modes: RefCell::new(ModeTable::new()),
                blocks: RefCell::new(BlockQueue::default()),
                current_mode: RefCell::new(None),
                depth: Cell::new(0),
                pools: Rc::default(),
                autorelease_observers: RefCell::new(None),
                is_main,
            }),
        };
        run_loop.install_autorelease_observers();
        if is_main {
            main_thread::register_main_loop(run_loop.handle());
        }
        run_loop
    }

    /// A `Send + Sync` handle for waking, stopping and scheduling work on this loop from other
    /// threads.
    pub fn handle(&self) -> RunLoopHandle {
        RunLoopHandle::new(self.inner.shared.clone())
    }

    /// Whether this is the main thread's loop.
    pub fn is_main(&self) -> bool {
        self.inner.is_main
    }

    /// Adds `timer` to `mode` ([`Mode::COMMON`]: to every common mode). A no-op if it is already
    /// there or has been invalidated.
    pub fn add_timer(&self, timer: &Timer, mode: &Mode) {
        if timer.is_valid() {
            self.inner.modes.borrow_mut().add(timer, mode);
        }
    }

    /// Removes `timer` from `mode` (it stays valid and can be added again).
    pub fn remove_timer(&self, timer: &Timer, mode: &Mode) {
        self.inner.remove(timer, mode);
    }

    /// Whether `timer` is in `mode` ([`Mode::COMMON`]: in the common set).
    pub fn contains_timer(&self, timer: &Timer, mode: &Mode) -> bool {
        self.inner.modes.borrow().contains(timer, mode)
    }

    /// Adds `source` to `mode` ([`Mode::COMMON`]: to every common mode). A no-op if it is
    /// already there or has been invalidated.
    pub fn add_source(&self, source: &Source, mode: &Mode) {
        if source.is_valid() {
            source.wake_on_signal(&self.inner.shared);
            self.inner.modes.borrow_mut().add(source, mode);
            if source.is_signalled() {
                // Signalled before it was added: handle it without waiting for another signal.
                self.inner.shared.wake();
            }
        }
    }

    /// Removes `source` from `mode` (CFRunLoopRemoveSource; [`Mode::COMMON`]: from every common
    /// mode). It stays valid and can be added again; a signal it has not been handled for stays
    /// pending and is handled once it is back in the mode a run is in.
    ///
    /// ```
    /// use std::time::Duration;
    /// use runloop::{Mode, RunLoop, RunResult, Source};
    ///
    /// let run_loop = RunLoop::current();
    /// let source = Source::new(|_| println!("handled"));
    /// run_loop.add_source(&source, &Mode::DEFAULT);
    /// source.signal();
    /// run_loop.remove_source(&source, &Mode::DEFAULT);
    /// assert_eq!(run_loop.run(), RunResult::Finished); // the mode is empty: nothing handled
    /// assert!(source.is_signalled());
    /// run_loop.add_source(&source, &Mode::DEFAULT);
    /// let result = run_loop.run_in_mode(&Mode::DEFAULT, Duration::from_secs(10), true);
    /// assert_eq!(result, RunResult::HandledSource);
    /// ```
    pub fn remove_source(&self, source: &Source, mode: &Mode) {
        self.inner.remove(source, mode);
    }

    /// Whether `source` is in `mode` ([`Mode::COMMON`]: in the common set).
    pub fn contains_source(&self, source: &Source, mode: &Mode) -> bool {
        self.inner.modes.borrow().contains(source, mode)
    }

    /// Adds `observer` to `mode` ([`Mode::COMMON`]: to every common mode). A no-op if it is
    /// already there or has been invalidated.
    pub fn add_observer(&self, observer: &Observer, mode: &Mode) {
        if observer.is_valid() {
            self.inner.modes.borrow_mut().add(observer, mode);
        }
    }

    /// Removes `observer` from `mode` (it stays valid and can be added again).
    pub fn remove_observer(&self, observer: &Observer, mode: &Mode) {
        self.inner.remove(observer, mode);
    }

    /// Whether `observer` is in `mode` ([`Mode::COMMON`]: in the common set).
    pub fn contains_observer(&self, observer: &Observer, mode: &Mode) -> bool {
        self.inner.modes.borrow().contains(observer, mode)
    }

    /// Marks `mode` common: it gets every item added to [`Mode::COMMON`], before or after.
    /// [`Mode::DEFAULT`] is common from the start. Modes cannot be unmarked (as in
    /// CoreFoundation).
    ///
    /// # Panics
    /// If `mode` is [`Mode::COMMON`] itself.
    pub fn add_common_mode(&self, mode: &Mode) {
        self.inner.modes.borrow_mut().add_common_mode(mode);
    }

    /// Whether `mode` is marked common.
    pub fn is_common_mode(&self, mode: &Mode) -> bool {
        self.inner.modes.borrow().is_common(mode)
    }

    /// The modes marked common, in the order they were marked.
    pub fn common_modes(&self) -> Vec<Mode> {
        self.inner.modes.borrow().common_modes()
    }

    /// The mode of the innermost active run, `None` when the loop is not running.
    pub fn current_mode(&self) -> Option<Mode> {
        self.inner.current_mode.borrow().clone()
    }

    /// How many runs are active on this loop (nested runs count each).
    pub fn run_depth(&self) -> usize {
        self.inner.depth.get()
    }

    /// Schedules `work` to run once on this loop in `mode` (any common mode for
    /// [`Mode::COMMON`]) (CFRunLoopPerformBlock). Closures run in the order scheduled, early in
    /// the next pass of a run in a matching mode; a pending closure keeps such a run going.
    pub fn perform(&self, mode: &Mode, work: impl FnOnce() + 'static) {
        self.inner.blocks.borrow_mut().push(Block {
            mode: mode.clone(),
            work: Box::new(work),
        });
        self.inner.shared.wake();
    }

    /// Stops the innermost active run: it returns [`RunResult::Stopped`](crate::RunResult::Stopped)
    /// at the end of its current pass. Outer runs go on. A stop while the loop is not running is
    /// cleared when the next run starts.
    pub fn stop(&self) {
        self.inner.shared.request_stop();
    }

    /// Makes the loop run another pass without sleeping, or wakes it if it sleeps.
    pub fn wake_up(&self) {
        self.inner.shared.wake();
    }

    /// The two autorelease observers this loop has, if they were not invalidated (see
    /// [the crate docs](crate#autorelease-pools)).
    pub fn autorelease_observers(&self) -> Option<AutoreleaseObservers> {
        self.inner
            .autorelease_observers
            .borrow()
            .clone()
            .filter(AutoreleaseObservers::is_valid)
    }

    /// Makes sure the autorelease observers are in the common modes (creating new ones if they
    /// were invalidated) and returns them. Every loop starts with them installed.
    pub fn install_autorelease_observers(&self) -> AutoreleaseObservers {
        let observers = match self.autorelease_observers() {
            Some(existing) => existing,
            None => autorelease_observers::create(Rc::clone(&self.inner.pools)),
        };
        self.add_observer(&observers.push, &Mode::COMMON);
        self.add_observer(&observers.drain, &Mode::COMMON);
        let previous = self
            .inner
            .autorelease_observers
            .replace(Some(observers.clone()));
        drop(previous);
        observers
    }

    /// Whether both handles are the same loop.
    pub fn ptr_eq(a: &RunLoop, b: &RunLoop) -> bool {
        Rc::ptr_eq(&a.inner, &b.inner)
    }
}

/// What a run (run.rs) needs from the loop.
impl RunLoop {
    /// The part of the loop other threads share: wake-ups, stop requests, remote closures.
    pub(crate) fn shared(&self) -> &LoopShared {
        &self.inner.shared
    }

    /// A snapshot of the valid items of one kind in `mode`, in the order added; the caller fires
    /// them with no borrow of the loop held.
    pub(crate) fn items<T: ModeItem>(&self, mode: &Mode) -> Vec<T> {
        self.inner.modes.borrow().items(mode)
    }

    /// Takes the closures, local or sent from other threads, that run in `mode`, in the order
    /// scheduled; the others stay queued.
    pub(crate) fn take_blocks(&self, mode: &Mode) -> VecDeque<Block> {
        let remote = self.inner.shared.take_blocks();
        let is_common = self.is_common_mode(mode);
        let mut queue = self.inner.blocks.borrow_mut();
        queue.extend(remote.into_iter().map(Into::into));
        queue.take_matching(mode, is_common)
    }

    /// Puts closures taken by [`take_blocks`](RunLoop::take_blocks) that did not run back at
    /// the front of the queue.
    pub(crate) fn requeue_blocks(&self, blocks: VecDeque<Block>) {
        self.inner.blocks.borrow_mut().requeue_front(blocks);
    }

    /// Whether a closure, local or from another thread, waits to run in `mode`.
    pub(crate) fn has_blocks_for(&self, mode: &Mode) -> bool {
        let is_common = self.is_common_mode(mode);
        self.inner.blocks.borrow().has_matching(mode, is_common)
            || self
                .inner
                .shared
                .has_block_for(|scheduled| block_matches(scheduled, mode, is_common))
    }

    /// No timers, no sources, no closures waiting: a run in `mode` has nothing to wait for.
    pub(crate) fn mode_is_empty(&self, mode: &Mode) -> bool {
        !self.inner.modes.borrow().has_timers_or_sources(mode) && !self.has_blocks_for(mode)
    }

    /// A run in `mode` starts: it becomes the current mode, starts with no stop request and
    /// pushes its pools above the outer run's.
    pub(crate) fn enter_run(&self, mode: &Mode) -> OuterRun {
        let inner = &self.inner;
        let outer = OuterRun {
            mode: inner.current_mode.replace(Some(mode.clone())),
            stop: inner.shared.replace_stop(false),
            pool_base: inner.pools.enter_run(),
        };
        inner.depth.set(inner.depth.get() + 1);
        outer
    }

    /// A run ends: restores the outer run's state, then pops the pools this run left open (all
    /// of them after a panic; normally the exit observer already has).
    pub(crate) fn leave_run(&self, outer: OuterRun) {
        let inner = &self.inner;
        inner.depth.set(inner.depth.get() - 1);
        let mode = inner.current_mode.replace(outer.mode);
        drop(mode);
        inner.shared.replace_stop(outer.stop);
        inner.pools.leave_run(outer.pool_base);
    }
}

impl LoopInner {
    fn remove<T: ModeItem>(&self, item: &T, mode: &Mode) {
        let removed = self.modes.borrow_mut().remove(item, mode);
        drop(removed);
    }

    /// At thread exit: refuses further closures and drops every item and queued closure (with
    /// no borrow held, since their drops are user code).
    fn tear_down(&self) {
        let remote = self.shared.shut_down();
        drop(remote);
        let local = self.blocks.borrow_mut().take_all();
        drop(local);
        let modes = self.modes.replace(ModeTable::new());
        drop(modes);
        let observers = self.autorelease_observers.take();
        drop(observers);
    }
}

impl fmt::Debug for RunLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunLoop")
            .field("thread", &self.inner.shared.thread())
            .field("main", &self.is_main())
            .field("current_mode", &self.current_mode())
            .field("run_depth", &self.run_depth())
            .finish()
    }
}
