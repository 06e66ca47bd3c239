//! What a page slot holds: an object to release (with a repeat count) or a pool boundary.
//!
//! One word per entry. Objects are at least 8-byte aligned, so the low bit tells the two apart:
//!
//! | kind | bits |
//! |---|---|
//! | object | the object's address; on 64-bit the top 16 bits count extra releases (coalescing) |
//! | boundary | `1`, then the pool's nesting depth, then the low bits of the push serial |
//!
//! objc4 stores `nil` as its boundary; storing the depth instead lets a pop know how far to go in
//! O(1), and the serial lets it tell a live pool from a stale token that points at a reused slot.

use std::ptr::{self, NonNull};

use crate::object::ObjectHeader;

/// Bits of an object address kept in an entry; the rest count coalesced autoreleases.
#[cfg(target_pointer_width = "64")]
const COUNT_SHIFT: u32 = 48;
/// Most releases one entry can stand for: 1 plus the extra count in the top 16 bits.
#[cfg(target_pointer_width = "64")]
const MAX_EXTRA: usize = 0xFFFF;
/// 32-bit addresses use every bit, so nothing is coalesced there.
#[cfg(not(target_pointer_width = "64"))]
const COUNT_SHIFT: u32 = usize::BITS;
#[cfg(not(target_pointer_width = "64"))]
const MAX_EXTRA: usize = 0;

/// Highest address an entry can hold untagged.
pub(crate) const ADDR_MASK: usize = if COUNT_SHIFT == usize::BITS {
    usize::MAX
} else {
    (1 << COUNT_SHIFT) - 1
};

/// Bits of a boundary that hold the pool depth.
const DEPTH_BITS: u32 = usize::BITS / 2 - 1;
/// Deepest pool nesting a thread supports (2³¹ − 1 on 64-bit).
pub(crate) const MAX_DEPTH: usize = (1 << DEPTH_BITS) - 1;
const SERIAL_SHIFT: u32 = 1 + DEPTH_BITS;

/// A pool boundary, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Boundary {
    /// 1 for the outermost pool of the thread.
    pub depth: usize,
    /// The low bits of the push serial (as many as fit).
    pub serial_bits: usize,
}

/// One page slot. Holds a real pointer for objects, so provenance survives the round trip.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(transparent)]
pub(crate) struct Entry(*mut u8);

impl Entry {
    /// Written into slots as they are vacated, so a stale read stands out (objc4 uses 0xA3 too).
    pub(crate) const SCRIBBLE: Entry = Entry(ptr::without_provenance_mut(usize::from_ne_bytes(
        [0xA3; size_of::<usize>()],
    )));

    /// An entry releasing `obj` once. The address must fit in [`ADDR_MASK`] (checked at allocation).
    #[inline]
    pub(crate) fn object(obj: NonNull<ObjectHeader>) -> Entry {
        debug_assert!(obj.as_ptr().addr() <= ADDR_MASK);
        Entry(obj.as_ptr().cast())
    }

    /// A boundary for the pool at nesting `depth`, pushed with `serial`.
    #[inline]
    pub(crate) fn boundary(depth: usize, serial: u64) -> Entry {
        debug_assert!((1..=MAX_DEPTH).contains(&depth));
        let bits = 1 | (depth << 1) | ((serial as usize) << SERIAL_SHIFT);
        Entry(ptr::without_provenance_mut(bits))
    }

    /// The low serial bits a boundary stores, for comparing with a token.
    #[inline]
    pub(crate) fn serial_bits(serial: u64) -> usize {
        ((serial as usize) << SERIAL_SHIFT) >> SERIAL_SHIFT
    }

    #[inline]
    pub(crate) fn as_boundary(self) -> Option<Boundary> {
        let bits = self.0.addr();
        (bits & 1 == 1).then_some(Boundary {
            depth: (bits >> 1) & MAX_DEPTH,
            serial_bits: bits >> SERIAL_SHIFT,
        })
    }

    /// The object and how many releases this entry stands for.
    #[inline]
    pub(crate) fn as_object(self) -> Option<(NonNull<ObjectHeader>, usize)> {
        if self.0.addr() & 1 == 1 {
            return None;
        }
        let extra = if COUNT_SHIFT == usize::BITS {
            0
        } else {
            self.0.addr() >> COUNT_SHIFT
        };
        let obj = NonNull::new(self.0.map_addr(|a| a & ADDR_MASK).cast::<ObjectHeader>())?;
        Some((obj, extra + 1))
    }

    /// This entry with one more release of `obj`, if it already releases `obj` and has room.
    #[inline]
    pub(crate) fn coalesced_with(self, obj: NonNull<ObjectHeader>) -> Option<Entry> {
        if MAX_EXTRA == 0 {
            return None;
        }
        let bits = self.0.addr();
        let extra = bits >> COUNT_SHIFT.min(usize::BITS - 1);
        if bits & ADDR_MASK != obj.as_ptr().addr() || extra >= MAX_EXTRA {
            return None;
        }
        Some(Entry(
            self.0
                .map_addr(|a| a + (1 << COUNT_SHIFT.min(usize::BITS - 1))),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_object(addr: usize) -> NonNull<ObjectHeader> {
        NonNull::new(ptr::without_provenance_mut(addr)).unwrap()
    }

    #[test]
    fn boundary_round_trips_depth_and_serial() {
        let b = Entry::boundary(12345, 0xDEAD_BEEF).as_boundary().unwrap();
        assert_eq!(b.depth, 12345);
        assert_eq!(b.serial_bits, Entry::serial_bits(0xDEAD_BEEF));
        assert_eq!(
            Entry::boundary(MAX_DEPTH, u64::MAX)
                .as_boundary()
                .unwrap()
                .depth,
            MAX_DEPTH
        );
        assert!(Entry::boundary(1, 0).as_object().is_none());
    }

    #[test]
    fn object_entry_round_trips_and_is_not_a_boundary() {
        let obj = fake_object(0x7f00_1234_5678);
        let e = Entry::object(obj);
        assert_eq!(e.as_object(), Some((obj, 1)));
        assert!(e.as_boundary().is_none());
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn coalescing_counts_repeats_of_the_same_object_up_to_the_limit() {
        let obj = fake_object(0x7f00_1234_5678);
        let mut e = Entry::object(obj);
        for n in 2..=MAX_EXTRA + 1 {
            e = e.coalesced_with(obj).unwrap();
            assert_eq!(e.as_object(), Some((obj, n)));
        }
        assert!(
            e.coalesced_with(obj).is_none(),
            "a full count must start a new entry"
        );
        assert!(Entry::object(obj)
            .coalesced_with(fake_object(0x7f00_1234_5680))
            .is_none());
        assert!(Entry::boundary(1, 1).coalesced_with(obj).is_none());
    }
}
