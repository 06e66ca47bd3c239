//! Pool tokens: what `push` returns and `pop` takes.
//!
//! Like objc4's, a token is the address of the pool's boundary slot. A pool that has no page yet
//! (objc4 returns the constant 1 for it) gets the address of its thread's pool stack instead, so
//! such tokens differ between threads too. On 64-bit the top 16 bits also carry the low bits of the
//! push serial, so a token whose slot has since been reused by a newer pool is still caught.

use std::ffi::c_void;
use std::fmt;
use std::marker::PhantomData;
use std::ptr;

use crate::entry::Entry;

#[cfg(target_pointer_width = "64")]
const TAG_SHIFT: u32 = 48;
#[cfg(target_pointer_width = "64")]
const TAG_MASK: usize = 0xFFFF;
#[cfg(not(target_pointer_width = "64"))]
const TAG_SHIFT: u32 = 0;
#[cfg(not(target_pointer_width = "64"))]
const TAG_MASK: usize = 0;

/// The integer form of a token, shared by the Rust and C interfaces.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct RawToken(pub(crate) usize);

impl RawToken {
    pub(crate) fn new(slot_addr: usize, serial: u64) -> RawToken {
        debug_assert!(slot_addr >> TAG_SHIFT.max(1) == 0 || TAG_MASK == 0);
        RawToken(slot_addr | ((Entry::serial_bits(serial) & TAG_MASK) << TAG_SHIFT))
    }

    /// The token of a thread's outermost pool while it has no page; `owner` identifies the thread.
    pub(crate) fn placeholder(owner: usize, serial: u64) -> RawToken {
        RawToken::new(owner, serial)
    }

    /// The boundary slot's address.
    pub(crate) fn addr(self) -> usize {
        if TAG_MASK == 0 {
            self.0
        } else {
            self.0 & ((1 << TAG_SHIFT) - 1)
        }
    }

    /// Whether a boundary with these serial bits can be the one this token was made for.
    pub(crate) fn matches_serial(self, serial_bits: usize) -> bool {
        TAG_MASK == 0 || (self.0 >> TAG_SHIFT) & TAG_MASK == serial_bits & TAG_MASK
    }
}

/// The token of a pool pushed with [`push`](crate::push), to be passed to [`pop`](crate::pop).
///
/// Tokens are `!Send`: a pool belongs to the thread that pushed it. They are consumed by `pop`, so
/// safe code cannot pop the same token twice; a token brought back from its C form with
/// [`from_ptr`](PoolToken::from_ptr) is validated by `pop` against this thread's live pools.
#[must_use = "a pushed pool must be popped with `autorelease::pop`"]
pub struct PoolToken {
    pub(crate) raw: RawToken,
    _not_send: PhantomData<*mut ()>,
}

impl PoolToken {
    pub(crate) fn new(raw: RawToken) -> PoolToken {
        PoolToken {
            raw,
            _not_send: PhantomData,
        }
    }

    /// The token as objc4's `void *` (what `objc_autoreleasePoolPush` returns). It is an opaque
    /// value, not a pointer to dereference.
    pub fn as_ptr(&self) -> *mut c_void {
        ptr::without_provenance_mut(self.raw.0)
    }

    /// A token from its `void *` form. Any value is accepted here; [`pop`](crate::pop) rejects
    /// one that does not name a live pool of the calling thread.
    pub fn from_ptr(token: *mut c_void) -> PoolToken {
        PoolToken::new(RawToken(token.addr()))
    }
}

impl fmt::Debug for PoolToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PoolToken({:#x})", self.raw.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_keeps_the_slot_address_and_checks_the_serial() {
        let t = RawToken::new(0x7f12_3456_7000, 42);
        assert_eq!(t.addr(), 0x7f12_3456_7000);
        assert!(t.matches_serial(Entry::serial_bits(42)));
        #[cfg(target_pointer_width = "64")]
        assert!(!t.matches_serial(Entry::serial_bits(43)));
        assert_eq!(
            RawToken::placeholder(0x7f00_0000_1000, 7).addr(),
            0x7f00_0000_1000
        );
    }
}
