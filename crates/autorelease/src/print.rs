//! `print_pools`: every pool and object of the thread, like objc4's `_objc_autoreleasePoolPrint`.

use std::fmt::Write as _;

use crate::diagnostics::{prefix, thread_label};
use crate::pool_stack::{self, PoolStack};

/// Writes every pool and pending object of the calling thread to stderr.
///
/// The format follows objc4's printout: a line per page, per pool boundary and per object (with
/// its class and, for repeated autoreleases coalesced into one slot, the count).
pub fn print_pools() {
    eprint!("{}", pools_description());
}

/// The text [`print_pools`] prints.
///
/// ```
/// autorelease::autoreleasepool(|pool| {
///     autorelease::Obj::new(7u8).autorelease(pool);
///     let text = autorelease::pools_description();
///     assert!(text.contains("1 releases pending."));
///     assert!(text.contains("u8"));
/// });
/// ```
pub fn pools_description() -> String {
    pool_stack::with_stack(describe)
}

fn describe(s: &PoolStack) -> String {
    let p = prefix();
    let mut out = String::new();
    let _ = writeln!(out, "{p} ##############");
    let _ = writeln!(out, "{p} AUTORELEASE POOLS for thread {}", thread_label());
    let _ = writeln!(out, "{p} {} releases pending.", s.pending());
    if s.has_placeholder() {
        let _ = writeln!(
            out,
            "{p} [{:#18x}]  ................  PAGE (placeholder)",
            1
        );
        let _ = writeln!(
            out,
            "{p} [{:#18x}]  ################  POOL (placeholder, depth 1, serial {})",
            1,
            s.placeholder_serial()
        );
    }
    let hot = s.hot_page();
    let mut page = s.cold_page();
    while let Some(pg) = page {
        if !pg.magic_ok() {
            let _ = writeln!(
                out,
                "{p} [{:p}]  page magic is corrupt; stopping",
                pg.as_raw()
            );
            break;
        }
        let role = match (Some(pg) == hot, pg.parent().is_none()) {
            (true, true) => "  (hot) (cold)",
            (true, false) => "  (hot)",
            (false, true) => "  (cold)",
            (false, false) => "",
        };
        let _ = writeln!(
            out,
            "{p} [{:p}]  ................  PAGE {}{role}  {} of {} slots",
            pg.as_raw(),
            pg.chain_depth(),
            pg.len(),
            crate::page::SLOTS
        );
        for (slot, entry) in pg.entries() {
            if let Some(b) = entry.as_boundary() {
                let _ = writeln!(
                    out,
                    "{p} [{slot:p}]  ################  POOL {slot:p} (depth {})",
                    b.depth
                );
            } else if let Some((obj, count)) = entry.as_object() {
                // SAFETY: a pending entry owns a reference, so the object is live.
                let class = unsafe { obj.as_ref() }.class().name();
                let times = if count > 1 {
                    format!("  (x{count})")
                } else {
                    String::new()
                };
                let _ = writeln!(out, "{p} [{slot:p}]  {:>18p}  {class}{times}", obj.as_ptr());
            }
        }
        debug_assert_eq!(
            pg.owner(),
            s.owner(),
            "a page of another thread is in this chain"
        );
        page = pg.child();
    }
    let _ = writeln!(out, "{p} ##############");
    out
}
