//! Framebuffer capture: a pixel-buffer-object ring with fences, or synchronous `glReadPixels`.
//!
//! See [`FrameCapture`] for the ring discipline.

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use glow::HasContext;

use crate::error::{check_gl, GlError};
use crate::sink::FrameSink;

/// How long to wait for one frame's transfer before reporting [`GlError::FenceWait`].
const FENCE_TIMEOUT: Duration = Duration::from_secs(30);
/// Slice of one `glClientWaitSync` call (nanoseconds; glow takes an i32).
const FENCE_WAIT_SLICE_NS: i32 = 100_000_000;

/// Number of bytes of one `width`x`height` RGBA8 frame.
///
/// Fails with [`GlError::InvalidSize`] for a zero dimension or a frame whose byte count
/// does not fit GL's signed 32-bit sizes.
///
/// ```
/// assert_eq!(glcapture::frame_byte_len(1280, 720).unwrap(), 1280 * 720 * 4);
/// assert!(glcapture::frame_byte_len(0, 720).is_err());
/// ```
pub fn frame_byte_len(width: u32, height: u32) -> Result<usize, GlError> {
    let invalid = |reason: &str| GlError::InvalidSize {
        width,
        height,
        reason: reason.to_owned(),
    };
    if width == 0 || height == 0 {
        return Err(invalid("width and height must be at least 1"));
    }
    let bytes = u64::from(width) * u64::from(height) * 4;
    if bytes > i32::MAX as u64 {
        return Err(invalid(
            "an RGBA8 frame of that size exceeds 2 GiB, the largest GL buffer this crate maps",
        ));
    }
    Ok(bytes as usize)
}

/// How frames are read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureMode {
    /// `glReadPixels` into client memory: the render thread waits for rendering and the
    /// copy on every frame. Needs nothing beyond GL 3.0 / GLES 3.0 basics.
    Synchronous,
    /// A ring of `depth` (at least 2) pixel-buffer objects with fences; see the
    /// [ring discipline](FrameCapture#ring-discipline).
    PboRing {
        /// Number of PBOs; frames in flight after each capture call is `depth - 1`.
        depth: usize,
    },
    /// Chosen by [`FrameCapture::new`] from `GL_RENDERER` with
    /// [`CaptureMode::resolve`]: a ring of two on hardware drivers, synchronous on CPU
    /// rasterisers.
    Auto,
}

impl CaptureMode {
    /// A PBO ring of two, the default.
    pub const RING_OF_TWO: CaptureMode = CaptureMode::PboRing { depth: 2 };

    /// The concrete mode for a driver whose `GL_RENDERER` string is `renderer`: `Auto`
    /// becomes [`CaptureMode::Synchronous`] on Mesa's CPU rasterisers (llvmpipe, softpipe,
    /// swrast), which perform `glReadPixels` into a PBO synchronously, so the ring only
    /// adds a copy (measured slower, see BENCHMARKS.md at the repository root), and a ring of two
    /// elsewhere. Other modes are returned unchanged.
    ///
    /// ```
    /// use glcapture::CaptureMode;
    /// let llvmpipe = "llvmpipe (LLVM 15.0.6, 256 bits)";
    /// assert_eq!(CaptureMode::Auto.resolve(llvmpipe), CaptureMode::Synchronous);
    /// assert_eq!(CaptureMode::Auto.resolve("AMD Radeon RX 6600"), CaptureMode::RING_OF_TWO);
    /// assert_eq!(CaptureMode::RING_OF_TWO.resolve(llvmpipe), CaptureMode::RING_OF_TWO);
    /// ```
    pub fn resolve(self, renderer: &str) -> CaptureMode {
        match self {
            CaptureMode::Auto => {
                if is_software_rasterizer(renderer) {
                    CaptureMode::Synchronous
                } else {
                    CaptureMode::RING_OF_TWO
                }
            }
            other => other,
        }
    }
}

