//! The unsafe part of the x264 backend: loading `libx264.so.164` at run time
//! and calling it.
//!
//! Only what reel touches is declared, by hand, for x264 build 164 (the ABI
//! `x264_encoder_open_164` pins): the leading fields of `x264_param_t` and
//! `x264_picture_t` (the rest of each is an opaque, over-allocated tail that
//! only x264 writes), `x264_image_t` and `x264_nal_t`. A unit test compiles
//! a C program against `/usr/include/x264.h` and checks every offset and
//! size used here.
//!
//! Every `unsafe` block of the x264 backend is in this file.

use std::borrow::Cow;
use std::ffi::{c_char, c_int, c_void, CString};
use std::ptr::NonNull;
use std::sync::{Arc, OnceLock};

use libloading::Library;

use super::{
    X264LoadFailure, X264Settings, X264Unavailable, LIBRARY_ENV, LIBRARY_NAME, X264_BUILD,
};
use crate::error::{ExportError, SizeLimit, X264Error};

/// `X264_CSP_I420`: planar 4:2:0, 8 bits.
pub(super) const CSP_I420: c_int = 0x0002;
/// `NAL_SEI`, `NAL_SPS`, `NAL_PPS` of `nal_unit_type_e`.
pub(super) const NAL_SEI: c_int = 6;
pub(super) const NAL_SPS: c_int = 7;
pub(super) const NAL_PPS: c_int = 8;

/// `x264_image_t`, whole.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(super) struct Image {
    pub i_csp: c_int,
    pub i_plane: c_int,
    pub i_stride: [c_int; 4],
    pub plane: [*mut u8; 4],
}

/// Bytes reserved for `x264_param_t` (1024 in build 164; the test checks
/// that this is enough).
pub(super) const PARAM_BYTES: usize = 2048;
const PARAM_LEADING_BYTES: usize = 10 * 4;

/// `x264_param_t`: the leading fields up to `i_csp`, then opaque bytes that
/// only x264's functions touch.
#[repr(C)]
pub(super) struct Param {
    pub cpu: u32,
    pub i_threads: c_int,
    pub i_lookahead_threads: c_int,
    pub b_sliced_threads: c_int,
    pub b_deterministic: c_int,
    pub b_cpu_independent: c_int,
    pub i_sync_lookahead: c_int,
    pub i_width: c_int,
    pub i_height: c_int,
    pub i_csp: c_int,
    /// The rest of the struct (8-byte aligned, as x264's pointers are).
    _opaque: [u64; (PARAM_BYTES - PARAM_LEADING_BYTES) / 8],
}

/// Bytes reserved for `x264_picture_t` (240 in build 164; checked by the test).
pub(super) const PICTURE_BYTES: usize = 384;
const PICTURE_LEADING_BYTES: usize = 40 + std::mem::size_of::<Image>();

/// `x264_picture_t`: the fields up to and including `img`, then opaque bytes
/// (`prop`, `hrd_timing`, `extra_sei`, `opaque`) that `x264_picture_init`
/// clears and reel leaves alone.
#[repr(C)]
pub(super) struct Picture {
    pub i_type: c_int,
    pub i_qpplus1: c_int,
    pub i_pic_struct: c_int,
    pub b_keyframe: c_int,
    pub i_pts: i64,
    pub i_dts: i64,
    pub param: *mut c_void,
    pub img: Image,
    _opaque: [u64; (PICTURE_BYTES - PICTURE_LEADING_BYTES) / 8],
}

impl Param {
    /// All zeros, before `x264_param_default_preset` fills it in.
    fn zeroed() -> Self {
        Param {
            cpu: 0,
            i_threads: 0,
            i_lookahead_threads: 0,
            b_sliced_threads: 0,
            b_deterministic: 0,
            b_cpu_independent: 0,
            i_sync_lookahead: 0,
            i_width: 0,
            i_height: 0,
            i_csp: 0,
            _opaque: [0; (PARAM_BYTES - PARAM_LEADING_BYTES) / 8],
        }
    }
}

impl Picture {
    /// All zeros and null pointers, before `x264_picture_init`.
    fn zeroed() -> Self {
        Picture {
            i_type: 0,
            i_qpplus1: 0,
            i_pic_struct: 0,
            b_keyframe: 0,
            i_pts: 0,
            i_dts: 0,
            param: std::ptr::null_mut(),
            img: Image {
                i_csp: 0,
                i_plane: 0,
                i_stride: [0; 4],
                plane: [std::ptr::null_mut(); 4],
            },
            _opaque: [0; (PICTURE_BYTES - PICTURE_LEADING_BYTES) / 8],
        }
    }
}

