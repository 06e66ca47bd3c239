//! Reading the back buffer of the default framebuffer on the program's thread, leaving every
//! piece of GL state it touches as the program left it (pixel-pack buffer binding, pack
//! alignment, row length and skips, read framebuffer, read buffer, pending errors).

use std::ffi::{c_char, c_void, CStr};

use super::ReadError;

const NO_ERROR: u32 = 0;
const INVALID_ENUM: u32 = 0x0500;
const INVALID_VALUE: u32 = 0x0501;
const INVALID_OPERATION: u32 = 0x0502;
const INVALID_FRAMEBUFFER_OPERATION: u32 = 0x0506;
const VERSION: u32 = 0x1F02;
const EXTENSIONS: u32 = 0x1F03;
const PACK_ALIGNMENT: u32 = 0x0D05;
const PACK_ROW_LENGTH: u32 = 0x0D02;
const PACK_SKIP_ROWS: u32 = 0x0D03;
const PACK_SKIP_PIXELS: u32 = 0x0D04;
const PIXEL_PACK_BUFFER: u32 = 0x88EB;
const PIXEL_PACK_BUFFER_BINDING: u32 = 0x88ED;
const READ_FRAMEBUFFER: u32 = 0x8CA8;
const READ_FRAMEBUFFER_BINDING: u32 = 0x8CAA;
const FRAMEBUFFER: u32 = 0x8D40;
const FRAMEBUFFER_BINDING: u32 = 0x8CA6;
const READ_BUFFER: u32 = 0x0C02;
const BACK: u32 = 0x0405;
const RGBA: u32 = 0x1908;
const BGRA: u32 = 0x80E1;
const UNSIGNED_BYTE: u32 = 0x1401;
const UNSIGNED_SHORT_5_6_5: u32 = 0x8363;
const RENDERER: u32 = 0x1F01;
const BUFFER_SIZE: u32 = 0x8764;
/// At most this many pending errors are saved (GL implementations keep one per kind).
const MAX_SAVED_ERRORS: usize = 8;

/// The order of the four bytes of each pixel a readback returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelOrder {
    /// Red, green, blue, alpha: the cache's order.
    Rgba,
    /// Blue, green, red, alpha: what llvmpipe's window framebuffers hold, so the cheaper read
    /// there.
    Bgra,
}

impl ChannelOrder {
    /// Copies pixels read in this order to `dst` in RGBA order (the two slices are the same
    /// length).
    pub fn copy_to_rgba(self, src: &[u8], dst: &mut [u8]) {
        assert_eq!(src.len(), dst.len());
        match self {
            ChannelOrder::Rgba => dst.copy_from_slice(src),
            ChannelOrder::Bgra => {
                // Whole-pixel integer operations, which the compiler turns into vector code.
                for (d, s) in dst.chunks_exact_mut(4).zip(src.chunks_exact(4)) {
                    let v = u32::from_le_bytes([s[0], s[1], s[2], s[3]]);
                    let swapped = (v & 0xff00_ff00) | ((v >> 16) & 0xff) | ((v & 0xff) << 16);
                    d.copy_from_slice(&swapped.to_le_bytes());
                }
            }
        }
    }
}

type GetIntegerv = unsafe extern "C" fn(u32, *mut i32);
type GetError = unsafe extern "C" fn() -> u32;
type GetString = unsafe extern "C" fn(u32) -> *const u8;
type PixelStorei = unsafe extern "C" fn(u32, i32);
type ReadPixels = unsafe extern "C" fn(i32, i32, i32, i32, u32, u32, *mut c_void);
type BindTarget = unsafe extern "C" fn(u32, u32);
type ReadBufferFn = unsafe extern "C" fn(u32);
type GetBufferParameteriv = unsafe extern "C" fn(u32, u32, *mut i32);
type GenNames = unsafe extern "C" fn(i32, *mut u32);
type DeleteNames = unsafe extern "C" fn(i32, *const u32);
type GenBuffers = unsafe extern "C" fn(i32, *mut u32);
type DeleteBuffers = unsafe extern "C" fn(i32, *const u32);
type BufferData = unsafe extern "C" fn(u32, isize, *const c_void, u32);
type MapBufferRange = unsafe extern "C" fn(u32, isize, isize, u32) -> *mut c_void;
type UnmapBuffer = unsafe extern "C" fn(u32) -> u8;
type FenceSync = unsafe extern "C" fn(u32, u32) -> *const c_void;
type ClientWaitSync = unsafe extern "C" fn(*const c_void, u32, u64) -> u32;
type DeleteSync = unsafe extern "C" fn(*const c_void);
type Flush = unsafe extern "C" fn();

