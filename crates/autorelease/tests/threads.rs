//! Pools are per thread; objects cross threads with exact counts; thread exit drains.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use autorelease::{autoreleasepool, push, stats, Obj};
use common::DropLog;

#[test]
fn each_thread_has_its_own_pool_stack() {
    autoreleasepool(|pool| {
        Obj::new(1).autorelease(pool);
        std::thread::spawn(|| {
            assert_eq!(stats().depth, 0);
            assert_eq!(stats().pending, 0);
            autoreleasepool(|pool| {
                Obj::new(2).autorelease(pool);
                assert_eq!(stats().pending, 1);
            });
        })
        .join()
        .unwrap();
        assert_eq!(stats().pending, 1);
    });
}

#[test]
fn thread_exit_drains_pools_left_pushed_newest_first() {
    let log = DropLog::new();
    let thread_log = log.clone();
    std::thread::spawn(move || {
        let _leaked_outer = push();
        Obj::new(thread_log.track(1)).autorelease_to_innermost();
        let _leaked_inner = push();
        for id in 2..1100 {
            Obj::new(thread_log.track(id)).autorelease_to_innermost();
        }
        assert!(thread_log.dropped().is_empty());
    })
    .join()
    .unwrap();
    assert_eq!(log.dropped(), (1..1100).rev().collect::<Vec<_>>());
}

#[test]
fn objects_autoreleased_by_destructors_during_thread_exit_are_drained_too() {
    struct AutoreleasesOnDrop(DropLog);
    impl Drop for AutoreleasesOnDrop {
        fn drop(&mut self) {
            Obj::new(self.0.track(2)).autorelease_to_innermost();
        }
    }
    let log = DropLog::new();
    let thread_log = log.clone();
    std::thread::spawn(move || {
        let _leaked = push();
        Obj::new(AutoreleasesOnDrop(thread_log)).autorelease_to_innermost();
    })
    .join()
    .unwrap();
    assert_eq!(log.dropped(), vec![2]);
}

#[test]
fn an_object_shared_by_many_threads_keeps_an_exact_count() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    struct CountsDrops;
    impl Drop for CountsDrops {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Ordering::SeqCst);
        }
    }
    let shared = Obj::new(CountsDrops);
    let barrier = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let shared = shared.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                for _ in 0..50 {
                    autoreleasepool(|pool| {
                        for _ in 0..200 {
                            shared.clone().autorelease(pool);
                        }
                    });
                    // Interleave with plain clones and drops from other threads.
                    let extra: Vec<_> = (0..20).map(|_| shared.clone()).collect();
                    drop(extra);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(Obj::retain_count(&shared), 1);
    assert_eq!(DROPS.load(Ordering::SeqCst), 0);
    drop(shared);
    assert_eq!(DROPS.load(Ordering::SeqCst), 1, "dropped exactly once");
}

#[test]
fn an_object_released_last_by_another_threads_pool_is_dropped_there_once() {
    let log = DropLog::new();
    let obj = Obj::new(log.track(1));
    std::thread::spawn(move || {
        autoreleasepool(|pool| {
            obj.autorelease(pool);
        });
    })
    .join()
    .unwrap();
    assert_eq!(log.dropped(), vec![1]);
}

#[test]
fn two_threads_autoreleasing_at_once_each_release_their_own_objects() {
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = (0..2)
        .map(|t| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let log = DropLog::new();
                barrier.wait();
                autoreleasepool(|pool| {
                    for i in 0..5000 {
                        Obj::new(log.track(t * 10_000 + i)).autorelease(pool);
                    }
                });
                log.dropped()
            })
        })
        .collect();
    for (t, h) in handles.into_iter().enumerate() {
        let expected: Vec<u32> = (0..5000).rev().map(|i| t as u32 * 10_000 + i).collect();
        assert_eq!(h.join().unwrap(), expected);
    }
}