/// `x264_nal_t`, whole (x264 hands out arrays of it, so the size must match).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(super) struct Nal {
    pub i_ref_idc: c_int,
    pub i_type: c_int,
    pub b_long_startcode: c_int,
    pub i_first_mb: c_int,
    pub i_last_mb: c_int,
    pub i_payload: c_int,
    pub p_payload: *mut u8,
    pub i_padding: c_int,
}

/// The opaque `x264_t`.
#[repr(C)]
pub(super) struct Handle {
    _private: [u8; 0],
}

type ParamDefaultPresetFn = unsafe extern "C" fn(*mut Param, *const c_char, *const c_char) -> c_int;
type ParamParseFn = unsafe extern "C" fn(*mut Param, *const c_char, *const c_char) -> c_int;
type ParamCleanupFn = unsafe extern "C" fn(*mut Param);
type PictureInitFn = unsafe extern "C" fn(*mut Picture);
type EncoderOpenFn = unsafe extern "C" fn(*mut Param) -> *mut Handle;
type EncoderHeadersFn = unsafe extern "C" fn(*mut Handle, *mut *mut Nal, *mut c_int) -> c_int;
type EncoderEncodeFn = unsafe extern "C" fn(
    *mut Handle,
    *mut *mut Nal,
    *mut c_int,
    *mut Picture,
    *mut Picture,
) -> c_int;
type EncoderDelayedFramesFn = unsafe extern "C" fn(*mut Handle) -> c_int;
type EncoderCloseFn = unsafe extern "C" fn(*mut Handle);

/// libx264, loaded at run time, with the entry points reel calls.
///
/// Nothing links against x264: the library is opened with `dlopen` when an
/// export asks for it, so reel builds and runs where it is not installed.
pub struct X264Library {
    path: String,
    param_default_preset: ParamDefaultPresetFn,
    param_parse: ParamParseFn,
    param_cleanup: ParamCleanupFn,
    picture_init: PictureInitFn,
    encoder_open: EncoderOpenFn,
    encoder_headers: EncoderHeadersFn,
    encoder_encode: EncoderEncodeFn,
    encoder_delayed_frames: EncoderDelayedFramesFn,
    encoder_close: EncoderCloseFn,
    /// Keeps the function pointers above valid; dropped last.
    _library: Library,
}