/// The functions a pixel-buffer-object ring adds ([`PboRing`](super::PboRing)).
#[derive(Clone, Copy)]
pub(super) struct RingFunctions {
    pub(super) gen_buffers: GenBuffers,
    pub(super) delete_buffers: DeleteBuffers,
    pub(super) buffer_data: BufferData,
    pub(super) map_buffer_range: MapBufferRange,
    pub(super) unmap_buffer: UnmapBuffer,
    pub(super) fence_sync: FenceSync,
    pub(super) client_wait_sync: ClientWaitSync,
    pub(super) delete_sync: DeleteSync,
    pub(super) flush: Flush,
}

/// The GL functions a readback calls, loaded through the window system's loader.
#[derive(Clone, Copy)]
pub(super) struct GlFunctions {
    get_integerv: GetIntegerv,
    pub(super) get_error: GetError,
    get_string: GetString,
    pixel_storei: PixelStorei,
    pub(super) read_pixels: ReadPixels,
    pub(super) bind_buffer: Option<BindTarget>,
    bind_framebuffer: Option<BindTarget>,
    read_buffer: Option<ReadBufferFn>,
    get_buffer_parameteriv: Option<GetBufferParameteriv>,
    gen_framebuffers: Option<GenNames>,
    delete_framebuffers: Option<DeleteNames>,
    /// Present when every ring function is (whether the context has them is `Capabilities`).
    pub(super) ring: Option<RingFunctions>,
}

/// A window system's GL function loader: `eglGetProcAddress`, `glXGetProcAddressARB` or
/// `glXGetProcAddress`.
pub type GetProcAddress = unsafe extern "C" fn(*const c_char) -> *mut c_void;

impl GlFunctions {
    fn load(loader: GetProcAddress) -> Result<Self, ReadError> {
        let get = |name: &'static CStr| {
            // SAFETY: the real GetProcAddress with a C string.
            let p = unsafe { loader(name.as_ptr()) };
            (!p.is_null()).then_some(p)
        };
        macro_rules! required {
            ($name:literal, $ty:ty) => {{
                let p =
                    get($name).ok_or(ReadError::MissingFunction($name.to_str().unwrap_or("?")))?;
                // SAFETY: $ty is the GL signature of $name.
                unsafe { std::mem::transmute::<*mut c_void, $ty>(p) }
            }};
        }
        macro_rules! optional {
            ($name:literal, $ty:ty) => {
                // SAFETY: $ty is the GL signature of $name.
                get($name).map(|p| unsafe { std::mem::transmute::<*mut c_void, $ty>(p) })
            };
        }
        Ok(GlFunctions {
            get_integerv: required!(c"glGetIntegerv", GetIntegerv),
            get_error: required!(c"glGetError", GetError),
            get_string: required!(c"glGetString", GetString),
            pixel_storei: required!(c"glPixelStorei", PixelStorei),
            read_pixels: required!(c"glReadPixels", ReadPixels),
            bind_buffer: optional!(c"glBindBuffer", BindTarget),
            bind_framebuffer: optional!(c"glBindFramebuffer", BindTarget),
            read_buffer: optional!(c"glReadBuffer", ReadBufferFn),
            get_buffer_parameteriv: optional!(c"glGetBufferParameteriv", GetBufferParameteriv),
            gen_framebuffers: optional!(c"glGenFramebuffers", GenNames),
            delete_framebuffers: optional!(c"glDeleteFramebuffers", DeleteNames),
            ring: (|| {
                Some(RingFunctions {
                    gen_buffers: optional!(c"glGenBuffers", GenBuffers)?,
                    delete_buffers: optional!(c"glDeleteBuffers", DeleteBuffers)?,
                    buffer_data: optional!(c"glBufferData", BufferData)?,
                    map_buffer_range: optional!(c"glMapBufferRange", MapBufferRange)?,
                    unmap_buffer: optional!(c"glUnmapBuffer", UnmapBuffer)?,
                    fence_sync: optional!(c"glFenceSync", FenceSync)?,
                    client_wait_sync: optional!(c"glClientWaitSync", ClientWaitSync)?,
                    delete_sync: optional!(c"glDeleteSync", DeleteSync)?,
                    flush: optional!(c"glFlush", Flush)?,
                })
            })(),
        })
    }
}

