//! Run-time loading of libEGL and of OpenGL entry points.
//!
//! Nothing in this crate links against libEGL or libGL: libEGL is opened with
//! `dlopen` (through `khronos-egl`'s `dynamic` feature), and every GL function is
//! resolved with `eglGetProcAddress`, so a binary using this crate starts on machines
//! without any GL stack and only fails, with a message naming the missing packages,
//! when GL is actually requested.

use std::ffi::{c_void, CStr};
use std::sync::OnceLock;

use crate::error::GlError;

/// The EGL entry points, loaded at run time. EGL 1.4 is the minimum; 1.5 entry points
/// (`eglGetPlatformDisplay`) are used when the library provides them.
pub type Egl = khronos_egl::DynamicInstance<khronos_egl::EGL1_4>;

/// File names tried, in order, by [`egl_library`].
pub const EGL_LIBRARY_NAMES: [&str; 2] = ["libEGL.so.1", "libEGL.so"];

/// Environment variable naming the one libEGL file [`egl_library`] loads instead of
/// [`EGL_LIBRARY_NAMES`] (a path or a name for the dynamic loader), e.g. to use another
/// EGL implementation, or a non-existent path to check how a program behaves without GL.
pub const EGL_LIBRARY_ENV: &str = "GLCAPTURE_LIBEGL";

/// The process-wide EGL instance, loaded on first use from [`EGL_LIBRARY_NAMES`] (or
/// from the file named by [`EGL_LIBRARY_ENV`] when that is set).
///
/// The library stays loaded for the life of the process (EGL displays are process-wide
/// too). A failure is remembered: the first error is returned on every later call.
///
/// ```
/// match glcapture::egl_library() {
///     Ok(egl) => println!("EGL {:?} loaded", egl.version()),
///     Err(e) => println!("no EGL here: {e}"),
/// }
/// ```
pub fn egl_library() -> Result<&'static Egl, GlError> {
    static EGL: OnceLock<Result<Egl, (String, String)>> = OnceLock::new();
    let loaded = EGL.get_or_init(|| {
        let chosen = std::env::var(EGL_LIBRARY_ENV)
            .ok()
            .filter(|v| !v.is_empty());
        let names: Vec<&str> = match &chosen {
            Some(name) => vec![name.as_str()],
            None => EGL_LIBRARY_NAMES.to_vec(),
        };
        let mut failures = Vec::new();
        for name in &names {
            match load_egl_from(name) {
                Ok(egl) => return Ok(egl),
                Err(GlError::LibraryMissing { reason, .. }) => failures.push(reason),
                Err(other) => failures.push(other.to_string()),
            }
        }
        Err((names[0].to_owned(), failures.join("; ")))
    });
    match loaded {
        Ok(egl) => Ok(egl),
        Err((library, reason)) => Err(GlError::LibraryMissing {
            library: library.clone(),
            reason: reason.clone(),
        }),
    }
}

/// Loads libEGL from `library` (a file name searched by the dynamic loader, or a path),
/// without caching. [`egl_library`] is what the rest of the crate uses.
///
/// ```
/// let err = glcapture::load_egl_from("/nonexistent/libEGL.so.1").unwrap_err();
/// assert!(err.is_unavailable());
/// assert!(err.to_string().starts_with("/nonexistent/libEGL.so.1 could not be loaded"));
/// ```
pub fn load_egl_from(library: &str) -> Result<Egl, GlError> {
    // SAFETY: loading a shared library runs its initialisers; a library named libEGL is
    // trusted to be an EGL implementation, whose symbols khronos-egl resolves with the
    // EGL prototypes. This is the documented way to use khronos-egl's dynamic loading.
    let loaded = unsafe { Egl::load_required_from_filename(library) };
    loaded.map_err(|e| GlError::LibraryMissing {
        library: library.to_owned(),
        reason: match e {
            khronos_egl::LoadError::Library(e) => e.to_string(),
            khronos_egl::LoadError::InvalidVersion { provided, required } => {
                format!("it provides EGL {provided}, {required} is required")
            }
        },
    })
}

/// Resolves a GL entry point through `eglGetProcAddress`; null if unknown.
///
/// Mesa advertises `EGL_KHR_get_all_proc_addresses`, so core GL functions resolve too.
/// Suitable for [`glow::Context::from_loader_function_cstr`].
pub(crate) fn gl_proc_address(egl: &Egl, name: &CStr) -> *const c_void {
    match name.to_str() {
        Ok(name) => egl
            .get_proc_address(name)
            .map_or(std::ptr::null(), |f| f as *const c_void),
        Err(_) => std::ptr::null(),
    }
}