impl std::fmt::Debug for X264Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("X264Library")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl X264Library {
    /// The process-wide libx264, loaded on first use from [`LIBRARY_NAME`]
    /// (or the file named by [`LIBRARY_ENV`] when that is set and not
    /// empty). A failure is remembered and returned again on later calls.
    pub fn get() -> Result<&'static X264Library, X264Unavailable> {
        static LOADED: OnceLock<Result<X264Library, X264Unavailable>> = OnceLock::new();
        LOADED
            .get_or_init(|| {
                let chosen = std::env::var(LIBRARY_ENV).ok().filter(|v| !v.is_empty());
                X264Library::load_from(chosen.as_deref().unwrap_or(LIBRARY_NAME))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Loads libx264 from `library` (a file name for the dynamic loader, or
    /// a path), without caching; refuses any build but [`X264_BUILD`].
    pub fn load_from(library: &str) -> Result<X264Library, X264Unavailable> {
        let unavailable = |reason| X264Unavailable {
            library: library.to_owned(),
            reason,
        };
        // SAFETY: opening a shared library runs its initialisers. The file is
        // the x264 library the user installed or named through REEL_LIBX264;
        // libx264's initialisers only set up static tables.
        let lib = unsafe { Library::new(library) }
            .map_err(|e| unavailable(X264LoadFailure::Open(Arc::new(e))))?;
        let open_name = format!("x264_encoder_open_{X264_BUILD}");
        // SAFETY: only checks that the symbol exists; the pointer is not used.
        let has_open = unsafe { lib.get::<EncoderOpenFn>(open_name.as_bytes()) }.is_ok();
        if !has_open {
            let other = (100..=300u32).find(|build| {
                let name = format!("x264_encoder_open_{build}");
                // SAFETY: as above, a presence check only.
                unsafe { lib.get::<EncoderOpenFn>(name.as_bytes()) }.is_ok()
            });
            return Err(unavailable(match other {
                Some(build) => X264LoadFailure::OtherBuild(build),
                None => X264LoadFailure::NotX264,
            }));
        }
        macro_rules! symbol {
            ($name:literal) => {
                // SAFETY: the symbol is x264's function of that name; the
                // type is its C prototype in x264.h of build 164 (which the
                // versioned open symbol just confirmed). The pointer is copied
                // out and stays valid while `lib`, stored alongside it, is loaded.
                *unsafe { lib.get(concat!($name, "\0").as_bytes()) }.map_err(|e| {
                    unavailable(X264LoadFailure::MissingSymbol {
                        symbol: $name,
                        error: Arc::new(e),
                    })
                })?
            };
        }
        Ok(X264Library {
            path: library.to_owned(),
            param_default_preset: symbol!("x264_param_default_preset"),
            param_parse: symbol!("x264_param_parse"),
            param_cleanup: symbol!("x264_param_cleanup"),
            picture_init: symbol!("x264_picture_init"),
            encoder_open: symbol!("x264_encoder_open_164"),
            encoder_headers: symbol!("x264_encoder_headers"),
            encoder_encode: symbol!("x264_encoder_encode"),
            encoder_delayed_frames: symbol!("x264_encoder_delayed_frames"),
            encoder_close: symbol!("x264_encoder_close"),
            _library: lib,
        })
    }

    /// The file name or path the library was loaded from.
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// A running x264 encoder producing length-prefixed (MP4-style) NAL units.
///
/// Frames go in as I420 and come out in the same order (the settings use no
/// B-frames) but possibly later: with frame threads x264 holds a few frames
/// back, and [`flush`](X264Encoder::flush) drains them at the end.
pub struct X264Encoder<'lib> {
    lib: &'lib X264Library,
    handle: NonNull<Handle>,
    width: usize,
    height: usize,
    input: Box<Picture>,
    output: Box<Picture>,
    sps: Vec<u8>,
    pps: Vec<u8>,
    /// The headers' SEI (x264's version and settings), length-prefixed, put
    /// in front of the first frame as ffmpeg does.
    sei: Option<Vec<u8>>,
    frames_in: i64,
    frames_out: i64,
}

// SAFETY: an x264 encoder has no thread affinity; it may be driven from any
// thread as long as calls do not overlap, which `&mut self` on every call
// guarantees. The library handle is shared read-only.
unsafe impl Send for X264Encoder<'_> {}

/// One encoded frame: its NAL units, each after a 4-byte big-endian length.
#[derive(Debug)]
pub struct EncodedFrame<'a> {
    /// The sample's bytes.
    pub data: Cow<'a, [u8]>,
    /// Whether it is a keyframe (IDR): a sync sample.
    pub sync: bool,
}

impl<'lib> X264Encoder<'lib> {
    /// Opens an encoder with `settings` and reads the stream's SPS and PPS.
    pub fn open(lib: &'lib X264Library, settings: &X264Settings) -> Result<Self, ExportError> {
        let fail = |source| ExportError::X264 { index: 0, source };
        let (width, height) = (settings.width, settings.height);
        let (Ok(w), Ok(h)) = (c_int::try_from(width), c_int::try_from(height)) else {
            return Err(ExportError::InvalidSize {
                limit: SizeLimit::X264,
                width,
                height,
            });
        };
        // Boxed (2 KiB) and zeroed, so the bytes past x264's struct are
        // initialised too.
        let mut param = Box::new(Param::zeroed());
        let preset = cstring(&settings.preset)?;
        // SAFETY: `param` points to PARAM_BYTES writable bytes, at least
        // sizeof(x264_param_t) (checked by the layout test), 8-byte aligned;
        // x264_param_default_preset fills in every field (any bits are valid
        // for `Param`: integers only); `preset` is a NUL-terminated string
        // and a null tune means none.
        let status =
            unsafe { (lib.param_default_preset)(&mut *param, preset.as_ptr(), std::ptr::null()) };
        if status < 0 {
            return Err(fail(X264Error::NoPreset(settings.preset.clone())));
        }
        param.i_width = w;
        param.i_height = h;
        param.i_csp = CSP_I420;
        let mut result = Ok(());
        for (name, value) in settings.options() {
            let (n, v) = (cstring(&name)?, cstring(&value)?);
            // SAFETY: `param` was initialised by x264; both strings are
            // NUL-terminated and outlive the call.
            let status = unsafe { (lib.param_parse)(&mut *param, n.as_ptr(), v.as_ptr()) };
            if status != 0 {
                result = Err(fail(X264Error::Option {
                    name,
                    value,
                    status,
                }));
                break;
            }
        }
        let handle = match result {
            // SAFETY: `param` is a fully initialised x264_param_t; x264 copies it.
            Ok(()) => NonNull::new(unsafe { (lib.encoder_open)(&mut *param) }),
            Err(_) => None,
        };
        // SAFETY: frees what x264_param_parse may have allocated; the encoder
        // keeps its own copy of the parameters.
        unsafe { (lib.param_cleanup)(&mut *param) };
        result?;
        let Some(handle) = handle else {
            return Err(fail(X264Error::Refused(settings.clone())));
        };
        let mut input = Box::new(Picture::zeroed());
        // SAFETY: PICTURE_BYTES >= sizeof(x264_picture_t) (layout test);
        // x264_picture_init sets the C struct's fields to its defaults
        // (integers and null pointers, valid for `Picture`).
        unsafe { (lib.picture_init)(&mut *input) };
        input.img.i_csp = CSP_I420;
        input.img.i_plane = 3;
        input.img.i_stride = [w, w / 2, w / 2, 0];
        let mut output = Box::new(Picture::zeroed());
        // SAFETY: as for `input`.
        unsafe { (lib.picture_init)(&mut *output) };
        let mut encoder = X264Encoder {
            lib,
            handle,
            width: width as usize,
            height: height as usize,
            input,
            output,
            sps: Vec::new(),
            pps: Vec::new(),
            sei: None,
            frames_in: 0,
            frames_out: 0,
        };
        encoder.read_headers()?;
        Ok(encoder)
    }

    fn read_headers(&mut self) -> Result<(), ExportError> {
        let mut nals: *mut Nal = std::ptr::null_mut();
        let mut count: c_int = 0;
        // SAFETY: `handle` is an open encoder; x264 writes the NAL array
        // pointer and count, valid until the next call into the encoder.
        let bytes =
            unsafe { (self.lib.encoder_headers)(self.handle.as_ptr(), &mut nals, &mut count) };
        if bytes < 0 {
            return Err(ExportError::X264 {
                index: 0,
                source: X264Error::NoHeaders,
            });
        }
        // SAFETY: x264 returned `count` NALs at `nals`, each payload valid
        // until the next call into this encoder; the slices are copied
        // below, before any other call.
        let slices = unsafe { nal_slices(nals, count) }
            .map_err(|source| ExportError::X264 { index: 0, source })?;
        let mut sei = Vec::new();
        for (kind, nal) in slices {
            match kind {
                NAL_SPS => self.sps = nal[4..].to_vec(),
                NAL_PPS => self.pps = nal[4..].to_vec(),
                NAL_SEI => sei.extend_from_slice(nal),
                _ => {}
            }
        }
        if self.sps.len() < 4 || self.pps.is_empty() {
            return Err(ExportError::X264 {
                index: 0,
                source: X264Error::NoParameterSets,
            });
        }
        self.sei = (!sei.is_empty()).then_some(sei);
        Ok(())
    }

    /// The sequence parameter set (without length prefix).
    pub fn sps(&self) -> &[u8] {
        &self.sps
    }

    /// The picture parameter set (without length prefix).
    pub fn pps(&self) -> &[u8] {
        &self.pps
    }

    /// Frames handed in and not yet given back.
    #[cfg(test)]
    fn delayed_frames(&self) -> u64 {
        (self.frames_in - self.frames_out) as u64
    }

    /// Encodes the next frame (`i420`: Y, Cb, Cr planes without padding).
    /// Gives the oldest frame x264 has finished, if any; its data borrows
    /// x264's buffer until the next call.
    pub fn encode(&mut self, i420: &[u8]) -> Result<Option<EncodedFrame<'_>>, ExportError> {
        let index = self.frames_in as u64;
        let (w, h) = (self.width, self.height);
        let expected = crate::encode::ycbcr::i420_len(w, h);
        if i420.len() != expected {
            return Err(ExportError::X264 {
                index,
                source: X264Error::WrongInputSize {
                    got: i420.len(),
                    expected,
                    width: w,
                    height: h,
                },
            });
        }
        let base = i420.as_ptr().cast_mut();
        // x264 only reads the input planes (it copies them into a frame of
        // its own inside x264_encoder_encode); `*mut` is the C prototype's.
        self.input.img.plane = [
            base,
            base.wrapping_add(w * h),
            base.wrapping_add(w * h + (w / 2) * (h / 2)),
            std::ptr::null_mut(),
        ];
        self.input.i_pts = self.frames_in;
        self.input.i_type = 0; // X264_TYPE_AUTO
        let input: *mut Picture = &mut *self.input;
        let raw = self.encode_call(input, index);
        // Leave no pointer into `i420` behind.
        self.input.img.plane = [std::ptr::null_mut(); 4];
        self.frames_in += 1;
        Ok(raw?.map(|raw| self.frame(raw)))
    }

    /// Gives one frame x264 still holds back, or `None` once every frame
    /// handed to [`encode`](Self::encode) has come out. Call it until `None`
    /// at the end of the stream.
    pub fn flush(&mut self) -> Result<Option<EncodedFrame<'_>>, ExportError> {
        // Empty calls in a row; x264 gives a frame per call while it holds
        // any, so this only stops a misbehaving library from spinning.
        for _ in 0..1000 {
            let index = self.frames_out as u64;
            // SAFETY: `handle` is an open encoder.
            let delayed = unsafe { (self.lib.encoder_delayed_frames)(self.handle.as_ptr()) };
            if delayed <= 0 {
                if self.frames_out != self.frames_in {
                    return Err(ExportError::X264 {
                        index,
                        source: X264Error::LostFrames {
                            out: self.frames_out,
                            given: self.frames_in,
                        },
                    });
                }
                return Ok(None);
            }
            if let Some(raw) = self.encode_call(std::ptr::null_mut(), index)? {
                return Ok(Some(self.frame(raw)));
            }
        }
        Err(ExportError::X264 {
            index: self.frames_out as u64,
            source: X264Error::Stuck,
        })
    }

