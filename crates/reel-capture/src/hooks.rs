//! The exported functions that take the place of the window system's: the buffer swaps
//! (`glXSwapBuffers`, `glXSwapBuffersMscOML`, `eglSwapBuffers`), the calls that change, destroy
//! or release a context (so that a pixel-buffer ring's frames are read while its context is
//! still current), and the three ways of looking functions up at run time.

use std::ffi::{c_char, c_int, c_ulong, c_void, CStr};
use std::sync::atomic::{AtomicUsize, Ordering};

use glcapture::current_framebuffer::Drawable;

use crate::session::{self, ContextEvent};
use crate::symbols;

/// One hooked function: its name, the library that defines it, and the real address once known.
struct Hooked {
    name: &'static CStr,
    soname: &'static CStr,
    real: AtomicUsize,
}

impl Hooked {
    const fn new(name: &'static CStr, soname: &'static CStr) -> Self {
        Hooked {
            name,
            soname,
            real: AtomicUsize::new(0),
        }
    }

    /// The real function: the one the program looked up, else the one its library exports.
    fn real(&self) -> usize {
        let mut addr = self.real.load(Ordering::Acquire);
        if addr == 0 {
            addr = symbols::lookup_in(self.soname, self.name) as usize;
            if addr == hook_address(self.name) {
                addr = 0;
            }
            self.real.store(addr, Ordering::Release);
        }
        addr
    }
}

static GLX_SWAP: Hooked = Hooked::new(c"glXSwapBuffers", c"libGL.so.1");
static GLX_SWAP_OML: Hooked = Hooked::new(c"glXSwapBuffersMscOML", c"libGL.so.1");
static EGL_SWAP: Hooked = Hooked::new(c"eglSwapBuffers", c"libEGL.so.1");
static GLX_MAKE_CURRENT: Hooked = Hooked::new(c"glXMakeCurrent", c"libGL.so.1");
static GLX_MAKE_CONTEXT_CURRENT: Hooked = Hooked::new(c"glXMakeContextCurrent", c"libGL.so.1");
static GLX_DESTROY_CONTEXT: Hooked = Hooked::new(c"glXDestroyContext", c"libGL.so.1");
static EGL_MAKE_CURRENT: Hooked = Hooked::new(c"eglMakeCurrent", c"libEGL.so.1");
static EGL_DESTROY_CONTEXT: Hooked = Hooked::new(c"eglDestroyContext", c"libEGL.so.1");
static EGL_RELEASE_THREAD: Hooked = Hooked::new(c"eglReleaseThread", c"libEGL.so.1");
static EGL_TERMINATE: Hooked = Hooked::new(c"eglTerminate", c"libEGL.so.1");
static X_CLOSE_DISPLAY: Hooked = Hooked::new(c"XCloseDisplay", c"libX11.so.6");
static GLX_GET_PROC: Hooked = Hooked::new(c"glXGetProcAddress", c"libGL.so.1");
static GLX_GET_PROC_ARB: Hooked = Hooked::new(c"glXGetProcAddressARB", c"libGL.so.1");
static EGL_GET_PROC: Hooked = Hooked::new(c"eglGetProcAddress", c"libEGL.so.1");

const ALL: [&Hooked; 14] = [
    &GLX_SWAP,
    &GLX_SWAP_OML,
    &GLX_MAKE_CURRENT,
    &GLX_MAKE_CONTEXT_CURRENT,
    &GLX_DESTROY_CONTEXT,
    &EGL_MAKE_CURRENT,
    &EGL_DESTROY_CONTEXT,
    &EGL_RELEASE_THREAD,
    &EGL_TERMINATE,
    &X_CLOSE_DISPLAY,
    &EGL_SWAP,
    &GLX_GET_PROC,
    &GLX_GET_PROC_ARB,
    &EGL_GET_PROC,
];

fn hook_address(name: &CStr) -> usize {
    hook_for(name).map_or(0, |p| p as usize)
}

