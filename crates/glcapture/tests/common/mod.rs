//! Helpers shared by the GL integration tests.

#![allow(dead_code)] // each test binary uses a different subset

use glcapture::glow::{self, HasContext};
use glcapture::{ContextOptions, GlApi, HeadlessContext};

/// True when a missing GL must fail the test instead of skipping it (CI, or asked for).
fn gl_required() -> bool {
    let set =
        |name: &str| std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
    set("GLCAPTURE_REQUIRE_GL") || set("CI")
}

/// A headless context, or `None` after printing a skip note when this machine has no
/// usable EGL (unless CI or GLCAPTURE_REQUIRE_GL asks for GL, then the test fails).
pub fn context_or_skip(test: &str, options: ContextOptions) -> Option<HeadlessContext> {
    match HeadlessContext::with_options(options) {
        Ok(context) => Some(context),
        Err(e) if e.is_unavailable() && !gl_required() => {
            eprintln!("SKIPPED {test}: no usable EGL/OpenGL on this machine: {e}");
            None
        }
        Err(e) => panic!("{test}: cannot create a headless GL context: {e}"),
    }
}

/// Draws axis-aligned solid rectangles given in pixels, with exact colours.
pub struct RectPainter {
    program: glow::Program,
    vertex_array: glow::VertexArray,
    u_rect: Option<glow::UniformLocation>,
    u_color: Option<glow::UniformLocation>,
}

impl RectPainter {
    pub fn new(gl: &glow::Context, api: GlApi) -> Self {
        let vertex = r#"
uniform vec4 u_rect; // x0, y0, x1, y1 in normalised device coordinates
void main() {
    vec2 corners[6] = vec2[6](vec2(0.0, 0.0), vec2(1.0, 0.0), vec2(1.0, 1.0),
                              vec2(0.0, 0.0), vec2(1.0, 1.0), vec2(0.0, 1.0));
    gl_Position = vec4(mix(u_rect.xy, u_rect.zw, corners[gl_VertexID]), 0.0, 1.0);
}
"#;
        let fragment = r#"
uniform vec4 u_color;
out vec4 o_color;
void main() { o_color = u_color; }
"#;
        let program =
            glcapture::link_program(gl, api, vertex, fragment).expect("test shaders build");
        // SAFETY: objects on the current context.
        unsafe {
            RectPainter {
                vertex_array: gl.create_vertex_array().expect("vertex array"),
                u_rect: gl.get_uniform_location(program, "u_rect"),
                u_color: gl.get_uniform_location(program, "u_color"),
                program,
            }
        }
    }

    /// Fills pixels `x0..x1` × `y0..y1` (GL window coordinates, y up) of a `width`x`height`
    /// viewport with `rgba`.
    #[allow(clippy::too_many_arguments)]
    pub fn fill(
        &self,
        gl: &glow::Context,
        (width, height): (u32, u32),
        x0: u32,
        y0: u32,
        x1: u32,
        y1: u32,
        rgba: [u8; 4],
    ) {
        let nx = |x: u32| 2.0 * x as f32 / width as f32 - 1.0;
        let ny = |y: u32| 2.0 * y as f32 / height as f32 - 1.0;
        let c = |v: u8| f32::from(v) / 255.0;
        // SAFETY: draws with objects created on the current context.
        unsafe {
            gl.use_program(Some(self.program));
            gl.bind_vertex_array(Some(self.vertex_array));
            gl.uniform_4_f32(self.u_rect.as_ref(), nx(x0), ny(y0), nx(x1), ny(y1));
            gl.uniform_4_f32(
                self.u_color.as_ref(),
                c(rgba[0]),
                c(rgba[1]),
                c(rgba[2]),
                c(rgba[3]),
            );
            gl.draw_arrays(glow::TRIANGLES, 0, 6);
            gl.bind_vertex_array(None);
        }
    }
}

/// Clears the bound framebuffer to an exact 8-bit colour.
pub fn clear(gl: &glow::Context, rgba: [u8; 4]) {
    let c = |v: u8| f32::from(v) / 255.0;
    // SAFETY: state calls on the current context.
    unsafe {
        gl.clear_color(c(rgba[0]), c(rgba[1]), c(rgba[2]), c(rgba[3]));
        gl.clear(glow::COLOR_BUFFER_BIT);
    }
}

/// Clears `x0..x1` × `y0..y1` (GL window coordinates) to `rgba` with the scissor test.
pub fn clear_rect(gl: &glow::Context, x0: u32, y0: u32, x1: u32, y1: u32, rgba: [u8; 4]) {
    // SAFETY: state calls on the current context.
    unsafe {
        gl.enable(glow::SCISSOR_TEST);
        gl.scissor(x0 as i32, y0 as i32, (x1 - x0) as i32, (y1 - y0) as i32);
    }
    clear(gl, rgba);
    // SAFETY: as above.
    unsafe { gl.disable(glow::SCISSOR_TEST) };
}

/// The RGBA value at GL window coordinates (`x`, `y`, y up) of a bottom-up buffer.
pub fn pixel(rgba_bottom_up: &[u8], width: u32, x: u32, y: u32) -> [u8; 4] {
    let i = ((y * width + x) * 4) as usize;
    rgba_bottom_up[i..i + 4].try_into().unwrap()
}
