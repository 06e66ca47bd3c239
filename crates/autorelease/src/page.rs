//! Pool pages: the one place that touches raw pool memory.
//!
//! A page is objc4's `AutoreleasePoolPage`: 4096 bytes, 4096-aligned, a 56-byte header followed by
//! one-word slots (505 of them on 64-bit). A thread's pages form a doubly linked list; the *cold*
//! page is the first, the *hot* page is the one receiving new entries, and pages after the hot one
//! are empty pages kept for reuse.
//!
//! # Invariants
//!
//! Every function here relies on these, and the rest of the crate upholds them:
//!
//! 1. A [`PagePtr`] points at a live page allocated by [`PagePtr::allocate`] and not yet freed.
//! 2. A page is only ever touched by the thread that allocated it (pages hang off a thread-local
//!    pool stack and never leave it), so there is no concurrent access.
//! 3. `begin() <= next <= end()`, and every slot in `begin()..next` holds an initialised [`Entry`].
//! 4. No Rust reference into page memory outlives the accessor call that made it: user code
//!    (object destructors) runs between accessor calls and may push, pop or autorelease.
//! 5. With `AUTORELEASE_DEBUG_POOL_PROTECT`, a page other than its thread's hot page is read-only
//!    except while the runtime writes it: the pool stack makes the hot page writable and the
//!    previous one read-only as the hot page moves ([`PagePtr::set_writable`]), and the writes here
//!    to another page (linking and unlinking it, freeing it) make it writable first. Pages go back
//!    to the page source writable.

use std::mem::{self, MaybeUninit};
use std::ptr::{self, NonNull};

use crate::config;
use crate::entry::Entry;
use crate::page_source;

/// Size and alignment of a page, as objc4 uses the VM page size.
pub(crate) const PAGE_SIZE: usize = 4096;

/// objc4's page magic ("AUTORELEASE!"), checked when printing so corruption is reported, not followed.
const MAGIC: [u32; 4] = [
    0xA1A1_A1A1,
    u32::from_be_bytes(*b"AUTO"),
    u32::from_be_bytes(*b"RELE"),
    u32::from_be_bytes(*b"ASE!"),
];

/// The page header. 56 bytes on 64-bit, like objc4's.
#[repr(C)]
struct PageHeader {
    magic: [u32; 4],
    /// First free slot.
    next: *mut Entry,
    /// Identity of the owning thread (for printing and assertions only).
    owner: usize,
    parent: *mut Page,
    child: *mut Page,
    /// Position in the thread's chain: 0 for the cold page.
    depth: usize,
}

/// Number of entry slots in a page: 505 on 64-bit targets.
pub(crate) const SLOTS: usize =
    (PAGE_SIZE - mem::size_of::<PageHeader>()) / mem::size_of::<Entry>();

#[repr(C, align(4096))]
pub(crate) struct Page {
    header: PageHeader,
    slots: [MaybeUninit<Entry>; SLOTS],
}

const _: () = assert!(mem::size_of::<Page>() == PAGE_SIZE);
const _: () = assert!(mem::align_of::<Page>() == PAGE_SIZE);

/// A handle to a live page of the current thread. `Copy` because it is only an address; see the
/// module invariants for when it may be dereferenced.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct PagePtr(NonNull<Page>);

impl PagePtr {
    /// Allocates an empty page and links it after `parent`.
    pub(crate) fn allocate(parent: Option<PagePtr>, owner: usize) -> PagePtr {
        let page = page_source::lock().allocate().cast::<Page>();
        let raw = page.as_ptr();
        let page = PagePtr(page);
        let depth = parent.map_or(0, |p| {
            // SAFETY: invariant 1 and 2 for `parent`.
            unsafe { (*p.0.as_ptr()).header.depth + 1 }
        });
        // SAFETY: `raw` is a fresh, suitably aligned allocation of a whole `Page`; writing the
        // header initialises it, and the slots are `MaybeUninit`.
        unsafe {
            ptr::addr_of_mut!((*raw).header).write(PageHeader {
                magic: MAGIC,
                next: page.begin(),
                owner,
                parent: parent.map_or(ptr::null_mut(), |p| p.0.as_ptr()),
                child: ptr::null_mut(),
                depth,
            });
        }
        if let Some(parent) = parent {
            parent.set_writable(true);
            // SAFETY: invariants 1 and 2; the parent had no child (callers only extend the chain at its end).
            unsafe {
                debug_assert!((*parent.0.as_ptr()).header.child.is_null());
                (*parent.0.as_ptr()).header.child = raw;
            }
        }
        page
    }