/// Whether `renderer` (a `GL_RENDERER` string) is one of Mesa's CPU rasterisers (llvmpipe,
/// softpipe, swrast), where `glReadPixels` into a pixel-buffer object is done at once on the
/// CPU, so a ring of them only adds a copy.
///
/// ```
/// assert!(glcapture::is_software_rasterizer("llvmpipe (LLVM 15.0.6, 256 bits)"));
/// assert!(!glcapture::is_software_rasterizer("AMD Radeon RX 6600 (radeonsi, navi23)"));
/// ```
pub fn is_software_rasterizer(renderer: &str) -> bool {
    ["llvmpipe", "softpipe", "swrast"]
        .iter()
        .any(|name| renderer.contains(name))
}

impl Default for CaptureMode {
    fn default() -> Self {
        CaptureMode::RING_OF_TWO
    }
}

impl fmt::Display for CaptureMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureMode::Synchronous => f.write_str("sync"),
            CaptureMode::PboRing { depth } => write!(f, "pbo{depth}"),
            CaptureMode::Auto => f.write_str("auto"),
        }
    }
}

impl FromStr for CaptureMode {
    type Err = String;

    /// Parses `auto`, `sync`, `pbo` (ring of two) or `pboN` (ring of N ≥ 2), e.g. for a
    /// CLI flag.
    ///
    /// ```
    /// use glcapture::CaptureMode;
    /// assert_eq!("sync".parse(), Ok(CaptureMode::Synchronous));
    /// assert_eq!("pbo3".parse(), Ok(CaptureMode::PboRing { depth: 3 }));
    /// assert!("pbo1".parse::<CaptureMode>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, String> {
        let bad =
            || format!("capture mode {s:?}: expected `auto`, `sync`, `pbo` or `pboN` with N >= 2");
        match s {
            "auto" => Ok(CaptureMode::Auto),
            "sync" => Ok(CaptureMode::Synchronous),
            "pbo" => Ok(CaptureMode::RING_OF_TWO),
            _ => match s.strip_prefix("pbo").map(str::parse::<usize>) {
                Some(Ok(depth)) if depth >= 2 => Ok(CaptureMode::PboRing { depth }),
                _ => Err(bad()),
            },
        }
    }
}

/// Where the render thread's time inside [`FrameCapture`] went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CaptureStats {
    /// Frames handed to the sink.
    pub frames: u64,
    /// Time inside `glReadPixels` (synchronous: the whole wait and copy; ring: issuing
    /// the transfer, fence and flush).
    pub readback: Duration,
    /// Time waiting on fences for transfers to complete (ring only).
    pub fence_wait: Duration,
    /// Time mapping, running the sink and unmapping (synchronous: running the sink).
    pub delivery: Duration,
}

impl CaptureStats {
    /// Total time the calling (render) thread spent blocked in capture calls.
    pub fn blocked(&self) -> Duration {
        self.readback + self.fence_wait + self.delivery
    }

    /// [`CaptureStats::blocked`] divided by the number of frames (zero for none).
    pub fn blocked_per_frame(&self) -> Duration {
        match u32::try_from(self.frames) {
            Ok(0) => Duration::ZERO,
            Ok(n) => self.blocked() / n,
            Err(_) => Duration::from_secs_f64(self.blocked().as_secs_f64() / self.frames as f64),
        }
    }
}

/// A transfer in flight.
#[derive(Debug)]
struct Pending {
    slot: usize,
    frame: u64,
    fence: glow::Fence,
}

