//! Headless EGL context creation (no window system, no GPU needed).
//!
//! The preferred display is Mesa's surfaceless platform
//! (`eglGetPlatformDisplay(EGL_PLATFORM_SURFACELESS_MESA, ...)`), which needs neither X11
//! nor Wayland nor a DRM device and renders with llvmpipe. When that platform is not
//! offered, the default display (`eglGetDisplay(EGL_DEFAULT_DISPLAY)`, whose platform
//! Mesa picks from `EGL_PLATFORM`) is tried. The context is made current without a
//! surface (`EGL_KHR_surfaceless_context`) or, failing that, on a tiny pbuffer; all
//! rendering goes to framebuffer objects anyway (see
//! [`OffscreenFramebuffer`](crate::OffscreenFramebuffer)).

use std::marker::PhantomData;
use std::sync::Mutex;

use glow::HasContext;
use khronos_egl as kegl;

use crate::error::GlError;
use crate::loader::{self, Egl};

/// `EGL_PLATFORM_SURFACELESS_MESA` from `EGL_MESA_platform_surfaceless`.
const PLATFORM_SURFACELESS_MESA: kegl::Enum = 0x31DD;

/// Which client API to create a context for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ApiPreference {
    /// OpenGL 3.3 core profile, else OpenGL ES 3.0.
    #[default]
    Auto,
    /// OpenGL 3.3 core profile only.
    OpenGlCore,
    /// OpenGL ES 3.0 only.
    OpenGlEs,
}

/// What the context is made current on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SurfacePreference {
    /// No surface when the display supports `EGL_KHR_surfaceless_context`, else a pbuffer.
    #[default]
    Auto,
    /// No surface; fails if `EGL_KHR_surfaceless_context` is missing.
    Surfaceless,
    /// A small pbuffer surface (rendering still goes to framebuffer objects).
    Pbuffer,
    /// A pbuffer of this size, whose default framebuffer a program can draw to (as a window's).
    PbufferOfSize {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
}

/// Options for [`HeadlessContext::with_options`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ContextOptions {
    /// Client API to request.
    pub api: ApiPreference,
    /// Surface to make the context current on.
    pub surface: SurfacePreference,
}

/// The client API of a created context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GlApi {
    /// Desktop OpenGL, core profile, version 3.3 or later.
    OpenGlCore,
    /// OpenGL ES 3.0 or later.
    OpenGlEs,
}

impl GlApi {
    /// The first lines every GLSL shader for this API must start with
    /// (`#version 330 core` or `#version 300 es` plus default precisions).
    pub fn shader_header(self) -> &'static str {
        match self {
            GlApi::OpenGlCore => "#version 330 core\n",
            GlApi::OpenGlEs => "#version 300 es\nprecision highp float;\nprecision highp int;\n",
        }
    }
}

/// Which EGL display the context lives on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisplayKind {
    /// Mesa's surfaceless platform.
    Surfaceless,
    /// `eglGetDisplay(EGL_DEFAULT_DISPLAY)`.
    Default,
}

impl DisplayKind {
    fn label(self) -> &'static str {
        match self {
            DisplayKind::Surfaceless => "surfaceless",
            DisplayKind::Default => "default",
        }
    }
}

/// What the context was made current on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SurfaceKind {
    /// No surface (`EGL_KHR_surfaceless_context`).
    None,
    /// A small pbuffer.
    Pbuffer,
}

/// Description of a created context, e.g. for a log line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextInfo {
    /// Client API.
    pub api: GlApi,
    /// EGL display used.
    pub display: DisplayKind,
    /// Surface the context is current on.
    pub surface: SurfaceKind,
    /// `GL_VENDOR`.
    pub vendor: String,
    /// `GL_RENDERER`, e.g. `llvmpipe (LLVM 15.0.6, 256 bits)`.
    pub renderer: String,
    /// `GL_VERSION`.
    pub version: String,
}