/// This library's replacement for `name`, if it hooks it.
pub fn hook_for(name: &CStr) -> Option<*mut c_void> {
    let hook: *mut c_void = match name.to_bytes() {
        b"glXSwapBuffers" => glXSwapBuffers as *mut c_void,
        b"glXSwapBuffersMscOML" => glXSwapBuffersMscOML as *mut c_void,
        b"glXMakeCurrent" => glXMakeCurrent as *mut c_void,
        b"glXMakeContextCurrent" => glXMakeContextCurrent as *mut c_void,
        b"glXDestroyContext" => glXDestroyContext as *mut c_void,
        b"eglMakeCurrent" => eglMakeCurrent as *mut c_void,
        b"eglDestroyContext" => eglDestroyContext as *mut c_void,
        b"eglReleaseThread" => eglReleaseThread as *mut c_void,
        b"eglTerminate" => eglTerminate as *mut c_void,
        b"XCloseDisplay" => XCloseDisplay as *mut c_void,
        b"eglSwapBuffers" => eglSwapBuffers as *mut c_void,
        b"glXGetProcAddress" => glXGetProcAddress as *mut c_void,
        b"glXGetProcAddressARB" => glXGetProcAddressARB as *mut c_void,
        b"eglGetProcAddress" => eglGetProcAddress as *mut c_void,
        _ => return None,
    };
    Some(hook)
}

/// Remembers the real address a program's own lookup of `name` found (the library it
/// `dlopen`ed may not be in the global scope, where [`Hooked::real`] would look).
pub fn remember_real(name: &CStr, real: *mut c_void) {
    if real as usize == hook_address(name) {
        return;
    }
    if let Some(h) = ALL.iter().find(|h| h.name == name) {
        let _ = h
            .real
            .compare_exchange(0, real as usize, Ordering::AcqRel, Ordering::Acquire);
    }
}

/// The real GLX or EGL function loader (`glXGetProcAddressARB`, `eglGetProcAddress`), for
/// loading GL functions.
pub fn real_get_proc(egl: bool) -> Option<unsafe extern "C" fn(*const c_char) -> *mut c_void> {
    let addr = if egl {
        EGL_GET_PROC.real()
    } else {
        match GLX_GET_PROC_ARB.real() {
            0 => GLX_GET_PROC.real(),
            a => a,
        }
    };
    // SAFETY: both loaders take a C string and return a function address or null.
    (addr != 0).then(|| unsafe {
        std::mem::transmute::<usize, unsafe extern "C" fn(*const c_char) -> *mut c_void>(addr)
    })
}

/// Looks `name` up with a real loader and hands out the hook instead when it is one of ours.
///
/// # Safety
/// `name` is a NUL-terminated string; `loader` is a real GetProcAddress function.
unsafe fn get_proc_through(real: &Hooked, name: *const c_char) -> *mut c_void {
    let addr = real.real();
    if addr == 0 || name.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: addr is the real GetProcAddress (see `Hooked::real`), called with the caller's
    // string.
    let found = unsafe {
        std::mem::transmute::<usize, unsafe extern "C" fn(*const c_char) -> *mut c_void>(addr)(name)
    };
    // SAFETY: the caller passes a NUL-terminated string.
    let cname = unsafe { CStr::from_ptr(name) };
    match hook_for(cname) {
        Some(hook) if !found.is_null() => {
            remember_real(cname, found);
            hook
        }
        _ => found,
    }
}

/// Hook for `glXSwapBuffers`: reads the frame back, then swaps.
///
/// # Safety
/// The GLX contract: `dpy` is an open display and `drawable` a GLX drawable on it.
#[no_mangle]
pub unsafe extern "C" fn glXSwapBuffers(dpy: *mut c_void, drawable: c_ulong) {
    session::before_swap(Drawable::Glx { dpy, drawable });
    let real = GLX_SWAP.real();
    if real != 0 {
        // SAFETY: the real glXSwapBuffers with the program's arguments.
        unsafe {
            std::mem::transmute::<usize, unsafe extern "C" fn(*mut c_void, c_ulong)>(real)(
                dpy, drawable,
            )
        };
    }
}

