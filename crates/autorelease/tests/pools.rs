//! Pool behaviour: lifetimes, LIFO order, pages, placeholder, nesting, pops during pops.

mod common;

use autorelease::{autoreleasepool, pop, push, stats, Obj, PAGE_CAPACITY};
use common::{on_fresh_thread, DropLog};

#[test]
#[cfg(target_pointer_width = "64")]
fn page_capacity_is_505_entries_on_64_bit() {
    assert_eq!(PAGE_CAPACITY, 505);
}

#[test]
fn autoreleased_object_lives_until_its_pool_pops() {
    let log = DropLog::new();
    autoreleasepool(|pool| {
        let obj = Obj::new(log.track(1)).autorelease(pool);
        assert_eq!(obj.id, 1);
        assert!(log.dropped().is_empty(), "released before the pool popped");
    });
    assert_eq!(log.dropped(), vec![1]);
}

#[test]
fn pop_releases_objects_newest_first() {
    let log = DropLog::new();
    autoreleasepool(|pool| {
        for id in 0..1200 {
            Obj::new(log.track(id)).autorelease(pool);
        }
    });
    assert_eq!(log.dropped(), (0..1200).rev().collect::<Vec<_>>());
}

#[test]
fn autorelease_leaves_retain_count_alone_and_pop_releases_once_per_autorelease() {
    let obj = Obj::new(5);
    autoreleasepool(|pool| {
        obj.clone().autorelease(pool);
        assert_eq!(Obj::retain_count(&obj), 2);
        obj.clone().autorelease(pool);
        obj.clone().autorelease(pool);
        assert_eq!(Obj::retain_count(&obj), 4);
    });
    assert_eq!(Obj::retain_count(&obj), 1);
}

#[test]
fn repeated_autoreleases_of_one_object_share_a_slot_but_release_each_time() {
    on_fresh_thread(|| {
        let obj = Obj::new("same");
        autoreleasepool(|pool| {
            for _ in 0..1000 {
                obj.clone().autorelease(pool);
            }
            assert_eq!(stats().pending, 1000);
            assert_eq!(
                stats().pages,
                1,
                "1000 repeats in a row must coalesce into one slot"
            );
            assert!(autorelease::pools_description().contains("(x1000)"));
            assert_eq!(Obj::retain_count(&obj), 1001);
        });
        assert_eq!(Obj::retain_count(&obj), 1);
    });
}

#[test]
fn coalescing_never_reorders_releases_of_interleaved_objects() {
    let log = DropLog::new();
    autoreleasepool(|pool| {
        let a = Obj::new(log.track(1));
        let b = Obj::new(log.track(2));
        a.clone().autorelease(pool);
        b.clone().autorelease(pool);
        a.autorelease(pool); // not on top: a new slot, released first
        b.autorelease(pool);
    });
    assert_eq!(log.dropped(), vec![2, 1]);
}

#[test]
fn empty_push_and_pop_allocate_no_page() {
    on_fresh_thread(|| {
        for _ in 0..1000 {
            let token = push();
            assert_eq!(stats().depth, 1);
            // SAFETY: nothing was autoreleased into the pool.
            unsafe { pop(token) };
        }
        autoreleasepool(|_| {});
        let s = stats();
        assert_eq!((s.pages, s.total_pages_allocated, s.depth), (0, 0, 0));
        assert_eq!(s.total_pushes, 1001);
    });
}

#[test]
fn first_object_in_a_placeholder_pool_allocates_the_page_with_its_boundary() {
    on_fresh_thread(|| {
        let log = DropLog::new();
        autoreleasepool(|outer| {
            assert_eq!(stats().pages, 0);
            autoreleasepool(|inner| {
                // The placeholder becomes a real boundary under this pool's.
                assert_eq!(stats().pages, 1);
                Obj::new(log.track(2)).autorelease(inner);
                let text = autorelease::pools_description();
                assert_eq!(text.matches("POOL 0x").count(), 2, "{text}");
            });
            assert_eq!(log.dropped(), vec![2]);
            Obj::new(log.track(1)).autorelease(outer);
        });
        assert_eq!(log.dropped(), vec![2, 1]);
        assert_eq!(stats().depth, 0);
    });
}

#[test]
fn a_full_page_spills_into_a_child_page() {
    on_fresh_thread(|| {
        autoreleasepool(|pool| {
            // The boundary takes one slot of the first page.
            for i in 0..PAGE_CAPACITY - 1 {
                Obj::new(i).autorelease(pool);
            }
            assert_eq!(stats().pages, 1);
            Obj::new(0).autorelease(pool);
            assert_eq!(stats().pages, 2);
            assert!(autorelease::pools_description().contains("(hot)"));
        });
        assert_eq!(stats().pending, 0);
    });
}