/// A headless EGL context with a loaded [`glow::Context`], current on the creating thread.
///
/// It is not `Send`: an EGL context is current on one thread, and dropping it releases
/// it there. Create one per rendering thread. Creating it makes it current on the calling
/// thread (replacing whatever context was current there); dropping it leaves no context
/// current, so a thread juggling several contexts calls
/// [`make_current`](HeadlessContext::make_current) on the one it goes on with. Dropping
/// the last context of the process terminates the EGL display.
///
/// ```
/// # fn main() -> Result<(), glcapture::GlError> {
/// # if let Err(e) = glcapture::egl_library() { eprintln!("skipped: {e}"); return Ok(()); }
/// use glow::HasContext;
/// let ctx = glcapture::HeadlessContext::new()?;
/// println!("rendering with {}", ctx.info().renderer);
/// // SAFETY: the context is current on this thread.
/// unsafe { ctx.gl().clear_color(0.0, 0.0, 0.0, 1.0) };
/// # Ok(()) }
/// ```
pub struct HeadlessContext {
    gl: glow::Context,
    info: ContextInfo,
    // Fields drop in order: the context and surface go before the display, which is
    // held for its drop (terminating the display with the last context).
    objects: ContextObjects,
    _display: DisplayRef,
    _current_on_this_thread: PhantomData<*const ()>,
}

/// A context and its pbuffer, if any: released (when current on this thread) and
/// destroyed on drop. The one cleanup path for the finished context and for every
/// failure after `eglCreateContext`.
struct ContextObjects {
    egl: &'static Egl,
    display: kegl::Display,
    context: kegl::Context,
    surface: Option<kegl::Surface>,
}

impl Drop for ContextObjects {
    fn drop(&mut self) {
        let (egl, display) = (self.egl, self.display);
        if egl.get_current_context() == Some(self.context) {
            // Errors cannot be reported from drop; the display is terminated with the
            // last context anyway, which frees whatever is left.
            let _ = egl.make_current(display, None, None, None);
        }
        let _ = egl.destroy_context(display, self.context);
        if let Some(surface) = self.surface {
            let _ = egl.destroy_surface(display, surface);
        }
    }
}

impl HeadlessContext {
    /// Creates a context with [`ContextOptions::default`]: surfaceless platform,
    /// OpenGL 3.3 core (else GLES 3.0), no surface (else a pbuffer).
    pub fn new() -> Result<Self, GlError> {
        Self::with_options(ContextOptions::default())
    }

    /// Creates a context as `options` asks and makes it current on this thread.
    pub fn with_options(options: ContextOptions) -> Result<Self, GlError> {
        let egl = loader::egl_library()?;
        let display = DisplayRef::open(egl)?;
        let display_extensions = egl
            .query_string(Some(display.display), kegl::EXTENSIONS)
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let has_surfaceless = display_extensions
            .split_ascii_whitespace()
            .any(|e| e == "EGL_KHR_surfaceless_context");
        const SMALL: Option<(u32, u32)> = Some((16, 16));
        let pbuffer = match options.surface {
            SurfacePreference::Auto if has_surfaceless => None,
            SurfacePreference::Auto | SurfacePreference::Pbuffer => SMALL,
            SurfacePreference::PbufferOfSize { width, height } => Some((width, height)),
            SurfacePreference::Surfaceless if has_surfaceless => None,
            SurfacePreference::Surfaceless => {
                return Err(GlError::NoContext {
                    attempts: "a surfaceless context was requested but the EGL display lacks \
                               EGL_KHR_surfaceless_context"
                        .into(),
                })
            }
        };

        let apis: &[GlApi] = match options.api {
            ApiPreference::Auto => &[GlApi::OpenGlCore, GlApi::OpenGlEs],
            ApiPreference::OpenGlCore => &[GlApi::OpenGlCore],
            ApiPreference::OpenGlEs => &[GlApi::OpenGlEs],
        };
        let mut attempts = Vec::new();
        for &api in apis {
            match create_context(egl, display.display, api, pbuffer) {
                Ok(objects) => {
                    let gl = load_gl(egl)?;
                    let mut ctx = HeadlessContext {
                        gl,
                        info: ContextInfo {
                            api,
                            display: display.kind,
                            surface: if objects.surface.is_some() {
                                SurfaceKind::Pbuffer
                            } else {
                                SurfaceKind::None
                            },
                            vendor: String::new(),
                            renderer: String::new(),
                            version: String::new(),
                        },
                        objects,
                        _display: display,
                        _current_on_this_thread: PhantomData,
                    };
                    ctx.fill_info()?;
                    return Ok(ctx);
                }
                Err(e) => attempts.push(format!("{api:?}: {e}")),
            }
        }
        Err(GlError::NoContext {
            attempts: attempts.join("; "),
        })
    }

    /// The GL function table; valid while this context is current on this thread.
    pub fn gl(&self) -> &glow::Context {
        &self.gl
    }

    /// What was created: API, display, surface and the driver's strings.
    pub fn info(&self) -> &ContextInfo {
        &self.info
    }

    /// The client API of this context, e.g. to pick a GLSL dialect.
    pub fn api(&self) -> GlApi {
        self.info.api
    }

