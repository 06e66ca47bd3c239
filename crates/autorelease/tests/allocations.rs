//! What touches the allocator: a counting global allocator (per thread) proves that empty pools
//! allocate nothing and that steady-state pool cycles of small objects do not either. Pool pages
//! come from the runtime's own page source and small objects from its object heap, not the global
//! allocator, so page reuse is checked through `stats().total_pages_allocated`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use autorelease::{autoreleasepool, pop, push, Obj};

struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; the counter is a const thread-local without a
// destructor, so touching it never allocates or fails.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn an_empty_push_and_pop_never_touch_the_allocator() {
    std::thread::spawn(|| {
        // The first push of the process reads the debugging switches from the environment.
        autoreleasepool(|_| {});
        let n = allocations_during(|| {
            for _ in 0..10_000 {
                let token = push();
                // SAFETY: nothing was autoreleased.
                unsafe { pop(token) };
                autoreleasepool(|_| {});
            }
        });
        assert_eq!(n, 0);
        // Pages come from the runtime's own page source, which the counter does not see.
        assert_eq!(autorelease::stats().total_pages_allocated, 0);
    })
    .join()
    .unwrap();
}

#[test]
fn steady_state_pool_cycles_of_small_objects_never_touch_the_global_allocator() {
    std::thread::spawn(|| {
        let cycle = || {
            autoreleasepool(|pool| {
                for i in 0..1000u32 {
                    Obj::new(i).autorelease(pool);
                }
            })
        };
        // Warm up: the two pages a 1,000-object pool needs are allocated once, then reused
        // (one spare page is kept after a pop).
        cycle();
        let pages_before = autorelease::stats().total_pages_allocated;
        let n = allocations_during(|| (0..1000).for_each(|_| cycle()));
        assert_eq!(n, 0, "small objects come from the runtime's object heap");
        assert_eq!(
            autorelease::stats().total_pages_allocated,
            pages_before,
            "the spare page is reused, not allocated again"
        );
    })
    .join()
    .unwrap();
}

#[test]
fn objects_too_large_for_the_object_heap_come_from_the_global_allocator() {
    std::thread::spawn(|| {
        let cycle = || {
            autoreleasepool(|pool| {
                for _ in 0..100 {
                    Obj::new([0u8; 512]).autorelease(pool);
                }
            })
        };
        // Warm up: the switches are read and the thread's first page is taken (the page source
        // may grow its chunk list) outside the count.
        cycle();
        let n = allocations_during(cycle);
        assert_eq!(n, 100);
    })
    .join()
    .unwrap();
}

#[test]
fn a_million_entries_in_random_nested_pools_pop_on_a_32_kib_stack() {
    // objc4's rr-autorelease2 test: pops must not recurse.
    let handle = std::thread::Builder::new()
        .stack_size(32 * 1024)
        .spawn(|| {
            let outer = push();
            let mut rng = 0x2545_f491_4f6c_dd1du64;
            let mut live = 0usize;
            for i in 0..1_000_000u32 {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                if rng.is_multiple_of(64) {
                    let _nested_never_popped_directly = push();
                }
                Obj::new(i).autorelease_to_innermost();
                live += 1;
            }
            assert_eq!(autorelease::stats().pending, live);
            // SAFETY: no borrows of pooled objects exist.
            unsafe { pop(outer) };
            autorelease::stats()
        })
        .unwrap();
    let stats = handle.join().unwrap();
    assert_eq!((stats.pending, stats.depth), (0, 0));
}