/// Captures the framebuffer bound for reading, once per frame, into a [`FrameSink`].
///
/// Create it on the thread whose context is current and pass that context to every
/// call. Each [`capture`](FrameCapture::capture) reads the rectangle
/// `(0, 0, width, height)` of the `GL_READ_FRAMEBUFFER` binding (its current read
/// buffer) as RGBA8. Calls set `GL_PACK_ALIGNMENT` to 4, `GL_PACK_ROW_LENGTH` and the pack
/// skips to 0, and leave `GL_PIXEL_PACK_BUFFER` unbound.
///
/// # Ring discipline
///
/// With a ring of `depth` PBOs, [`FrameCapture::capture`] for frame `n`
/// 1. issues `glReadPixels` into PBO `n % depth` (an asynchronous transfer: the call
///    returns without waiting for rendering or the copy), puts a fence
///    (`glFenceSync`) behind it and flushes, then
/// 2. delivers the oldest frames until at most `depth - 1` are in flight: for each, it
///    waits on its fence (`glClientWaitSync`), maps its PBO (`glMapBufferRange`), hands
///    the mapping to the sink and unmaps it.
///
/// With the default depth of two, frame `n - 1` is delivered while frame `n`'s transfer
/// runs and the application goes on to render frame `n + 1`. A PBO is reused only after
/// its frame was delivered, and a frame is delivered only after its fence signalled, so
/// no frame is read before its transfer completed or overwritten before it was read.
/// [`FrameCapture::finish`] delivers the frames still in flight.
///
/// Always end with [`finish`](FrameCapture::finish) (delivers frames still in flight
/// and frees the PBOs) or [`discard`](FrameCapture::discard); dropping it leaks the
/// GL objects, since there is no context to free them with.
///
/// ```
/// # fn main() -> Result<(), glcapture::GlError> {
/// # if let Err(e) = glcapture::egl_library() { eprintln!("skipped: {e}"); return Ok(()); }
/// use glcapture::{CaptureMode, CollectFrames, DemoScene, FrameCapture, HeadlessContext, OffscreenFramebuffer};
/// let ctx = HeadlessContext::new()?;
/// let gl = ctx.gl();
/// let target = OffscreenFramebuffer::new(gl, 64, 48)?;
/// let scene = DemoScene::new(gl, ctx.api())?;
/// let mut capture = FrameCapture::new(gl, 64, 48, CaptureMode::RING_OF_TWO)?;
/// let mut sink = CollectFrames::default();
/// target.bind(gl);
/// for frame in 0..5 {
///     scene.draw(gl, frame, 64, 48)?;
///     capture.capture(gl, &mut sink)?; // delivers frame - 1 (none on the first call)
/// }
/// let stats = capture.finish(gl, &mut sink)?; // delivers the last frame
/// assert_eq!(stats.frames, 5);
/// assert_eq!(sink.frames.len(), 5);
/// assert_eq!(sink.frames[4].1.len(), 64 * 48 * 4);
/// # scene.delete(gl); target.delete(gl);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct FrameCapture {
    width: u32,
    height: u32,
    frame_bytes: usize,
    readback: Readback,
    next_index: u64,
    stats: CaptureStats,
}

/// How frames are read back, with what each way needs.
#[derive(Debug)]
enum Readback {
    /// `glReadPixels` into client memory.
    Sync {
        /// The frame being delivered (`width * height * 4` bytes).
        scratch: Vec<u8>,
    },
    /// A ring of pixel-buffer objects with fences.
    Ring {
        /// The PBOs, `width * height * 4` bytes each.
        buffers: Vec<glow::Buffer>,
        /// The PBO the next frame goes into.
        next_slot: usize,
        /// Transfers in flight, oldest first (at most `buffers.len() - 1` between calls).
        pending: VecDeque<Pending>,
    },
}

impl FrameCapture {
    /// Prepares capture of `width`x`height` frames: allocates the PBO ring (of
    /// `width * height * 4` bytes each) or the synchronous read buffer.
    /// [`CaptureMode::Auto`] is resolved here from the context's `GL_RENDERER`.
    pub fn new(
        gl: &glow::Context,
        width: u32,
        height: u32,
        mode: CaptureMode,
    ) -> Result<Self, GlError> {
        let frame_bytes = frame_byte_len(width, height)?;
        let mode = match mode {
            // SAFETY: a string query on the current context.
            CaptureMode::Auto => mode.resolve(&unsafe { gl.get_parameter_string(glow::RENDERER) }),
            other => other,
        };
        let readback = match mode {
            // (Auto was resolved above.)
            CaptureMode::Synchronous | CaptureMode::Auto => Readback::Sync {
                scratch: vec![0; frame_bytes],
            },
            CaptureMode::PboRing { depth } if depth < 2 => {
                return Err(GlError::InvalidRingDepth { depth })
            }
            CaptureMode::PboRing { depth } => Readback::Ring {
                buffers: create_ring(gl, depth, frame_bytes)?,
                next_slot: 0,
                pending: VecDeque::new(),
            },
        };
        Ok(FrameCapture {
            width,
            height,
            frame_bytes,
            readback,
            next_index: 0,
            stats: CaptureStats::default(),
        })
    }

