//! The drawable a swap presents: its identity, whether it is current on this thread, its size.

use std::ffi::{c_int, c_ulong, c_void, CStr};

use crate::symbols;

/// What a swap call names.
#[derive(Debug, Clone, Copy)]
pub enum Drawable {
    /// `glXSwapBuffers(dpy, drawable)`.
    Glx {
        /// The X display.
        dpy: *mut c_void,
        /// The GLX drawable (an X id).
        drawable: c_ulong,
    },
    /// `eglSwapBuffers(dpy, surface)`.
    Egl {
        /// The EGL display.
        dpy: *mut c_void,
        /// The EGL surface.
        surface: *mut c_void,
    },
}

const GLX_WIDTH: c_int = 0x801D;
const GLX_HEIGHT: c_int = 0x801E;
const EGL_WIDTH: i32 = 0x3057;
const EGL_HEIGHT: i32 = 0x3056;
const EGL_DRAW: i32 = 0x3059;

/// Resolves `name` from `soname` as a function of type `F`.
///
/// # Safety
/// `F` must be the C signature of `name`.
unsafe fn function<F: Copy>(soname: &CStr, name: &CStr) -> Option<F> {
    let addr = symbols::lookup_in(soname, name);
    // SAFETY: the caller names the right signature; F is a function pointer type.
    (!addr.is_null()).then(|| unsafe { std::mem::transmute_copy::<*mut c_void, F>(&addr) })
}

impl Drawable {
    /// An identity for telling drawables apart.
    pub fn id(&self) -> u64 {
        match *self {
            // c_ulong is 32 bits on some targets.
            #[allow(clippy::useless_conversion)]
            Drawable::Glx { drawable, .. } => u64::from(drawable),
            Drawable::Egl { surface, .. } => surface as u64,
        }
    }

    /// Whether the GL functions are loaded through EGL (else GLX).
    pub fn is_egl(&self) -> bool {
        matches!(self, Drawable::Egl { .. })
    }

    /// The context current on this thread, if it draws to this drawable (a swap of a drawable
    /// that is not current cannot be read here).
    pub fn current_context(&self) -> Option<usize> {
        match *self {
            Drawable::Glx { drawable, .. } => {
                // SAFETY: the GLX signatures of these two functions.
                let (get_drawable, get_context) = unsafe {
                    (
                        function::<unsafe extern "C" fn() -> c_ulong>(
                            c"libGL.so.1",
                            c"glXGetCurrentDrawable",
                        )?,
                        function::<unsafe extern "C" fn() -> *mut c_void>(
                            c"libGL.so.1",
                            c"glXGetCurrentContext",
                        )?,
                    )
                };
                // SAFETY: queries of this thread's current GLX state, which take no arguments.
                unsafe { (get_drawable() == drawable).then(|| get_context() as usize) }
            }
            Drawable::Egl { surface, .. } => {
                // SAFETY: the EGL signatures of these two functions.
                let (get_surface, get_context) = unsafe {
                    (
                        function::<unsafe extern "C" fn(i32) -> *mut c_void>(
                            c"libEGL.so.1",
                            c"eglGetCurrentSurface",
                        )?,
                        function::<unsafe extern "C" fn() -> *mut c_void>(
                            c"libEGL.so.1",
                            c"eglGetCurrentContext",
                        )?,
                    )
                };
                // SAFETY: queries of this thread's current EGL state.
                unsafe { (get_surface(EGL_DRAW) == surface).then(|| get_context() as usize) }
            }
        }
    }

    /// The drawable's size in pixels, as the window system reports it (not the viewport).
    pub fn size(&self) -> Option<(u32, u32)> {
        let (mut w, mut h) = (0u32, 0u32);
        match *self {
            Drawable::Glx { dpy, drawable } => {
                // SAFETY: glXQueryDrawable's signature.
                let query = unsafe {
                    function::<unsafe extern "C" fn(*mut c_void, c_ulong, c_int, *mut u32)>(
                        c"libGL.so.1",
                        c"glXQueryDrawable",
                    )?
                };
                // SAFETY: the program's display and drawable, and two u32 out-parameters.
                unsafe {
                    query(dpy, drawable, GLX_WIDTH, &mut w);
                    query(dpy, drawable, GLX_HEIGHT, &mut h);
                }
            }
            Drawable::Egl { dpy, surface } => {
                // SAFETY: eglQuerySurface's signature.
                let query = unsafe {
                    function::<unsafe extern "C" fn(*mut c_void, *mut c_void, i32, *mut i32) -> u32>(
                        c"libEGL.so.1",
                        c"eglQuerySurface",
                    )?
                };
                let (mut sw, mut sh) = (0i32, 0i32);
                // SAFETY: the program's display and surface, and two i32 out-parameters.
                let ok = unsafe {
                    query(dpy, surface, EGL_WIDTH, &mut sw) != 0
                        && query(dpy, surface, EGL_HEIGHT, &mut sh) != 0
                };
                if !ok {
                    return None;
                }
                (w, h) = (u32::try_from(sw).ok()?, u32::try_from(sh).ok()?);
            }
        }
        (w > 0 && h > 0).then_some((w, h))
    }
}