    /// One `x264_encoder_encode` call (`input` null to drain); checks what
    /// came out and where it is, without borrowing it yet.
    fn encode_call(
        &mut self,
        input: *mut Picture,
        index: u64,
    ) -> Result<Option<RawFrame>, ExportError> {
        let fail = |source| ExportError::X264 { index, source };
        let mut nals: *mut Nal = std::ptr::null_mut();
        let mut count: c_int = 0;
        // SAFETY: `handle` is an open encoder; `input` is null or our
        // initialised picture whose planes point to a live I420 frame of the
        // encoder's size with the strides set at open; `output` is an
        // initialised picture x264 writes. x264 sets `nals` and `count`.
        let bytes = unsafe {
            (self.lib.encoder_encode)(
                self.handle.as_ptr(),
                &mut nals,
                &mut count,
                input,
                &mut *self.output,
            )
        };
        if bytes < 0 {
            return Err(fail(X264Error::EncodeFailed(bytes)));
        }
        if bytes == 0 {
            return Ok(None);
        }
        // SAFETY: x264 just returned `count` NAL descriptions at `nals`,
        // valid until the next call into this encoder; nothing else calls it
        // before this returns.
        let slices = unsafe { nal_slices(nals, count) }.map_err(fail)?;
        let (first, total) = contiguous(&slices).map_err(fail)?;
        if total != bytes as usize {
            return Err(fail(X264Error::ByteCount { said: bytes, total }));
        }
        if self.output.i_pts != self.frames_out {
            return Err(fail(X264Error::Reordered {
                got: self.output.i_pts,
                due: self.frames_out,
            }));
        }
        self.frames_out += 1;
        Ok(Some(RawFrame {
            data: first,
            len: total,
            sync: self.output.b_keyframe != 0,
        }))
    }