    /// Captures the current contents of the read framebuffer as the next frame and hands
    /// every frame whose turn has come to `sink` (see the [ring discipline](FrameCapture#ring-discipline)).
    ///
    /// In synchronous mode the frame is delivered before this returns. A sink error is
    /// returned as [`GlError::Sink`]; the capture stays usable.
    pub fn capture<S: FrameSink>(
        &mut self,
        gl: &glow::Context,
        sink: &mut S,
    ) -> Result<(), GlError> {
        match self.readback {
            Readback::Sync { .. } => self.capture_sync(gl, sink),
            Readback::Ring { .. } => self.capture_ring(gl, sink),
        }
    }

    /// [`capture`](FrameCapture::capture) in synchronous mode.
    fn capture_sync<S: FrameSink>(
        &mut self,
        gl: &glow::Context,
        sink: &mut S,
    ) -> Result<(), GlError> {
        let Readback::Sync { scratch } = &mut self.readback else {
            unreachable!("called in synchronous mode only");
        };
        let frame = self.next_index;
        let started = Instant::now();
        // SAFETY: no pack buffer is bound, so glReadPixels writes to `scratch`, which
        // holds exactly width*height*4 bytes for the tight RGBA8 layout the pack state
        // below selects.
        unsafe {
            gl.bind_buffer(glow::PIXEL_PACK_BUFFER, None);
            set_tight_pack_state(gl);
            gl.read_pixels(
                0,
                0,
                self.width as i32,
                self.height as i32,
                glow::RGBA,
                glow::UNSIGNED_BYTE,
                glow::PixelPackData::Slice(Some(scratch)),
            );
        }
        check_gl(gl, || format!("glReadPixels of frame {frame}"))?;
        let read = Instant::now();
        self.stats.readback += read - started;
        self.next_index += 1;
        let written = sink.write_frame(frame, scratch);
        self.stats.delivery += read.elapsed();
        self.stats.frames += 1;
        written.map_err(|e| GlError::Sink {
            frame,
            source: e.into(),
        })
    }

    /// [`capture`](FrameCapture::capture) with the PBO ring.
    fn capture_ring<S: FrameSink>(
        &mut self,
        gl: &glow::Context,
        sink: &mut S,
    ) -> Result<(), GlError> {
        let Readback::Ring {
            buffers,
            next_slot,
            pending,
        } = &mut self.readback
        else {
            unreachable!("called in ring mode only");
        };
        let (frame, depth, slot) = (self.next_index, buffers.len(), *next_slot);
        let started = Instant::now();
        debug_assert!(pending.iter().all(|p| p.slot != slot));
        // SAFETY: the PBO of `slot` is not in flight (pending holds at most depth - 1
        // frames, occupying the slots before this one) and holds width*height*4 bytes;
        // with a pack buffer bound, glReadPixels writes into it at offset 0 instead of
        // client memory.
        let fence = unsafe {
            gl.bind_buffer(glow::PIXEL_PACK_BUFFER, Some(buffers[slot]));
            set_tight_pack_state(gl);
            gl.read_pixels(
                0,
                0,
                self.width as i32,
                self.height as i32,
                glow::RGBA,
                glow::UNSIGNED_BYTE,
                glow::PixelPackData::BufferOffset(0),
            );
            gl.bind_buffer(glow::PIXEL_PACK_BUFFER, None);
            let fence = gl.fence_sync(glow::SYNC_GPU_COMMANDS_COMPLETE, 0);
            // Submit now so rendering and the transfer run while we deliver the
            // previous frame.
            gl.flush();
            fence
        };
        let fence = fence.map_err(GlError::gl_call(format!("glFenceSync after frame {frame}")))?;
        if let Err(e) = check_gl(gl, || format!("glReadPixels into a PBO for frame {frame}")) {
            // SAFETY: the fence was just created and is not referenced elsewhere.
            unsafe { gl.delete_sync(fence) };
            return Err(e);
        }
        pending.push_back(Pending { slot, frame, fence });
        *next_slot = (slot + 1) % depth;
        self.next_index += 1;
        self.stats.readback += started.elapsed();
        while self.in_flight() >= depth {
            self.deliver_oldest(gl, sink)?;
        }
        Ok(())
    }

