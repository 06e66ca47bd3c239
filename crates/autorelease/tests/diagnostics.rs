//! The high-water report and the growth warning (each run in a child process, since the
//! switches are process-wide and the output goes to stderr).

mod common;

use autorelease::{autoreleasepool, Obj};
use common::{is_child, run_child, stderr_of};

#[test]
fn growth_warning_names_the_push_site_once_when_a_pool_passes_the_limit() {
    const NAME: &str = "growth_warning_names_the_push_site_once_when_a_pool_passes_the_limit";
    if !is_child() {
        let out = run_child(NAME, &[]);
        let err = stderr_of(&out);
        assert!(out.status.success(), "{err}");
        assert_eq!(
            err.matches("POOL GROWTH").count(),
            1,
            "warned exactly once: {err}"
        );
        assert!(err.contains("holds more than 1000 objects"), "{err}");
        assert!(
            err.contains("diagnostics.rs:"),
            "names where the pool was pushed: {err}"
        );
        assert!(err.contains("Push a pool per iteration"), "{err}");
        return;
    }
    autorelease::set_growth_warning(Some(1000));
    // The classic bug: one pool around the whole loop.
    autoreleasepool(|pool| {
        for frame in 0..5000 {
            Obj::new(frame).autorelease(pool);
        }
    });
    // The fix: a pool per iteration never warns.
    autoreleasepool(|_| {
        for frame in 0..5000 {
            autoreleasepool(|pool| {
                Obj::new(frame).autorelease(pool);
            });
        }
    });
}

#[test]
fn growth_warning_can_be_set_from_the_environment() {
    const NAME: &str = "growth_warning_can_be_set_from_the_environment";
    if !is_child() {
        let out = run_child(NAME, &[("AUTORELEASE_POOL_GROWTH_WARNING", "300")]);
        let err = stderr_of(&out);
        assert!(out.status.success(), "{err}");
        assert!(err.contains("holds more than 300 objects"), "{err}");
        return;
    }
    assert_eq!(autorelease::growth_warning(), Some(300));
    autoreleasepool(|pool| {
        (0..400).for_each(|i| {
            Obj::new(i).autorelease(pool);
        })
    });
}

#[test]
fn high_water_report_prints_each_new_mark_with_its_site() {
    const NAME: &str = "high_water_report_prints_each_new_mark_with_its_site";
    if !is_child() {
        for var in [
            "AUTORELEASE_PRINT_POOL_HIGHWATER",
            "OBJC_PRINT_POOL_HIGHWATER",
        ] {
            let out = run_child(NAME, &[(var, "YES")]);
            let err = stderr_of(&out);
            assert!(out.status.success(), "{err}");
            let reports: Vec<&str> = err
                .lines()
                .filter(|l| l.contains("POOL HIGHWATER: new high water mark of"))
                .collect();
            // 1000 objects, a report every 256: at 257, 514, 771.
            assert_eq!(reports.len(), 3, "{err}");
            assert!(reports[0].contains("of 257 pending releases"), "{err}");
            assert!(
                reports.iter().all(|l| l.contains("diagnostics.rs:")),
                "{err}"
            );
        }
        return;
    }
    std::thread::spawn(|| {
        autoreleasepool(|pool| {
            (0..1000).for_each(|i| {
                Obj::new(i).autorelease(pool);
            })
        });
        // Lower than the mark: no new report.
        autoreleasepool(|pool| {
            (0..500).for_each(|i| {
                Obj::new(i).autorelease(pool);
            })
        });
    })
    .join()
    .unwrap();
}
