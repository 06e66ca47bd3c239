//! The per-thread pool stack: objc4's push, pop and autorelease over a chain of pages.
//!
//! Each thread has one [`PoolStack`] in thread-local storage. Its hot page is the page that
//! takes new entries, or null (no page), or [`PLACEHOLDER`] (one pool pushed, nothing in it yet,
//! no page allocated: objc4's `EMPTY_POOL_PLACEHOLDER`).
//!
//! Object destructors run in the middle of a pop, and may autorelease, push and pop pools of
//! their own, or panic. So nothing here holds a reference into a page across a release, every
//! loop step re-reads the state, and a pop runs until the *depth* (the number of live pools, kept
//! in each boundary) drops below the popped pool, rather than until a saved slot pointer is
//! reached: a nested pop may free the very page that pointer was in.
//!
//! The file reads top to bottom as a call goes: the entry points the rest of the crate calls, the
//! state they share, the inlined fast paths, then the `#[cold]` slow paths in the order push →
//! autorelease → pop → drain, and last the page bookkeeping they all use.

use std::any::Any;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe, Location};
use std::ptr::{self, NonNull};

use crate::config::{self, MissingPoolPolicy};
use crate::diagnostics;
use crate::entry::{Entry, MAX_DEPTH};
use crate::object::{self, ObjectHeader};
use crate::page::{Page, PagePtr};
use crate::stats::PoolStats;
use crate::thread_exit;
use crate::token::RawToken;

/// The hot page's address when one empty pool is pushed and no page exists (objc4's
/// `EMPTY_POOL_PLACEHOLDER`).
const PLACEHOLDER_ADDR: usize = 1;
const PLACEHOLDER: *mut Page = ptr::without_provenance_mut(PLACEHOLDER_ADDR);

/// `hot` as a page, if it is one (not null, not the placeholder).
fn real_page(hot: *mut Page) -> Option<PagePtr> {
    if hot.addr() > PLACEHOLDER_ADDR {
        PagePtr::from_raw(hot)
    } else {
        None
    }
}

/// A panic caught from a destructor during a pop, re-raised once the pop is complete.
pub(crate) type PanicPayload = Box<dyn Any + Send + 'static>;

/// A token that names no live pool of this thread; nothing was released.
#[derive(Debug)]
pub(crate) struct BadToken(pub(crate) RawToken);

/// A pushed pool: its token, and what its marker needs to check it is innermost.
///
/// The field order is deliberate (and pinned by `repr(C)`): `push` returns this through memory,
/// written as three 8-byte stores, and `autoreleasepool` copies `depth` and `serial` into its
/// marker. Adjacent, they would be copied with one 16-byte load spanning two stores, which the
/// CPU cannot forward from its store buffer: the load would wait for both stores to reach the
/// cache (BENCHMARKS.md has what that cost).
#[repr(C)]
pub(crate) struct Pushed {
    pub depth: usize,
    pub token: RawToken,
    pub serial: u64,
}

// The marker's two fields must not be adjacent (see `Pushed`).
const _: () = assert!(
    std::mem::offset_of!(Pushed, serial)
        != std::mem::offset_of!(Pushed, depth) + size_of::<usize>()
        && std::mem::offset_of!(Pushed, depth)
            != std::mem::offset_of!(Pushed, serial) + size_of::<u64>()
);

// ---------------------------------------------------------------------------------------------
// Entry points

/// Pushes a pool (objc4's `push`).
#[inline]
pub(crate) fn push(site: &'static Location<'static>) -> Pushed {
    STACK.with(|s| s.push(site))
}

/// Hands one reference of `obj` to the innermost pool (objc4's `autoreleaseFast`).
#[inline]
pub(crate) fn autorelease(obj: NonNull<ObjectHeader>, site: &'static Location<'static>) {
    STACK.with(|s| s.autorelease(obj, site))
}