/// Which of the touched state a context has, from its version.
#[derive(Debug, Clone)]
struct Capabilities {
    pack_buffer: bool,
    /// Pixel-buffer objects, mapping and fences (GL 3.2, ES 3.0): what a ring needs.
    ring: bool,
    /// `GL_VERSION`, for messages.
    version: String,
    /// `GL_RENDERER`, which [`ReadbackMode::resolve`](super::ReadbackMode::resolve) looks at.
    renderer: String,
    /// Separate read framebuffer binding (GL 3.0, ES 3.0); ES 2.0 has one binding for both.
    read_framebuffer: bool,
    read_buffer: bool,
    pack_rows: bool,
    bgra: bool,
}

impl Capabilities {
    /// # Safety
    /// A context is current on this thread.
    unsafe fn query(gl: &GlFunctions) -> Self {
        let string = |name| {
            // SAFETY: glGetString with a valid name on the current context returns a static
            // NUL-terminated string or null.
            let p = unsafe { (gl.get_string)(name) };
            if p.is_null() {
                String::new()
            } else {
                // SAFETY: see above.
                unsafe { CStr::from_ptr(p.cast()) }
                    .to_string_lossy()
                    .into_owned()
            }
        };
        let version = string(VERSION);
        let es = version.starts_with("OpenGL ES");
        let number = version
            .split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .find(|w| w.contains('.'))
            .unwrap_or("1.0");
        let mut parts = number.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        let (major, minor) = (parts.next().unwrap_or(1), parts.next().unwrap_or(0));
        let at_least = |a, b| (major, minor) >= (a, b);
        if es {
            let es3 = at_least(3, 0);
            Capabilities {
                pack_buffer: es3,
                ring: es3,
                version,
                renderer: string(RENDERER),
                read_framebuffer: es3,
                read_buffer: es3,
                pack_rows: es3,
                bgra: string(EXTENSIONS)
                    .split(' ')
                    .any(|e| e == "GL_EXT_read_format_bgra"),
            }
        } else {
            Capabilities {
                pack_buffer: at_least(2, 1),
                ring: at_least(3, 2),
                version,
                renderer: string(RENDERER),
                read_framebuffer: at_least(3, 0),
                read_buffer: true,
                pack_rows: true,
                bgra: true,
            }
        }
    }
}

/// The program's state a readback changes, to put back afterwards (`None`: the context has
/// no such state, or the section does not touch it).
struct SavedState {
    pack_buffer: Option<i32>,
    alignment: Option<i32>,
    /// Row length, skipped rows, skipped pixels.
    rows: Option<[i32; 3]>,
    framebuffer: Option<i32>,
    default_read_buffer: Option<u32>,
}

/// What a guarded section of GL calls changes (and so saves and restores).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Section {
    /// Reading the default framebuffer: no pixel-pack buffer, tight pack rows (alignment 4),
    /// read framebuffer 0 and its back buffer.
    Read,
    /// Mapping a pixel buffer: only the pixel-pack buffer binding (left unbound).
    Map,
}

/// Reads the default framebuffer of one context; made again when the current context changes
/// (the functions and what the context supports are asked once, here).
#[derive(Clone)]
pub struct FramebufferReader {
    gl: GlFunctions,
    caps: Capabilities,
    context: usize,
}

impl FramebufferReader {
    /// Loads the functions with `loader` and asks the current context `context` what it has.
    ///
    /// # Safety
    /// 1. `context` (an identity, e.g. from [`Drawable::current`](super::Drawable::current)) is
    ///    current on this thread;
    /// 2. `loader` is the GetProcAddress of that context's window system (so the functions it
    ///    returns have the GL signatures this reader calls them with).
    pub unsafe fn new(loader: GetProcAddress, context: usize) -> Result<Self, ReadError> {
        let gl = GlFunctions::load(loader)?;
        // SAFETY: the caller's context is current (invariant 1).
        let caps = unsafe { Capabilities::query(&gl) };
        Ok(FramebufferReader { gl, caps, context })
    }

    /// The context this reader was made for.
    pub fn context(&self) -> usize {
        self.context
    }

    /// The context's `GL_RENDERER` (e.g. `llvmpipe (LLVM 15.0.6, 256 bits)`).
    pub fn renderer(&self) -> &str {
        &self.caps.renderer
    }

    /// The context's `GL_VERSION`.
    pub fn version(&self) -> &str {
        &self.caps.version
    }

