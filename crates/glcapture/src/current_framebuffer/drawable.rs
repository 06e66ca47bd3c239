//! The surface a context draws to: its identity, whether it is current on this thread, its
//! size.

use std::ffi::{c_int, c_ulong, c_void, CStr};

use super::{GetProcAddress, ReadError, SymbolLookup};

/// The window system a context belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowSystem {
    /// EGL (`libEGL.so.1`).
    Egl,
    /// GLX (`libGL.so.1`).
    Glx,
}

impl WindowSystem {
    /// The library that defines the window system's functions.
    pub fn library(self) -> &'static CStr {
        match self {
            WindowSystem::Egl => c"libEGL.so.1",
            WindowSystem::Glx => c"libGL.so.1",
        }
    }

    /// The window system's GL function loader, found with `lookup`.
    pub fn get_proc_address(self, lookup: SymbolLookup) -> Result<GetProcAddress, ReadError> {
        let names: &[&'static CStr] = match self {
            WindowSystem::Egl => &[c"eglGetProcAddress"],
            WindowSystem::Glx => &[c"glXGetProcAddressARB", c"glXGetProcAddress"],
        };
        names
            .iter()
            // SAFETY: all three loaders have the GetProcAddress signature.
            .find_map(|name| unsafe { function::<GetProcAddress>(lookup, self.library(), name) })
            .ok_or(ReadError::MissingFunction(
                names[0].to_str().unwrap_or("GetProcAddress"),
            ))
    }
}

/// A surface GL draws to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drawable {
    /// A GLX drawable (window or pbuffer), as `glXSwapBuffers(dpy, drawable)` names it.
    Glx {
        /// The X display.
        dpy: *mut c_void,
        /// The GLX drawable (an X id).
        drawable: c_ulong,
    },
    /// An EGL surface, as `eglSwapBuffers(dpy, surface)` names it.
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
const EGL_READ: i32 = 0x305A;

type GetPointer = unsafe extern "C" fn() -> *mut c_void;
type GetXid = unsafe extern "C" fn() -> c_ulong;
type EglGetCurrentSurface = unsafe extern "C" fn(i32) -> *mut c_void;
type GlxQueryDrawable = unsafe extern "C" fn(*mut c_void, c_ulong, c_int, *mut u32);
type EglQuerySurface = unsafe extern "C" fn(*mut c_void, *mut c_void, i32, *mut i32) -> u32;

/// Resolves `name` from `soname` with `lookup` as a function of type `F`.
///
/// # Safety
/// `F` is a function pointer type with the C signature of `name`.
unsafe fn function<F: Copy>(lookup: SymbolLookup, soname: &CStr, name: &CStr) -> Option<F> {
    let addr = lookup(soname, name);
    // SAFETY: the caller names the right signature; F is a function pointer type, the size of
    // a data pointer on every platform GL runs on.
    (!addr.is_null()).then(|| unsafe { std::mem::transmute_copy::<*mut c_void, F>(&addr) })
}

impl Drawable {
    /// The drawable current on this thread for drawing and the identity of the current context
    /// (EGL first, then GLX), found with `lookup` in the libraries the program loaded.
    pub fn current(lookup: SymbolLookup) -> Result<(Drawable, usize), ReadError> {
        for system in [WindowSystem::Egl, WindowSystem::Glx] {
            if let Some(current) = Drawable::current_in(system, lookup)? {
                return Ok(current);
            }
        }
        Err(ReadError::NoContext)
    }

    /// The drawable and context current on this thread in `system`; `None` when none is (or
    /// the program did not load the window system).
    fn current_in(
        system: WindowSystem,
        lookup: SymbolLookup,
    ) -> Result<Option<(Drawable, usize)>, ReadError> {
        let library = system.library();
        match system {
            WindowSystem::Egl => {
                // SAFETY: the EGL signatures of these functions.
                let functions = unsafe {
                    (
                        function::<GetPointer>(lookup, library, c"eglGetCurrentContext"),
                        function::<GetPointer>(lookup, library, c"eglGetCurrentDisplay"),
                        function::<EglGetCurrentSurface>(lookup, library, c"eglGetCurrentSurface"),
                    )
                };
                let (Some(get_context), Some(get_display), Some(get_surface)) = functions else {
                    return Ok(None);
                };
                // SAFETY: queries of this thread's current EGL state.
                let context = unsafe { get_context() };
                if context.is_null() {
                    return Ok(None);
                }
                // SAFETY: as above.
                let (dpy, surface, read) =
                    unsafe { (get_display(), get_surface(EGL_DRAW), get_surface(EGL_READ)) };
                if surface.is_null() {
                    return Err(ReadError::NoSurface);
                }
                // glReadPixels reads the read surface: it would not be the frame drawn.
                if read != surface {
                    return Err(ReadError::ReadsAnotherSurface);
                }
                Ok(Some((Drawable::Egl { dpy, surface }, context as usize)))
            }
            WindowSystem::Glx => {
                // SAFETY: the GLX signatures of these functions.
                let functions = unsafe {
                    (
                        function::<GetPointer>(lookup, library, c"glXGetCurrentContext"),
                        function::<GetPointer>(lookup, library, c"glXGetCurrentDisplay"),
                        function::<GetXid>(lookup, library, c"glXGetCurrentDrawable"),
                    )
                };
                let (Some(get_context), Some(get_display), Some(get_drawable)) = functions else {
                    return Ok(None);
                };
                // SAFETY: queries of this thread's current GLX state, which take no arguments.
                let context = unsafe { get_context() };
                // SAFETY: as above.
                let (dpy, drawable) = unsafe { (get_display(), get_drawable()) };
                if context.is_null() {
                    return Ok(None);
                }
                // A GL 3.0+ context can be current without a drawable (GLX_ARB_create_context).
                if drawable == 0 {
                    return Err(ReadError::NoSurface);
                }
                // SAFETY: glXGetCurrentReadDrawable (GLX 1.3) takes nothing, returns an XID.
                let get_read =
                    unsafe { function::<GetXid>(lookup, library, c"glXGetCurrentReadDrawable") };
                // SAFETY: as above.
                if get_read.is_some_and(|get_read| unsafe { get_read() } != drawable) {
                    return Err(ReadError::ReadsAnotherSurface);
                }
                Ok(Some((Drawable::Glx { dpy, drawable }, context as usize)))
            }
        }
    }

