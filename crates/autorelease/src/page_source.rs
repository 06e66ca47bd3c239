//! Where pool pages come from: 4096-byte pages carved from 256 KiB chunks mapped straight from the
//! operating system, outside malloc's heap, and shared by every thread of the process.
//!
//! objc4 takes its pages from `malloc`, which on macOS serves 4 KiB requests from a region of their
//! own, apart from small objects. glibc's `malloc` does not: a 4 KiB request comes from the same
//! heap as the objects, and every request above its small-bin range first merges all the freed
//! small chunks back together (`malloc_consolidate`). A pool pops its objects and then, one page
//! later, asks for a page: with pages from `malloc`, every 505 autoreleased objects undid the
//! fast free lists the previous pop had just built, which cost a third of the time of creating,
//! autoreleasing and releasing a small object (BENCHMARKS.md has the measurements).
//! Pages from a source of their own keep the objects' heap in the state a `Vec<Box<T>>` leaves it.
//!
//! Freed pages stay mapped for reuse by any thread. A chunk whose pages are all free is returned
//! to the operating system once more than [`RETAINED_EMPTY_CHUNKS`] empty chunks are kept, so a
//! burst of millions of pending objects does not hold its pages for the life of the process.
//!
//! Allocation is address-ordered first fit (the lowest free page of the lowest chunk that has
//! one), so pages in use pack into few chunks and the others can empty out and be unmapped.
//!
//! # Invariants
//!
//! The `unsafe` code here relies on these, and every `SAFETY` note names the ones it uses:
//!
//! 1. Every [`Chunk`] in a source is one whole live mapping of [`CHUNK_SIZE`] bytes from
//!    `os::map`, page-aligned, readable and writable, and the source is its only owner.
//! 2. A chunk's bit `i` is clear exactly while page `i` is handed out: [`PageSource::allocate`]
//!    clears it, [`PageSource::free`] (whose caller gives the page up) sets it. So a page has at
//!    most one user, and a chunk whose bits are all set is used by nobody.
//! 3. A chunk is unmapped only when all its bits are set (invariant 2: nobody uses it), or when
//!    its source is dropped.
//! 4. The process's source is only reached through its mutex ([`lock`]), also across `fork`
//!    (the handlers in `fork` hold it), so its chunk list is never seen half-updated.

use std::ptr::NonNull;
use std::sync::Mutex;

use crate::page::PAGE_SIZE;
use crate::valgrind;

/// Pages per chunk: one bit each in a `u64` mask.
const PAGES_PER_CHUNK: usize = 64;

/// Bytes per chunk (256 KiB).
const CHUNK_SIZE: usize = PAGES_PER_CHUNK * PAGE_SIZE;

/// Empty chunks kept mapped for reuse (16 MiB of pages, room for about two million pending
/// entries) before further empty chunks are unmapped. Unmapping is not free: the pages fault in
/// again on reuse, and with several threads every `munmap` also stalls the others' page faults
/// and interrupts their cores to flush TLBs (BENCHMARKS.md: two threads doing W1 with 1 MiB kept
/// ran far slower per thread than one). glibc, for comparison, keeps up to its trim threshold of free
/// memory at the top of its heap, a threshold it raises to as much as 64 MiB after large frees.
pub(crate) const RETAINED_EMPTY_CHUNKS: usize = 64;

/// A mapped chunk and which of its pages are free.
struct Chunk {
    base: NonNull<u8>,
    /// Bit `i` set: page `i` is free.
    free: u64,
}

impl Chunk {
    const ALL_FREE: u64 = u64::MAX;

    fn start(&self) -> usize {
        self.base.as_ptr() as usize
    }

    fn end(&self) -> usize {
        self.start() + CHUNK_SIZE
    }

    fn contains(&self, addr: usize) -> bool {
        (self.start()..self.end()).contains(&addr)
    }
}

/// The chunks of the process, sorted by address.
pub(crate) struct PageSource {
    chunks: Vec<Chunk>,
    /// No chunk before this index has a free page.
    first_with_free: usize,
    /// Chunks whose pages are all free.
    empty_chunks: usize,
}