/// Like [`autorelease`], for a safe pool marker: hands `obj` over only if the marker's pool
/// (`depth`, `serial`) is the innermost live pool, in the same thread-local access. Returns
/// `false`, keeping the reference with the caller, otherwise.
#[inline]
pub(crate) fn autorelease_into(
    obj: NonNull<ObjectHeader>,
    depth: usize,
    serial: u64,
    site: &'static Location<'static>,
) -> bool {
    STACK.with(|s| {
        if !s.is_innermost(depth, serial) {
            return false;
        }
        s.autorelease(obj, site);
        true
    })
}

/// Pops the pool `token` names and every pool pushed after it (objc4's `pop`), in two steps: this
/// fast path pops `token`'s pool if it is the innermost one, holds nothing and no diagnostics are
/// on, and returns `false`, having changed nothing, otherwise; then [`pop_any`] does the rest.
#[inline]
pub(crate) fn pop_if_empty_innermost(token: RawToken) -> bool {
    STACK.with(|s| s.pop_empty_innermost(token))
}

/// The general path of a pop (see [`pop_if_empty_innermost`]). Returns the first panic a
/// destructor raised, after the pop has completed, or `BadToken` (nothing released) if `token`
/// is not a live pool of this thread; the caller reports that, so the report can name the
/// caller's own location.
#[cold]
#[inline(never)]
pub(crate) fn pop_any(token: RawToken) -> Result<Option<PanicPayload>, BadToken> {
    STACK.with(|s| s.pop_slow(token))
}

/// Hands `obj`'s unit to the caller as a return value (objc4's `objc_autoreleaseReturnValue`):
/// kept aside for a claim of the same object, and moved into the innermost pool by anything else
/// that observes the pools.
#[inline]
pub(crate) fn autorelease_return(obj: NonNull<ObjectHeader>, site: &'static Location<'static>) {
    STACK.with(|s| s.autorelease_return(obj, site))
}

/// Like [`autorelease_return`], for a safe pool marker: only if the marker's pool is the innermost
/// live pool. Returns `false`, keeping the reference with the caller, otherwise.
#[inline]
pub(crate) fn autorelease_return_into(
    obj: NonNull<ObjectHeader>,
    depth: usize,
    serial: u64,
    site: &'static Location<'static>,
) -> bool {
    STACK.with(|s| {
        if !s.is_innermost(depth, serial) {
            return false;
        }
        s.autorelease_return(obj, site);
        true
    })
}

/// Takes a unit of `obj` for the caller (objc4's `objc_retainAutoreleasedReturnValue`): the
/// hand-off's unit if `obj` is the object handed off, else a new one (a retain), after moving
/// any other hand-off into the innermost pool.
///
/// # Safety
/// `obj` must be live: handed off and not yet claimed, or held alive by a pool or a reference.
#[inline]
pub(crate) unsafe fn claim_return(obj: NonNull<ObjectHeader>) {
    STACK.with(|s| {
        if s.core.handoff.get() == obj.as_ptr() {
            s.core.handoff.set(ptr::null_mut());
            return;
        }
        s.flush_handoff();
        // SAFETY: the caller's guarantee: `obj` is live (object.rs invariant 1).
        unsafe { object::retain(obj) }
    })
}

/// Releases everything on this thread, objects autoreleased with no pool included, and frees
/// its pages. Runs when the thread exits.
pub(crate) fn drain_thread() {
    STACK.with(PoolStack::drain)
}

/// This thread's statistics (an unclaimed hand-off is moved into its pool first).
pub(crate) fn stats() -> PoolStats {
    STACK.with(|s| {
        s.flush_handoff();
        s.stats()
    })
}

/// Runs `f` on this thread's pool stack, once any unclaimed hand-off is in its pool.
#[inline]
pub(crate) fn with_stack<R>(f: impl FnOnce(&PoolStack) -> R) -> R {
    STACK.with(|s| {
        s.flush_handoff();
        f(s)
    })
}

// ---------------------------------------------------------------------------------------------
// State

/// One thread's pools. Only `Cell`s, and no `Drop`, so the thread-local needs no destructor
/// registration and stays usable while other thread-locals are being destroyed.
pub(crate) struct PoolStack {
    core: Core,
    counters: Counters,
    alerts: Alerts,
}