#[test]
fn a_loop_of_600_object_pools_reuses_its_pages() {
    on_fresh_thread(|| {
        autoreleasepool(|_| {
            for _ in 0..3 {
                autoreleasepool(|pool| {
                    (0..600).for_each(|i| {
                        Obj::new(i).autorelease(pool);
                    })
                });
            }
            let allocated = stats().total_pages_allocated;
            for _ in 0..100 {
                autoreleasepool(|pool| {
                    (0..600).for_each(|i| {
                        Obj::new(i).autorelease(pool);
                    })
                });
            }
            assert_eq!(
                stats().total_pages_allocated,
                allocated,
                "a page was allocated per iteration"
            );
            assert!(
                stats().pages <= 3,
                "more than one spare page kept: {:?}",
                stats()
            );
        });
    });
}

#[test]
fn popping_frees_all_but_one_spare_page() {
    on_fresh_thread(|| {
        autoreleasepool(|pool| {
            autoreleasepool(|inner| {
                (0..PAGE_CAPACITY * 10).for_each(|i| {
                    Obj::new(i).autorelease(inner);
                })
            });
            assert_eq!(stats().pages, 2, "the hot page and one spare");
            assert_eq!(stats().high_water_pages, 11);
            Obj::new(1).autorelease(pool);
        });
    });
}

#[test]
fn popping_an_outer_token_drains_the_pools_pushed_after_it() {
    let log = DropLog::new();
    let outer = push();
    Obj::new(log.track(1)).autorelease_to_innermost();
    let _inner = push();
    Obj::new(log.track(2)).autorelease_to_innermost();
    let _innermost = push();
    Obj::new(log.track(3)).autorelease_to_innermost();
    assert_eq!(stats().depth, 3);
    // SAFETY: no borrows of the pooled objects exist.
    unsafe { pop(outer) };
    assert_eq!(log.dropped(), vec![3, 2, 1]);
    assert_eq!(stats().depth, 0);
}

#[test]
fn a_thousand_nested_pools_pop_in_strict_lifo_order() {
    on_fresh_thread(|| {
        let log = DropLog::new();
        let first = push();
        let mut tokens = Vec::new();
        for level in 0..1000u32 {
            for k in 0..10 {
                Obj::new(log.track(level * 10 + k)).autorelease_to_innermost();
            }
            tokens.push(push());
        }
        // The inner tokens are never popped themselves: popping `first` drains through them.
        drop(tokens);
        // SAFETY: no borrows of the pooled objects exist.
        unsafe { pop(first) };
        assert_eq!(log.dropped(), (0..10_000).rev().collect::<Vec<_>>());
        assert_eq!(stats().depth, 0);
    });
}

struct AutoreleasesOnDrop {
    log: DropLog,
    id: u32,
}

impl Drop for AutoreleasesOnDrop {
    fn drop(&mut self) {
        Obj::new(self.log.track(self.id + 100)).autorelease_to_innermost();
    }
}

#[test]
fn objects_autoreleased_during_a_pop_are_released_by_that_pop() {
    let log = DropLog::new();
    autoreleasepool(|outer| {
        autoreleasepool(|pool| {
            Obj::new(AutoreleasesOnDrop {
                log: log.clone(),
                id: 1,
            })
            .autorelease(pool);
            Obj::new(log.track(2)).autorelease(pool);
        });
        assert_eq!(
            log.dropped(),
            vec![2, 101],
            "the pop must release what destructors autoreleased"
        );
        Obj::new(0).autorelease(outer);
    });
}

#[test]
fn a_destructor_that_autoreleases_enough_to_add_pages_is_fully_drained() {
    // GNUstep libobjc2 issue #217: a pop stopped early when a dealloc added a page.
    struct Spills(DropLog);
    impl Drop for Spills {
        fn drop(&mut self) {
            for i in 0..(2 * PAGE_CAPACITY as u32) {
                Obj::new(self.0.track(i)).autorelease_to_innermost();
            }
        }
    }
    on_fresh_thread(|| {
        let log = DropLog::new();
        autoreleasepool(|pool| {
            Obj::new(Spills(log.clone())).autorelease(pool);
        });
        assert_eq!(log.dropped().len(), 2 * PAGE_CAPACITY);
        assert_eq!(stats().pending, 0);
    });
}

struct PoolsOnDrop {
    log: DropLog,
    leave_one_pushed: bool,
}

impl Drop for PoolsOnDrop {
    fn drop(&mut self) {
        autoreleasepool(|pool| {
            Obj::new(self.log.track(7)).autorelease(pool);
        });
        if self.leave_one_pushed {
            let token = push();
            let _never_popped = token;
            Obj::new(self.log.track(8)).autorelease_to_innermost();
        }
    }
}

#[test]
fn a_destructor_may_push_and_pop_pools_during_a_pop() {
    let log = DropLog::new();
    autoreleasepool(|pool| {
        Obj::new(log.track(1)).autorelease(pool);
        Obj::new(PoolsOnDrop {
            log: log.clone(),
            leave_one_pushed: false,
        })
        .autorelease(pool);
    });
    assert_eq!(log.dropped(), vec![7, 1]);
    assert_eq!(stats().depth, 0);
}

