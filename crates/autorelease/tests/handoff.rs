//! The return-value hand-off (`Obj::autorelease_return` / `Returned::claim`, and the raw pair):
//! a claim of the same object takes the reference with no pool entry and no retain; anything else
//! that observes the pools first moves the hand-off into the innermost pool, released once there.

mod common;

use autorelease::{autoreleasepool, raw, stats, AutoreleasePool, Obj, Returned};
use common::{on_fresh_thread, DropLog, Tracked};

/// A callee returning a new object through the hand-off.
fn make<'p>(log: &DropLog, id: u32, pool: AutoreleasePool<'p>) -> Returned<'p, Tracked> {
    Obj::new(log.track(id)).autorelease_return(pool)
}

#[test]
fn claiming_the_returned_object_takes_its_reference_without_a_pool_entry() {
    on_fresh_thread(|| {
        let log = DropLog::new();
        autoreleasepool(|pool| {
            let returned = make(&log, 1, pool);
            assert_eq!(returned.get().id, 1);
            let obj = returned.claim();
            assert_eq!(Obj::retain_count(&obj), 1);
            assert_eq!(stats().pending, 0);
            drop(obj);
            assert_eq!(log.dropped(), vec![1]);
        });
        assert_eq!(log.dropped(), vec![1]);
    });
}

#[test]
fn a_claim_after_another_autorelease_retains_and_the_pool_releases_once() {
    on_fresh_thread(|| {
        let log = DropLog::new();
        autoreleasepool(|pool| {
            let returned = make(&log, 1, pool);
            Obj::new(log.track(2)).autorelease(pool); // moves the hand-off into the pool first
            assert_eq!(stats().pending, 2);
            let obj = returned.claim();
            assert_eq!(
                Obj::retain_count(&obj),
                2,
                "a retain: the pool keeps its reference"
            );
            drop(obj);
            assert!(log.dropped().is_empty());
        });
        assert_eq!(log.dropped(), vec![2, 1]);
    });
}

#[test]
fn an_inner_pool_pushed_before_the_claim_does_not_release_the_returned_object() {
    on_fresh_thread(|| {
        let log = DropLog::new();
        autoreleasepool(|pool| {
            let returned = make(&log, 1, pool);
            autoreleasepool(|inner| {
                Obj::new(log.track(2)).autorelease(inner);
            });
            assert_eq!(log.dropped(), vec![2]);
            let obj = returned.claim();
            assert_eq!(obj.id, 1);
        });
        assert_eq!(log.dropped(), vec![2, 1]);
    });
}

#[test]
fn an_unclaimed_hand_off_is_released_by_its_pool() {
    on_fresh_thread(|| {
        let log = DropLog::new();
        autoreleasepool(|pool| {
            let _unclaimed = make(&log, 1, pool);
        });
        assert_eq!(log.dropped(), vec![1]);
        assert_eq!((stats().pending, stats().depth), (0, 0));
    });
}

#[test]
fn a_million_return_claim_pairs_leave_the_pool_empty_and_the_high_water_unchanged() {
    on_fresh_thread(|| {
        autoreleasepool(|pool| {
            let before = stats().high_water_pending;
            let mut obj = Obj::new(0u64);
            for _ in 0..1_000_000 {
                obj = obj.autorelease_return(pool).claim();
            }
            assert_eq!(Obj::retain_count(&obj), 1);
            let after = stats();
            assert_eq!(after.pending, 0);
            assert_eq!(after.high_water_pending, before);
        });
    });
}

#[test]
#[should_panic(expected = "not the innermost pool")]
fn an_outer_pools_marker_cannot_take_a_hand_off() {
    autoreleasepool(|outer| {
        autoreleasepool(|_inner| {
            let _ = Obj::new(1u8).autorelease_return(outer);
        });
    });
}

#[test]
fn raw_claim_of_a_different_object_retains_it_and_pools_the_waiting_one() {
    on_fresh_thread(|| {
        let log = DropLog::new();
        autoreleasepool(|_pool| {
            let waiting = Obj::new(log.track(1)).into_raw();
            let other = Obj::new(log.track(2));
            let other_raw = Obj::into_raw(other.clone());
            // SAFETY: we own `waiting`'s reference and hand it off; `other` is alive (we hold it).
            unsafe {
                raw::autorelease_return(waiting);
                raw::retain_autoreleased_return(other_raw);
            }
            assert_eq!(Obj::retain_count(&other), 3, "the claim retained");
            assert_eq!(stats().pending, 1, "the waiting object went into the pool");
            // SAFETY: `other_raw` stands for two references now: the clone's and the claim's.
            unsafe {
                drop(Obj::<Tracked>::from_raw(other_raw));
                drop(Obj::<Tracked>::from_raw(other_raw));
            }
            drop(other);
            assert_eq!(log.dropped(), vec![2]);
        });
        assert_eq!(log.dropped(), vec![2, 1]);
    });
}

#[test]
fn a_hand_off_left_by_an_exiting_thread_is_released_on_that_thread() {
    let log = DropLog::new();
    let thread_log = log.clone();
    std::thread::spawn(move || {
        let obj = Obj::new(thread_log.track(1)).into_raw();
        // SAFETY: we own the reference and hand it off; nothing claims it.
        unsafe { raw::autorelease_return(obj) };
    })
    .join()
    .unwrap();
    assert_eq!(log.dropped(), vec![1]);
}