    /// The context of `system` current on this thread, with or without a surface.
    fn current_context_of(system: WindowSystem, lookup: SymbolLookup) -> Option<usize> {
        let name = match system {
            WindowSystem::Egl => c"eglGetCurrentContext",
            WindowSystem::Glx => c"glXGetCurrentContext",
        };
        // SAFETY: both take nothing and return the current context or null.
        let get = unsafe { function::<GetPointer>(lookup, system.library(), name) }?;
        // SAFETY: a query of this thread's current state.
        let context = unsafe { get() };
        (!context.is_null()).then_some(context as usize)
    }

    /// An identity for telling drawables apart.
    pub fn id(&self) -> u64 {
        match *self {
            // c_ulong is 32 bits on some targets.
            #[allow(clippy::useless_conversion)]
            Drawable::Glx { drawable, .. } => u64::from(drawable),
            Drawable::Egl { surface, .. } => surface as u64,
        }
    }

    /// The window system the drawable belongs to.
    pub fn window_system(&self) -> WindowSystem {
        match self {
            Drawable::Glx { .. } => WindowSystem::Glx,
            Drawable::Egl { .. } => WindowSystem::Egl,
        }
    }

    /// The context current on this thread, if it draws to this drawable (a swap of a drawable
    /// that is not current cannot be read here).
    pub fn current_context(&self, lookup: SymbolLookup) -> Option<usize> {
        let (current, context) = Drawable::current_in(self.window_system(), lookup).ok()??;
        (current.id() == self.id()).then_some(context)
    }

    /// The drawable's size in pixels, as the window system reports it (not the viewport).
    pub fn size(&self, lookup: SymbolLookup) -> Result<(u32, u32), ReadError> {
        let library = self.window_system().library();
        let (mut w, mut h) = (0u32, 0u32);
        match *self {
            Drawable::Glx { dpy, drawable } => {
                // SAFETY: glXQueryDrawable's signature.
                let query =
                    unsafe { function::<GlxQueryDrawable>(lookup, library, c"glXQueryDrawable") }
                        .ok_or(ReadError::MissingFunction("glXQueryDrawable"))?;
                // SAFETY: the program's display and drawable, and two u32 out-parameters.
                unsafe {
                    query(dpy, drawable, GLX_WIDTH, &mut w);
                    query(dpy, drawable, GLX_HEIGHT, &mut h);
                }
            }
            Drawable::Egl { dpy, surface } => {
                // SAFETY: eglQuerySurface's signature.
                let query =
                    unsafe { function::<EglQuerySurface>(lookup, library, c"eglQuerySurface") }
                        .ok_or(ReadError::MissingFunction("eglQuerySurface"))?;
                let (mut sw, mut sh) = (0i32, 0i32);
                // SAFETY: the program's display and surface, and two i32 out-parameters.
                let ok = unsafe {
                    query(dpy, surface, EGL_WIDTH, &mut sw) != 0
                        && query(dpy, surface, EGL_HEIGHT, &mut sh) != 0
                };
                if ok {
                    (w, h) = (sw.max(0) as u32, sh.max(0) as u32);
                }
            }
        }
        if w > 0 && h > 0 {
            Ok((w, h))
        } else {
            Err(ReadError::SizeUnknown)
        }
    }
}

/// The identity of the context current on this thread (EGL first, then GLX), whether or not it
/// draws to a surface; `None` when no context is current. What a [`PboRing`](super::PboRing)'s
/// owner compares with the ring's context before flushing it: its buffers need the context, not
/// the surface.
pub fn current_context(lookup: SymbolLookup) -> Option<usize> {
    [WindowSystem::Egl, WindowSystem::Glx]
        .into_iter()
        .find_map(|system| Drawable::current_context_of(system, lookup))
}