// SAFETY: a `PageSource` owns its mappings outright (invariant 1); the pointers in it are only
// addresses of memory no thread touches through the source, so moving it between threads (inside
// the mutex, invariant 4) is sound.
unsafe impl Send for PageSource {}

static SOURCE: Mutex<PageSource> = Mutex::new(PageSource::new());

/// Locks the process's page source. A page operation never panics while holding it, so a
/// poisoned lock (impossible in practice) still guards consistent data.
pub(crate) fn lock() -> SourceGuard {
    #[cfg(unix)]
    fork::ensure_installed();
    lock_source()
}

fn lock_source() -> SourceGuard {
    valgrind::lock_annotated(&SOURCE)
}

/// The locked page source; unlocking tells the race detectors what the lock ordered (pages freed
/// by one thread and reused by another).
pub(crate) type SourceGuard = valgrind::AnnotatedGuard<PageSource>;

/// Keeping the source usable in a child process made by `fork`.
///
/// A forked child has only the thread that called `fork`. Had another thread held the source's
/// lock at that moment, the child would wait for it forever on its first page (and find the
/// chunk list half-updated). So, as glibc does for its own heap, the forking thread takes the
/// lock just before `fork` and both processes release it just after.
#[cfg(unix)]
mod fork {
    use std::cell::RefCell;
    use std::sync::Once;

    use super::SourceGuard;

    thread_local! {
        /// The lock taken by this thread for a `fork` in progress.
        static HELD: RefCell<Option<SourceGuard>> = const { RefCell::new(None) };
        /// The object heap's shared lists, held across a `fork` for the same reason.
        static HELD_HEAP: RefCell<Option<crate::object_heap::SharedGuard>> = const { RefCell::new(None) };
    }

    extern "C" fn before_fork() {
        // `try_with`: a fork from a thread whose thread-locals are gone cannot take the lock,
        // and then neither side releases it.
        // The heap's lock first, always in this order; nothing else holds both.
        let _ = HELD_HEAP.try_with(|held| *held.borrow_mut() = Some(crate::object_heap::lock()));
        let _ = HELD.try_with(|held| *held.borrow_mut() = Some(super::lock_source()));
    }

    extern "C" fn after_fork() {
        let _ = HELD.try_with(|held| drop(held.borrow_mut().take()));
        let _ = HELD_HEAP.try_with(|held| drop(held.borrow_mut().take()));
    }

    static INSTALLED: Once = Once::new();

    /// Registers the fork handlers, once per process.
    ///
    /// This must not run lazily, on the first page request: a thread inside `call_once` when
    /// another thread forks leaves the child a `Once` that stays "running" for ever, and the
    /// child's first page request would wait on it. So it runs when the runtime is loaded (see
    /// [`AT_LOAD`]), before `main` and before the program can have started a thread, or inside
    /// `dlopen` before anyone can call into the runtime.
    fn install() {
        INSTALLED.call_once(|| {
            // SAFETY: the handlers are `extern "C"` functions that never unwind (`lock_source`
            // does not panic, and no `RefCell` borrow can be outstanding in them).
            let result = unsafe {
                libc::pthread_atfork(Some(before_fork), Some(after_fork), Some(after_fork))
            };
            // Only ENOMEM is possible; without the handlers a fork is as it was before.
            debug_assert_eq!(result, 0, "pthread_atfork failed");
            // The thread-exit key too: created lazily, a fork during its `Once` would hang the
            // child's first page the same way.
            crate::thread_exit::create_key();
        });
    }

    extern "C" fn install_at_load() {
        install();
    }

    /// The loader's constructor list entry that runs [`install`] at load time.
    #[used]
    #[cfg_attr(
        any(target_os = "linux", target_os = "android", target_os = "freebsd"),
        link_section = ".init_array"
    )]
    #[cfg_attr(target_vendor = "apple", link_section = "__DATA,__mod_init_func")]
    static AT_LOAD: extern "C" fn() = install_at_load;

    /// Makes sure the handlers are registered before the page source's lock is first taken.
    #[inline]
    pub(super) fn ensure_installed() {
        // A static library's object files are linked only when referenced: naming `AT_LOAD`
        // here keeps its constructor entry in every program that can take the lock.
        std::hint::black_box(&AT_LOAD);
        // Done at load time on the platforms above; elsewhere this registers lazily.
        install();
    }

    /// Whether the handlers were registered (at load time, on the platforms above).
    #[cfg(test)]
    pub(super) fn installed() -> bool {
        INSTALLED.is_completed()
    }
}

