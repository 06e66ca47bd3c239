//! Reading the program's default framebuffer through a ring of pixel-buffer objects.
//!
//! Ring discipline (as [`FrameCapture`](crate::FrameCapture)'s): a capture issues
//! `glReadPixels` into the next buffer of the ring, puts a fence behind it and flushes, then
//! delivers the oldest frames until at most `depth - 1` are in flight, each after its fence
//! signalled (wait, map, hand over, unmap). A buffer is written again only after its frame was
//! delivered. Every section runs inside [`FramebufferReader`]'s guard, so the program's
//! pixel-pack binding, pack state, read framebuffer, read buffer and pending errors are as it
//! left them after each call.

use std::collections::VecDeque;
use std::ffi::c_void;
use std::time::{Duration, Instant};

use super::readback::{FramebufferReader, GlFunctions, RingFunctions, Section};
use super::ReadError;

const PIXEL_PACK_BUFFER: u32 = 0x88EB;
const STREAM_READ: u32 = 0x88E1;
const MAP_READ_BIT: u32 = 0x0001;
const UNSIGNED_BYTE: u32 = 0x1401;
const SYNC_GPU_COMMANDS_COMPLETE: u32 = 0x9117;
const SYNC_FLUSH_COMMANDS_BIT: u32 = 0x0001;
const ALREADY_SIGNALED: u32 = 0x911A;
const TIMEOUT_EXPIRED: u32 = 0x911B;
const CONDITION_SATISFIED: u32 = 0x911C;
/// How long one frame's transfer may take before it is given up.
const FENCE_TIMEOUT: Duration = Duration::from_secs(30);
/// One `glClientWaitSync` slice, in nanoseconds.
const FENCE_WAIT_SLICE_NS: u64 = 100_000_000;

/// A frame whose transfer was issued and not yet delivered.
#[derive(Debug)]
struct Transfer {
    slot: usize,
    /// The `GLsync` behind the frame's `glReadPixels`.
    fence: *const c_void,
}

/// Why a ring call failed: GL, or the consumer that frames are delivered to.
#[derive(Debug, thiserror::Error)]
pub enum RingError<E: std::error::Error + 'static> {
    /// A GL call failed (see [`ReadError`]; its message says when a frame was lost).
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The consumer refused a delivered frame (e.g. the disk is full); that frame is lost, the
    /// ones after it are still in flight.
    #[error("a frame read through the pixel-buffer ring was not stored: {0}")]
    Deliver(#[source] E),
}

/// A ring of pixel-buffer objects in one context, reading its default framebuffer
/// (`width`×`height`, bottom row first, in the reader's
/// [`channel_order`](FramebufferReader::channel_order)).
///
/// Its buffers and fences live in the context: every call needs that context current, and the
/// frames in flight can only be delivered while it is ([`flush`](Self::flush)). End with
/// [`delete`](Self::delete) while the context is current; a ring dropped without it leaves its
/// buffers to the context, which frees them when it is destroyed.
#[derive(Debug)]
pub struct PboRing {
    context: usize,
    width: u32,
    height: u32,
    frame_bytes: usize,
    /// The buffer names, `frame_bytes` each.
    buffers: Vec<u32>,
    /// The buffer the next frame goes into (never one in flight).
    next_slot: usize,
    /// Transfers in flight, oldest first (at most `buffers.len() - 1` between calls).
    in_flight: VecDeque<Transfer>,
}

impl PboRing {
    /// Allocates `depth` (at least 2) buffers of `width * height * 4` bytes in `reader`'s
    /// context.
    ///
    /// # Safety
    /// `reader`'s context is current on this thread.
    pub unsafe fn new(
        reader: &FramebufferReader,
        width: u32,
        height: u32,
        depth: usize,
    ) -> Result<Self, ReadError> {
        if depth < 2 {
            return Err(ReadError::RingDepth { depth });
        }
        let frame_bytes = u64::from(width) * u64::from(height) * 4;
        if width == 0 || height == 0 || frame_bytes > i32::MAX as u64 {
            return Err(ReadError::InvalidFrameSize { width, height });
        }
        let ring_gl = reader.ring_functions()?;
        let mut buffers = vec![0u32; depth];
        // SAFETY: the context is current (the contract) and has the ring functions; names are
        // written into `buffers`, which holds `depth` of them; no data pointer is passed.
        let allocated = unsafe {
            reader.guarded(
                Section::Map,
                "allocating pixel buffers (glBufferData)",
                |gl| {
                    let bind = bind_buffer(gl);
                    (ring_gl.gen_buffers)(depth as i32, buffers.as_mut_ptr());
                    for &buffer in &buffers {
                        bind(PIXEL_PACK_BUFFER, buffer);
                        let size = frame_bytes as isize;
                        (ring_gl.buffer_data)(
                            PIXEL_PACK_BUFFER,
                            size,
                            std::ptr::null(),
                            STREAM_READ,
                        );
                    }
                    bind(PIXEL_PACK_BUFFER, 0);
                    Ok(())
                },
            )
        };
        let ring = PboRing {
            context: reader.context(),
            width,
            height,
            frame_bytes: frame_bytes as usize,
            buffers,
            next_slot: 0,
            in_flight: VecDeque::new(),
        };
        match allocated {
            Ok(()) => Ok(ring),
            Err(e) => {
                // SAFETY: as above; the names were generated in this context.
                let _ = unsafe { ring.delete(reader) };
                Err(e)
            }
        }
    }

