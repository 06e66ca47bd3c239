//! Per-thread pool statistics: the numbers that show whether memory stays flat.

/// A snapshot of the calling thread's pools, from [`stats`](crate::stats()).
///
/// ```
/// use autorelease::{autoreleasepool, stats, Obj};
///
/// autoreleasepool(|pool| {
///     for i in 0..10 {
///         Obj::new(i).autorelease(pool);
///     }
///     assert_eq!(stats().pending, 10);
/// });
/// assert_eq!(stats().pending, 0);
/// assert!(stats().high_water_pending >= 10);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Pools pushed and not yet popped.
    pub depth: usize,
    /// Releases waiting in this thread's pools (an object autoreleased twice counts twice).
    pub pending: usize,
    /// Pages currently allocated, spare pages included.
    pub pages: usize,
    /// The most releases ever pending at once (since the thread started or
    /// [`reset_high_water`](crate::reset_high_water)).
    pub high_water_pending: usize,
    /// The most pages ever allocated at once.
    pub high_water_pages: usize,
    /// Autoreleases since the thread started.
    pub total_autoreleased: u64,
    /// Pools pushed since the thread started.
    pub total_pushes: u64,
    /// Pages allocated since the thread started.
    pub total_pages_allocated: u64,
}