    /// Makes this context current on the calling thread again (after another context
    /// of the same thread was made current).
    pub fn make_current(&self) -> Result<(), GlError> {
        let o = &self.objects;
        o.egl
            .make_current(o.display, o.surface, o.surface, Some(o.context))
            .map_err(GlError::egl("eglMakeCurrent"))
    }

    fn fill_info(&mut self) -> Result<(), GlError> {
        let gl = &self.gl;
        let version = gl.version();
        let new_enough = match self.info.api {
            GlApi::OpenGlCore => !version.is_embedded && (version.major, version.minor) >= (3, 3),
            GlApi::OpenGlEs => version.is_embedded && version.major >= 3,
        };
        // SAFETY: the context was made current on this thread by `load_gl`.
        let (vendor, renderer, version_string) = unsafe {
            (
                gl.get_parameter_string(glow::VENDOR),
                gl.get_parameter_string(glow::RENDERER),
                gl.get_parameter_string(glow::VERSION),
            )
        };
        if !new_enough {
            return Err(GlError::NoContext {
                attempts: format!(
                    "{:?}: the driver returned version {version_string:?}, too old",
                    self.info.api
                ),
            });
        }
        self.info.vendor = vendor;
        self.info.renderer = renderer;
        self.info.version = version_string;
        Ok(())
    }
}

/// Creates a context (and pbuffer, if asked) for `api` and makes it current.
fn create_context(
    egl: &'static Egl,
    display: kegl::Display,
    api: GlApi,
    pbuffer: Option<(u32, u32)>,
) -> Result<ContextObjects, GlError> {
    let (client_api, renderable, context_attributes): (_, _, &[kegl::Int]) = match api {
        GlApi::OpenGlCore => (
            kegl::OPENGL_API,
            kegl::OPENGL_BIT,
            &[
                kegl::CONTEXT_MAJOR_VERSION,
                3,
                kegl::CONTEXT_MINOR_VERSION,
                3,
                kegl::CONTEXT_OPENGL_PROFILE_MASK,
                kegl::CONTEXT_OPENGL_CORE_PROFILE_BIT,
                kegl::NONE,
            ],
        ),
        GlApi::OpenGlEs => (
            kegl::OPENGL_ES_API,
            kegl::OPENGL_ES3_BIT,
            &[
                kegl::CONTEXT_MAJOR_VERSION,
                3,
                kegl::CONTEXT_MINOR_VERSION,
                0,
                kegl::NONE,
            ],
        ),
    };
    egl.bind_api(client_api)
        .map_err(GlError::egl("eglBindAPI"))?;
    let config = choose_config(egl, display, renderable)?;
    let context = egl
        .create_context(display, config, None, context_attributes)
        .map_err(GlError::egl("eglCreateContext"))?;
    // From here on, dropping `objects` on an error destroys what was made.
    let mut objects = ContextObjects {
        egl,
        display,
        context,
        surface: None,
    };
    if let Some((width, height)) = pbuffer {
        let (width, height) = (width.min(i32::MAX as u32), height.min(i32::MAX as u32));
        let attributes = [
            kegl::WIDTH,
            width as kegl::Int,
            kegl::HEIGHT,
            height as kegl::Int,
            kegl::NONE,
        ];
        let surface = egl
            .create_pbuffer_surface(display, config, &attributes)
            .map_err(GlError::egl("eglCreatePbufferSurface"))?;
        objects.surface = Some(surface);
    }
    let surface = objects.surface;
    egl.make_current(display, surface, surface, Some(context))
        .map_err(GlError::egl("eglMakeCurrent"))?;
    Ok(objects)
}

/// An RGBA8 pbuffer-capable config for `renderable`, or any pbuffer-capable one.
fn choose_config(
    egl: &Egl,
    display: kegl::Display,
    renderable: kegl::Int,
) -> Result<kegl::Config, GlError> {
    let rgba8 = [
        kegl::SURFACE_TYPE,
        kegl::PBUFFER_BIT,
        kegl::RENDERABLE_TYPE,
        renderable,
        kegl::RED_SIZE,
        8,
        kegl::GREEN_SIZE,
        8,
        kegl::BLUE_SIZE,
        8,
        kegl::ALPHA_SIZE,
        8,
        kegl::NONE,
    ];
    let any = [
        kegl::SURFACE_TYPE,
        kegl::PBUFFER_BIT,
        kegl::RENDERABLE_TYPE,
        renderable,
        kegl::NONE,
    ];
    for attributes in [&rgba8[..], &any[..]] {
        if let Some(config) = egl
            .choose_first_config(display, attributes)
            .map_err(GlError::egl("eglChooseConfig"))?
        {
            return Ok(config);
        }
    }
    Err(GlError::GlCall {
        operation: "eglChooseConfig".into(),
        message: "no pbuffer-capable config for this client API".into(),
    })
}