    /// Borrows a frame [`encode_call`](Self::encode_call) found, putting
    /// the headers' SEI in front of the first.
    fn frame(&mut self, raw: RawFrame) -> EncodedFrame<'_> {
        // SAFETY: `encode_call` checked that x264's payloads are one
        // contiguous run of `len` bytes at `data`; they stay valid until the
        // next encoder call, which needs `&mut self` and so cannot happen
        // while the returned frame borrows `self`.
        let data = unsafe { std::slice::from_raw_parts(raw.data, raw.len) };
        let data = match self.sei.take() {
            Some(mut sei) => {
                sei.extend_from_slice(data);
                Cow::Owned(sei)
            }
            None => Cow::Borrowed(data),
        };
        EncodedFrame {
            data,
            sync: raw.sync,
        }
    }
}

/// Where a finished frame's bytes are in x264's buffer.
struct RawFrame {
    data: *const u8,
    len: usize,
    sync: bool,
}

/// The NAL units x264 returned, as (type, bytes with the 4-byte length
/// prefix) pairs, each checked to carry the length of its payload.
///
/// # Safety
///
/// `nals` must point to `count` NAL descriptions from x264 whose payloads
/// are valid, and stay valid while the returned slices are used.
unsafe fn nal_slices<'a>(
    nals: *const Nal,
    count: c_int,
) -> Result<Vec<(c_int, &'a [u8])>, X264Error> {
    let bad_count = X264Error::NalCount(count);
    let count = match usize::try_from(count) {
        Ok(n) if n > 0 && !nals.is_null() => n,
        _ => return Err(bad_count),
    };
    // SAFETY: the caller promises `count` initialised descriptions at `nals`
    // (x264_nal_t has exactly the layout of `Nal`: layout test).
    let nals = unsafe { std::slice::from_raw_parts(nals, count) };
    nals.iter()
        .map(|nal| {
            let len = usize::try_from(nal.i_payload).unwrap_or(0);
            if nal.p_payload.is_null() || len < 5 {
                return Err(X264Error::NalLength(nal.i_payload));
            }
            // SAFETY: x264 describes `len` payload bytes at `p_payload`,
            // valid as long as the caller promised.
            let bytes: &'a [u8] = unsafe { std::slice::from_raw_parts(nal.p_payload, len) };
            let prefix = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
            if prefix != len - 4 {
                return Err(X264Error::NalPrefix { len, prefix });
            }
            Ok((nal.i_type, bytes))
        })
        .collect()
}

