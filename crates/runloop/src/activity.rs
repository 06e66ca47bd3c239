//! The points of a run-loop pass that observers can watch.

bitflags::bitflags! {
    /// Run-loop activities, as bit flags with CFRunLoop's values (`kCFRunLoopEntry` and so on).
    ///
    /// An [`Observer`](crate::Observer) watches any combination; its callback is told which single
    /// activity it is being notified of.
    ///
    /// ```
    /// use runloop::Activity;
    /// let drain = Activity::BEFORE_WAITING | Activity::EXIT;
    /// assert_eq!(drain.bits(), 32 | 128);
    /// assert!(drain.contains(Activity::EXIT));
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Activity: u32 {
        /// The loop is entering a run (`kCFRunLoopEntry`, 1).
        const ENTRY = 1 << 0;
        /// The pass is about to fire due timers (`kCFRunLoopBeforeTimers`, 2).
        const BEFORE_TIMERS = 1 << 1;
        /// The pass is about to handle signalled sources (`kCFRunLoopBeforeSources`, 4).
        const BEFORE_SOURCES = 1 << 2;
        /// The loop is about to sleep (`kCFRunLoopBeforeWaiting`, 32). Notified only on passes
        /// that really go to sleep.
        const BEFORE_WAITING = 1 << 5;
        /// The loop has just woken up (`kCFRunLoopAfterWaiting`, 64). Paired with
        /// [`BEFORE_WAITING`](Activity::BEFORE_WAITING).
        const AFTER_WAITING = 1 << 6;
        /// The loop is leaving a run (`kCFRunLoopExit`, 128).
        const EXIT = 1 << 7;
    }
}
