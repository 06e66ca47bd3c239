//! The crate's error type.

use std::time::Duration;

/// Debian packages that provide headless EGL with Mesa's llvmpipe software renderer.
pub const DEBIAN_PACKAGES_HINT: &str = "install libegl1 libegl-mesa0 libgl1-mesa-dri";

/// Boxed error returned by a [`FrameSink`](crate::FrameSink), kept as the source of
/// [`GlError::Sink`].
pub type SinkError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong while creating a context, rendering or capturing.
///
/// [`GlError::is_unavailable`] separates "this machine has no usable EGL/OpenGL"
/// (a caller may fall back to CPU rendering) from failures of a working GL.
#[derive(Debug, thiserror::Error)]
pub enum GlError {
    /// The EGL library could not be opened or lacks required entry points.
    #[error("{library} could not be loaded ({reason}): {hint}", hint = DEBIAN_PACKAGES_HINT)]
    LibraryMissing {
        /// File name that was tried (e.g. `libEGL.so.1`).
        library: String,
        /// What the dynamic loader said.
        reason: String,
    },

    /// No EGL display could be initialised (libEGL exists but has no working vendor/driver).
    #[error(
        "no EGL display could be initialised ({attempts}): libEGL has no working driver; \
         {hint} (libegl-mesa0 is Mesa's EGL vendor, libgl1-mesa-dri holds llvmpipe)",
        hint = DEBIAN_PACKAGES_HINT
    )]
    NoDisplay {
        /// Each display that was tried and why it failed.
        attempts: String,
    },

    /// The display works but no context of a supported API/version could be created.
    #[error("no OpenGL 3.3 core or OpenGL ES 3.0 context could be created ({attempts})")]
    NoContext {
        /// Each API that was tried and why it failed.
        attempts: String,
    },

    /// An EGL call failed.
    #[error("{call} failed: {error}")]
    Egl {
        /// The EGL entry point, e.g. `eglMakeCurrent`.
        call: &'static str,
        /// The error EGL reported.
        error: khronos_egl::Error,
    },

    /// `glGetError` reported an error after an operation.
    #[error("{operation} raised GL error 0x{code:04X} ({name})", name = gl_error_name(*.code))]
    Gl {
        /// What was being done.
        operation: String,
        /// The `GL_*` error code.
        code: u32,
    },

    /// A GL object could not be created or a GL call returned a failure value.
    #[error("{operation} failed: {message}")]
    GlCall {
        /// What was being done.
        operation: String,
        /// What GL (or glow) reported.
        message: String,
    },

    /// A shader failed to compile or a program failed to link.
    #[error("{stage} shader {action} failed: {log}")]
    Shader {
        /// `vertex`, `fragment` or `program`.
        stage: &'static str,
        /// `compilation` or `link`.
        action: &'static str,
        /// The driver's info log.
        log: String,
    },

    /// A framebuffer object is not complete.
    #[error("framebuffer {width}x{height} is incomplete: status 0x{status:04X}")]
    IncompleteFramebuffer {
        /// Requested width.
        width: u32,
        /// Requested height.
        height: u32,
        /// Value of `glCheckFramebufferStatus`.
        status: u32,
    },

    /// A frame size was rejected.
    #[error("invalid frame size {width}x{height}: {reason}")]
    InvalidSize {
        /// Requested width.
        width: u32,
        /// Requested height.
        height: u32,
        /// Why it was rejected.
        reason: String,
    },

    /// A capture ring depth below two was requested.
    #[error("invalid PBO ring depth {depth}: a ring needs at least 2 buffers (use CaptureMode::Synchronous for none)")]
    InvalidRingDepth {
        /// The rejected depth.
        depth: usize,
    },

    /// A fence for a pending frame transfer did not signal in time or the wait failed.
    #[error("frame {frame}: waiting for its pixel transfer {what} after {waited:?}")]
    FenceWait {
        /// Index of the frame whose transfer was waited on.
        frame: u64,
        /// `timed out` or `failed`.
        what: &'static str,
        /// How long the wait lasted.
        waited: Duration,
    },

    /// The frame sink returned an error.
    #[error("frame sink rejected frame {frame}: {source}")]
    Sink {
        /// Index of the frame that was being written.
        frame: u64,
        /// The sink's error.
        source: SinkError,
    },
}

impl GlError {
    /// True when the error means "no usable EGL/OpenGL on this machine" (missing library,
    /// no driver, no suitable context) rather than a failure of a working GL.
    ///
    /// ```
    /// let err = glcapture::GlError::LibraryMissing {
    ///     library: "libEGL.so.1".into(),
    ///     reason: "not found".into(),
    /// };
    /// assert!(err.is_unavailable());
    /// assert!(err.to_string().contains("install libegl1 libegl-mesa0 libgl1-mesa-dri"));
    /// ```
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            GlError::LibraryMissing { .. } | GlError::NoDisplay { .. } | GlError::NoContext { .. }
        )
    }

    pub(crate) fn egl(call: &'static str) -> impl FnOnce(khronos_egl::Error) -> GlError {
        move |error| GlError::Egl { call, error }
    }

    pub(crate) fn gl_call(operation: impl Into<String>) -> impl FnOnce(String) -> GlError {
        let operation = operation.into();
        move |message| GlError::GlCall { operation, message }
    }
}

/// Symbolic name of a `glGetError` code.
pub(crate) fn gl_error_name(code: u32) -> &'static str {
    match code {
        glow::INVALID_ENUM => "GL_INVALID_ENUM",
        glow::INVALID_VALUE => "GL_INVALID_VALUE",
        glow::INVALID_OPERATION => "GL_INVALID_OPERATION",
        glow::INVALID_FRAMEBUFFER_OPERATION => "GL_INVALID_FRAMEBUFFER_OPERATION",
        glow::OUT_OF_MEMORY => "GL_OUT_OF_MEMORY",
        glow::STACK_UNDERFLOW => "GL_STACK_UNDERFLOW",
        glow::STACK_OVERFLOW => "GL_STACK_OVERFLOW",
        0x0507 => "GL_CONTEXT_LOST",
        _ => "unknown",
    }
}

/// Returns an error naming `operation` if `glGetError` reports one.
///
/// Only the first pending error is reported; the rest are drained so that later checks
/// do not blame the wrong operation.
pub(crate) fn check_gl(
    gl: &glow::Context,
    operation: impl FnOnce() -> String,
) -> Result<(), GlError> {
    use glow::HasContext;
    // SAFETY: glGetError has no preconditions beyond a current context, which every caller
    // of this crate's GL functions must provide.
    let code = unsafe { gl.get_error() };
    if code == glow::NO_ERROR {
        return Ok(());
    }
    // Drain further queued errors (bounded: some drivers keep one flag per error kind).
    for _ in 0..8 {
        // SAFETY: as above.
        if unsafe { gl.get_error() } == glow::NO_ERROR {
            break;
        }
    }
    Err(GlError::Gl {
        operation: operation(),
        code,
    })
}
