//! The background writer: frames read on the program's thread are appended to the cache here,
//! one autorelease pool per frame, so the program's thread never waits for the disk unless the
//! queue is full and the policy is to block.

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread::JoinHandle;
use std::time::Duration;

use autorelease::{autoreleasepool, Obj};
use reel::cache::{CacheWriter, FrameLayout, RowOrder};
use reel::capture_protocol::{cache_path, Status, Summary, QUEUE_FRAMES};
use reel::CacheError;

use glcapture::current_framebuffer::ChannelOrder;

use crate::session::Session;

/// One frame read back, bottom row first.
pub struct Frame {
    /// `width * height * 4` bytes in `order`.
    pub pixels: Vec<u8>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The channel order of `pixels`.
    pub order: ChannelOrder,
}

/// What the hook sends the writer.
pub enum Message {
    /// A frame to append.
    Frame(Frame),
    /// No more frames: finish the cache and report `summary` (its `captured` is filled in
    /// here); `limit` says the frame limit was reached.
    Finish {
        /// The hook's counts.
        summary: Summary,
        /// Whether capture ended at the frame limit (else at the program's exit).
        limit: bool,
    },
}

/// The running writer thread.
pub struct WriterHandle {
    /// Where frames go; never full, since at most [`QUEUE_FRAMES`] buffers exist.
    pub frames: SyncSender<Message>,
    /// Buffers the writer has finished with, for the hook to fill again.
    pub free: Receiver<Vec<u8>>,
    /// Buffers made so far (at most [`QUEUE_FRAMES`]).
    pub buffers: usize,
    /// The thread, joined when capture ends.
    pub thread: Option<JoinHandle<()>>,
}

/// A frame's buffer that goes back to the hook's free list when its autorelease pool pops.
struct PooledBuffer {
    pixels: Vec<u8>,
    free: Sender<Vec<u8>>,
}

impl Drop for PooledBuffer {
    fn drop(&mut self) {
        let _ = self.free.send(std::mem::take(&mut self.pixels));
    }
}

struct OpenCache {
    writer: CacheWriter,
    path: PathBuf,
    size: (u32, u32),
}

struct CacheSeries {
    first: PathBuf,
    next_index: u32,
    open: Option<OpenCache>,
    written: u64,
    write_delay: Option<Duration>,
}

impl WriterHandle {
    /// Starts the writer thread for caches named after `first`.
    pub fn spawn(session: &'static Session, first: PathBuf, write_delay: Option<Duration>) -> Self {
        let (frames, rx) = mpsc::sync_channel(QUEUE_FRAMES + 1);
        let (free_tx, free) = mpsc::channel();
        let series = CacheSeries {
            first,
            next_index: 0,
            open: None,
            written: 0,
            write_delay,
        };
        let thread = std::thread::Builder::new()
            .name("reel-capture-writer".into())
            .spawn(move || series.run(session, rx, free_tx))
            .ok();
        WriterHandle {
            frames,
            free,
            buffers: 0,
            thread,
        }
    }
}

impl CacheSeries {
    fn run(mut self, session: &'static Session, rx: Receiver<Message>, free: Sender<Vec<u8>>) {
        let mut failed = false;
        for message in rx {
            match message {
                Message::Frame(frame) if failed => drop(PooledBuffer {
                    pixels: frame.pixels,
                    free: free.clone(),
                }),
                Message::Frame(frame) => {
                    if let Some(delay) = self.write_delay {
                        std::thread::sleep(delay);
                    }
                    if let Err(e) = self.append(session, frame, &free) {
                        failed = true;
                        self.close(session);
                        session.stop(&format!("writing the cache failed: {e}"));
                    }
                }
                Message::Finish { mut summary, limit } => {
                    self.close(session);
                    summary.captured = self.written;
                    summary.writer_cpu_ns = thread_cpu_ns();
                    session.status().send(&Status::Summary(summary));
                    if limit {
                        session.status().send(&Status::LimitReached);
                    }
                    return;
                }
            }
        }
    }

    /// Appends one frame inside its own autorelease pool, starting a new cache when the size
    /// changed.
    fn append(
        &mut self,
        session: &Session,
        frame: Frame,
        free: &Sender<Vec<u8>>,
    ) -> Result<(), CacheError> {
        let size = (frame.width, frame.height);
        if self.open.as_ref().map(|c| c.size) != Some(size) {
            self.close(session);
            let path = cache_path(&self.first, self.next_index);
            self.next_index += 1;
            let layout = FrameLayout::rgba(size.0, size.1, RowOrder::BottomUp)?;
            let writer = CacheWriter::create(&path, layout)?;
            session.status().send(&Status::CacheStarted {
                width: size.0,
                height: size.1,
                path: path.clone(),
            });
            self.open = Some(OpenCache { writer, path, size });
        }
        let cache = self.open.as_mut().expect("opened above");
        let order = frame.order;
        autoreleasepool(|pool| {
            let buffer = Obj::new(PooledBuffer {
                pixels: frame.pixels,
                free: free.clone(),
            })
            .autorelease(pool);
            cache
                .writer
                .append_with(|dst| order.copy_to_rgba(&buffer.pixels, dst))
        })?;
        self.written += 1;
        Ok(())
    }

    /// Finishes the open cache, if any (after a failed write too: the header then counts the
    /// frames that were written whole).
    fn close(&mut self, session: &Session) {
        if let Some(cache) = self.open.take() {
            let frames = cache.writer.frames();
            if let Err(e) = cache.writer.finish() {
                session.stop(&format!("finishing {} failed: {e}", cache.path.display()));
            }
            session.status().send(&Status::CacheFinished {
                frames: u64::from(frames),
                path: cache.path,
            });
        }
    }
}

/// CPU time (user and system) this thread has used.
fn thread_cpu_ns() -> u64 {
    // SAFETY: an all-zero rusage is valid; getrusage fills it for the calling thread.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_THREAD, &mut usage);
        usage
    };
    let ns = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1000;
    ns(usage.ru_utime) + ns(usage.ru_stime)
}