    /// The context the ring's buffers live in.
    pub fn context(&self) -> usize {
        self.context
    }

    /// The size of the frames it reads.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Its number of buffers.
    pub fn depth(&self) -> usize {
        self.buffers.len()
    }

    /// Frames captured and not yet delivered.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Reads the default framebuffer's back buffer into the next buffer and delivers, oldest
    /// first, the frames whose turn has come (all but `depth - 1`) to `deliver`, which gets
    /// `width * height * 4` bytes in the reader's channel order.
    ///
    /// On a GL error the frame is not captured (nothing is in flight for it) and the frames
    /// already in flight stay so. A frame `deliver` refuses is lost; later ones stay in flight.
    ///
    /// # Safety
    /// 1. The ring's context is current on this thread and `reader` was made for it;
    /// 2. its default framebuffer is at least the ring's size.
    pub unsafe fn capture<E: std::error::Error + 'static>(
        &mut self,
        reader: &FramebufferReader,
        deliver: &mut dyn FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), RingError<E>> {
        self.check(reader)?;
        let ring_gl = reader.ring_functions()?;
        let slot = self.next_slot;
        let buffer = self.buffers[slot];
        let (w, h, format) = (self.width as i32, self.height as i32, reader.read_format());
        // SAFETY: the context is current (invariant 1). `slot`'s buffer is not in flight (at
        // most depth - 1 are, in the slots before it) and holds w*h*4 bytes; with it bound and
        // the Read section's tight pack state, glReadPixels writes exactly that at offset 0.
        let fence = unsafe {
            reader.guarded(Section::Read, "glReadPixels into a pixel buffer", |gl| {
                let bind = bind_buffer(gl);
                bind(PIXEL_PACK_BUFFER, buffer);
                (gl.read_pixels)(0, 0, w, h, format, UNSIGNED_BYTE, std::ptr::null_mut());
                bind(PIXEL_PACK_BUFFER, 0);
                // No fence for a read that failed: the frame was not captured.
                if let Some(code) = first_error(gl) {
                    let call = "glReadPixels into a pixel buffer";
                    return Err(ReadError::Gl { call, code });
                }
                let fence = (ring_gl.fence_sync)(SYNC_GPU_COMMANDS_COMPLETE, 0);
                // Submit now, so the transfer runs while the program goes on.
                (ring_gl.flush)();
                match first_error(gl) {
                    Some(code) => {
                        if !fence.is_null() {
                            (ring_gl.delete_sync)(fence);
                        }
                        Err(ReadError::Gl {
                            call: "glFenceSync after a pixel-buffer read",
                            code,
                        })
                    }
                    None => Ok(fence),
                }
            })
        }?;
        self.in_flight.push_back(Transfer { slot, fence });
        self.next_slot = (slot + 1) % self.buffers.len();
        while self.in_flight.len() >= self.buffers.len() {
            // SAFETY: invariant 1, passed on.
            unsafe { self.deliver_oldest(reader, ring_gl, deliver) }?;
        }
        Ok(())
    }

    /// Delivers every frame in flight, oldest first. Stops at the first error (see
    /// [`capture`](Self::capture) for what is lost then).
    ///
    /// # Safety
    /// The ring's context is current on this thread and `reader` was made for it.
    pub unsafe fn flush<E: std::error::Error + 'static>(
        &mut self,
        reader: &FramebufferReader,
        deliver: &mut dyn FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), RingError<E>> {
        self.check(reader)?;
        let ring_gl = reader.ring_functions()?;
        while !self.in_flight.is_empty() {
            // SAFETY: the contract, passed on.
            unsafe { self.deliver_oldest(reader, ring_gl, deliver) }?;
        }
        Ok(())
    }

    /// Deletes the buffers and the fences of the frames in flight, and says how many frames
    /// that dropped undelivered ([`flush`](Self::flush) first to keep them).
    ///
    /// # Safety
    /// The ring's context is current on this thread and `reader` was made for it.
    pub unsafe fn delete(self, reader: &FramebufferReader) -> Result<usize, ReadError> {
        self.check(reader)?;
        let ring_gl = reader.ring_functions()?;
        let dropped = self.in_flight.len();
        // SAFETY: names and fences made in this context (current: the contract), not used
        // after this (`self` is consumed).
        unsafe {
            reader.guarded(Section::Map, "deleting pixel buffers", |_| {
                for transfer in &self.in_flight {
                    (ring_gl.delete_sync)(transfer.fence);
                }
                let n = self.buffers.len() as i32;
                (ring_gl.delete_buffers)(n, self.buffers.as_ptr());
                Ok(())
            })
        }?;
        Ok(dropped)
    }

    /// Refuses a reader of another context.
    fn check(&self, reader: &FramebufferReader) -> Result<(), ReadError> {
        if reader.context() == self.context {
            Ok(())
        } else {
            Err(ReadError::OtherContext)
        }
    }

    /// Waits for the oldest transfer, maps its buffer, hands it to `deliver`, unmaps it.
    ///
    /// # Safety
    /// The ring's context is current on this thread and `reader` was made for it.
    unsafe fn deliver_oldest<E: std::error::Error + 'static>(
        &mut self,
        reader: &FramebufferReader,
        ring_gl: RingFunctions,
        deliver: &mut dyn FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), RingError<E>> {
        let Some(Transfer { slot, fence }) = self.in_flight.pop_front() else {
            return Ok(());
        };
        let (buffer, len) = (self.buffers[slot], self.frame_bytes);
        let mut delivered = None;
        // SAFETY: the context is current (the contract). The fence is live (popped once, deleted
        // here). The buffer holds `len` bytes and, its fence signalled, its transfer is done; a
        // successful map returns `len` readable bytes valid until glUnmapBuffer, which comes
        // after the slice's last use (`deliver` cannot keep it: its lifetime ends with the call).
        unsafe {
            reader.guarded(Section::Map, "mapping a frame's pixel buffer", |gl| {
                wait_and_delete(ring_gl, fence)?;
                let bind = bind_buffer(gl);
                bind(PIXEL_PACK_BUFFER, buffer);
                let mapped =
                    (ring_gl.map_buffer_range)(PIXEL_PACK_BUFFER, 0, len as isize, MAP_READ_BIT);
                if mapped.is_null() {
                    bind(PIXEL_PACK_BUFFER, 0);
                    return Err(ReadError::MapFailed);
                }
                let pixels = std::slice::from_raw_parts(mapped.cast::<u8>(), len);
                delivered = Some(deliver(pixels));
                (ring_gl.unmap_buffer)(PIXEL_PACK_BUFFER);
                bind(PIXEL_PACK_BUFFER, 0);
                Ok(())
            })
        }?;
        delivered
            .expect("the section ran to the end")
            .map_err(RingError::Deliver)
    }
}