/// The start and total length of NAL units that follow each other in
/// memory, as x264 promises for one call's output.
fn contiguous(slices: &[(c_int, &[u8])]) -> Result<(*const u8, usize), X264Error> {
    let first = slices.first().ok_or(X264Error::NalCount(0))?.1.as_ptr();
    let mut end = first;
    let mut total = 0;
    for (_, s) in slices {
        if s.as_ptr() != end {
            return Err(X264Error::NotContiguous);
        }
        end = end.wrapping_add(s.len());
        total += s.len();
    }
    Ok((first, total))
}

/// Turns transparent huge pages off for the whole process (Linux; elsewhere
/// a no-op): it stays off, and child processes inherit it.
///
/// x264 asks the kernel for 2 MiB pages (`madvise(MADV_HUGEPAGE)`) for
/// every buffer of 1.75 MiB or more, so a 1280x720 input frame with its
/// look-ahead planes occupies two huge pages: extra resident memory for no
/// speed the benchmark could measure (BENCHMARKS.md). Because the setting is process-wide, the library never
/// changes it by itself; the `reel` command calls this at start-up, and an
/// application that wants the same lower peak calls it from its own `main`.
#[cfg(target_os = "linux")]
pub fn disable_transparent_huge_pages() {
    use std::ffi::c_ulong;
    const PR_SET_THP_DISABLE: c_int = 41;
    extern "C" {
        fn prctl(option: c_int, ...) -> c_int;
    }
    // SAFETY: prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) sets one flag of this
    // process; the variadic arguments are the unsigned longs the kernel
    // reads, and no memory is passed. A failure (old kernel) only leaves
    // huge pages on, so the result is ignored.
    unsafe {
        prctl(
            PR_SET_THP_DISABLE,
            1 as c_ulong,
            0 as c_ulong,
            0 as c_ulong,
            0 as c_ulong,
        )
    };
}

/// Turns transparent huge pages off for the whole process: a no-op outside
/// Linux.
#[cfg(not(target_os = "linux"))]
pub fn disable_transparent_huge_pages() {}

fn cstring(s: &str) -> Result<CString, ExportError> {
    CString::new(s).map_err(|_| ExportError::X264 {
        index: 0,
        source: X264Error::NulInOption(s.to_owned()),
    })
}

