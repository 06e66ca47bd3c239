//! A small free list of frame buffers, so steady-state export allocates nothing per frame.

use std::sync::{Arc, Mutex};

/// Keeps up to `capacity` released buffers for reuse.
///
/// Buffers come back when the [`Image`](crate::source::Image) holding one is
/// deallocated, whichever thread that happens on.
#[derive(Debug)]
pub struct BufferRecycler {
    free: Mutex<Vec<Vec<u8>>>,
    capacity: usize,
}

impl BufferRecycler {
    /// A recycler keeping at most `capacity` buffers.
    pub fn new(capacity: usize) -> Arc<Self> {
        Arc::new(BufferRecycler {
            free: Mutex::new(Vec::with_capacity(capacity)),
            capacity,
        })
    }

    /// A buffer of exactly `len` bytes: a recycled one if available.
    ///
    /// The contents are unspecified; callers overwrite all of it.
    pub fn take(&self, len: usize) -> Vec<u8> {
        let reused = self.free.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match reused {
            Some(mut buf) => {
                buf.resize(len, 0);
                buf
            }
            None => vec![0; len],
        }
    }

    /// Returns a buffer; it is freed instead if the list is full.
    pub fn give(&self, buf: Vec<u8>) {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        if free.len() < self.capacity {
            free.push(buf);
        }
    }

    /// Buffers currently waiting for reuse.
    #[cfg(test)]
    pub fn idle(&self) -> usize {
        self.free.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_buffers_are_reused_up_to_capacity() {
        let r = BufferRecycler::new(2);
        let a = r.take(10);
        let ptr = a.as_ptr();
        r.give(a);
        r.give(vec![0; 10]);
        r.give(vec![0; 10]);
        assert_eq!(r.idle(), 2);
        let b = r.take(10);
        assert_eq!(b.len(), 10);
        let c = r.take(10);
        assert!(b.as_ptr() == ptr || c.as_ptr() == ptr);
        assert_eq!(r.idle(), 0);
    }
}
