//! Why a run returned.

/// Why [`RunLoop::run_in_mode`](crate::RunLoop::run_in_mode) returned, with CFRunLoop's values
/// (`kCFRunLoopRunFinished` = 1 … `kCFRunLoopRunHandledSource` = 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum RunResult {
    /// The mode had no timers, no sources and no closures left to perform.
    Finished = 1,
    /// [`RunLoop::stop`](crate::RunLoop::stop) or
    /// [`RunLoopHandle::stop`](crate::RunLoopHandle::stop) was called during the run.
    Stopped = 2,
    /// The timeout passed.
    TimedOut = 3,
    /// A source was handled and the run was asked to return after one.
    HandledSource = 4,
}
