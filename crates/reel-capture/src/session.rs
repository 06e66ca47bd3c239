//! The capture of one program: its settings, the hook's state on the program's thread, and the
//! writer; made once when the library is loaded into a process `reel capture` started.

use std::ffi::OsString;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use reel::capture_protocol::{self as protocol, Status, Summary, QUEUE_FRAMES};

use glcapture::current_framebuffer::{
    current_context, Drawable, FramebufferReader, PboRing, ReadbackMode, WindowSystem,
};

use crate::hooks;
use crate::status::StatusChannel;
use crate::symbols;
use crate::writer::{Frame, Message, WriterHandle};

/// What to do when the writer is [`QUEUE_FRAMES`] frames behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenBehind {
    /// Wait for the writer (no frame is lost; the program slows down).
    Block,
    /// Drop the frame and count it.
    Drop,
}

/// Settings from `reel capture`.
#[derive(Debug, Clone)]
pub struct Config {
    /// The first cache.
    pub output: PathBuf,
    /// Swaps to let pass first.
    pub skip: u64,
    /// Frames to capture, if limited.
    pub frames: Option<u64>,
    /// Which drawable to capture: the N-th distinct one to swap, from 1.
    pub drawable: u64,
    /// Queue policy.
    pub when_behind: WhenBehind,
    /// How frames are read back (resolved per context).
    pub readback: ReadbackMode,
    /// Test-only writer throttle.
    pub write_delay: Option<Duration>,
}

impl Config {
    /// Reads the settings `reel` put in the environment. `None` unless `reel` is this
    /// process's parent: the settings stay in the environment, so a wrapper that `exec`s the
    /// real program hands them on, while a process the program forks has another parent and is
    /// not captured.
    pub fn from_env() -> Option<(Config, Option<OsString>)> {
        let var = |name: &str| std::env::var_os(name);
        let number = |v: Option<OsString>| v.and_then(|v| v.to_str()?.parse::<u64>().ok());
        // SAFETY: getppid has no preconditions.
        let parent = u64::try_from(unsafe { libc::getppid() }).ok();
        if parent.is_none() || number(var(protocol::ENV_PARENT_PID)) != parent {
            return None;
        }
        let output = var(protocol::ENV_OUTPUT);
        let socket = var(protocol::ENV_STATUS_SOCKET);
        let skip = number(var(protocol::ENV_SKIP)).unwrap_or(0);
        let frames = number(var(protocol::ENV_FRAMES));
        let drawable = number(var(protocol::ENV_DRAWABLE)).unwrap_or(1).max(1);
        let when_behind = match var(protocol::ENV_WHEN_BEHIND).as_deref() {
            Some(v) if v == "drop" => WhenBehind::Drop,
            _ => WhenBehind::Block,
        };
        let readback = match var(protocol::ENV_READBACK)
            .as_deref()
            .and_then(|v| v.to_str())
        {
            Some("sync") => ReadbackMode::Sync,
            Some("pbo-ring") => ReadbackMode::PboRing,
            _ => ReadbackMode::Auto,
        };
        let write_delay = number(var(protocol::ENV_TEST_WRITE_DELAY_MS)).map(Duration::from_millis);
        let config = Config {
            output: PathBuf::from(output?),
            skip,
            frames,
            drawable,
            when_behind,
            readback,
            write_delay,
        };
        Some((config, socket))
    }
}

/// The hook's state, used on the program's thread (behind a lock, since a program may swap
/// from more than one thread).
#[derive(Default)]
struct HookState {
    /// Drawables in the order they first swapped.
    seen: Vec<u64>,
    /// The drawable captured, once it has swapped.
    captured_drawable: Option<u64>,
    ignored: Vec<u64>,
    swaps: u64,
    captured: u64,
    dropped: u64,
    cost_ns: Vec<u64>,
    reader: Option<FramebufferReader>,
    /// How `reader`'s context is read.
    mode: ReadbackMode,
    /// The pixel-buffer ring, under [`ReadbackMode::PboRing`]: in `reader`'s context, or in a
    /// context no longer current here whose frames were delivered when it stopped being.
    ring: Option<RingInContext>,
    writer: Option<WriterHandle>,
    /// Capture ended (frame limit reached, or the process is exiting).
    ended: bool,
}