impl PageSource {
    const fn new() -> PageSource {
        PageSource {
            chunks: Vec::new(),
            first_with_free: 0,
            empty_chunks: 0,
        }
    }

    /// A page-aligned, `PAGE_SIZE`-byte block no one else uses until it is given back to
    /// [`free`](Self::free). Its contents are unspecified (zero when fresh, old entries when
    /// reused). Aborts through `handle_alloc_error` if the system has no memory.
    pub(crate) fn allocate(&mut self) -> NonNull<u8> {
        let index = match self.chunks[self.first_with_free..]
            .iter()
            .position(|c| c.free != 0)
        {
            Some(offset) => self.first_with_free + offset,
            None => self.map_chunk(),
        };
        self.first_with_free = index;
        let chunk = &mut self.chunks[index];
        if chunk.free == Chunk::ALL_FREE {
            self.empty_chunks -= 1;
        }
        let slot = chunk.free.trailing_zeros() as usize;
        chunk.free &= !(1 << slot);
        // SAFETY: `slot < 64`, so the page lies inside the chunk's mapping (invariant 1), and its
        // bit was set, so nobody else has it (invariant 2).
        unsafe { chunk.base.add(slot * PAGE_SIZE) }
    }

    /// Gives back a page from [`allocate`](Self::allocate).
    ///
    /// # Safety
    /// `page` came from this source's `allocate`, has not been freed since, and is not used
    /// afterwards: its chunk may be unmapped.
    pub(crate) unsafe fn free(&mut self, page: NonNull<u8>) {
        let addr = page.as_ptr() as usize;
        let index = self.chunks.partition_point(|c| c.end() <= addr);
        let chunk = self
            .chunks
            .get_mut(index)
            .filter(|c| c.contains(addr))
            .expect("autorelease: freed a pool page that the page source never gave out");
        let slot = (addr - chunk.start()) / PAGE_SIZE;
        debug_assert_eq!(chunk.free & (1 << slot), 0, "pool page freed twice");
        chunk.free |= 1 << slot;
        self.first_with_free = self.first_with_free.min(index);
        if chunk.free == Chunk::ALL_FREE {
            if self.empty_chunks < RETAINED_EMPTY_CHUNKS {
                self.empty_chunks += 1;
            } else {
                let chunk = self.chunks.remove(index);
                // SAFETY: every page of the chunk is free, so nothing uses its memory (invariants
                // 2 and 3), and it is one whole mapping (invariant 1).
                unsafe { os::unmap(chunk.base, CHUNK_SIZE) };
            }
        }
    }

    /// Maps a new chunk, inserts it in address order and returns its index.
    fn map_chunk(&mut self) -> usize {
        let base = os::map(CHUNK_SIZE);
        let index = self.chunks.partition_point(|c| c.base < base);
        self.chunks.insert(
            index,
            Chunk {
                base,
                free: Chunk::ALL_FREE,
            },
        );
        self.empty_chunks += 1;
        index
    }

    /// Chunks currently mapped.
    #[cfg(test)]
    fn mapped_chunks(&self) -> usize {
        self.chunks.len()
    }
}

impl Drop for PageSource {
    fn drop(&mut self) {
        for chunk in self.chunks.drain(..) {
            // SAFETY: a source is dropped only when nothing uses its pages (invariant 3): the
            // process's source is a static, never dropped; the tests' own sources outlive their
            // pages' use. Each chunk is one whole mapping (invariant 1).
            unsafe { os::unmap(chunk.base, CHUNK_SIZE) };
        }
    }
}

#[cfg(unix)]
mod os {
    use std::alloc::{handle_alloc_error, Layout};
    use std::ptr::{self, NonNull};

