//! Closures performed on the loop (CFRunLoopPerformBlock), local or sent from other threads.

use std::collections::VecDeque;

use crate::mode::Mode;
use crate::wake::RemoteBlock;

/// A closure waiting to run once on the loop in `mode` (or any common mode for
/// [`Mode::COMMON`]).
pub(crate) struct Block {
    pub(crate) mode: Mode,
    pub(crate) work: Box<dyn FnOnce()>,
}

impl From<RemoteBlock> for Block {
    fn from(remote: RemoteBlock) -> Block {
        Block {
            mode: remote.mode,
            work: remote.work,
        }
    }
}

/// Whether a closure scheduled for `scheduled` runs in a pass of `running`.
pub(crate) fn block_matches(scheduled: &Mode, running: &Mode, running_is_common: bool) -> bool {
    scheduled == running || (running_is_common && scheduled.is_common_set())
}

/// The loop's queue of closures, in the order they were scheduled.
#[derive(Default)]
pub(crate) struct BlockQueue(VecDeque<Block>);

impl BlockQueue {
    pub(crate) fn push(&mut self, block: Block) {
        self.0.push_back(block);
    }

    pub(crate) fn extend(&mut self, blocks: impl IntoIterator<Item = Block>) {
        self.0.extend(blocks);
    }

    /// Takes the closures that run in `running`, keeping the others queued in order.
    pub(crate) fn take_matching(
        &mut self,
        running: &Mode,
        running_is_common: bool,
    ) -> VecDeque<Block> {
        let (matching, rest) = std::mem::take(&mut self.0)
            .into_iter()
            .partition(|b| block_matches(&b.mode, running, running_is_common));
        self.0 = rest;
        matching
    }

    /// Puts closures that did not get to run back at the front, in their order.
    pub(crate) fn requeue_front(&mut self, blocks: VecDeque<Block>) {
        for block in blocks.into_iter().rev() {
            self.0.push_front(block);
        }
    }

    pub(crate) fn has_matching(&self, running: &Mode, running_is_common: bool) -> bool {
        self.0
            .iter()
            .any(|b| block_matches(&b.mode, running, running_is_common))
    }

    pub(crate) fn take_all(&mut self) -> VecDeque<Block> {
        std::mem::take(&mut self.0)
    }
}
