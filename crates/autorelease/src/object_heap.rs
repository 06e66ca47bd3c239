//! Memory for small objects: blocks of 16 size classes (16 to 256 bytes), kept on per-thread free
//! lists, carved from large mappings of their own.
//!
//! An object pool is the worst case for a general-purpose `malloc`: a million objects made in a
//! row, then freed newest first. glibc serves that from its main heap, growing it one 4 KiB page
//! fault at a time, and frees each object through its bins (consolidating them on the way), and
//! every block carries malloc's size word. Here an allocation is a pop from the thread's free list
//! of the block's class (or a bump in a run of fresh memory), and a free is a push onto the freeing
//! thread's list. The size is not stored: the object's class names its size class.
//!
//! Runs of fresh memory come from regions mapped with transparent huge pages advised, so a burst
//! of new objects faults in 2 MiB at a time where the kernel allows it. Free blocks are kept for
//! reuse by objects of the same size class and not returned to the system (as glibc keeps its fast
//! bins); a thread's lists hold at most two batches per class, and the rest goes to a shared list
//! other threads take from, so a thread that frees what another allocates does not grow without
//! bound.
//!
//! Under valgrind, handed-out blocks are announced to memcheck as heap blocks and free ones as
//! freed (client requests), so a use after free, a double free and a leak of an object are
//! reported as they would be with `malloc`; helgrind and drd are told to forget a block's old
//! accesses when it is freed and reused, as they do for `malloc`'s blocks.
//!
//! # Invariants
//!
//! 1. A block of class `c` is [`block_size`]`(c)` bytes, 16-byte aligned, inside a region mapped
//!    by this module; regions are never unmapped.
//! 2. A block is in exactly one place: handed out (its caller owns it until [`free`]), on one
//!    free list (a thread's `free` or `full` list, or a shared batch), or in unused run space.
//! 3. A free block's first word is the next block of its list (null at the end). The first block
//!    of a shared batch holds the next batch in its second word (every block has two words).
//! 4. A thread's cache is touched only by its thread; [`Shared`] only under its mutex.

use std::cell::Cell;
use std::ptr::{self, NonNull};
use std::sync::Mutex;

use crate::valgrind;

/// Size classes are multiples of this (and blocks are aligned to it).
pub(crate) const GRANULE: usize = 16;
/// Number of size classes: blocks of 16, 32, ... 256 bytes.
pub(crate) const CLASSES: usize = 16;
/// The largest block.
pub(crate) const MAX_SIZE: usize = GRANULE * CLASSES;

/// Blocks a thread frees before handing a batch to the shared lists.
const BATCH: usize = 1024;
/// Bytes of fresh memory a thread takes at a time for one class.
const RUN_SIZE: usize = 64 * 1024;
/// Bytes per mapped region: a multiple of the 2 MiB huge page.
const REGION_SIZE: usize = 4 << 20;
const HUGE_PAGE: usize = 2 << 20;

/// The size class for `size` bytes aligned to `align`, or `None` if it is not a small block.
#[inline]
pub(crate) const fn class_for(size: usize, align: usize) -> Option<usize> {
    if size == 0 || size > MAX_SIZE || align > GRANULE {
        None
    } else {
        Some(size.div_ceil(GRANULE) - 1)
    }
}

/// The block size of class `c`.
#[inline]
pub(crate) const fn block_size(class: usize) -> usize {
    (class + 1) * GRANULE
}

/// A free block's links (invariant 3).
#[repr(C)]
struct FreeBlock {
    next: *mut FreeBlock,
    next_batch: *mut FreeBlock,
}

/// One class of a thread's cache.
struct ClassCache {
    free: Cell<*mut FreeBlock>,
    free_len: Cell<usize>,
    /// A whole batch kept back, so that a thread alternating around the batch size does not
    /// trade batches with the shared lists on every step.
    full: Cell<*mut FreeBlock>,
    bump: Cell<usize>,
    bump_end: Cell<usize>,
}

impl ClassCache {
    const fn new() -> ClassCache {
        ClassCache {
            free: Cell::new(ptr::null_mut()),
            free_len: Cell::new(0),
            full: Cell::new(ptr::null_mut()),
            bump: Cell::new(0),
            bump_end: Cell::new(0),
        }
    }
}

struct ThreadCache {
    classes: [ClassCache; CLASSES],
}