/// A [`PboRing`] that may move between threads with the session.
///
/// The ring holds GL names and `GLsync` handles, which are plain values; every call that uses
/// them requires the ring's context to be current on the calling thread (the contract of each
/// `unsafe` method of [`PboRing`]), which is what makes a use on the right thread sound, not
/// the thread the value was made on.
struct RingInContext(PboRing);

// SAFETY: see the type's documentation: the ring's handles are only used through PboRing's
// unsafe methods, each of which requires its context current on the thread that calls it.
unsafe impl Send for RingInContext {}

impl std::ops::Deref for RingInContext {
    type Target = PboRing;
    fn deref(&self) -> &PboRing {
        &self.0
    }
}

impl std::ops::DerefMut for RingInContext {
    fn deref_mut(&mut self) -> &mut PboRing {
        &mut self.0
    }
}

/// Ring frames are 4 buffers deep: up to 3 frames in flight behind the one being read.
const RING_DEPTH: usize = 4;

/// What happens to GL contexts that a pixel-buffer ring must hear of first: its frames can only
/// be read while its context is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextEvent {
    /// `glXMakeCurrent`, `glXMakeContextCurrent` or `eglMakeCurrent` is about to make this
    /// context (0: none) current on the calling thread.
    MakeCurrent {
        /// The context about to become current.
        context: usize,
    },
    /// `glXDestroyContext` or `eglDestroyContext` is about to destroy this context.
    Destroy {
        /// The context about to go.
        context: usize,
    },
    /// `eglReleaseThread`, `eglTerminate` or `XCloseDisplay` is about to release or end the
    /// calling thread's contexts.
    Release,
}

/// A frame the ring delivered could not be handed to the writer.
#[derive(Debug, thiserror::Error)]
#[error("the writer thread is gone")]
struct WriterGone;

/// One process's capture.
pub struct Session {
    config: Config,
    status: StatusChannel,
    pid: u32,
    stopped: AtomicBool,
    hook: Mutex<HookState>,
}

static SESSION: OnceLock<Session> = OnceLock::new();

/// Starts the session if `reel` started this process. Called once, from the library's
/// constructor.
pub fn start_from_env() {
    if let Some((config, socket)) = Config::from_env() {
        let status = StatusChannel::new(socket);
        let _ = SESSION.set(Session {
            config,
            status,
            pid: std::process::id(),
            stopped: AtomicBool::new(false),
            hook: Mutex::new(HookState::default()),
        });
    }
}

/// The session of this process; none in processes `reel` did not start, and none in a
/// forked child (which has neither the writer thread nor `reel`'s attention).
fn session() -> Option<&'static Session> {
    SESSION.get().filter(|s| s.pid == std::process::id())
}

/// Called by the swap hooks before the real swap: captures the frame, or does nothing once
/// capture has stopped. Never fails and never unwinds into the program.
pub fn before_swap(drawable: Drawable) {
    run_hook(|session| session.on_swap(drawable));
}

/// Called by the context hooks before the real call: delivers a pixel-buffer ring's frames
/// while they can still be read. Never fails and never unwinds into the program.
pub fn before_context_event(event: ContextEvent) {
    run_hook(|session| session.on_context_event(event));
}