    /// Frees this page and every page after it, unlinking it from its parent.
    ///
    /// # Safety
    /// The page and its children must hold no entries anyone still needs, and no `PagePtr` to
    /// any of them may be used afterwards.
    pub(crate) unsafe fn free_with_children(self) {
        // SAFETY: invariants 1 and 2; the caller gives up these pages.
        unsafe {
            let parent = (*self.0.as_ptr()).header.parent;
            if !parent.is_null() {
                // The caller protects it again unless it is the hot page (invariant 5).
                PagePtr(NonNull::new_unchecked(parent)).set_writable(true);
                (*parent).header.child = ptr::null_mut();
            }
            let mut source = page_source::lock();
            let mut page = self.0.as_ptr();
            while !page.is_null() {
                let child = (*page).header.child;
                // Writable again: for the scribble, and for the page source's next user.
                PagePtr(NonNull::new_unchecked(page)).set_writable(true);
                // Scribble the magic so a stale pointer to this page is recognisably dead in a debugger.
                (*page).header.magic = [0; 4];
                source.free(NonNull::new_unchecked(page).cast());
                page = child;
            }
        }
    }

    /// Wraps a non-null raw page pointer taken from the pool stack.
    pub(crate) fn from_raw(raw: *mut Page) -> Option<PagePtr> {
        NonNull::new(raw).map(PagePtr)
    }

    pub(crate) fn as_raw(self) -> *mut Page {
        self.0.as_ptr()
    }

    /// Address of the first slot (computed, not read).
    pub(crate) fn begin(self) -> *mut Entry {
        // SAFETY: in-bounds projection of a live allocation (invariant 1); no read happens.
        unsafe { ptr::addr_of_mut!((*self.0.as_ptr()).slots).cast::<Entry>() }
    }

    /// Address one past the last slot (computed, not read).
    pub(crate) fn end(self) -> *mut Entry {
        // SAFETY: one-past-the-end of the slot array, inside the same allocation.
        unsafe { self.begin().add(SLOTS) }
    }

    pub(crate) fn next(self) -> *mut Entry {
        // SAFETY: invariants 1 and 2.
        unsafe { (*self.0.as_ptr()).header.next }
    }

    pub(crate) fn parent(self) -> Option<PagePtr> {
        // SAFETY: invariants 1 and 2.
        PagePtr::from_raw(unsafe { (*self.0.as_ptr()).header.parent })
    }

    pub(crate) fn child(self) -> Option<PagePtr> {
        // SAFETY: invariants 1 and 2.
        PagePtr::from_raw(unsafe { (*self.0.as_ptr()).header.child })
    }

    pub(crate) fn chain_depth(self) -> usize {
        // SAFETY: invariants 1 and 2.
        unsafe { (*self.0.as_ptr()).header.depth }
    }

    pub(crate) fn owner(self) -> usize {
        // SAFETY: invariants 1 and 2.
        unsafe { (*self.0.as_ptr()).header.owner }
    }

    pub(crate) fn magic_ok(self) -> bool {
        // SAFETY: invariants 1 and 2.
        unsafe { (*self.0.as_ptr()).header.magic == MAGIC }
    }

    /// Stops the program if the page's header was overwritten: following its links or its
    /// `next` would read and release whatever the stray write left there.
    #[inline]
    pub(crate) fn check_magic(self) {
        if !self.magic_ok() {
            corrupted_page(self);
        }
    }

    /// Makes the page writable or read-only, under `AUTORELEASE_DEBUG_POOL_PROTECT` (invariant 5);
    /// does nothing otherwise.
    #[inline]
    pub(crate) fn set_writable(self, writable: bool) {
        if config::flags() & config::PROTECT_POOLS != 0 {
            protect(self, writable);
        }
    }

    pub(crate) fn is_empty(self) -> bool {
        self.next() == self.begin()
    }

    pub(crate) fn is_full(self) -> bool {
        self.next() == self.end()
    }

    pub(crate) fn len(self) -> usize {
        // SAFETY: invariant 3: both pointers are in the same slot array and `next >= begin`.
        unsafe { self.next().offset_from(self.begin()) as usize }
    }

    /// Appends `entry` and returns its slot. The page must not be full.
    #[inline]
    pub(crate) fn push(self, entry: Entry) -> *mut Entry {
        let slot = self.next();
        assert!(
            slot < self.end(),
            "autorelease: internal error: push onto a full page"
        );
        // SAFETY: `slot` is inside the slot array (checked above); invariant 2 rules out aliasing.
        unsafe {
            slot.write(entry);
            (*self.0.as_ptr()).header.next = slot.add(1);
        }
        slot
    }

    /// The newest entry, if any.
    #[inline]
    pub(crate) fn top(self) -> Option<Entry> {
        if self.is_empty() {
            return None;
        }
        // SAFETY: invariant 3: the slot below `next` is initialised.
        Some(unsafe { self.next().sub(1).read() })
    }

    /// Replaces the newest entry (for coalescing repeated autoreleases). The page must not be empty.
    #[inline]
    pub(crate) fn replace_top(self, entry: Entry) {
        assert!(
            !self.is_empty(),
            "autorelease: internal error: replace_top on an empty page"
        );
        // SAFETY: invariant 3: the slot below `next` is initialised and ours alone.
        unsafe { self.next().sub(1).write(entry) }
    }