/// Hook for `glXSwapBuffersMscOML` (GLX_OML_sync_control: a swap at a chosen media stream
/// count): reads the frame back, then swaps.
///
/// # Safety
/// The GLX_OML_sync_control contract: `dpy` is an open display and `drawable` a GLX drawable
/// on it.
#[no_mangle]
pub unsafe extern "C" fn glXSwapBuffersMscOML(
    dpy: *mut c_void,
    drawable: c_ulong,
    target_msc: i64,
    divisor: i64,
    remainder: i64,
) -> i64 {
    session::before_swap(Drawable::Glx { dpy, drawable });
    let real = GLX_SWAP_OML.real();
    if real == 0 {
        return 0;
    }
    type SwapMsc = unsafe extern "C" fn(*mut c_void, c_ulong, i64, i64, i64) -> i64;
    // SAFETY: the real glXSwapBuffersMscOML with the program's arguments.
    unsafe {
        std::mem::transmute::<usize, SwapMsc>(real)(dpy, drawable, target_msc, divisor, remainder)
    }
}

/// Hook for `eglSwapBuffers`: reads the frame back, then swaps.
///
/// # Safety
/// The EGL contract: `dpy` is an EGL display and `surface` a surface of it.
#[no_mangle]
pub unsafe extern "C" fn eglSwapBuffers(dpy: *mut c_void, surface: *mut c_void) -> u32 {
    session::before_swap(Drawable::Egl { dpy, surface });
    let real = EGL_SWAP.real();
    if real == 0 {
        return 0;
    }
    // SAFETY: the real eglSwapBuffers with the program's arguments.
    unsafe {
        std::mem::transmute::<usize, unsafe extern "C" fn(*mut c_void, *mut c_void) -> u32>(real)(
            dpy, surface,
        )
    }
}

/// The real function behind `hooked` as a `F`, or `None` when it cannot be found.
///
/// # Safety
/// `F` is the function's C signature.
unsafe fn real_fn<F: Copy>(hooked: &Hooked) -> Option<F> {
    let real = hooked.real();
    // SAFETY: a non-zero address found under the function's name; F is its signature (the
    // caller's contract).
    (real != 0).then(|| unsafe { std::mem::transmute_copy::<usize, F>(&real) })
}

/// Hook for `glXMakeCurrent`: a ring's frames are read before its context stops being current.
///
/// # Safety
/// The GLX contract for `glXMakeCurrent`.
#[no_mangle]
pub unsafe extern "C" fn glXMakeCurrent(
    dpy: *mut c_void,
    drawable: c_ulong,
    ctx: *mut c_void,
) -> c_int {
    session::before_context_event(ContextEvent::MakeCurrent {
        context: ctx as usize,
    });
    type F = unsafe extern "C" fn(*mut c_void, c_ulong, *mut c_void) -> c_int;
    // SAFETY: glXMakeCurrent's signature, called with the program's arguments.
    unsafe { real_fn::<F>(&GLX_MAKE_CURRENT).map_or(0, |f| f(dpy, drawable, ctx)) }
}

/// Hook for `glXMakeContextCurrent`, as [`glXMakeCurrent`].
///
/// # Safety
/// The GLX contract for `glXMakeContextCurrent`.
#[no_mangle]
pub unsafe extern "C" fn glXMakeContextCurrent(
    dpy: *mut c_void,
    draw: c_ulong,
    read: c_ulong,
    ctx: *mut c_void,
) -> c_int {
    session::before_context_event(ContextEvent::MakeCurrent {
        context: ctx as usize,
    });
    type F = unsafe extern "C" fn(*mut c_void, c_ulong, c_ulong, *mut c_void) -> c_int;
    // SAFETY: glXMakeContextCurrent's signature, called with the program's arguments.
    unsafe { real_fn::<F>(&GLX_MAKE_CONTEXT_CURRENT).map_or(0, |f| f(dpy, draw, read, ctx)) }
}

/// Hook for `glXDestroyContext`: a ring in the context is emptied first.
///
/// # Safety
/// The GLX contract for `glXDestroyContext`.
#[no_mangle]
pub unsafe extern "C" fn glXDestroyContext(dpy: *mut c_void, ctx: *mut c_void) {
    session::before_context_event(ContextEvent::Destroy {
        context: ctx as usize,
    });
    type F = unsafe extern "C" fn(*mut c_void, *mut c_void);
    // SAFETY: glXDestroyContext's signature, called with the program's arguments.
    if let Some(f) = unsafe { real_fn::<F>(&GLX_DESTROY_CONTEXT) } {
        // SAFETY: as above.
        unsafe { f(dpy, ctx) };
    }
}