impl Drop for X264Encoder<'_> {
    fn drop(&mut self) {
        // SAFETY: `handle` is an open encoder, closed exactly once, here.
        unsafe { (self.lib.encoder_close)(self.handle.as_ptr()) };
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::mem::{align_of, offset_of, size_of};
    use std::process::Command;

    use super::*;

    /// Whether a missing system package must fail the test (on CI) rather
    /// than skip it with a note.
    fn required() -> bool {
        std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
    }

    fn skip_or_fail(test: &str, why: &str) {
        assert!(!required(), "{test}: {why} (CI is set, so this fails)");
        eprintln!("SKIPPED {test}: {why}");
    }

    /// Compiles and runs a C program printing `name value` lines for the
    /// layout of x264.h's structs.
    fn c_layout(test: &str) -> Option<HashMap<String, usize>> {
        let header = std::path::Path::new("/usr/include/x264.h");
        if !header.exists() {
            skip_or_fail(test, "no /usr/include/x264.h (apt-get install libx264-dev)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("layout.c");
        let exe = dir.path().join("layout");
        let mut c = String::from(
            "#include <stddef.h>\n#include <stdint.h>\n#include <stdio.h>\n#include <x264.h>\n\
             #define P(name, value) printf(\"%s %zu\\n\", name, (size_t)(value))\n\
             int main(void) {\n    P(\"X264_BUILD\", X264_BUILD);\n\
             P(\"X264_CSP_I420\", X264_CSP_I420);\n    P(\"NAL_SEI\", NAL_SEI);\n\
             P(\"NAL_SPS\", NAL_SPS);\n    P(\"NAL_PPS\", NAL_PPS);\n",
        );
        for ty in [
            "x264_param_t",
            "x264_picture_t",
            "x264_image_t",
            "x264_nal_t",
        ] {
            c += &format!(
                "    P(\"sizeof {ty}\", sizeof({ty}));\n    P(\"alignof {ty}\", _Alignof({ty}));\n"
            );
        }
        for (ty, fields) in C_FIELDS {
            for f in *fields {
                c += &format!("    P(\"{ty}.{f}\", offsetof({ty}, {f}));\n");
            }
        }
        c += "    return 0;\n}\n";
        std::fs::write(&src, c).unwrap();
        let compiled = Command::new("cc").arg(&src).arg("-o").arg(&exe).output();
        match compiled {
            Err(e) => {
                skip_or_fail(test, &format!("no C compiler (cc): {e}"));
                return None;
            }
            Ok(o) => assert!(
                o.status.success(),
                "compiling the layout probe: {}",
                String::from_utf8_lossy(&o.stderr)
            ),
        }
        let out = Command::new(&exe).output().unwrap();
        assert!(out.status.success());
        Some(
            String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .map(|l| {
                    let (k, v) = l.rsplit_once(' ').unwrap();
                    (k.to_string(), v.parse().unwrap())
                })
                .collect(),
        )
    }

    const C_FIELDS: &[(&str, &[&str])] = &[
        (
            "x264_param_t",
            &[
                "cpu",
                "i_threads",
                "i_lookahead_threads",
                "b_sliced_threads",
                "b_deterministic",
                "b_cpu_independent",
                "i_sync_lookahead",
                "i_width",
                "i_height",
                "i_csp",
            ],
        ),
        (
            "x264_picture_t",
            &[
                "i_type",
                "i_qpplus1",
                "i_pic_struct",
                "b_keyframe",
                "i_pts",
                "i_dts",
                "param",
                "img",
                "prop",
            ],
        ),
        ("x264_image_t", &["i_csp", "i_plane", "i_stride", "plane"]),
        (
            "x264_nal_t",
            &[
                "i_ref_idc",
                "i_type",
                "b_long_startcode",
                "i_first_mb",
                "i_last_mb",
                "i_payload",
                "p_payload",
                "i_padding",
            ],
        ),
    ];

    #[test]
    fn rust_declarations_match_the_layout_of_x264_h_build_164() {
        let Some(c) = c_layout("rust_declarations_match_the_layout_of_x264_h_build_164") else {
            return;
        };
        let get = |k: &str| *c.get(k).unwrap_or_else(|| panic!("{k} not printed"));
        assert_eq!(
            get("X264_BUILD"),
            X264_BUILD as usize,
            "x264.h is another build"
        );
        assert_eq!(get("X264_CSP_I420"), CSP_I420 as usize);
        assert_eq!(get("NAL_SEI"), NAL_SEI as usize);
        assert_eq!(get("NAL_SPS"), NAL_SPS as usize);
        assert_eq!(get("NAL_PPS"), NAL_PPS as usize);

        let rust: &[(&str, usize)] = &[
            ("x264_param_t.cpu", offset_of!(Param, cpu)),
            ("x264_param_t.i_threads", offset_of!(Param, i_threads)),
            (
                "x264_param_t.i_lookahead_threads",
                offset_of!(Param, i_lookahead_threads),
            ),
            (
                "x264_param_t.b_sliced_threads",
                offset_of!(Param, b_sliced_threads),
            ),
            (
                "x264_param_t.b_deterministic",
                offset_of!(Param, b_deterministic),
            ),
            (
                "x264_param_t.b_cpu_independent",
                offset_of!(Param, b_cpu_independent),
            ),
            (
                "x264_param_t.i_sync_lookahead",
                offset_of!(Param, i_sync_lookahead),
            ),
            ("x264_param_t.i_width", offset_of!(Param, i_width)),
            ("x264_param_t.i_height", offset_of!(Param, i_height)),
            ("x264_param_t.i_csp", offset_of!(Param, i_csp)),
            ("x264_picture_t.i_type", offset_of!(Picture, i_type)),
            ("x264_picture_t.i_qpplus1", offset_of!(Picture, i_qpplus1)),
            (
                "x264_picture_t.i_pic_struct",
                offset_of!(Picture, i_pic_struct),
            ),
            ("x264_picture_t.b_keyframe", offset_of!(Picture, b_keyframe)),
            ("x264_picture_t.i_pts", offset_of!(Picture, i_pts)),
            ("x264_picture_t.i_dts", offset_of!(Picture, i_dts)),
            ("x264_picture_t.param", offset_of!(Picture, param)),
            ("x264_picture_t.img", offset_of!(Picture, img)),
            // The opaque tail starts where the C struct's next field does.
            ("x264_picture_t.prop", offset_of!(Picture, _opaque)),
            ("x264_image_t.i_csp", offset_of!(Image, i_csp)),
            ("x264_image_t.i_plane", offset_of!(Image, i_plane)),
            ("x264_image_t.i_stride", offset_of!(Image, i_stride)),
            ("x264_image_t.plane", offset_of!(Image, plane)),
            ("sizeof x264_image_t", size_of::<Image>()),
            ("x264_nal_t.i_ref_idc", offset_of!(Nal, i_ref_idc)),
            ("x264_nal_t.i_type", offset_of!(Nal, i_type)),
            (
                "x264_nal_t.b_long_startcode",
                offset_of!(Nal, b_long_startcode),
            ),
            ("x264_nal_t.i_first_mb", offset_of!(Nal, i_first_mb)),
            ("x264_nal_t.i_last_mb", offset_of!(Nal, i_last_mb)),
            ("x264_nal_t.i_payload", offset_of!(Nal, i_payload)),
            ("x264_nal_t.p_payload", offset_of!(Nal, p_payload)),
            ("x264_nal_t.i_padding", offset_of!(Nal, i_padding)),
            // x264 hands out arrays of x264_nal_t: the stride must be exact.
            ("sizeof x264_nal_t", size_of::<Nal>()),
        ];
        let mismatches: Vec<String> = rust
            .iter()
            .filter(|&&(k, v)| get(k) != v)
            .map(|&(k, v)| format!("{k}: C {} / Rust {v}", get(k)))
            .collect();
        assert!(mismatches.is_empty(), "layout differs: {mismatches:#?}");
        for (ty, rust_size, rust_align) in [
            ("x264_image_t", size_of::<Image>(), align_of::<Image>()),
            ("x264_nal_t", size_of::<Nal>(), align_of::<Nal>()),
            // Over-allocated: room for the whole C struct, at least as aligned.
            ("x264_param_t", size_of::<Param>(), align_of::<Param>()),
            (
                "x264_picture_t",
                size_of::<Picture>(),
                align_of::<Picture>(),
            ),
        ] {
            let (c_size, c_align) = (get(&format!("sizeof {ty}")), get(&format!("alignof {ty}")));
            assert!(
                rust_size >= c_size,
                "{ty}: Rust {rust_size} bytes < C {c_size}"
            );
            assert!(
                rust_align >= c_align,
                "{ty}: Rust align {rust_align} < C {c_align}"
            );
        }
        assert_eq!(size_of::<Param>(), PARAM_BYTES);
        assert_eq!(size_of::<Picture>(), PICTURE_BYTES);
    }

    fn library_or_skip(test: &str) -> Option<&'static X264Library> {
        match X264Library::get() {
            Ok(lib) => Some(lib),
            Err(e) => {
                skip_or_fail(test, &format!("{e} (apt-get install libx264-164)"));
                None
            }
        }
    }

    #[test]
    fn encoder_gives_back_every_frame_in_order_keyframe_first_after_flush() {
        let test = "encoder_gives_back_every_frame_in_order_keyframe_first_after_flush";
        let Some(lib) = library_or_skip(test) else {
            return;
        };
        let (w, h) = (64usize, 48usize);
        let settings = X264Settings::like_ffmpeg(w as u32, h as u32, 30, 2);
        let mut encoder = X264Encoder::open(lib, &settings).unwrap();
        assert_eq!(encoder.sps()[0] & 0x1F, 7, "SPS NAL type");
        assert_eq!(encoder.pps()[0] & 0x1F, 8, "PPS NAL type");
        let mut out = Vec::new();
        for i in 0..5u8 {
            let frame: Vec<u8> = (0..w * h * 3 / 2)
                .map(|p| (p as u8).wrapping_mul(7).wrapping_add(i * 5))
                .collect();
            if let Some(f) = encoder.encode(&frame).unwrap() {
                out.push((f.data.into_owned(), f.sync));
            }
        }
        assert!(
            encoder.delayed_frames() > 0,
            "frame threads hold frames back"
        );
        while let Some(f) = encoder.flush().unwrap() {
            out.push((f.data.into_owned(), f.sync));
        }
        assert_eq!(out.len(), 5);
        assert_eq!(encoder.delayed_frames(), 0);
        assert!(out[0].1, "the first frame is a keyframe");
        for (data, _) in &out {
            let mut at = 0;
            while at < data.len() {
                let len = u32::from_be_bytes(data[at..at + 4].try_into().unwrap()) as usize;
                at += 4 + len;
            }
            assert_eq!(at, data.len(), "length prefixes tile the frame");
        }
        // The headers' SEI (x264's version string) leads the first frame only.
        assert_eq!(out[0].0[4] & 0x1F, 6);
        assert_ne!(out[1].0[4] & 0x1F, 6);
        assert!(encoder.encode(&[0; 10]).is_err(), "wrong frame size");
    }

    #[test]
    fn settings_x264_refuses_are_an_error_not_a_crash() {
        let test = "settings_x264_refuses_are_an_error_not_a_crash";
        let Some(lib) = library_or_skip(test) else {
            return;
        };
        let mut settings = X264Settings::like_ffmpeg(64, 48, 30, 1);
        settings.preset = "warp-speed".into();
        let e = X264Encoder::open(lib, &settings).err().unwrap().to_string();
        assert!(e.contains("warp-speed"), "{e}");
        let settings = X264Settings::like_ffmpeg(64, 48, 0, 1);
        assert!(X264Encoder::open(lib, &settings).is_err(), "0 fps");
    }
}