/// What push, autorelease and pop read and write: the pools themselves.
struct Core {
    /// The page taking new entries, null, or [`PLACEHOLDER`].
    hot: Cell<*mut Page>,
    /// Live pools, the placeholder included.
    depth: Cell<usize>,
    /// Pushes so far; the newest pool's serial.
    serial: Cell<u64>,
    /// The serial of the pool the placeholder stands for.
    placeholder_serial: Cell<u64>,
    /// Releases waiting in this thread's pages.
    pending: Cell<usize>,
    /// Pools being popped: those at depth >= `sealed_depth` pushed no later than `sealed_serial`.
    /// Their markers may no longer take objects (a destructor could otherwise hand a borrow of a
    /// freshly autoreleased object to another object of the same, dying pool).
    sealed_depth: Cell<usize>,
    sealed_serial: Cell<u64>,
    /// Whether the thread-exit drain is registered for this thread.
    exit_hook_armed: Cell<bool>,
    /// A returned object not yet claimed (objc4's return-value hand-off), or null. It holds the
    /// callee's unit; the next push, pop, autorelease, hand-off or thread exit moves it into the
    /// innermost pool first, so it is released exactly once, by the pool it would have been in.
    handoff: Cell<*mut ObjectHeader>,
    /// Where the unclaimed hand-off was made (for the missing-pool report).
    handoff_site: Cell<&'static Location<'static>>,
}

/// Statistics: written on the way, read only by [`PoolStack::stats`].
struct Counters {
    high_water_pending: Cell<usize>,
    pages: Cell<usize>,
    high_water_pages: Cell<usize>,
    total_released: Cell<u64>,
    total_pages_allocated: Cell<u64>,
}

/// When the fast paths must step aside for diagnostics.
struct Alerts {
    /// `pending` above which autorelease takes the slow path, which runs diagnostics
    /// (`usize::MAX` when none are on).
    alert_at: Cell<usize>,
    /// The pending count of the last high-water report.
    reported_high_water: Cell<usize>,
}

thread_local! {
    static STACK: PoolStack = const {
        PoolStack {
            core: Core {
                hot: Cell::new(ptr::null_mut()),
                depth: Cell::new(0),
                serial: Cell::new(0),
                placeholder_serial: Cell::new(0),
                pending: Cell::new(0),
                sealed_depth: Cell::new(usize::MAX),
                sealed_serial: Cell::new(0),
                exit_hook_armed: Cell::new(false),
                handoff: Cell::new(ptr::null_mut()),
                handoff_site: Cell::new(Location::caller()),
            },
            counters: Counters {
                high_water_pending: Cell::new(0),
                pages: Cell::new(0),
                high_water_pages: Cell::new(0),
                total_released: Cell::new(0),
                total_pages_allocated: Cell::new(0),
            },
            alerts: Alerts {
                alert_at: Cell::new(usize::MAX),
                reported_high_water: Cell::new(0),
            },
        }
    };
}

// ---------------------------------------------------------------------------------------------
// What the rest of the crate reads

impl PoolStack {
    /// The hot page, if it is a real page (not null, not the placeholder).
    #[inline]
    pub(crate) fn hot_page(&self) -> Option<PagePtr> {
        let hot = self.core.hot.get();
        if hot.addr() > PLACEHOLDER_ADDR {
            PagePtr::from_raw(hot)
        } else {
            None
        }
    }

    pub(crate) fn has_placeholder(&self) -> bool {
        self.core.hot.get() == PLACEHOLDER
    }

    pub(crate) fn depth(&self) -> usize {
        self.core.depth.get()
    }

    pub(crate) fn pending(&self) -> usize {
        self.core.pending.get()
    }

    pub(crate) fn placeholder_serial(&self) -> u64 {
        self.core.placeholder_serial.get()
    }

    /// The first page of the thread, if any.
    pub(crate) fn cold_page(&self) -> Option<PagePtr> {
        let mut page = self.hot_page()?;
        while let Some(parent) = page.parent() {
            page = parent;
        }
        Some(page)
    }