impl Drop for ThreadCache {
    /// The thread is exiting: its free blocks and run space go to the shared lists.
    fn drop(&mut self) {
        let mut shared = lock();
        for (class, cache) in self.classes.iter().enumerate() {
            shared.give_batch(class, cache.free.replace(ptr::null_mut()));
            shared.give_batch(class, cache.full.replace(ptr::null_mut()));
            let (bump, end) = (cache.bump.replace(0), cache.bump_end.replace(0));
            if bump < end {
                shared.tails[class].push((bump, end));
            }
        }
    }
}

thread_local! {
    static CACHE: ThreadCache = const {
        ThreadCache { classes: [const { ClassCache::new() }; CLASSES] }
    };
}

/// What threads share: batches of free blocks, run space left by exited threads, and the
/// current region.
pub(crate) struct Shared {
    batches: [*mut FreeBlock; CLASSES],
    tails: [Vec<(usize, usize)>; CLASSES],
    region: usize,
    region_end: usize,
}

// SAFETY: the pointers are addresses of free blocks and mapped memory, owned by whoever holds the
// mutex (invariant 4); nothing about them is tied to a thread.
unsafe impl Send for Shared {}

static SHARED: Mutex<Shared> = Mutex::new(Shared {
    batches: [ptr::null_mut(); CLASSES],
    tails: [const { Vec::new() }; CLASSES],
    region: 0,
    region_end: 0,
});

/// The locked shared lists; unlocking tells the race detectors what the lock ordered (blocks
/// freed by one thread and reused by another).
pub(crate) type SharedGuard = valgrind::AnnotatedGuard<Shared>;

/// Locks the shared lists (also taken around `fork`, see `page_source`). Nothing panics while
/// holding it, so a poisoned lock still guards consistent lists.
pub(crate) fn lock() -> SharedGuard {
    valgrind::lock_annotated(&SHARED)
}

impl Shared {
    /// Adds the list starting at `head` as one batch.
    fn give_batch(&mut self, class: usize, head: *mut FreeBlock) {
        if head.is_null() {
            return;
        }
        // SAFETY: `head` is a free block we own (invariant 2); its second word is ours to link.
        unsafe { write_link(ptr::addr_of_mut!((*head).next_batch), self.batches[class]) };
        self.batches[class] = head;
    }

    /// Takes one batch (a list of free blocks), if any.
    fn take_batch(&mut self, class: usize) -> *mut FreeBlock {
        let head = self.batches[class];
        if !head.is_null() {
            // SAFETY: `head` is the first block of a shared batch (invariant 3), ours under the lock.
            self.batches[class] = unsafe { read_link(ptr::addr_of!((*head).next_batch)) };
        }
        head
    }

    /// Fresh memory for `class`: run space an exited thread left, or a new run.
    fn take_run(&mut self, class: usize) -> (usize, usize) {
        if let Some(tail) = self.tails[class].pop() {
            return tail;
        }
        if self.region_end - self.region < RUN_SIZE {
            let base = os::map_region(REGION_SIZE + HUGE_PAGE);
            // Start on a huge-page boundary so the kernel can back the region with huge pages.
            self.region = base.next_multiple_of(HUGE_PAGE);
            self.region_end = self.region + REGION_SIZE;
            os::advise_huge_pages(self.region, REGION_SIZE);
        }
        let run = self.region;
        self.region += RUN_SIZE;
        (run, run + RUN_SIZE)
    }
}

#[inline]
fn under_valgrind() -> bool {
    valgrind::active()
}

/// Reads a link word of a free block, which memcheck otherwise sees as freed memory.
///
/// # Safety
/// `word` is a link word of a free block the caller owns (invariant 2).
#[inline]
unsafe fn read_link(word: *const *mut FreeBlock) -> *mut FreeBlock {
    if !under_valgrind() {
        // SAFETY: per the contract, `word` is inside a block we own.
        return unsafe { word.read() };
    }
    valgrind::make_defined(word, size_of::<usize>());
    // SAFETY: as above.
    let value = unsafe { word.read() };
    valgrind::make_noaccess(word, size_of::<usize>());
    value
}

/// Writes a link word of a free block (see [`read_link`]).
///
/// # Safety
/// As for [`read_link`].
#[inline]
unsafe fn write_link(word: *mut *mut FreeBlock, value: *mut FreeBlock) {
    if !under_valgrind() {
        // SAFETY: per the contract, `word` is inside a block we own.
        return unsafe { word.write(value) };
    }
    valgrind::make_defined(word, size_of::<usize>());
    // SAFETY: as above.
    unsafe { word.write(value) };
    valgrind::make_noaccess(word, size_of::<usize>());
}