/// `glBindBuffer`, which a context with a ring has ([`FramebufferReader::supports_ring`]).
fn bind_buffer(gl: &GlFunctions) -> unsafe extern "C" fn(u32, u32) {
    gl.bind_buffer
        .expect("a context with a ring has glBindBuffer")
}

/// Takes the errors a section raised so far; the first, if any.
///
/// # Safety
/// A context is current on this thread and `gl` is its functions.
unsafe fn first_error(gl: &GlFunctions) -> Option<u32> {
    let mut first = None;
    for _ in 0..8 {
        // SAFETY: glGetError on the current context.
        match unsafe { (gl.get_error)() } {
            0 => break,
            code => first = first.or(Some(code)),
        }
    }
    first
}

/// Waits until `fence` signals (at most [`FENCE_TIMEOUT`]), then deletes it.
///
/// # Safety
/// A context is current on this thread and `fence` is a live fence of it, not used after this.
unsafe fn wait_and_delete(ring_gl: RingFunctions, fence: *const c_void) -> Result<(), ReadError> {
    let started = Instant::now();
    let status = loop {
        // SAFETY: a live fence of the current context.
        let status = unsafe {
            (ring_gl.client_wait_sync)(fence, SYNC_FLUSH_COMMANDS_BIT, FENCE_WAIT_SLICE_NS)
        };
        if status != TIMEOUT_EXPIRED || started.elapsed() >= FENCE_TIMEOUT {
            break status;
        }
    };
    // SAFETY: as above; not used after this.
    unsafe { (ring_gl.delete_sync)(fence) };
    match status {
        ALREADY_SIGNALED | CONDITION_SATISFIED => Ok(()),
        status => Err(ReadError::FenceWait {
            status,
            waited: started.elapsed(),
        }),
    }
}
