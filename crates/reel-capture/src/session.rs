//! The capture of one program: its settings, the hook's state on the program's thread, and the
//! writer; made once when the library is loaded into a process `reel capture` started.

use std::ffi::OsString;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use reel::capture_protocol::{self as protocol, Status, Summary, QUEUE_FRAMES};

use glcapture::current_framebuffer::{Drawable, FramebufferReader, WindowSystem};

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
    /// Queue policy.
    pub when_behind: WhenBehind,
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
        let when_behind = match var(protocol::ENV_WHEN_BEHIND).as_deref() {
            Some(v) if v == "drop" => WhenBehind::Drop,
            _ => WhenBehind::Block,
        };
        let write_delay = number(var(protocol::ENV_TEST_WRITE_DELAY_MS)).map(Duration::from_millis);
        let config = Config {
            output: PathBuf::from(output?),
            skip,
            frames,
            when_behind,
            write_delay,
        };
        Some((config, socket))
    }
}

/// The hook's state, used on the program's thread (behind a lock, since a program may swap
/// from more than one thread).
#[derive(Default)]
struct HookState {
    first_drawable: Option<u64>,
    ignored: Vec<u64>,
    swaps: u64,
    captured: u64,
    dropped: u64,
    cost_ns: Vec<u64>,
    reader: Option<FramebufferReader>,
    writer: Option<WriterHandle>,
    /// Capture ended (frame limit reached, or the process is exiting).
    ended: bool,
}

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
    let Some(session) = session() else { return };
    if session.stopped.load(Ordering::Acquire) {
        return;
    }
    let outcome = catch_unwind(AssertUnwindSafe(|| session.on_swap(drawable)));
    match outcome {
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
        match state.first_drawable {
            None => state.first_drawable = Some(id),
            Some(first) if first != id => {
                if !state.ignored.contains(&id) {
                    state.ignored.push(id);
                    self.status.send(&Status::IgnoredDrawable { id });
                }
                return Ok(());
            }
            Some(_) => {}
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
        let Some(mut pixels) = self.take_buffer(&mut state, width as usize * height as usize * 4)
        else {
            state.dropped += 1;
            return Ok(());
        };
        if state.reader.as_ref().map(FramebufferReader::context) != Some(context) {
            let loader = hooks::real_get_proc(drawable.window_system() == WindowSystem::Egl)
                .ok_or("no GetProcAddress function")?;
            // SAFETY: `context` is current on this thread (checked above) and `loader` is its
            // window system's.
            state.reader = Some(
                unsafe { FramebufferReader::new(loader, context) }.map_err(|e| e.to_string())?,
            );
        }
        let reader = state.reader.as_ref().expect("made above");
        // SAFETY: the reader's context is current and draws to `drawable`, whose size the
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
        state.cost_ns.push(start.elapsed().as_nanos() as u64);
        if Some(state.captured) == self.config.frames {
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

    /// A buffer of `len` bytes to read a frame into: a free one, a new one while fewer than
    /// [`QUEUE_FRAMES`] exist, or (when the writer is that far behind) one the writer frees —
    /// or none under [`WhenBehind::Drop`].
    fn take_buffer(&'static self, state: &mut HookState, len: usize) -> Option<Vec<u8>> {
        let writer = state.writer.get_or_insert_with(|| {
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

    /// Ends capture: tells the writer (unless the frame limit already did) and waits for it.
    fn end(&self, limit: bool) {
        let (handle, summary, already_ended) = {
            let mut state = self.lock();
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
