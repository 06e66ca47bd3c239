//! Messages for misuse and for memory that grows: bad pops, missing pools, high-water marks and
//! the growth warning.
//!
//! Everything here runs off the fast paths: the pool stack calls in only when a threshold in
//! `alert_at` is crossed, a token is refused, or a switch from [`crate::config`] is on.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::panic::Location;
use std::ptr::NonNull;

use crate::config;
use crate::object::ObjectHeader;
use crate::pool_stack::{PanicPayload, PoolStack};
use crate::token::RawToken;

/// A new high-water mark is reported once it passes the last report by this much (as objc4 does).
pub(crate) const HIGH_WATER_STEP: usize = 256;

/// The prefix of every line the runtime prints, like objc4's `objc[pid]:`.
pub(crate) fn prefix() -> String {
    format!("autorelease[{}]:", std::process::id())
}

/// An identity for the current thread that is safe to compute during thread teardown.
pub(crate) fn thread_label() -> String {
    #[cfg(unix)]
    {
        // SAFETY: `pthread_self` has no preconditions.
        format!("{:#x}", unsafe { libc::pthread_self() } as usize)
    }
    #[cfg(not(unix))]
    {
        crate::pool_stack::with_stack(|s| format!("{:p}", s))
    }
}

/// Stops the program for a token that is not a live pool of this thread. Nothing was released.
#[cold]
#[track_caller]
pub(crate) fn bad_pop(token: RawToken) -> ! {
    panic!(
        "autorelease: invalid or prematurely-freed autorelease pool {:#x}: it is not a live pool of thread {} \
         (already popped, never pushed, or pushed on another thread)",
        token.0,
        thread_label()
    )
}

pub(crate) fn missing_pool_message(obj: NonNull<ObjectHeader>, site: &Location<'_>) -> String {
    // SAFETY: the caller holds the reference being autoreleased, so the object is live.
    let class = unsafe { obj.as_ref() }.class().name();
    format!(
        "{} MISSING POOLS: (thread {}) object {:p} of class {class} autoreleased with no pool in place - just leaking \
         (it is kept until the thread exits) - at {site}",
        prefix(),
        thread_label(),
        obj.as_ptr(),
    )
}

#[cold]
pub(crate) fn report_missing_pool(obj: NonNull<ObjectHeader>, site: &Location<'_>) {
    eprintln!("{}", missing_pool_message(obj, site));
}

/// A second destructor panic during one pop: the first is re-raised, this one can only be told.
#[cold]
pub(crate) fn report_discarded_panic(payload: PanicPayload) {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "<non-string panic payload>".to_string());
    eprintln!("{} a destructor panicked while a pool was being drained; the pool was drained anyway: {message}", prefix());
    drop(payload);
}

/// A pool pushed while the growth warning is on.
struct PushRecord {
    depth: usize,
    pending_at_push: usize,
    site: &'static Location<'static>,
    warned: bool,
}

thread_local! {
    static PUSHES: RefCell<Vec<PushRecord>> = const { RefCell::new(Vec::new()) };
}

pub(crate) fn record_push(depth: usize, pending: usize, site: &'static Location<'static>) {
    let _ = PUSHES.try_with(|pushes| {
        let mut pushes = pushes.borrow_mut();
        pushes.retain(|r| r.depth < depth);
        pushes.push(PushRecord {
            depth,
            pending_at_push: pending,
            site,
            warned: false,
        });
    });
}

pub(crate) fn forget_pools_from(depth: usize) {
    let _ = PUSHES.try_with(|pushes| pushes.borrow_mut().retain(|r| r.depth < depth));
}

/// The pending count past which the innermost pool (at `depth`) is over the growth limit.
pub(crate) fn growth_alert_at(depth: usize) -> usize {
    let Some(limit) = config::growth_warning() else {
        return usize::MAX;
    };
    PUSHES
        .try_with(|pushes| match pushes.borrow().last() {
            Some(r) if r.depth == depth && !r.warned => r.pending_at_push.saturating_add(limit),
            _ => usize::MAX,
        })
        .unwrap_or(usize::MAX)
}

/// Called when `pending` passes `alert_at`: reports what crossed its threshold, then re-arms.
#[cold]
pub(crate) fn alert(s: &PoolStack, site: &'static Location<'static>) {
    let flags = config::flags();
    let pending = s.pending();
    if flags & config::PRINT_HIGH_WATER != 0 && s.claim_high_water_report(pending) {
        eprintln!(
            "{} POOL HIGHWATER: new high water mark of {pending} pending releases for thread {} at {site}",
            prefix(),
            thread_label()
        );
    }
    if let Some(limit) = config::growth_warning() {
        let _ = PUSHES.try_with(|pushes| {
            if let Some(r) = pushes.borrow_mut().last_mut() {
                if r.depth == s.depth()
                    && !r.warned
                    && pending.saturating_sub(r.pending_at_push) > limit
                {
                    r.warned = true;
                    eprintln!("{}", growth_message(limit, r.site, site));
                }
            }
        });
    }
    s.refresh_alert();
}

fn growth_message(limit: usize, pushed_at: &Location<'_>, site: &Location<'_>) -> String {
    let mut m = String::new();
    let _ = write!(
        m,
        "{} POOL GROWTH: the autorelease pool pushed at {pushed_at} holds more than {limit} objects (thread {}; \
         latest autoreleased at {site}).\n  Objects autoreleased into it are released only when it is popped, so \
         memory grows with every iteration of the loop that fills it. Push a pool per iteration \
         (`autoreleasepool(|pool| ...)` inside the loop) to keep memory flat.",
        prefix(),
        thread_label()
    );
    m
}