/// A block of class `class`, 16-byte aligned, contents unspecified. Aborts like a failed
/// allocation if the system has no memory.
#[inline]
pub(crate) fn alloc(class: usize) -> NonNull<u8> {
    let block = CACHE
        .try_with(|cache| alloc_cached(&cache.classes[class], class))
        .unwrap_or_else(|_| alloc_shared(class));
    if under_valgrind() {
        valgrind::malloclike_block(block.as_ptr(), block_size(class));
        valgrind::clean_memory(block.as_ptr(), block_size(class));
    }
    block
}

#[inline]
fn alloc_cached(cache: &ClassCache, class: usize) -> NonNull<u8> {
    let head = cache.free.get();
    if let Some(block) = NonNull::new(head) {
        // SAFETY: `head` is the first block of this thread's free list (invariants 2-4).
        cache
            .free
            .set(unsafe { read_link(ptr::addr_of!((*head).next)) });
        cache.free_len.set(cache.free_len.get().saturating_sub(1));
        return block.cast();
    }
    refill(cache, class)
}

/// The thread's free list of `class` is empty: reuse the batch kept back, else carve from the
/// thread's run, else adopt a shared batch, else take a new run.
#[cold]
fn refill(cache: &ClassCache, class: usize) -> NonNull<u8> {
    let full = cache.full.replace(ptr::null_mut());
    if !full.is_null() {
        return adopt(cache, class, full);
    }
    let size = block_size(class);
    let bump = cache.bump.get();
    if bump + size <= cache.bump_end.get() {
        cache.bump.set(bump + size);
        // SAFETY: non-zero: run space is inside a mapped region (invariant 1).
        return unsafe { NonNull::new_unchecked(bump as *mut u8) };
    }
    let mut shared = lock();
    let batch = shared.take_batch(class);
    if !batch.is_null() {
        drop(shared);
        return adopt(cache, class, batch);
    }
    let (start, end) = shared.take_run(class);
    drop(shared);
    cache.bump.set(start + size);
    cache.bump_end.set(end);
    // SAFETY: as above; a run holds many blocks.
    unsafe { NonNull::new_unchecked(start as *mut u8) }
}

/// Makes `batch` the thread's free list and allocates from it.
fn adopt(cache: &ClassCache, class: usize, batch: *mut FreeBlock) -> NonNull<u8> {
    // Lengths of adopted batches are not tracked exactly; `free_len` only paces handing back.
    cache.free.set(batch);
    cache.free_len.set(BATCH);
    alloc_cached(cache, class)
}

/// Allocation on a thread whose cache is gone (it is exiting).
#[cold]
fn alloc_shared(class: usize) -> NonNull<u8> {
    let mut shared = lock();
    let batch = shared.take_batch(class);
    if let Some(block) = NonNull::new(batch) {
        // SAFETY: the batch is ours now; its other blocks go back as a batch of their own.
        let rest = unsafe { read_link(ptr::addr_of!((*batch).next)) };
        shared.give_batch(class, rest);
        return block.cast();
    }
    let (start, end) = shared.take_run(class);
    if end - start > block_size(class) {
        shared.tails[class].push((start + block_size(class), end));
    }
    // SAFETY: non-zero: run space is inside a mapped region (invariant 1).
    unsafe { NonNull::new_unchecked(start as *mut u8) }
}

/// Gives back a block.
///
/// # Safety
/// `block` came from [`alloc`] with the same `class` and is not used afterwards.
#[inline]
pub(crate) unsafe fn free(block: NonNull<u8>, class: usize) {
    if under_valgrind() {
        // Other threads' last accesses (their releases of the object) are over, as for `free`.
        valgrind::clean_memory(block.as_ptr(), block_size(class));
        valgrind::freelike_block(block.as_ptr());
    }
    let block = block.cast::<FreeBlock>().as_ptr();
    let cached = CACHE.try_with(|cache| {
        let cache = &cache.classes[class];
        // SAFETY: the caller gave the block up (invariant 2); it joins this thread's list.
        unsafe { write_link(ptr::addr_of_mut!((*block).next), cache.free.get()) };
        cache.free.set(block);
        let len = cache.free_len.get() + 1;
        cache.free_len.set(len);
        if len >= BATCH {
            hand_back(cache, class);
        }
    });
    if cached.is_err() {
        // SAFETY: as above; a list of one block is a batch.
        unsafe { write_link(ptr::addr_of_mut!((*block).next), ptr::null_mut()) };
        lock().give_batch(class, block);
    }
}

/// The free list reached a batch: keep it back, handing the kept one (if any) to other threads.
#[cold]
fn hand_back(cache: &ClassCache, class: usize) {
    let batch = cache.free.replace(ptr::null_mut());
    cache.free_len.set(0);
    let kept = cache.full.replace(batch);
    if !kept.is_null() {
        lock().give_batch(class, kept);
    }
}