/// Loads the GL function table for the context that `create_context` made current
/// (on an error the caller drops that context's [`ContextObjects`]).
fn load_gl(egl: &'static Egl) -> Result<glow::Context, GlError> {
    if egl.get_proc_address("glGetString").is_none() {
        return Err(GlError::GlCall {
            operation: "eglGetProcAddress(\"glGetString\")".into(),
            message: "the EGL vendor exposes no OpenGL entry points".into(),
        });
    }
    // SAFETY: `context` is current on this thread (made so by `create_context`), and every
    // pointer comes from eglGetProcAddress for the name glow asks for, so glow calls each
    // function with its documented prototype.
    Ok(unsafe {
        glow::Context::from_loader_function_cstr(|name| loader::gl_proc_address(egl, name))
    })
}

/// Live contexts per initialised display (keyed by the display handle), so the display is
/// terminated only when its last context goes away: eglTerminate is process-wide and
/// would otherwise pull the display out from under contexts on other threads.
static DISPLAY_USERS: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());

/// One counted use of an initialised EGL display.
struct DisplayRef {
    egl: &'static Egl,
    display: kegl::Display,
    kind: DisplayKind,
}

impl DisplayRef {
    /// Opens and initialises the surfaceless display, else the default one.
    fn open(egl: &'static Egl) -> Result<Self, GlError> {
        let mut users = DISPLAY_USERS.lock().unwrap_or_else(|e| e.into_inner());
        let mut attempts = Vec::new();
        let client_extensions = egl
            .query_string(None, kegl::EXTENSIONS)
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let has_surfaceless_platform = client_extensions
            .split_ascii_whitespace()
            .any(|e| e == "EGL_MESA_platform_surfaceless");

        let mut candidates = Vec::new();
        match (has_surfaceless_platform, egl.upcast::<kegl::EGL1_5>()) {
            (true, Some(egl15)) => {
                // SAFETY: the surfaceless platform takes EGL_DEFAULT_DISPLAY (null) as its
                // native display; the attribute list is NONE-terminated.
                match unsafe {
                    egl15.get_platform_display(
                        PLATFORM_SURFACELESS_MESA,
                        kegl::DEFAULT_DISPLAY,
                        &[kegl::ATTRIB_NONE],
                    )
                } {
                    Ok(display) => candidates.push((display, DisplayKind::Surfaceless)),
                    Err(e) => attempts.push(format!("surfaceless platform: {e}")),
                }
            }
            (true, None) => {
                attempts.push("surfaceless platform: libEGL lacks EGL 1.5 eglGetPlatformDisplay".into())
            }
            (false, _) => attempts.push(
                "surfaceless platform: EGL_MESA_platform_surfaceless not offered (no Mesa EGL vendor)"
                    .into(),
            ),
        }
        // SAFETY: EGL_DEFAULT_DISPLAY is always a valid argument to eglGetDisplay.
        match unsafe { egl.get_display(kegl::DEFAULT_DISPLAY) } {
            Some(display) => candidates.push((display, DisplayKind::Default)),
            None => attempts.push("default display: eglGetDisplay returned EGL_NO_DISPLAY".into()),
        }

        for (display, kind) in candidates {
            let key = display.as_ptr() as usize;
            if let Some(entry) = users.iter_mut().find(|(k, _)| *k == key) {
                entry.1 += 1;
                return Ok(DisplayRef { egl, display, kind });
            }
            match egl.initialize(display) {
                Ok(_) => {
                    users.push((key, 1));
                    return Ok(DisplayRef { egl, display, kind });
                }
                Err(e) => attempts.push(format!("{} display: eglInitialize: {e:?}", kind.label())),
            }
        }
        Err(GlError::NoDisplay {
            attempts: attempts.join("; "),
        })
    }
}

impl Drop for DisplayRef {
    fn drop(&mut self) {
        let mut users = DISPLAY_USERS.lock().unwrap_or_else(|e| e.into_inner());
        let key = self.display.as_ptr() as usize;
        if let Some(i) = users.iter().position(|(k, _)| *k == key) {
            users[i].1 -= 1;
            if users[i].1 == 0 {
                users.swap_remove(i);
                let _ = self.egl.terminate(self.display);
            }
        }
    }
}