    /// An identity for the owning thread, unique among live threads: stored in its pages, and
    /// the address in the token of a pool that has no page yet.
    pub(crate) fn owner(&self) -> usize {
        ptr::from_ref(self).addr()
    }

    pub(crate) fn stats(&self) -> PoolStats {
        self.note_high_water();
        let (core, counters) = (&self.core, &self.counters);
        PoolStats {
            depth: core.depth.get(),
            pending: core.pending.get(),
            pages: counters.pages.get(),
            high_water_pending: counters.high_water_pending.get(),
            high_water_pages: counters.high_water_pages.get(),
            total_autoreleased: counters.total_released.get() + core.pending.get() as u64,
            total_pushes: core.serial.get(),
            total_pages_allocated: counters.total_pages_allocated.get(),
        }
    }

    pub(crate) fn reset_high_water(&self) {
        let pending = self.core.pending.get();
        self.counters.high_water_pending.set(pending);
        self.counters
            .high_water_pages
            .set(self.counters.pages.get());
        self.alerts.reported_high_water.set(pending);
        self.refresh_alert();
    }

    /// Whether the pool pushed at `depth` with `serial` is the innermost live pool, and not
    /// being popped.
    #[inline]
    pub(crate) fn is_innermost(&self, depth: usize, serial: u64) -> bool {
        let core = &self.core;
        core.depth.get() == depth
            && !(depth >= core.sealed_depth.get() && serial <= core.sealed_serial.get())
    }

    /// Whether `pending` is a new high-water mark worth reporting (one report per
    /// [`HIGH_WATER_STEP`](diagnostics::HIGH_WATER_STEP) objects); if so, records it as reported.
    pub(crate) fn claim_high_water_report(&self, pending: usize) -> bool {
        let due = pending >= self.alerts.reported_high_water.get() + diagnostics::HIGH_WATER_STEP;
        if due {
            self.alerts.reported_high_water.set(pending);
        }
        due
    }

    /// Recomputes when the autorelease fast path must call into diagnostics.
    pub(crate) fn refresh_alert(&self) {
        let flags = config::flags();
        let mut at = usize::MAX;
        if flags & config::PRINT_HIGH_WATER != 0 {
            at = self
                .alerts
                .reported_high_water
                .get()
                .saturating_add(diagnostics::HIGH_WATER_STEP);
        }
        if flags & config::GROWTH_WARNING != 0 {
            at = at.min(diagnostics::growth_alert_at(self.core.depth.get()));
        }
        self.alerts.alert_at.set(at);
    }

    fn note_high_water(&self) {
        let hw = &self.counters.high_water_pending;
        hw.set(hw.get().max(self.core.pending.get()));
    }

    /// Whether any diagnostic wants to see this pop (the fast paths then step aside).
    #[inline]
    fn diagnostics_on(&self) -> bool {
        self.alerts.alert_at.get() != usize::MAX || config::flags() & config::DIAGNOSTICS != 0
    }
}

// ---------------------------------------------------------------------------------------------
// Fast paths

impl PoolStack {
    #[inline]
    fn push(&self, site: &'static Location<'static>) -> Pushed {
        self.flush_handoff();
        let core = &self.core;
        let depth = core.depth.get() + 1;
        if depth > MAX_DEPTH {
            too_deep();
        }
        let serial = core.serial.get() + 1;
        core.depth.set(depth);
        core.serial.set(serial);
        let flags = config::flags();
        let boundary = Entry::boundary(depth, serial);
        let token = if flags
            & (config::DEBUG_POOL_ALLOCATION | config::PRINT_HIGH_WATER | config::GROWTH_WARNING)
            != 0
        {
            self.push_with_diagnostics(boundary, serial, flags, site)
        } else {
            match self.hot_page() {
                Some(page) if !page.is_full() => RawToken::new(page.push(boundary).addr(), serial),
                None if core.hot.get().is_null() => {
                    core.hot.set(PLACEHOLDER);
                    core.placeholder_serial.set(serial);
                    RawToken::placeholder(self.owner(), serial)
                }
                _ => RawToken::new(self.add_entry(boundary).addr(), serial),
            }
        };
        Pushed {
            token,
            depth,
            serial,
        }
    }