    /// Whether the context has what a [`PboRing`](super::PboRing) needs: pixel-pack buffers,
    /// `glMapBufferRange` and fences (OpenGL 3.2, OpenGL ES 3.0).
    pub fn supports_ring(&self) -> bool {
        self.caps.ring
            && self.caps.pack_buffer
            && self.gl.ring.is_some()
            && self.gl.bind_buffer.is_some()
    }

    /// The ring functions, or why the context has none.
    pub(super) fn ring_functions(&self) -> Result<RingFunctions, ReadError> {
        self.gl
            .ring
            .filter(|_| self.supports_ring())
            .ok_or_else(|| ReadError::RingUnsupported {
                version: self.caps.version.clone(),
            })
    }

    /// The format a readback asks for: BGRA where the context has it (the framebuffer's own
    /// order on Mesa), else RGBA.
    pub(super) fn read_format(&self) -> u32 {
        if self.caps.bgra {
            BGRA
        } else {
            RGBA
        }
    }

    /// The channel order of the pixels this reader and its [`PboRing`](super::PboRing) deliver:
    /// BGRA where the context can read it (the framebuffer's own order on Mesa), else RGBA.
    pub fn channel_order(&self) -> ChannelOrder {
        if self.caps.bgra {
            ChannelOrder::Bgra
        } else {
            ChannelOrder::Rgba
        }
    }

    /// Reads the back buffer of the default framebuffer, `width`×`height`, bottom row first,
    /// into `pixels` (exactly `width * height * 4` bytes; panics otherwise), and says in which
    /// channel order. On return every piece of state it touched is as the program left it, and
    /// the errors the program had pending are pending again (`GL_INVALID_ENUM`,
    /// `GL_INVALID_VALUE`, `GL_INVALID_OPERATION`, `GL_INVALID_FRAMEBUFFER_OPERATION`; out of
    /// memory and stack errors cannot be raised without side effects) while the read's own error,
    /// if any, is returned and not left behind.
    ///
    /// # Safety
    /// 1. This reader's context is current on this thread;
    /// 2. its default framebuffer is at least `width`×`height` (the size
    ///    [`Drawable::size`](super::Drawable::size) reports).
    pub unsafe fn read(
        &self,
        width: u32,
        height: u32,
        pixels: &mut [u8],
    ) -> Result<ChannelOrder, ReadError> {
        assert_eq!(pixels.len(), width as usize * height as usize * 4);
        let format = self.read_format();
        // SAFETY: the context is current (invariant 1); the Read section leaves no pack buffer
        // bound and tight pack rows, so glReadPixels writes exactly width*height*4 bytes into
        // `pixels`, whose length is checked above (whatever the framebuffer's size: invariant 2
        // is only about what the bytes hold).
        unsafe {
            self.guarded(Section::Read, "glReadPixels", |gl| {
                let (w, h) = (width as i32, height as i32);
                (gl.read_pixels)(
                    0,
                    0,
                    w,
                    h,
                    format,
                    UNSIGNED_BYTE,
                    pixels.as_mut_ptr().cast(),
                );
                Ok(())
            })
        }?;
        Ok(self.channel_order())
    }

    /// Runs `op` with the program's state for `section` saved and set, and its pending errors
    /// taken off the context; then drains the errors `op` raised (the first is returned as
    /// [`ReadError::Gl`] naming `call`), makes the program's errors pending again and restores
    /// its state. `op` must leave no pixel-pack buffer bound and the pack alignment as it found
    /// it.
    ///
    /// # Safety
    /// This reader's context is current on this thread, and `op` is sound to run on it.
    pub(super) unsafe fn guarded<R>(
        &self,
        section: Section,
        call: &'static str,
        op: impl FnOnce(&GlFunctions) -> Result<R, ReadError>,
    ) -> Result<R, ReadError> {
        // SAFETY: the context is current (the contract); `op` keeps the state raise_again needs.
        unsafe {
            let pending = self.take_errors();
            let saved = self.save_and_reset(section);
            let result = match self.take_errors().first() {
                Some(&code) => Err(ReadError::Gl {
                    call: match section {
                        Section::Read => "selecting the default framebuffer's back buffer",
                        Section::Map => "unbinding the program's pixel-pack buffer",
                    },
                    code,
                }),
                None => {
                    let value = op(&self.gl);
                    match self.take_errors().first() {
                        Some(&code) => Err(ReadError::Gl { call, code }),
                        None => value,
                    }
                }
            };
            self.raise_again(&pending);
            self.restore(&saved);
            result
        }
    }