    use crate::page::PAGE_SIZE;

    /// Maps `size` bytes of zeroed, page-aligned memory, or aborts like a failed allocation.
    pub(super) fn map(size: usize) -> NonNull<u8> {
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
            handle_alloc_error(Layout::from_size_align(size, PAGE_SIZE).expect("chunk layout"));
        }
        NonNull::new(raw.cast()).expect("mmap returned a null mapping")
    }

    /// Unmaps a mapping made by [`map`].
    ///
    /// # Safety
    /// `base` and `size` describe one whole mapping from `map` that nothing uses any more.
    pub(super) unsafe fn unmap(base: NonNull<u8>, size: usize) {
        // SAFETY: per the function's contract.
        let result = unsafe { libc::munmap(base.as_ptr().cast(), size) };
        // munmap of a whole, valid mapping only fails on kernel resource exhaustion; the memory
        // then stays mapped, which leaks but is safe.
        debug_assert_eq!(result, 0, "munmap of a pool chunk failed");
    }
}

#[cfg(not(unix))]
mod os {
    use std::alloc::{alloc_zeroed, dealloc, handle_alloc_error, Layout};
    use std::ptr::NonNull;

    use crate::page::PAGE_SIZE;

    fn layout(size: usize) -> Layout {
        Layout::from_size_align(size, PAGE_SIZE).expect("chunk layout")
    }

    /// Allocates `size` bytes of zeroed, page-aligned memory, or aborts like a failed allocation.
    pub(super) fn map(size: usize) -> NonNull<u8> {
        // SAFETY: the layout has a non-zero size.
        let raw = unsafe { alloc_zeroed(layout(size)) };
        NonNull::new(raw).unwrap_or_else(|| handle_alloc_error(layout(size)))
    }