    #[inline]
    fn autorelease(&self, obj: NonNull<ObjectHeader>, site: &'static Location<'static>) {
        self.flush_handoff();
        self.autorelease_now(obj, site);
    }

    /// [`autorelease`](Self::autorelease) once no hand-off is waiting.
    #[inline]
    fn autorelease_now(&self, obj: NonNull<ObjectHeader>, site: &'static Location<'static>) {
        let pending = self.core.pending.get() + 1;
        if let Some(page) = self.hot_page() {
            if self.core.depth.get() != 0 && pending <= self.alerts.alert_at.get() {
                if let Some(merged) = page.top().and_then(|top| top.coalesced_with(obj)) {
                    page.replace_top(merged);
                    self.core.pending.set(pending);
                    return;
                }
                if !page.is_full() {
                    page.push(Entry::object(obj));
                    self.core.pending.set(pending);
                    return;
                }
            }
        }
        self.autorelease_slow(obj, site);
    }

    /// The common case of an empty pool popped with no diagnostics on: its boundary (or the
    /// placeholder) is the newest entry, so there is nothing to release and no page to trim.
    /// Returns `false`, having changed nothing, in every other case.
    #[inline]
    fn pop_empty_innermost(&self, token: RawToken) -> bool {
        if self.diagnostics_on() || !self.core.handoff.get().is_null() {
            return false;
        }
        let core = &self.core;
        let depth = core.depth.get();
        if self.has_placeholder() {
            if token.addr() == self.owner()
                && depth == 1
                && token.matches_serial(Entry::serial_bits(core.placeholder_serial.get()))
            {
                core.hot.set(ptr::null_mut());
                core.depth.set(0);
                return true;
            }
            return false;
        }
        let Some(page) = self.hot_page() else {
            return false;
        };
        page.check_magic();
        let Some(top) = page.top() else { return false };
        let is_our_boundary = page.next().addr() - size_of::<Entry>() == token.addr()
            && top
                .as_boundary()
                .is_some_and(|b| b.depth == depth && token.matches_serial(b.serial_bits));
        if is_our_boundary {
            self.note_high_water();
            page.pop();
            core.depth.set(depth - 1);
        }
        is_our_boundary
    }
}

impl PoolStack {
    /// Keeps `obj`'s unit aside for a claim, after moving an earlier hand-off into its pool.
    #[inline]
    fn autorelease_return(&self, obj: NonNull<ObjectHeader>, site: &'static Location<'static>) {
        self.flush_handoff();
        if !self.core.exit_hook_armed.get() {
            self.arm_exit_hook();
        }
        self.core.handoff.set(obj.as_ptr());
        self.core.handoff_site.set(site);
    }

    /// Moves an unclaimed hand-off into the innermost pool.
    #[inline]
    fn flush_handoff(&self) {
        if !self.core.handoff.get().is_null() {
            self.flush_handoff_slow();
        }
    }

    #[cold]
    #[inline(never)]
    fn flush_handoff_slow(&self) {
        let obj = self.core.handoff.replace(ptr::null_mut());
        // SAFETY: non-null (checked by the caller); the slot held the callee's unit, which goes
        // to the pool now (object.rs invariant 1: ownership moves, the count does not change).
        let obj = unsafe { NonNull::new_unchecked(obj) };
        self.autorelease_now(obj, self.core.handoff_site.get());
    }

    /// A hand-off must be released at thread exit even if the thread never had a page.
    #[cold]
    fn arm_exit_hook(&self) {
        if thread_exit::arm() {
            self.core.exit_hook_armed.set(true);
        }
    }
}

#[cold]
fn too_deep() -> ! {
    panic!("autorelease: more than {MAX_DEPTH} nested pools on one thread")
}

// ---------------------------------------------------------------------------------------------
// Slow paths: push, autorelease, pop, drain