    /// Removes and returns the newest entry. The slot is scribbled first, as objc4 does, so a
    /// destructor that runs next sees the entry already gone.
    #[inline]
    pub(crate) fn pop(self) -> Option<Entry> {
        if self.is_empty() {
            return None;
        }
        // SAFETY: invariant 3: the slot below `next` is initialised; lowering `next` keeps it.
        unsafe {
            let slot = self.next().sub(1);
            let entry = slot.read();
            slot.write(Entry::SCRIBBLE);
            (*self.0.as_ptr()).header.next = slot;
            Some(entry)
        }
    }

    /// The live entry at `slot`, if `slot` is the address of an occupied slot of this page.
    /// Only integer comparisons happen before the read, so any address may be passed.
    pub(crate) fn live_entry_at(self, addr: usize) -> Option<Entry> {
        let begin = self.begin().addr();
        let next = self.next().addr();
        if addr < begin || addr >= next || !(addr - begin).is_multiple_of(mem::size_of::<Entry>()) {
            return None;
        }
        let index = (addr - begin) / mem::size_of::<Entry>();
        // SAFETY: `index` addresses a slot below `next`, initialised by invariant 3.
        Some(unsafe { self.begin().add(index).read() })
    }

    /// The entries of this page, oldest first, with their slot addresses (for printing).
    pub(crate) fn entries(self) -> impl Iterator<Item = (*mut Entry, Entry)> {
        let begin = self.begin();
        (0..self.len()).map(move |i| {
            // SAFETY: `i < len`, so the slot is initialised (invariant 3). The iterator is only used
            // by printing, which runs no user code while it holds it.
            unsafe { (begin.add(i), begin.add(i).read()) }
        })
    }
}

#[cold]
#[inline(never)]
fn corrupted_page(page: PagePtr) -> ! {
    eprintln!(
        "autorelease: pool page {:p} is corrupted: its header (magic) was overwritten, so its \
         entries cannot be trusted; stopping (AUTORELEASE_DEBUG_POOL_PROTECT=1 stops a stray write \
         into a full page where it happens)",
        page.as_raw()
    );
    std::process::abort();
}

#[cold]
fn protect(page: PagePtr, writable: bool) {
    #[cfg(unix)]
    {
        let prot = if writable {
            libc::PROT_READ | libc::PROT_WRITE
        } else {
            libc::PROT_READ
        };
        // SAFETY: the page is a whole, page-aligned system page of a live mapping of the page
        // source (invariant 1; the switch is only on where system pages are 4 KiB); changing its
        // protection changes no contents.
        let rc = unsafe { libc::mprotect(page.as_raw().cast(), PAGE_SIZE, prot) };
        if rc != 0 {
            eprintln!(
                "autorelease: mprotect of pool page {:p} failed: {}",
                page.as_raw(),
                std::io::Error::last_os_error()
            );
            std::process::abort();
        }
    }
    #[cfg(not(unix))]
    let _ = (page, writable);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn page_is_4096_bytes_with_a_56_byte_header_and_505_slots() {
        assert_eq!(mem::size_of::<Page>(), 4096);
        assert_eq!(mem::size_of::<PageHeader>(), 56);
        assert_eq!(SLOTS, 505);
    }

    #[test]
    fn pages_are_page_aligned_and_link_parent_and_child() {
        let cold = PagePtr::allocate(None, 7);
        let hot = PagePtr::allocate(Some(cold), 7);
        assert_eq!(cold.as_raw().addr() % PAGE_SIZE, 0);
        assert_eq!(hot.as_raw().addr() % PAGE_SIZE, 0);
        assert_eq!(cold.child(), Some(hot));
        assert_eq!(hot.parent(), Some(cold));
        assert_eq!(hot.chain_depth(), 1);
        assert!(cold.is_empty() && !cold.is_full());
        // SAFETY: both pages are ours and unused from here on.
        unsafe { cold.free_with_children() };
    }

    #[test]
    fn push_until_full_then_pop_returns_entries_newest_first() {
        let page = PagePtr::allocate(None, 0);
        for i in 0..SLOTS {
            page.push(Entry::boundary(i + 1, 0));
        }
        assert!(page.is_full());
        for i in (0..SLOTS).rev() {
            assert_eq!(
                page.pop().and_then(Entry::as_boundary).map(|b| b.depth),
                Some(i + 1)
            );
        }
        assert!(page.pop().is_none());
        // SAFETY: the page is ours and unused from here on.
        unsafe { page.free_with_children() };
    }

    #[test]
    fn live_entry_at_rejects_addresses_outside_the_occupied_slots() {
        let page = PagePtr::allocate(None, 0);
        let slot = page.push(Entry::boundary(1, 9));
        assert!(page.live_entry_at(slot.addr()).is_some());
        assert!(page.live_entry_at(slot.addr() + 1).is_none());
        assert!(page
            .live_entry_at(slot.addr() + mem::size_of::<Entry>())
            .is_none());
        assert!(page.live_entry_at(page.as_raw().addr()).is_none());
        assert!(page.live_entry_at(1).is_none());
        // SAFETY: the page is ours and unused from here on.
        unsafe { page.free_with_children() };
    }
}
