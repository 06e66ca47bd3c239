//! An offscreen render target: a framebuffer object with an RGBA8 colour renderbuffer.

use glow::HasContext;

use crate::capture::frame_byte_len;
use crate::error::{check_gl, GlError};

/// A framebuffer object of a fixed size with one RGBA8 colour attachment.
///
/// Headless contexts have no usable default framebuffer, so scenes render here and
/// [`FrameCapture`](crate::FrameCapture) reads from here. GL objects are released by
/// [`OffscreenFramebuffer::delete`] (they are not freed on drop, which has no context).
#[derive(Debug)]
pub struct OffscreenFramebuffer {
    framebuffer: glow::Framebuffer,
    color: glow::Renderbuffer,
    width: u32,
    height: u32,
}

impl OffscreenFramebuffer {
    /// Creates the framebuffer. `gl` must be current on this thread.
    ///
    /// Fails with [`GlError::InvalidSize`] for a zero size or one beyond the driver's
    /// `GL_MAX_RENDERBUFFER_SIZE` / `GL_MAX_VIEWPORT_DIMS`.
    pub fn new(gl: &glow::Context, width: u32, height: u32) -> Result<Self, GlError> {
        frame_byte_len(width, height)?;
        // SAFETY: plain queries on the current context; the slice has the two elements
        // GL_MAX_VIEWPORT_DIMS writes.
        let (max_renderbuffer, max_viewport) = unsafe {
            let mut dims = [0i32; 2];
            gl.get_parameter_i32_slice(glow::MAX_VIEWPORT_DIMS, &mut dims);
            (gl.get_parameter_i32(glow::MAX_RENDERBUFFER_SIZE), dims)
        };
        let limit_w = max_renderbuffer.min(max_viewport[0]).max(0) as u32;
        let limit_h = max_renderbuffer.min(max_viewport[1]).max(0) as u32;
        if width > limit_w || height > limit_h {
            return Err(GlError::InvalidSize {
                width,
                height,
                reason: format!("this GL driver renders at most {limit_w}x{limit_h}"),
            });
        }

        // SAFETY: object creation and binding on the current context; sizes were checked
        // against the driver limits above and fit in i32.
        unsafe {
            let framebuffer = gl
                .create_framebuffer()
                .map_err(GlError::gl_call("glGenFramebuffers"))?;
            let color = match gl.create_renderbuffer() {
                Ok(color) => color,
                Err(message) => {
                    gl.delete_framebuffer(framebuffer);
                    return Err(GlError::gl_call("glGenRenderbuffers")(message));
                }
            };
            let fb = OffscreenFramebuffer {
                framebuffer,
                color,
                width,
                height,
            };
            gl.bind_renderbuffer(glow::RENDERBUFFER, Some(color));
            gl.renderbuffer_storage(glow::RENDERBUFFER, glow::RGBA8, width as i32, height as i32);
            gl.bind_framebuffer(glow::FRAMEBUFFER, Some(framebuffer));
            gl.framebuffer_renderbuffer(
                glow::FRAMEBUFFER,
                glow::COLOR_ATTACHMENT0,
                glow::RENDERBUFFER,
                Some(color),
            );
            let status = gl.check_framebuffer_status(glow::FRAMEBUFFER);
            let checked = check_gl(gl, || {
                format!("creating a {width}x{height} RGBA8 framebuffer object")
            });
            if let Err(e) = checked {
                fb.delete(gl);
                return Err(e);
            }
            if status != glow::FRAMEBUFFER_COMPLETE {
                fb.delete(gl);
                return Err(GlError::IncompleteFramebuffer {
                    width,
                    height,
                    status,
                });
            }
            gl.viewport(0, 0, width as i32, height as i32);
            Ok(fb)
        }
    }

    /// Binds the framebuffer for drawing and reading and sets the viewport to cover it.
    pub fn bind(&self, gl: &glow::Context) {
        // SAFETY: binding an object this context created; the viewport fits (checked in new).
        unsafe {
            gl.bind_framebuffer(glow::FRAMEBUFFER, Some(self.framebuffer));
            gl.viewport(0, 0, self.width as i32, self.height as i32);
        }
    }

    /// The GL framebuffer object.
    pub fn framebuffer(&self) -> glow::Framebuffer {
        self.framebuffer
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Deletes the GL objects. `gl` must be the context that created them, current.
    pub fn delete(self, gl: &glow::Context) {
        // SAFETY: these objects were created by this context and are not used afterwards
        // (self is consumed); deleting a bound framebuffer rebinds the default one.
        unsafe {
            gl.delete_framebuffer(self.framebuffer);
            gl.delete_renderbuffer(self.color);
        }
    }
}