impl PoolStack {
    #[cold]
    fn push_with_diagnostics(
        &self,
        boundary: Entry,
        serial: u64,
        flags: u32,
        site: &'static Location<'static>,
    ) -> RawToken {
        let slot = if flags & config::DEBUG_POOL_ALLOCATION != 0 {
            self.push_on_fresh_page(boundary)
        } else {
            self.add_entry(boundary)
        };
        if flags & config::GROWTH_WARNING != 0 {
            diagnostics::record_push(self.depth(), self.pending(), site);
        }
        self.refresh_alert();
        RawToken::new(slot.addr(), serial)
    }

    /// `AUTORELEASE_DEBUG_POOL_ALLOCATION`: every pool starts a page of its own.
    #[cold]
    fn push_on_fresh_page(&self, entry: Entry) -> *mut Entry {
        if self.has_placeholder() {
            let page = self.new_page(None);
            page.push(Entry::boundary(1, self.core.placeholder_serial.get()));
            self.set_hot(page.as_raw());
        }
        let parent = self.hot_page();
        if let Some(spare) = parent.and_then(PagePtr::child) {
            self.free_pages(spare);
        }
        let page = self.new_page(parent);
        self.set_hot(page.as_raw());
        page.push(entry)
    }

    /// Appends an entry wherever it fits, taking the full-page and no-page paths (push and
    /// autorelease both end here when the hot page cannot take the entry).
    fn add_entry(&self, entry: Entry) -> *mut Entry {
        match self.hot_page() {
            Some(page) if !page.is_full() => page.push(entry),
            Some(page) => self.add_to_full_page(page, entry),
            None => self.add_without_page(entry),
        }
    }

    #[cold]
    fn add_to_full_page(&self, mut page: PagePtr, entry: Entry) -> *mut Entry {
        // Pages after the hot one are empty, so the first child always has room.
        page = match page.child() {
            Some(child) => child,
            None => self.new_page(Some(page)),
        };
        debug_assert!(page.is_empty());
        self.set_hot(page.as_raw());
        page.push(entry)
    }

    #[cold]
    fn add_without_page(&self, entry: Entry) -> *mut Entry {
        let had_placeholder = self.has_placeholder();
        let page = self.new_page(None);
        self.set_hot(page.as_raw());
        if had_placeholder {
            // The boundary the placeholder stood for.
            page.push(Entry::boundary(1, self.core.placeholder_serial.get()));
        }
        page.push(entry)
    }

    #[cold]
    #[inline(never)]
    fn autorelease_slow(&self, obj: NonNull<ObjectHeader>, site: &'static Location<'static>) {
        if self.depth() == 0 {
            match config::missing_pool_policy() {
                MissingPoolPolicy::Keep => {}
                MissingPoolPolicy::Warn => diagnostics::report_missing_pool(obj, site),
                MissingPoolPolicy::Panic => {
                    let message = diagnostics::missing_pool_message(obj, site);
                    // SAFETY: the reference was handed to us to keep; we give it up instead.
                    unsafe { object::release(obj) };
                    panic!("{message}");
                }
            }
        }
        match self.hot_page().and_then(|page| {
            page.top()
                .and_then(|top| top.coalesced_with(obj))
                .map(|merged| (page, merged))
        }) {
            Some((page, merged)) => page.replace_top(merged),
            None => {
                self.add_entry(Entry::object(obj));
            }
        }
        let pending = self.core.pending.get() + 1;
        self.core.pending.set(pending);
        if pending > self.alerts.alert_at.get() {
            diagnostics::alert(self, site);
        }
    }

    /// The depth of the live pool of this thread that `token` names, if it names one.
    #[cold]
    fn find_pool(&self, token: RawToken) -> Option<usize> {
        if let Some(hot) = self.hot_page() {
            hot.check_magic();
        }
        let addr = token.addr();
        if addr == self.owner() {
            if self.has_placeholder() {
                return (self.depth() == 1
                    && token.matches_serial(Entry::serial_bits(self.placeholder_serial())))
                .then_some(1);
            }
            // The placeholder has since become the boundary at the start of the first page.
            let cold = self.cold_page()?;
            let boundary = cold.live_entry_at(cold.begin().addr())?.as_boundary()?;
            return (boundary.depth == 1 && token.matches_serial(boundary.serial_bits))
                .then_some(1);
        }
        let mut page = self.hot_page();
        while let Some(p) = page {
            p.check_magic();
            // Only integer comparisons until `addr` is known to be a live slot of this thread's
            // page.
            if let Some(entry) = p.live_entry_at(addr) {
                let boundary = entry.as_boundary()?;
                return (token.matches_serial(boundary.serial_bits)
                    && boundary.depth <= self.depth())
                .then_some(boundary.depth);
            }
            page = p.parent();
        }
        None
    }