    /// Saves the state `section` changes and sets what it needs.
    ///
    /// # Safety
    /// This reader's context is current.
    unsafe fn save_and_reset(&self, section: Section) -> SavedState {
        let (gl, caps) = (&self.gl, &self.caps);
        let read = section == Section::Read;
        let int = |name| {
            let mut v = 0i32;
            // SAFETY: a query the context's version has (`caps`), into a live local.
            unsafe { (gl.get_integerv)(name, &mut v) };
            v
        };
        let fb_binding = if caps.read_framebuffer {
            READ_FRAMEBUFFER_BINDING
        } else {
            FRAMEBUFFER_BINDING
        };
        let mut saved = SavedState {
            pack_buffer: gl
                .bind_buffer
                .filter(|_| caps.pack_buffer)
                .map(|_| int(PIXEL_PACK_BUFFER_BINDING)),
            alignment: read.then(|| int(PACK_ALIGNMENT)),
            rows: (read && caps.pack_rows).then(|| {
                [
                    int(PACK_ROW_LENGTH),
                    int(PACK_SKIP_ROWS),
                    int(PACK_SKIP_PIXELS),
                ]
            }),
            framebuffer: gl
                .bind_framebuffer
                .filter(|_| read)
                .map(|_| int(fb_binding)),
            default_read_buffer: None,
        };
        // SAFETY: state calls with valid enums for the context's version (`caps`); the bind
        // functions are only present in `saved` when the context has them.
        unsafe {
            if let (Some(bind), Some(b)) = (gl.bind_buffer, saved.pack_buffer) {
                if b != 0 {
                    bind(PIXEL_PACK_BUFFER, 0);
                }
            }
            if !read {
                return saved;
            }
            (gl.pixel_storei)(PACK_ALIGNMENT, 4);
            if saved.rows.is_some() {
                for name in [PACK_ROW_LENGTH, PACK_SKIP_ROWS, PACK_SKIP_PIXELS] {
                    (gl.pixel_storei)(name, 0);
                }
            }
            if let (Some(bind), Some(f)) = (gl.bind_framebuffer, saved.framebuffer) {
                if f != 0 {
                    bind(self.framebuffer_target(), 0);
                }
            }
            // The read buffer belongs to the framebuffer: this is the default one's.
            if let Some(set) = gl.read_buffer.filter(|_| caps.read_buffer) {
                let current = int(READ_BUFFER) as u32;
                if current != BACK {
                    set(BACK);
                }
                saved.default_read_buffer = Some(current);
            }
        }
        saved
    }

    /// Puts back what [`save_and_reset`](Self::save_and_reset) changed, in reverse order.
    ///
    /// # Safety
    /// This reader's context is current, and `saved` came from `save_and_reset` on it.
    unsafe fn restore(&self, saved: &SavedState) {
        let gl = &self.gl;
        // SAFETY: the same calls as in `save_and_reset`, with the values it read.
        unsafe {
            if let (Some(set), Some(b)) = (gl.read_buffer, saved.default_read_buffer) {
                if b != BACK {
                    set(b);
                }
            }
            if let (Some(bind), Some(f)) = (gl.bind_framebuffer, saved.framebuffer) {
                if f != 0 {
                    bind(self.framebuffer_target(), f as u32);
                }
            }
            if let Some([row_length, skip_rows, skip_pixels]) = saved.rows {
                (gl.pixel_storei)(PACK_ROW_LENGTH, row_length);
                (gl.pixel_storei)(PACK_SKIP_ROWS, skip_rows);
                (gl.pixel_storei)(PACK_SKIP_PIXELS, skip_pixels);
            }
            if let Some(alignment) = saved.alignment {
                (gl.pixel_storei)(PACK_ALIGNMENT, alignment);
            }
            if let (Some(bind), Some(b)) = (gl.bind_buffer, saved.pack_buffer) {
                if b != 0 {
                    bind(PIXEL_PACK_BUFFER, b as u32);
                }
            }
        }
    }

    /// The target that binds the read framebuffer (ES 2.0 has one binding for both).
    fn framebuffer_target(&self) -> u32 {
        if self.caps.read_framebuffer {
            READ_FRAMEBUFFER
        } else {
            FRAMEBUFFER
        }
    }

    /// Takes the errors pending on the context (the program's before a section, ours after
    /// one), oldest first.
    ///
    /// # Safety
    /// This reader's context is current.
    unsafe fn take_errors(&self) -> Vec<u32> {
        let mut errors = Vec::new();
        while errors.len() < MAX_SAVED_ERRORS {
            // SAFETY: glGetError on the current context.
            let e = unsafe { (self.gl.get_error)() };
            if e == NO_ERROR {
                break;
            }
            errors.push(e);
        }
        errors
    }

