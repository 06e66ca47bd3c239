//! Debugging switches, read once from the environment and changeable at run time.
//!
//! | environment variable (objc4 name also accepted) | effect |
//! |---|---|
//! | `AUTORELEASE_DEBUG_MISSING_POOLS` (`OBJC_DEBUG_MISSING_POOLS`) | warn when an object is autoreleased with no pool |
//! | `AUTORELEASE_PRINT_POOL_HIGHWATER` (`OBJC_PRINT_POOL_HIGHWATER`) | report each new high-water mark of pending objects |
//! | `AUTORELEASE_DEBUG_POOL_ALLOCATION` (`OBJC_DEBUG_POOL_ALLOCATION`) | start every pool on a fresh page |
//! | `AUTORELEASE_POOL_GROWTH_WARNING=N` | warn once when one pool holds more than N objects |
//! | `AUTORELEASE_DEBUG_POOL_PROTECT` | keep every pool page but the hot one read-only (`mprotect`), so a stray write into a pool page stops the program at the write |
//!
//! Boolean switches accept `YES`, `1`, `true` or `on` (any case).

use std::sync::atomic::{AtomicU32, AtomicU8, AtomicUsize, Ordering};

/// What happens when an object is autoreleased while no pool is pushed on its thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissingPoolPolicy {
    /// objc4's default: keep the object until the thread exits, silently.
    Keep,
    /// Keep it, and print objc4's `MISSING POOLS` diagnostic naming the object and its type.
    Warn,
    /// Release the object now and panic: for test suites that want the mistake to fail loudly.
    Panic,
}

pub(crate) const INITIALISED: u32 = 1 << 31;
pub(crate) const DEBUG_POOL_ALLOCATION: u32 = 1 << 0;
pub(crate) const PRINT_HIGH_WATER: u32 = 1 << 1;
pub(crate) const GROWTH_WARNING: u32 = 1 << 2;
/// Pages other than the hot one are read-only. Environment only: pages protected under one
/// setting would be written unprotected under the other.
pub(crate) const PROTECT_POOLS: u32 = 1 << 3;
/// Any switch that takes push and pop off their fast paths.
pub(crate) const DIAGNOSTICS: u32 = DEBUG_POOL_ALLOCATION | PRINT_HIGH_WATER | GROWTH_WARNING;

static FLAGS: AtomicU32 = AtomicU32::new(0);
static MISSING_POOLS: AtomicU8 = AtomicU8::new(0);
static GROWTH_LIMIT: AtomicUsize = AtomicUsize::new(0);

/// The current switches, reading the environment on first use.
#[inline]
pub(crate) fn flags() -> u32 {
    let flags = FLAGS.load(Ordering::Relaxed);
    if flags & INITIALISED != 0 {
        flags
    } else {
        initialise_from_env()
    }
}

#[cold]
fn initialise_from_env() -> u32 {
    let mut flags = INITIALISED;
    if env_switch("DEBUG_POOL_ALLOCATION") {
        flags |= DEBUG_POOL_ALLOCATION;
    }
    if env_switch("PRINT_POOL_HIGHWATER") {
        flags |= PRINT_HIGH_WATER;
    }
    if env_switch("DEBUG_POOL_PROTECT") && protection_possible() {
        flags |= PROTECT_POOLS;
    }
    let missing = if env_switch("DEBUG_MISSING_POOLS") {
        MissingPoolPolicy::Warn
    } else {
        MissingPoolPolicy::Keep
    };
    let growth = std::env::var("AUTORELEASE_POOL_GROWTH_WARNING")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0);
    if let Some(limit) = growth {
        flags |= GROWTH_WARNING;
        GROWTH_LIMIT.store(limit, Ordering::Relaxed);
    }
    // Whoever initialises first wins; a setter that raced us has already set INITIALISED.
    match FLAGS.compare_exchange(0, flags, Ordering::Relaxed, Ordering::Relaxed) {
        Ok(_) => {
            MISSING_POOLS.store(missing as u8, Ordering::Relaxed);
            flags
        }
        Err(current) => current,
    }
}

/// Pool pages can be protected one by one only where the system's page is 4 KiB, like ours.
fn protection_possible() -> bool {
    #[cfg(unix)]
    {
        // SAFETY: sysconf has no preconditions.
        let system_page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        if system_page == crate::page::PAGE_SIZE as libc::c_long {
            return true;
        }
        eprintln!(
            "autorelease: AUTORELEASE_DEBUG_POOL_PROTECT ignored: the system page is {system_page} bytes, \
             pool pages are {}",
            crate::page::PAGE_SIZE
        );
    }
    false
}

fn env_switch(name: &str) -> bool {
    ["AUTORELEASE_", "OBJC_"].iter().any(|prefix| {
        std::env::var(format!("{prefix}{name}")).is_ok_and(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "yes" | "1" | "true" | "on"
            )
        })
    })
}

fn set_flag(flag: u32, on: bool) {
    flags();
    if on {
        FLAGS.fetch_or(flag, Ordering::Relaxed);
    } else {
        FLAGS.fetch_and(!flag, Ordering::Relaxed);
    }
}

/// Sets what happens to objects autoreleased with no pool in place (default: from
/// `AUTORELEASE_DEBUG_MISSING_POOLS`, else [`MissingPoolPolicy::Keep`]).
pub fn set_missing_pool_policy(policy: MissingPoolPolicy) {
    flags();
    MISSING_POOLS.store(policy as u8, Ordering::Relaxed);
}

/// The current missing-pool policy.
pub fn missing_pool_policy() -> MissingPoolPolicy {
    flags();
    match MISSING_POOLS.load(Ordering::Relaxed) {
        0 => MissingPoolPolicy::Keep,
        1 => MissingPoolPolicy::Warn,
        _ => MissingPoolPolicy::Panic,
    }
}

/// Turns the one-time growth warning on (`Some(limit)`) or off (`None`).
///
/// When on, the first time one pool holds more than `limit` objects the runtime prints, once per
/// pool, where that pool was pushed and the advice to push a pool per loop iteration: the message
/// the classic "memory grows until the thread ends" bug needs. Pools pushed while it is off are
/// not tracked.
///
/// ```
/// autorelease::set_growth_warning(Some(10_000));
/// # autorelease::set_growth_warning(None);
/// ```
pub fn set_growth_warning(limit: Option<usize>) {
    let limit = limit.filter(|&n| n > 0);
    GROWTH_LIMIT.store(limit.unwrap_or(0), Ordering::Relaxed);
    set_flag(GROWTH_WARNING, limit.is_some());
}

/// The growth-warning limit, if the warning is on.
pub fn growth_warning() -> Option<usize> {
    (flags() & GROWTH_WARNING != 0).then(|| GROWTH_LIMIT.load(Ordering::Relaxed))
}

/// Makes every pool start on a fresh page and frees it when popped (objc4's
/// `OBJC_DEBUG_POOL_ALLOCATION`), so a use of a popped pool's memory shows up at once under
/// valgrind or a sanitizer.
pub fn set_debug_pool_allocation(on: bool) {
    set_flag(DEBUG_POOL_ALLOCATION, on);
}

/// Turns on or off the report of each new high-water mark of pending objects (objc4's
/// `OBJC_PRINT_POOL_HIGHWATER`). A thread picks the change up at its next pool push.
pub fn set_print_high_water(on: bool) {
    set_flag(PRINT_HIGH_WATER, on);
}