    #[cold]
    fn pop_slow(&self, token: RawToken) -> Result<Option<PanicPayload>, BadToken> {
        // Into the pool it would have been in, which may be the one popped now.
        self.flush_handoff();
        let Some(level) = self.find_pool(token) else {
            return Err(BadToken(token));
        };
        self.note_high_water();
        let panic = if self.has_placeholder() {
            self.set_hot(ptr::null_mut());
            self.core.depth.set(0);
            None
        } else {
            let panic = self.release_until(Some(level - 1));
            self.trim_pages();
            panic
        };
        if self.alerts.alert_at.get() != usize::MAX || config::flags() & config::GROWTH_WARNING != 0
        {
            diagnostics::forget_pools_from(level);
            self.refresh_alert();
        }
        Ok(panic)
    }

    /// Releases entries newest first until only `target_depth` pools remain (or, with
    /// `None`, until nothing is left at all). Destructor panics are caught so the pop always
    /// completes; the first one is returned.
    fn release_until(&self, target_depth: Option<usize>) -> Option<PanicPayload> {
        let core = &self.core;
        let saved = (core.sealed_depth.get(), core.sealed_serial.get());
        core.sealed_depth.set(target_depth.map_or(0, |d| d + 1));
        core.sealed_serial.set(core.serial.get());
        let mut first_panic = None;
        loop {
            match panic::catch_unwind(AssertUnwindSafe(|| self.release_loop(target_depth))) {
                Ok(()) => break,
                Err(payload) => {
                    if first_panic.is_none() {
                        first_panic = Some(payload);
                    } else {
                        diagnostics::report_discarded_panic(payload);
                    }
                }
            }
        }
        core.sealed_depth.set(saved.0);
        core.sealed_serial.set(saved.1);
        first_panic
    }

    fn release_loop(&self, target_depth: Option<usize>) {
        let core = &self.core;
        while target_depth.is_none_or(|t| core.depth.get() > t) {
            // A destructor's unclaimed hand-off joins the pool being popped, as its autorelease
            // would have.
            self.flush_handoff();
            let Some(entry) = self.take_top() else { break };
            if let Some(boundary) = entry.as_boundary() {
                debug_assert_eq!(boundary.depth, core.depth.get());
                core.depth.set(boundary.depth - 1);
            } else if let Some((obj, count)) = entry.as_object() {
                core.pending.set(core.pending.get() - count);
                let released = &self.counters.total_released;
                released.set(released.get() + count as u64);
                // SAFETY: the entry owned `count` units of `obj` (object.rs invariant 1), and it is
                // gone from the page, so nothing else will release them. All but the last cannot
                // destroy the object.
                unsafe {
                    object::release_many_not_last(obj, count - 1);
                    object::release(obj);
                }
            }
        }
    }

    /// Takes the newest entry of the thread, moving the hot page down past empty pages.
    fn take_top(&self) -> Option<Entry> {
        if self.has_placeholder() {
            self.set_hot(ptr::null_mut());
            return Some(Entry::boundary(1, self.core.placeholder_serial.get()));
        }
        let mut page = self.hot_page()?;
        loop {
            if let Some(entry) = page.pop() {
                return Some(entry);
            }
            page = page.parent()?;
            // The hot page was checked when the pop began (`find_pool`, `drain`); each page it
            // moves to is checked before anything is read from it.
            page.check_magic();
            self.set_hot(page.as_raw());
        }
    }