/// Hook for `eglMakeCurrent`, as [`glXMakeCurrent`].
///
/// # Safety
/// The EGL contract for `eglMakeCurrent`.
#[no_mangle]
pub unsafe extern "C" fn eglMakeCurrent(
    dpy: *mut c_void,
    draw: *mut c_void,
    read: *mut c_void,
    ctx: *mut c_void,
) -> u32 {
    session::before_context_event(ContextEvent::MakeCurrent {
        context: ctx as usize,
    });
    type F = unsafe extern "C" fn(*mut c_void, *mut c_void, *mut c_void, *mut c_void) -> u32;
    // SAFETY: eglMakeCurrent's signature, called with the program's arguments.
    unsafe { real_fn::<F>(&EGL_MAKE_CURRENT).map_or(0, |f| f(dpy, draw, read, ctx)) }
}

/// Hook for `eglDestroyContext`, as [`glXDestroyContext`].
///
/// # Safety
/// The EGL contract for `eglDestroyContext`.
#[no_mangle]
pub unsafe extern "C" fn eglDestroyContext(dpy: *mut c_void, ctx: *mut c_void) -> u32 {
    session::before_context_event(ContextEvent::Destroy {
        context: ctx as usize,
    });
    type F = unsafe extern "C" fn(*mut c_void, *mut c_void) -> u32;
    // SAFETY: eglDestroyContext's signature, called with the program's arguments.
    unsafe { real_fn::<F>(&EGL_DESTROY_CONTEXT).map_or(0, |f| f(dpy, ctx)) }
}

/// Hook for `eglReleaseThread`: a ring in the thread's context is emptied first.
///
/// # Safety
/// The EGL contract for `eglReleaseThread`.
#[no_mangle]
pub unsafe extern "C" fn eglReleaseThread() -> u32 {
    session::before_context_event(ContextEvent::Release);
    type F = unsafe extern "C" fn() -> u32;
    // SAFETY: eglReleaseThread's signature.
    unsafe { real_fn::<F>(&EGL_RELEASE_THREAD).map_or(0, |f| f()) }
}

/// Hook for `eglTerminate`: a ring in the thread's current context is emptied first.
///
/// # Safety
/// The EGL contract for `eglTerminate`.
#[no_mangle]
pub unsafe extern "C" fn eglTerminate(dpy: *mut c_void) -> u32 {
    session::before_context_event(ContextEvent::Release);
    type F = unsafe extern "C" fn(*mut c_void) -> u32;
    // SAFETY: eglTerminate's signature, called with the program's argument.
    unsafe { real_fn::<F>(&EGL_TERMINATE).map_or(0, |f| f(dpy)) }
}

/// Hook for `XCloseDisplay`, which ends the display's GLX contexts: a ring in the thread's
/// current context is emptied first.
///
/// # Safety
/// Xlib's contract for `XCloseDisplay`.
#[no_mangle]
pub unsafe extern "C" fn XCloseDisplay(dpy: *mut c_void) -> c_int {
    session::before_context_event(ContextEvent::Release);
    type F = unsafe extern "C" fn(*mut c_void) -> c_int;
    // SAFETY: XCloseDisplay's signature, called with the program's argument.
    unsafe { real_fn::<F>(&X_CLOSE_DISPLAY).map_or(0, |f| f(dpy)) }
}

/// Hook for `glXGetProcAddressARB`: the hooks for the swap and loader functions, else the real
/// answer.
///
/// # Safety
/// `name` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn glXGetProcAddressARB(name: *const c_char) -> *mut c_void {
    // SAFETY: forwarded contract.
    unsafe { get_proc_through(&GLX_GET_PROC_ARB, name) }
}

/// Hook for `glXGetProcAddress`, as [`glXGetProcAddressARB`].
///
/// # Safety
/// `name` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn glXGetProcAddress(name: *const c_char) -> *mut c_void {
    // SAFETY: forwarded contract.
    unsafe { get_proc_through(&GLX_GET_PROC, name) }
}

/// Hook for `eglGetProcAddress`, as [`glXGetProcAddressARB`].
///
/// # Safety
/// `name` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn eglGetProcAddress(name: *const c_char) -> *mut c_void {
    // SAFETY: forwarded contract.
    unsafe { get_proc_through(&EGL_GET_PROC, name) }
}