    /// Delivers the frames still in flight, frees the GL objects and returns the totals.
    ///
    /// On an error the remaining frames are dropped, but the GL objects are still freed.
    pub fn finish<S: FrameSink>(
        mut self,
        gl: &glow::Context,
        sink: &mut S,
    ) -> Result<CaptureStats, GlError> {
        let mut result = Ok(());
        while self.in_flight() > 0 {
            result = self.deliver_oldest(gl, sink);
            if result.is_err() {
                break;
            }
        }
        let stats = self.stats;
        self.discard(gl);
        result.map(|()| stats)
    }

    /// Frees the GL objects without delivering the frames in flight.
    pub fn discard(self, gl: &glow::Context) {
        if let Readback::Ring {
            buffers, pending, ..
        } = self.readback
        {
            delete_ring(gl, buffers, pending);
        }
    }

    /// Totals so far.
    pub fn stats(&self) -> CaptureStats {
        self.stats
    }

    /// Frames captured but not yet delivered to a sink.
    pub fn in_flight(&self) -> usize {
        match &self.readback {
            Readback::Sync { .. } => 0,
            Readback::Ring { pending, .. } => pending.len(),
        }
    }

    /// The mode in use ([`CaptureMode::Auto`] already resolved).
    pub fn mode(&self) -> CaptureMode {
        match &self.readback {
            Readback::Sync { .. } => CaptureMode::Synchronous,
            Readback::Ring { buffers, .. } => CaptureMode::PboRing {
                depth: buffers.len(),
            },
        }
    }

    /// Bytes per frame (`width * height * 4`).
    pub fn frame_bytes(&self) -> usize {
        self.frame_bytes
    }

    /// Waits for the oldest transfer, maps its PBO and hands it to `sink`.
    fn deliver_oldest<S: FrameSink>(
        &mut self,
        gl: &glow::Context,
        sink: &mut S,
    ) -> Result<(), GlError> {
        let Readback::Ring {
            buffers, pending, ..
        } = &mut self.readback
        else {
            return Ok(());
        };
        let Some(Pending { slot, frame, fence }) = pending.pop_front() else {
            return Ok(());
        };
        let buffer = buffers[slot];
        let wait_started = Instant::now();
        let outcome = loop {
            // SAFETY: the fence is live (deleted only below or in discard, after popping).
            let status = unsafe {
                gl.client_wait_sync(fence, glow::SYNC_FLUSH_COMMANDS_BIT, FENCE_WAIT_SLICE_NS)
            };
            let waited = wait_started.elapsed();
            match status {
                glow::ALREADY_SIGNALED | glow::CONDITION_SATISFIED => break Ok(()),
                glow::TIMEOUT_EXPIRED if waited < FENCE_TIMEOUT => continue,
                glow::TIMEOUT_EXPIRED => break Err((waited, "timed out")),
                _ => break Err((waited, "failed")),
            }
        };
        // SAFETY: the fence is not used after this.
        unsafe { gl.delete_sync(fence) };
        self.stats.fence_wait += wait_started.elapsed();
        if let Err((waited, what)) = outcome {
            return Err(GlError::FenceWait {
                frame,
                what,
                waited,
            });
        }

        let delivery_started = Instant::now();
        let len = self.frame_bytes;
        // SAFETY: the PBO holds `len` bytes and its transfer completed (fence signalled);
        // mapping it for reading is valid while no other map of it exists (we unmap below
        // before any other use).
        let mapped = unsafe {
            gl.bind_buffer(glow::PIXEL_PACK_BUFFER, Some(buffer));
            gl.map_buffer_range(glow::PIXEL_PACK_BUFFER, 0, len as i32, glow::MAP_READ_BIT)
        };
        if mapped.is_null() {
            // SAFETY: unbinding is always valid.
            unsafe { gl.bind_buffer(glow::PIXEL_PACK_BUFFER, None) };
            check_gl(gl, || format!("glMapBufferRange of frame {frame}"))?;
            return Err(GlError::GlCall {
                operation: format!("glMapBufferRange of frame {frame}"),
                message: "returned NULL".into(),
            });
        }
        // SAFETY: a successful glMapBufferRange returns a pointer to `len` readable bytes
        // that stay valid and unchanged until glUnmapBuffer, which happens only after the
        // slice's last use (the sink may not keep it: its lifetime ends with the call).
        let pixels = unsafe { std::slice::from_raw_parts(mapped as *const u8, len) };
        let written = sink.write_frame(frame, pixels);
        // SAFETY: the buffer is mapped and still bound; `pixels` is no longer used.
        unsafe {
            gl.unmap_buffer(glow::PIXEL_PACK_BUFFER);
            gl.bind_buffer(glow::PIXEL_PACK_BUFFER, None);
        }
        self.stats.delivery += delivery_started.elapsed();
        self.stats.frames += 1;
        written.map_err(|e| GlError::Sink {
            frame,
            source: e.into(),
        })?;
        check_gl(gl, || format!("mapping the pixel buffer of frame {frame}"))
    }
}

