//! GLSL program compilation for either GL 3.3 core or GLES 3.0.

use glow::HasContext;

use crate::egl::GlApi;
use crate::error::GlError;

/// Compiles and links a program from GLSL bodies written in the common subset of
/// GLSL 3.30 and GLSL ES 3.00; the `#version` line (and ES precision defaults) for `api`
/// is prepended, so the sources must not have their own.
///
/// Errors carry the driver's info log.
pub fn link_program(
    gl: &glow::Context,
    api: GlApi,
    vertex_source: &str,
    fragment_source: &str,
) -> Result<glow::Program, GlError> {
    // SAFETY: shader and program objects are created, used and (on failure or after
    // linking) deleted on the current context; no pointers are involved.
    unsafe {
        let vertex = compile(gl, api, glow::VERTEX_SHADER, "vertex", vertex_source)?;
        let fragment = match compile(gl, api, glow::FRAGMENT_SHADER, "fragment", fragment_source) {
            Ok(fragment) => fragment,
            Err(e) => {
                gl.delete_shader(vertex);
                return Err(e);
            }
        };
        let program = match gl.create_program() {
            Ok(program) => program,
            Err(message) => {
                gl.delete_shader(vertex);
                gl.delete_shader(fragment);
                return Err(GlError::gl_call("glCreateProgram")(message));
            }
        };
        gl.attach_shader(program, vertex);
        gl.attach_shader(program, fragment);
        gl.link_program(program);
        let linked = gl.get_program_link_status(program);
        gl.detach_shader(program, vertex);
        gl.detach_shader(program, fragment);
        gl.delete_shader(vertex);
        gl.delete_shader(fragment);
        if !linked {
            let log = gl.get_program_info_log(program);
            gl.delete_program(program);
            return Err(GlError::Shader {
                stage: "program",
                action: "link",
                log,
            });
        }
        Ok(program)
    }
}

/// Compiles one shader stage.
///
/// # Safety
/// `gl` must be current on this thread.
unsafe fn compile(
    gl: &glow::Context,
    api: GlApi,
    kind: u32,
    stage: &'static str,
    source: &str,
) -> Result<glow::Shader, GlError> {
    // SAFETY: the caller guarantees a current context; the shader is deleted on failure.
    unsafe {
        let shader = gl
            .create_shader(kind)
            .map_err(GlError::gl_call(format!("glCreateShader({stage})")))?;
        gl.shader_source(shader, &format!("{}{}", api.shader_header(), source));
        gl.compile_shader(shader);
        if !gl.get_shader_compile_status(shader) {
            let log = gl.get_shader_info_log(shader);
            gl.delete_shader(shader);
            return Err(GlError::Shader {
                stage,
                action: "compilation",
                log,
            });
        }
        Ok(shader)
    }
}