#[cfg(unix)]
mod os {
    use std::alloc::{handle_alloc_error, Layout};
    use std::ptr;

    /// Maps `size` bytes of zeroed memory (never unmapped: invariant 1), or aborts like a failed
    /// allocation.
    pub(super) fn map_region(size: usize) -> usize {
        // SAFETY: an anonymous private mapping at an address of the kernel's choosing aliases
        // nothing; the result is checked before use.
        let raw = unsafe {
            libc::mmap(
                ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if raw == libc::MAP_FAILED {
            handle_alloc_error(Layout::from_size_align(size, 16).expect("region layout"));
        }
        raw.addr()
    }

    /// Asks for huge pages; only advice, so a kernel without them changes nothing.
    pub(super) fn advise_huge_pages(start: usize, len: usize) {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        // SAFETY: advice on memory this module mapped; it changes no contents.
        unsafe {
            libc::madvise(ptr::without_provenance_mut(start), len, libc::MADV_HUGEPAGE);
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let _ = (start, len);
    }
}

#[cfg(not(unix))]
mod os {
    use std::alloc::{alloc_zeroed, handle_alloc_error, Layout};

    pub(super) fn map_region(size: usize) -> usize {
        let layout = Layout::from_size_align(size, 16).expect("region layout");
        // SAFETY: the layout has a non-zero size; the memory is never freed (invariant 1).
        let raw = unsafe { alloc_zeroed(layout) };
        if raw.is_null() {
            handle_alloc_error(layout);
        }
        raw.addr()
    }

    pub(super) fn advise_huge_pages(_start: usize, _len: usize) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_classes_round_up_to_16_bytes_and_stop_at_256() {
        assert_eq!(class_for(1, 1), Some(0));
        assert_eq!(class_for(16, 16), Some(0));
        assert_eq!(class_for(17, 8), Some(1));
        assert_eq!(class_for(24, 8).map(block_size), Some(32));
        assert_eq!(class_for(256, 16).map(block_size), Some(256));
        assert_eq!(class_for(257, 8), None);
        assert_eq!(class_for(32, 32), None);
        assert_eq!(class_for(0, 1), None);
    }

    #[test]
    fn blocks_are_aligned_distinct_and_reused_after_free() {
        let class = class_for(48, 16).unwrap();
        let blocks: Vec<_> = (0..3 * BATCH).map(|_| alloc(class)).collect();
        let mut addrs: Vec<usize> = blocks.iter().map(|b| b.as_ptr().addr()).collect();
        assert!(addrs.iter().all(|a| a % GRANULE == 0));
        addrs.sort_unstable();
        addrs.dedup();
        assert_eq!(addrs.len(), blocks.len(), "a block was handed out twice");
        for b in &blocks {
            // SAFETY: each block is ours and writable for its class's size.
            unsafe { b.as_ptr().write_bytes(0xAB, block_size(class)) };
        }
        let last = *blocks.last().unwrap();
        for b in blocks.into_iter().rev() {
            // SAFETY: allocated above with this class, not used again.
            unsafe { free(b, class) };
        }
        // The thread's list is newest-freed first: the first block freed last comes back.
        let again = alloc(class);
        assert!(addrs.binary_search(&again.as_ptr().addr()).is_ok());
        // SAFETY: as above.
        unsafe { free(again, class) };
        let _ = last;
    }

    #[test]
    fn blocks_freed_on_another_thread_are_reused_and_not_lost() {
        let class = class_for(64, 16).unwrap();
        let blocks: Vec<usize> = (0..4 * BATCH)
            .map(|_| alloc(class).as_ptr().addr())
            .collect();
        let freed = blocks.clone();
        std::thread::spawn(move || {
            for b in freed {
                // SAFETY: the blocks were handed to this thread, which gives them up.
                unsafe { free(NonNull::new(b as *mut u8).unwrap(), class) };
            }
        })
        .join()
        .unwrap();
        // The other thread exited: everything it freed is in the shared batches.
        let mut sorted = blocks.clone();
        sorted.sort_unstable();
        let mut reused = 0;
        let again: Vec<_> = (0..4 * BATCH).map(|_| alloc(class)).collect();
        for b in &again {
            if sorted.binary_search(&b.as_ptr().addr()).is_ok() {
                reused += 1;
            }
        }
        assert!(reused >= 2 * BATCH, "only {reused} blocks reused");
        for b in again {
            // SAFETY: allocated above, not used again.
            unsafe { free(b, class) };
        }
    }
}