/// Creates `depth` pixel-buffer objects of `frame_bytes` each; on an error, deletes
/// those already made.
fn create_ring(
    gl: &glow::Context,
    depth: usize,
    frame_bytes: usize,
) -> Result<Vec<glow::Buffer>, GlError> {
    let mut buffers = Vec::with_capacity(depth);
    for _ in 0..depth {
        // SAFETY: buffer creation and allocation on the current context; the size fits
        // i32 (checked by frame_byte_len). No data pointer is passed.
        let buffer = unsafe { gl.create_buffer() };
        match buffer {
            Ok(buffer) => {
                buffers.push(buffer);
                // SAFETY: as above.
                unsafe {
                    gl.bind_buffer(glow::PIXEL_PACK_BUFFER, Some(buffer));
                    gl.buffer_data_size(
                        glow::PIXEL_PACK_BUFFER,
                        frame_bytes as i32,
                        glow::STREAM_READ,
                    );
                }
            }
            Err(message) => {
                delete_ring(gl, buffers, VecDeque::new());
                return Err(GlError::gl_call("glGenBuffers")(message));
            }
        }
    }
    // SAFETY: unbinding is always valid.
    unsafe { gl.bind_buffer(glow::PIXEL_PACK_BUFFER, None) };
    if let Err(e) = check_gl(gl, || {
        format!("allocating {depth} pixel buffers of {frame_bytes} bytes")
    }) {
        delete_ring(gl, buffers, VecDeque::new());
        return Err(e);
    }
    Ok(buffers)
}

/// Deletes a ring's PBOs and the fences of its transfers in flight.
fn delete_ring(gl: &glow::Context, buffers: Vec<glow::Buffer>, pending: VecDeque<Pending>) {
    // SAFETY: fences and buffers were created by this context and are not used after
    // this (both are consumed).
    unsafe {
        for pending in pending {
            gl.delete_sync(pending.fence);
        }
        for buffer in buffers {
            gl.delete_buffer(buffer);
        }
    }
}

/// Pack state for a tightly packed RGBA8 read starting at the buffer's first byte.
///
/// # Safety
/// `gl` must be current on this thread.
unsafe fn set_tight_pack_state(gl: &glow::Context) {
    // SAFETY: valid enum/value pairs on the current context (caller's guarantee).
    unsafe {
        gl.pixel_store_i32(glow::PACK_ALIGNMENT, 4);
        gl.pixel_store_i32(glow::PACK_ROW_LENGTH, 0);
        gl.pixel_store_i32(glow::PACK_SKIP_ROWS, 0);
        gl.pixel_store_i32(glow::PACK_SKIP_PIXELS, 0);
    }
}