/// Runs `hook` on this process's session unless capture has stopped; an error or a panic
/// stops capture (with the reason) instead of reaching the program.
fn run_hook(hook: impl FnOnce(&'static Session) -> Result<(), String>) {
    let Some(session) = session() else { return };
    if session.stopped.load(Ordering::Acquire) {
        return;
    }
    match catch_unwind(AssertUnwindSafe(|| hook(session))) {
        Ok(Ok(())) => {}
        Ok(Err(reason)) => session.stop(&reason),
        Err(_) => session.stop("the capture hook panicked"),
    }
}

/// Ends capture as the process exits: the writer writes what it holds and finishes the cache.
pub fn end_at_exit() {
    let Some(session) = session() else { return };
    let _ = catch_unwind(AssertUnwindSafe(|| session.end(false)));
}

impl Session {
    /// The channel to `reel`.
    pub fn status(&self) -> &StatusChannel {
        &self.status
    }

    /// Stops capturing, once: one message on stderr and one to `reel`; the program runs on.
    pub fn stop(&self, reason: &str) {
        if !self.stopped.swap(true, Ordering::AcqRel) {
            eprintln!("reel capture: stopped capturing ({reason}); the program continues");
            self.status.send(&Status::Stopped {
                reason: reason.to_string(),
            });
        }
    }

    fn lock(&self) -> MutexGuard<'_, HookState> {
        self.hook.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn on_swap(&'static self, drawable: Drawable) -> Result<(), String> {
        let start = Instant::now();
        let mut state = self.lock();
        if state.ended {
            return Ok(());
        }
        let id = drawable.id();
        if !state.seen.contains(&id) {
            state.seen.push(id);
            if state.seen.len() as u64 == self.config.drawable {
                state.captured_drawable = Some(id);
            }
        }
        if state.captured_drawable != Some(id) {
            if !state.ignored.contains(&id) {
                state.ignored.push(id);
                self.status.send(&Status::IgnoredDrawable { id });
            }
            return Ok(());
        }
        state.swaps += 1;
        if state.swaps <= self.config.skip {
            return Ok(());
        }
        let Some(context) = drawable.current_context(symbols::lookup_in) else {
            return Ok(());
        };
        let (width, height) = drawable
            .size(symbols::lookup_in)
            .map_err(|e| e.to_string())?;
        self.use_reader_for(&mut state, &drawable, context)?;
        match state.mode {
            ReadbackMode::PboRing => self.read_through_ring(&mut state, context, width, height)?,
            _ => self.read_now(&mut state, width, height)?,
        }
        state.cost_ns.push(start.elapsed().as_nanos() as u64);
        if Some(state.captured) == self.config.frames {
            // SAFETY: `context`, the ring's, is current on this thread (checked above).
            unsafe { self.flush_ring(&mut state) }?;
            let summary = summary(&state);
            state.ended = true;
            let writer = state.writer.as_ref().expect("made by take_buffer");
            let _ = writer.frames.send(Message::Finish {
                summary,
                limit: true,
            });
        }
        Ok(())
    }

    /// Makes `state.reader` the reader of `context` (current on this thread, drawing to
    /// `drawable`), and reports how it reads when it is new.
    fn use_reader_for(
        &self,
        state: &mut HookState,
        drawable: &Drawable,
        context: usize,
    ) -> Result<(), String> {
        if state.reader.as_ref().map(FramebufferReader::context) == Some(context) {
            return Ok(());
        }
        let loader = hooks::real_get_proc(drawable.window_system() == WindowSystem::Egl)
            .ok_or("no GetProcAddress function")?;
        // SAFETY: `context` is current on this thread (the caller checked) and `loader` is its
        // window system's.
        let reader =
            unsafe { FramebufferReader::new(loader, context) }.map_err(|e| e.to_string())?;
        // A ring is kept only alongside its own context's reader; the old context's frames
        // were read when it stopped being current here.
        self.abandon_ring(state);
        state.mode = self.config.readback.resolve_for(&reader);
        self.status.send(&Status::Readback {
            mode: state.mode.to_string(),
            renderer: reader.renderer().to_string(),
        });
        state.reader = Some(reader);
        Ok(())
    }

    /// Reads the frame into a queue buffer now and hands it to the writer.
    fn read_now(
        &'static self,
        state: &mut HookState,
        width: u32,
        height: u32,
    ) -> Result<(), String> {
        let len = width as usize * height as usize * 4;
        let Some(mut pixels) = self.take_buffer(&mut state.writer, len) else {
            state.dropped += 1;
            return Ok(());
        };
        let reader = state.reader.as_ref().expect("made by use_reader_for");
        // SAFETY: the reader's context is current and draws to the drawable whose size the
        // window system just reported.
        let order =
            unsafe { reader.read(width, height, &mut pixels) }.map_err(|e| e.to_string())?;
        let frame = Frame {
            pixels,
            width,
            height,
            order,
        };
        let writer = state.writer.as_ref().expect("made by take_buffer");
        writer
            .frames
            .send(Message::Frame(frame))
            .map_err(|_| "the writer thread is gone")?;
        state.captured += 1;
        Ok(())
    }

    /// Reads the frame into the pixel-buffer ring, handing the writer the frames whose turn
    /// has come. A ring of another size is emptied and replaced first.
    fn read_through_ring(
        &'static self,
        state: &mut HookState,
        context: usize,
        width: u32,
        height: u32,
    ) -> Result<(), String> {
        // A ring is only kept alongside its context's reader (use_reader_for drops it with
        // another context's), so a ring here is `context`'s; only its size can be stale.
        debug_assert!(state.ring.as_ref().is_none_or(|r| r.context() == context));
        if state
            .ring
            .as_ref()
            .is_some_and(|r| r.size() != (width, height))
        {
            // SAFETY: the ring's context is `context`, current on this thread.
            unsafe { self.flush_ring(state) }?;
            let ring = state.ring.take().expect("checked above");
            let reader = state.reader.as_ref().expect("made by use_reader_for");
            // SAFETY: as above; the reader is this context's.
            unsafe { ring.0.delete(reader) }.map_err(|e| e.to_string())?;
        }
        let reader = state.reader.as_ref().expect("made by use_reader_for");
        if state.ring.is_none() {
            // SAFETY: the reader's context is current on this thread.
            let ring = unsafe { PboRing::new(reader, width, height, RING_DEPTH) }
                .map_err(|e| e.to_string())?;
            state.ring = Some(RingInContext(ring));
        }
        let HookState {
            ring,
            reader,
            writer,
            dropped,
            captured,
            ..
        } = state;
        let (ring, reader) = (ring.as_mut().expect("made above"), reader.as_ref().unwrap());
        let order = reader.channel_order();
        let mut deliver =
            |pixels: &[u8]| self.hand_over(writer, dropped, pixels, (width, height), order);
        // SAFETY: the ring's context is current on this thread, the reader is that context's,
        // and the drawable is `width`×`height` (the ring's size).
        unsafe { ring.capture(reader, &mut deliver) }.map_err(|e| e.to_string())?;
        *captured += 1;
        Ok(())
    }

    /// Copies a frame the ring delivered into a queue buffer for the writer (or drops it, when
    /// the writer is behind under [`WhenBehind::Drop`]).
    fn hand_over(
        &'static self,
        writer: &mut Option<WriterHandle>,
        dropped: &mut u64,
        pixels: &[u8],
        (width, height): (u32, u32),
        order: glcapture::current_framebuffer::ChannelOrder,
    ) -> Result<(), WriterGone> {
        let Some(mut buffer) = self.take_buffer(writer, pixels.len()) else {
            *dropped += 1;
            return Ok(());
        };
        buffer.copy_from_slice(pixels);
        let frame = Frame {
            pixels: buffer,
            width,
            height,
            order,
        };
        let writer = writer.as_ref().expect("made by take_buffer");
        writer
            .frames
            .send(Message::Frame(frame))
            .map_err(|_| WriterGone)
    }

    /// Delivers every frame in the ring to the writer.
    ///
    /// # Safety
    /// The ring's context (if there is a ring) is current on this thread.
    unsafe fn flush_ring(&'static self, state: &mut HookState) -> Result<(), String> {
        let HookState {
            ring,
            reader,
            writer,
            dropped,
            ..
        } = state;
        let (Some(ring), Some(reader)) = (ring.as_mut(), reader.as_ref()) else {
            return Ok(());
        };
        let (size, order) = (ring.size(), reader.channel_order());
        let mut deliver = |pixels: &[u8]| self.hand_over(writer, dropped, pixels, size, order);
        // SAFETY: the caller's contract; the reader is the ring's context's (a ring is only
        // made, and kept, alongside its context's reader).
        unsafe { ring.flush(reader, &mut deliver) }.map_err(|e| e.to_string())
    }

    /// Forgets a ring whose context is not current here: its buffers stay with the context,
    /// and frames still in it (none, unless the context went away unannounced) are counted as
    /// dropped.
    fn abandon_ring(&self, state: &mut HookState) {
        if let Some(ring) = state.ring.take() {
            let lost = ring.in_flight();
            if lost > 0 {
                eprintln!(
                    "reel capture: {lost} frame(s) in the pixel-buffer ring were lost: their \
                     context went away while not current on this thread"
                );
            }
            state.dropped += lost as u64;
        }
    }

    /// Called before a context is made current, destroyed or released: a ring's frames can
    /// only be read while its context is current, so they are delivered now.
    fn on_context_event(&'static self, event: ContextEvent) -> Result<(), String> {
        let mut state = self.lock();
        // A ring is its reader's context's (see read_through_ring).
        if let Some(ring_context) = state.ring.as_ref().map(|r| r.context()) {
            let concerned = match event {
                ContextEvent::MakeCurrent { context } => context != ring_context,
                ContextEvent::Destroy { context } => context == ring_context,
                ContextEvent::Release => true,
            };
            if concerned && current_context(symbols::lookup_in) == Some(ring_context) {
                // SAFETY: the ring's context is current on this thread (just checked).
                let flushed = unsafe { self.flush_ring(&mut state) };
                if !matches!(event, ContextEvent::MakeCurrent { .. }) {
                    let ring = state.ring.take().expect("checked above");
                    let reader = state.reader.take().expect("kept with the ring");
                    // SAFETY: as above; the context still exists (its end comes after this hook).
                    let _ = unsafe { ring.0.delete(&reader) };
                }
                return flushed;
            }
        }
        if let ContextEvent::Destroy { context } = event {
            if state.reader.as_ref().map(FramebufferReader::context) == Some(context) {
                // Destroyed while not current here: what is still in its ring is lost. A new
                // context may get the same address: it gets a reader of its own.
                self.abandon_ring(&mut state);
                state.reader = None;
            }
        }
        Ok(())
    }

    /// A buffer of `len` bytes to read a frame into: a free one, a new one while fewer than
    /// [`QUEUE_FRAMES`] exist, or (when the writer is that far behind) one the writer frees —
    /// or none under [`WhenBehind::Drop`].
    fn take_buffer(
        &'static self,
        writer: &mut Option<WriterHandle>,
        len: usize,
    ) -> Option<Vec<u8>> {
        let writer = writer.get_or_insert_with(|| {
            WriterHandle::spawn(self, self.config.output.clone(), self.config.write_delay)
        });
        let mut buffer = match writer.free.try_recv() {
            Ok(b) => b,
            Err(_) if writer.buffers < QUEUE_FRAMES => {
                writer.buffers += 1;
                Vec::new()
            }
            Err(_) if self.config.when_behind == WhenBehind::Drop => return None,
            Err(_) => loop {
                match writer.free.recv_timeout(Duration::from_millis(100)) {
                    Ok(b) => break b,
                    Err(_) if self.stopped.load(Ordering::Acquire) => return None,
                    Err(_) => {}
                }
            },
        };
        buffer.resize(len, 0);
        Some(buffer)
    }

    /// Ends capture: delivers the ring's frames (when its context is still current here),
    /// tells the writer (unless the frame limit already did) and waits for it.
    fn end(&'static self, limit: bool) {
        let (handle, summary, already_ended) = {
            let mut state = self.lock();
            let ring_context = state.ring.as_ref().map(|r| r.context());
            if ring_context.is_some() && current_context(symbols::lookup_in) == ring_context {
                // SAFETY: the ring's context is current on this thread (just checked).
                if let Err(reason) = unsafe { self.flush_ring(&mut state) } {
                    self.stop(&reason);
                }
            }
            // Whatever is left cannot be read any more.
            self.abandon_ring(&mut state);
            let already = state.ended;
            state.ended = true;
            (state.writer.take(), summary(&state), already)
        };
        let Some(mut handle) = handle else {
            self.status.send(&Status::Summary(summary));
            return;
        };
        if !already_ended {
            let _ = handle.frames.send(Message::Finish { summary, limit });
        }
        drop(handle.frames);
        if let Some(thread) = handle.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The hook's counts and cost percentiles so far.
fn summary(state: &HookState) -> Summary {
    let mut costs = state.cost_ns.clone();
    costs.sort_unstable();
    let at = |q: f64| {
        costs
            .get(((costs.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0)
    };
    Summary {
        swaps: state.swaps,
        captured: 0,
        dropped: state.dropped,
        hook_median_ns: at(0.5),
        hook_p95_ns: at(0.95),
        writer_cpu_ns: 0,
    }
}