#[test]
fn a_pool_pushed_and_never_popped_by_a_destructor_is_drained_by_the_outer_pop() {
    let log = DropLog::new();
    autoreleasepool(|pool| {
        Obj::new(log.track(1)).autorelease(pool);
        Obj::new(PoolsOnDrop {
            log: log.clone(),
            leave_one_pushed: true,
        })
        .autorelease(pool);
    });
    assert_eq!(log.dropped(), vec![7, 8, 1]);
    assert_eq!(stats().depth, 0);
}

struct PanicsOnDrop(&'static str);

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("{}", self.0);
    }
}

#[test]
fn a_panic_in_a_destructor_completes_the_pop_then_propagates() {
    on_fresh_thread(|| {
        let log = DropLog::new();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            autoreleasepool(|pool| {
                Obj::new(log.track(1)).autorelease(pool);
                Obj::new(PanicsOnDrop("first")).autorelease(pool);
                Obj::new(log.track(3)).autorelease(pool);
                Obj::new(PanicsOnDrop("second")).autorelease(pool);
            })
        }));
        let payload = result.expect_err("the destructor's panic must propagate");
        assert_eq!(
            payload
                .downcast_ref::<&str>()
                .copied()
                .or(payload.downcast_ref::<String>().map(|s| s.as_str())),
            Some("second")
        );
        assert_eq!(log.dropped(), vec![3, 1], "every object is still released");
        let s = stats();
        assert_eq!((s.depth, s.pending), (0, 0), "the pool stack is consistent");
        // And it keeps working.
        autoreleasepool(|pool| {
            Obj::new(log.track(4)).autorelease(pool);
        });
        assert_eq!(log.dropped(), vec![3, 1, 4]);
    });
}

#[test]
fn a_panicking_closure_still_pops_its_pool() {
    let log = DropLog::new();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        autoreleasepool(|pool| {
            Obj::new(log.track(1)).autorelease(pool);
            panic!("closure failed");
        })
    }));
    assert!(result.is_err());
    assert_eq!(log.dropped(), vec![1]);
    assert_eq!(stats().depth, 0);
}

#[test]
fn stats_track_depth_pending_pages_and_high_water() {
    on_fresh_thread(|| {
        autoreleasepool(|pool| {
            for i in 0..1000 {
                Obj::new(i).autorelease(pool);
            }
            let s = stats();
            assert_eq!((s.depth, s.pending, s.pages), (1, 1000, 2));
        });
        let s = stats();
        assert_eq!((s.depth, s.pending), (0, 0));
        assert_eq!(s.high_water_pending, 1000);
        assert_eq!(s.total_autoreleased, 1000);
        autorelease::reset_high_water();
        autoreleasepool(|pool| {
            (0..10).for_each(|i| {
                Obj::new(i).autorelease(pool);
            })
        });
        assert_eq!(stats().high_water_pending, 10);
    });
}

#[test]
fn print_pools_lists_pages_pools_and_objects_with_their_types() {
    on_fresh_thread(|| {
        autoreleasepool(|pool| {
            Obj::new(String::from("x")).autorelease(pool);
            autoreleasepool(|inner| {
                Obj::new(3u64).autorelease(inner);
                let text = autorelease::pools_description();
                assert!(text.contains("AUTORELEASE POOLS for thread"), "{text}");
                assert!(text.contains("2 releases pending."), "{text}");
                assert!(text.contains("PAGE 0  (hot) (cold)"), "{text}");
                assert_eq!(text.matches("################  POOL").count(), 2, "{text}");
                let string_line = text
                    .lines()
                    .position(|l| l.ends_with("alloc::string::String"))
                    .expect(&text);
                let u64_line = text.lines().position(|l| l.ends_with("u64")).expect(&text);
                assert!(string_line < u64_line, "oldest first: {text}");
            });
        });
    });
}

#[test]
fn debug_pool_allocation_gives_each_pool_a_fresh_page_and_frees_it_on_pop() {
    // Process-wide switch: run in a child so other tests keep the normal layout.
    if !common::is_child() {
        let out = common::run_child(
            "debug_pool_allocation_gives_each_pool_a_fresh_page_and_frees_it_on_pop",
            &[("AUTORELEASE_DEBUG_POOL_ALLOCATION", "YES")],
        );
        assert!(out.status.success(), "{}", common::stderr_of(&out));
        return;
    }
    on_fresh_thread(|| {
        autoreleasepool(|_| {
            assert_eq!(stats().pages, 1, "no placeholder in this mode");
            autoreleasepool(|_| assert_eq!(stats().pages, 2));
            assert_eq!(stats().pages, 1, "the inner pool's page is freed at once");
        });
        assert_eq!(stats().pages, 0);
    });
}