    /// Makes the context raise `errors` again, each with a call that fails before it does
    /// anything. The four errors a program can cause without side effects come back (the
    /// incomplete-framebuffer one where the context has framebuffer objects); an out-of-memory or
    /// stack error pending at the capture is consumed.
    /// Must run with no pixel-pack buffer bound; on a context without pixel-pack buffers (ES
    /// 2.0) also with pack alignment 4, so that the failing `glReadPixels` could not write
    /// outside its own 16 bytes even if it did not fail. Where the context has pixel-pack
    /// buffers, `GL_INVALID_OPERATION` comes from a query of the unbound pack buffer, which does
    /// not depend on the read framebuffer being complete.
    ///
    /// # Safety
    /// This reader's context is current, in the state above.
    unsafe fn raise_again(&self, errors: &[u32]) {
        let gl = &self.gl;
        let query_unbound = gl.get_buffer_parameteriv.filter(|_| self.caps.pack_buffer);
        for &e in errors {
            // SAFETY: see the function's contract; `scratch` outlives each call.
            unsafe {
                let mut scratch = [0i32; 16];
                match (e, query_unbound) {
                    // Zero names no state.
                    (INVALID_ENUM, _) => (gl.get_integerv)(0, scratch.as_mut_ptr()),
                    // Pack alignment must be 1, 2, 4 or 8.
                    (INVALID_VALUE, _) => (gl.pixel_storei)(PACK_ALIGNMENT, 3),
                    // No buffer is bound to the pixel-pack target.
                    (INVALID_OPERATION, Some(query)) => {
                        query(PIXEL_PACK_BUFFER, BUFFER_SIZE, scratch.as_mut_ptr())
                    }
                    // 5-6-5 pixels only come as RGB.
                    (INVALID_OPERATION, None) => (gl.read_pixels)(
                        0,
                        0,
                        1,
                        1,
                        RGBA,
                        UNSIGNED_SHORT_5_6_5,
                        scratch.as_mut_ptr().cast(),
                    ),
                    (INVALID_FRAMEBUFFER_OPERATION, _) => self.raise_incomplete_framebuffer(),
                    _ => {}
                }
            }
        }
    }

    /// Raises `GL_INVALID_FRAMEBUFFER_OPERATION` with an empty read from a framebuffer object
    /// that has no attachment (so is incomplete), made for it and deleted again; the read
    /// framebuffer binding is put back. The read is 0×0: it could write nothing even if it did
    /// not fail.
    ///
    /// # Safety
    /// This reader's context is current, with no pixel-pack buffer bound.
    unsafe fn raise_incomplete_framebuffer(&self) {
        let gl = &self.gl;
        let (Some(gen), Some(delete), Some(bind)) = (
            gl.gen_framebuffers,
            gl.delete_framebuffers,
            gl.bind_framebuffer,
        ) else {
            return;
        };
        let binding = if self.caps.read_framebuffer {
            READ_FRAMEBUFFER_BINDING
        } else {
            FRAMEBUFFER_BINDING
        };
        let (mut bound, mut name) = (0i32, 0u32);
        // SAFETY: the context is current (the contract) and has framebuffer objects (the three
        // functions); out-parameters are live locals; the name is deleted after its last use.
        unsafe {
            (gl.get_integerv)(binding, &mut bound);
            gen(1, &mut name);
            bind(self.framebuffer_target(), name);
            let nothing = std::ptr::null_mut();
            (gl.read_pixels)(0, 0, 0, 0, RGBA, UNSIGNED_BYTE, nothing);
            bind(self.framebuffer_target(), bound as u32);
            delete(1, &name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bgra_to_rgba_swaps_red_and_blue_only() {
        let mut dst = [0u8; 8];
        ChannelOrder::Bgra.copy_to_rgba(&[1, 2, 3, 4, 5, 6, 7, 8], &mut dst);
        assert_eq!(dst, [3, 2, 1, 4, 7, 6, 5, 8]);
    }

    #[test]
    fn rgba_is_copied_as_it_is() {
        let mut dst = [0u8; 4];
        ChannelOrder::Rgba.copy_to_rgba(&[1, 2, 3, 4], &mut dst);
        assert_eq!(dst, [1, 2, 3, 4]);
    }
}