    /// Frees memory from [`map`].
    ///
    /// # Safety
    /// `base` and `size` describe one allocation from `map` that nothing uses any more.
    pub(super) unsafe fn unmap(base: NonNull<u8>, size: usize) {
        // SAFETY: per the function's contract.
        unsafe { dealloc(base.as_ptr(), layout(size)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frees every page in `pages`.
    fn free_all(source: &mut PageSource, pages: &[NonNull<u8>]) {
        for &page in pages {
            // SAFETY: each page came from `source` and is freed once.
            unsafe { source.free(page) };
        }
    }

    #[test]
    fn pages_are_page_aligned_distinct_and_writable() {
        let mut source = PageSource::new();
        let pages: Vec<_> = (0..PAGES_PER_CHUNK + 3)
            .map(|_| source.allocate())
            .collect();
        let mut addrs: Vec<usize> = pages.iter().map(|p| p.as_ptr() as usize).collect();
        assert!(addrs.iter().all(|a| a % PAGE_SIZE == 0));
        addrs.sort_unstable();
        assert!(addrs.windows(2).all(|w| w[1] - w[0] >= PAGE_SIZE));
        for (i, page) in pages.iter().enumerate() {
            // SAFETY: each page is PAGE_SIZE writable bytes owned by this test.
            unsafe { page.as_ptr().write_bytes(i as u8, PAGE_SIZE) };
        }
        assert_eq!(source.mapped_chunks(), 2);
        free_all(&mut source, &pages);
    }

    #[test]
    fn a_freed_page_is_reused_before_a_new_one_is_taken() {
        let mut source = PageSource::new();
        let pages: Vec<_> = (0..10).map(|_| source.allocate()).collect();
        // SAFETY: the page came from `source`; it is not used again.
        unsafe { source.free(pages[3]) };
        assert_eq!(source.allocate(), pages[3], "lowest free page first");
        free_all(&mut source, &pages);
    }

    #[test]
    fn empty_chunks_beyond_the_retained_few_are_unmapped() {
        let mut source = PageSource::new();
        let chunks = RETAINED_EMPTY_CHUNKS + 5;
        let pages: Vec<_> = (0..chunks * PAGES_PER_CHUNK)
            .map(|_| source.allocate())
            .collect();
        assert_eq!(source.mapped_chunks(), chunks);
        free_all(&mut source, &pages);
        assert_eq!(source.mapped_chunks(), RETAINED_EMPTY_CHUNKS);
        // The retained chunks serve the next burst before anything new is mapped.
        let again: Vec<_> = (0..RETAINED_EMPTY_CHUNKS * PAGES_PER_CHUNK)
            .map(|_| source.allocate())
            .collect();
        assert_eq!(source.mapped_chunks(), RETAINED_EMPTY_CHUNKS);
        free_all(&mut source, &again);
    }

    #[test]
    fn a_chunk_with_one_page_in_use_stays_mapped() {
        let mut source = PageSource::new();
        let chunks = RETAINED_EMPTY_CHUNKS + 2;
        let pages: Vec<_> = (0..chunks * PAGES_PER_CHUNK)
            .map(|_| source.allocate())
            .collect();
        let (kept, freed) = pages.split_last().unwrap();
        free_all(&mut source, freed);
        assert_eq!(source.mapped_chunks(), RETAINED_EMPTY_CHUNKS + 1);
        // SAFETY: the kept page is still writable.
        unsafe { kept.as_ptr().write_bytes(0xAB, PAGE_SIZE) };
        free_all(&mut source, &[*kept]);
    }

    /// A child forked while another thread holds the source's lock can still take pages.
    #[cfg(unix)]
    #[test]
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    fn fork_handlers_are_registered_when_the_runtime_is_loaded() {
        const NAME: &str =
            "page_source::tests::fork_handlers_are_registered_when_the_runtime_is_loaded";
        if std::env::var_os("AUTORELEASE_TEST_CHILD").is_some() {
            // A fresh process in which no page has been requested yet.
            assert!(fork::installed(), "registered before any page request");
            return;
        }
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([NAME, "--exact", "--test-threads=1"])
            .env("AUTORELEASE_TEST_CHILD", "1")
            .output()
            .unwrap();
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 passed"),
            "child: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn a_child_forked_while_another_thread_holds_the_lock_can_allocate_pages() {
        use std::sync::mpsc;
        use std::time::Duration;

        drop(lock()); // registers the fork handlers
        let (locked_tx, locked_rx) = mpsc::channel();
        let holder = std::thread::spawn(move || {
            let guard = lock();
            locked_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(200));
            drop(guard);
        });
        locked_rx.recv().unwrap();
        // The child reports on a pipe and then kills itself: under valgrind an exit would run a
        // leak check in the child, which finds the other threads' memory unreachable there.
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe failed");
        let [read_end, write_end] = fds;
        // SAFETY: the child only takes the page source's lock, maps and writes memory, writes
        // to the pipe and kills itself; `alarm` kills it if it blocks.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            // SAFETY: async-signal-safe calls only, apart from the page source itself.
            unsafe {
                libc::alarm(5);
                let page = lock().allocate();
                page.as_ptr().write_bytes(0x5A, PAGE_SIZE);
                libc::write(write_end, page.as_ptr().cast(), 1);
                libc::kill(libc::getpid(), libc::SIGKILL);
                libc::_exit(1);
            }
        }
        holder.join().unwrap();
        let mut report = [0u8; 1];
        // SAFETY: plain descriptor operations on the pipe made above; `waitpid` reaps the child.
        let (read, _) = unsafe {
            libc::close(write_end);
            let read = libc::read(read_end, report.as_mut_ptr().cast(), 1);
            libc::close(read_end);
            let mut status = 0;
            (read, libc::waitpid(pid, &mut status, 0))
        };
        assert_eq!(
            (read, report[0]),
            (1, 0x5A),
            "the child could not take a page (it was killed after 5 s)"
        );
    }

    #[test]
    #[should_panic(expected = "never gave out")]
    fn freeing_a_foreign_page_is_caught() {
        let mut source = PageSource::new();
        let page = source.allocate();
        let mut foreign = [0u8; 1];
        // SAFETY: not a valid call (that is the test); the source checks before touching it.
        unsafe { source.free(NonNull::new(foreign.as_mut_ptr()).unwrap()) };
        let _ = page;
    }
}