    /// After a pop: leave the hot page on the newest entry, keep one empty page after it for
    /// reuse (objc4's hysteresis, so a pool that spills onto a second page in a loop does not
    /// allocate every iteration), and free the rest.
    fn trim_pages(&self) {
        let Some(mut hot) = self.hot_page() else {
            return;
        };
        if config::flags() & config::DEBUG_POOL_ALLOCATION != 0 {
            return self.trim_every_empty_page(hot);
        }
        while hot.is_empty() {
            match hot.parent() {
                Some(parent) => hot = parent,
                None => break,
            }
        }
        self.set_hot(hot.as_raw());
        if let Some(spare) = hot.child().and_then(PagePtr::child) {
            self.free_pages(spare);
        }
    }

    /// `AUTORELEASE_DEBUG_POOL_ALLOCATION`: every pool had a page of its own, so the popped ones
    /// are given back at once.
    fn trim_every_empty_page(&self, mut hot: PagePtr) {
        while hot.is_empty() {
            match hot.parent() {
                Some(parent) => {
                    self.free_pages(hot);
                    hot = parent;
                    self.set_hot(hot.as_raw());
                }
                None => {
                    self.free_pages(hot);
                    self.set_hot(ptr::null_mut());
                    return;
                }
            }
        }
        if let Some(child) = hot.child() {
            self.free_pages(child);
        }
    }

    #[cold]
    fn drain(&self) {
        self.flush_handoff();
        if let Some(hot) = self.hot_page() {
            hot.check_magic();
        }
        self.core.exit_hook_armed.set(false);
        self.note_high_water();
        if let Some(payload) = self.release_until(None) {
            diagnostics::report_discarded_panic(payload);
        }
        if let Some(cold) = self.cold_page() {
            self.free_pages(cold);
        }
        self.set_hot(ptr::null_mut());
        self.core.depth.set(0);
    }
}

// ---------------------------------------------------------------------------------------------
// Pages

impl PoolStack {
    fn new_page(&self, parent: Option<PagePtr>) -> PagePtr {
        let page = PagePtr::allocate(parent, self.owner());
        let counters = &self.counters;
        let pages = counters.pages.get() + 1;
        counters.pages.set(pages);
        counters
            .high_water_pages
            .set(counters.high_water_pages.get().max(pages));
        counters
            .total_pages_allocated
            .set(counters.total_pages_allocated.get() + 1);
        if parent.is_none() && !self.core.exit_hook_armed.get() && thread_exit::arm() {
            self.core.exit_hook_armed.set(true);
        }
        page
    }

    /// Makes `new` the hot page; under `AUTORELEASE_DEBUG_POOL_PROTECT` the old one becomes
    /// read-only and the new one writable (page.rs invariant 5).
    fn set_hot(&self, new: *mut Page) {
        let old = self.core.hot.replace(new);
        if config::flags() & config::PROTECT_POOLS != 0 && old != new {
            if let Some(old) = real_page(old) {
                old.set_writable(false);
            }
            if let Some(new) = real_page(new) {
                new.set_writable(true);
            }
        }
    }

    /// Frees `page` and the pages after it.
    fn free_pages(&self, page: PagePtr) {
        let mut count = 1;
        let mut p = page;
        let hot = self.core.hot.get();
        let mut frees_hot = page.as_raw() == hot;
        while let Some(child) = p.child() {
            count += 1;
            p = child;
            frees_hot |= p.as_raw() == hot;
        }
        if frees_hot {
            // Not through `set_hot`: the page is going back to the source, writable.
            self.core.hot.set(ptr::null_mut());
        }
        let parent = page.parent();
        // SAFETY: only empty pages after the hot one, or pages being discarded whole, are freed,
        // and callers drop every `PagePtr` to them.
        unsafe { page.free_with_children() };
        let pages = &self.counters.pages;
        pages.set(pages.get() - count);
        // Unlinking wrote the parent: read-only again unless it is the hot page (invariant 5).
        if let Some(parent) = parent.filter(|p| Some(*p) != self.hot_page()) {
            parent.set_writable(false);
        }
    }
}
