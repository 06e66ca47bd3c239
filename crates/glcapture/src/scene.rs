//! The animated demo scene: a few shaded primitives that move every frame.

use std::f32::consts::TAU;

use glow::HasContext;

use crate::egl::GlApi;
use crate::error::{check_gl, GlError};
use crate::shader::link_program;

const VERTEX_SHADER: &str = r#"
layout(location = 0) in vec2 a_position;
layout(location = 1) in vec3 a_color;
uniform vec4 u_linear; // columns of a 2x2 matrix: rotation * scale * aspect correction
uniform vec2 u_offset;
out vec3 v_color;
out vec2 v_local;
void main() {
    mat2 m = mat2(u_linear.xy, u_linear.zw);
    gl_Position = vec4(m * a_position + u_offset, 0.0, 1.0);
    v_color = a_color;
    v_local = a_position;
}
"#;

const FRAGMENT_SHADER: &str = r#"
in vec3 v_color;
in vec2 v_local;
uniform vec3 u_tint;
uniform float u_time;
out vec4 o_color;
void main() {
    // Rings that travel outwards over time: shading changes even where shapes stand still.
    float light = 0.55 + 0.45 * cos(length(v_local) * 6.0 - u_time * 2.0);
    o_color = vec4(v_color * u_tint * light, 1.0);
}
"#;

/// Floats per vertex: position (2) + colour (3).
const VERTEX_FLOATS: usize = 5;

/// A range of vertices in the scene's buffer, drawn as `GL_TRIANGLES`.
#[derive(Clone, Copy, Debug)]
struct Shape {
    first: i32,
    count: i32,
}

/// An animated scene of four shaded shapes (hexagon, two triangles, a quad) that orbit,
/// spin and pulse over an animated background; frame `n` is a pure function of `n` and
/// the viewport size, and consecutive frames always differ.
///
/// Draws into whatever framebuffer is bound for drawing, e.g. an
/// [`OffscreenFramebuffer`](crate::OffscreenFramebuffer).
#[derive(Debug)]
pub struct DemoScene {
    program: glow::Program,
    vertex_array: glow::VertexArray,
    vertex_buffer: glow::Buffer,
    u_linear: Option<glow::UniformLocation>,
    u_offset: Option<glow::UniformLocation>,
    u_tint: Option<glow::UniformLocation>,
    u_time: Option<glow::UniformLocation>,
    hexagon: Shape,
    triangle: Shape,
    quad: Shape,
}

impl DemoScene {
    /// Compiles the shaders and uploads the geometry. `gl` must be current and of `api`.
    pub fn new(gl: &glow::Context, api: GlApi) -> Result<Self, GlError> {
        let program = link_program(gl, api, VERTEX_SHADER, FRAGMENT_SHADER)?;
        let (vertices, hexagon, triangle, quad) = build_geometry();
        let bytes: Vec<u8> = vertices.iter().flat_map(|f| f.to_ne_bytes()).collect();
        // SAFETY: objects are created and configured on the current context; the attribute
        // layout (stride, offsets) matches `build_geometry`'s VERTEX_FLOATS-float records.
        unsafe {
            let vertex_array = gl
                .create_vertex_array()
                .map_err(GlError::gl_call("glGenVertexArrays"))?;
            let vertex_buffer = gl
                .create_buffer()
                .map_err(GlError::gl_call("glGenBuffers"))?;
            gl.bind_vertex_array(Some(vertex_array));
            gl.bind_buffer(glow::ARRAY_BUFFER, Some(vertex_buffer));
            gl.buffer_data_u8_slice(glow::ARRAY_BUFFER, &bytes, glow::STATIC_DRAW);
            let stride = (VERTEX_FLOATS * 4) as i32;
            gl.enable_vertex_attrib_array(0);
            gl.vertex_attrib_pointer_f32(0, 2, glow::FLOAT, false, stride, 0);
            gl.enable_vertex_attrib_array(1);
            gl.vertex_attrib_pointer_f32(1, 3, glow::FLOAT, false, stride, 8);
            gl.bind_vertex_array(None);
            gl.bind_buffer(glow::ARRAY_BUFFER, None);
            let scene = DemoScene {
                u_linear: gl.get_uniform_location(program, "u_linear"),
                u_offset: gl.get_uniform_location(program, "u_offset"),
                u_tint: gl.get_uniform_location(program, "u_tint"),
                u_time: gl.get_uniform_location(program, "u_time"),
                program,
                vertex_array,
                vertex_buffer,
                hexagon,
                triangle,
                quad,
            };
            if let Err(e) = check_gl(gl, || "creating the demo scene".into()) {
                scene.delete(gl);
                return Err(e);
            }
            Ok(scene)
        }
    }

    /// Draws frame `frame` for a `width`x`height` viewport into the bound draw framebuffer
    /// (the viewport itself must already be set). Animation runs at 30 frames per second
    /// of scene time.
    pub fn draw(
        &self,
        gl: &glow::Context,
        frame: u64,
        width: u32,
        height: u32,
    ) -> Result<(), GlError> {
        // Wrap long recordings so f32 time keeps per-frame precision (one minute of motion
        // repeats every hour of frames at 30 fps).
        let t = (frame % 108_000) as f32 / 30.0;
        let aspect = height.max(1) as f32 / width.max(1) as f32;
        // (shape, offset, rotation, scale, tint)
        let instances = [
            (
                self.hexagon,
                [0.5 * t.cos(), 0.5 * t.sin()],
                1.3 * t,
                0.30,
                [1.0, 0.85, 0.6],
            ),
            (
                self.quad,
                [0.8 * (1.7 * t).sin(), -0.55],
                -t,
                0.18,
                [0.5, 0.9, 1.0],
            ),
            (
                self.triangle,
                [-0.45 * (0.9 * t).cos(), 0.45 * (1.1 * t).sin()],
                2.0 * t,
                0.30,
                [1.0, 0.6, 0.9],
            ),
            (
                self.triangle,
                [0.0, 0.0],
                -3.0 * t,
                0.12 + 0.04 * (3.0 * t).sin(),
                [1.0, 1.0, 1.0],
            ),
        ];
        // SAFETY: draws with objects created by `new` on this (current) context; vertex
        // ranges lie inside the uploaded buffer.
        unsafe {
            gl.disable(glow::DEPTH_TEST);
            gl.disable(glow::BLEND);
            gl.clear_color(
                0.08 + 0.06 * (0.7 * t).sin(),
                0.10,
                0.16 + 0.06 * (0.5 * t).cos(),
                1.0,
            );
            gl.clear(glow::COLOR_BUFFER_BIT);
            gl.use_program(Some(self.program));
            gl.bind_vertex_array(Some(self.vertex_array));
            gl.uniform_1_f32(self.u_time.as_ref(), t);
            for (shape, offset, rotation, scale, tint) in instances {
                let (s, c) = rotation.sin_cos();
                // Column-major rotation*scale, x squeezed by the aspect ratio so shapes
                // stay round on wide frames.
                gl.uniform_4_f32(
                    self.u_linear.as_ref(),
                    c * scale * aspect,
                    s * scale,
                    -s * scale * aspect,
                    c * scale,
                );
                gl.uniform_2_f32(self.u_offset.as_ref(), offset[0], offset[1]);
                gl.uniform_3_f32(self.u_tint.as_ref(), tint[0], tint[1], tint[2]);
                gl.draw_arrays(glow::TRIANGLES, shape.first, shape.count);
            }
            gl.bind_vertex_array(None);
        }
        check_gl(gl, || format!("drawing demo frame {frame}"))
    }

    /// Deletes the GL objects. `gl` must be the context that created them, current.
    pub fn delete(self, gl: &glow::Context) {
        // SAFETY: objects created by this context, not used afterwards (self is consumed).
        unsafe {
            gl.delete_program(self.program);
            gl.delete_vertex_array(self.vertex_array);
            gl.delete_buffer(self.vertex_buffer);
        }
    }
}

/// Vertices (position xy, colour rgb) of a hexagon, a triangle and a quad, each in
/// [-1, 1]², as GL_TRIANGLES.
fn build_geometry() -> (Vec<f32>, Shape, Shape, Shape) {
    let mut vertices = Vec::new();
    let push = |vertices: &mut Vec<f32>, x: f32, y: f32, rgb: [f32; 3]| {
        vertices.extend_from_slice(&[x, y, rgb[0], rgb[1], rgb[2]]);
    };
    let rim = |i: usize| {
        let hue = i as f32 / 6.0 * TAU;
        [
            0.5 + 0.5 * hue.cos(),
            0.5 + 0.5 * (hue + TAU / 3.0).cos(),
            0.5 + 0.5 * (hue + 2.0 * TAU / 3.0).cos(),
        ]
    };
    let start = |v: &Vec<f32>| (v.len() / VERTEX_FLOATS) as i32;

    let first = start(&vertices);
    for i in 0..6 {
        let (a0, a1) = (i as f32 / 6.0 * TAU, (i + 1) as f32 / 6.0 * TAU);
        push(&mut vertices, 0.0, 0.0, [1.0, 1.0, 1.0]);
        push(&mut vertices, a0.cos(), a0.sin(), rim(i));
        push(&mut vertices, a1.cos(), a1.sin(), rim(i + 1));
    }
    let hexagon = Shape { first, count: 18 };

    let first = start(&vertices);
    push(&mut vertices, 0.0, 1.0, [1.0, 0.2, 0.2]);
    push(&mut vertices, -0.87, -0.5, [0.2, 1.0, 0.2]);
    push(&mut vertices, 0.87, -0.5, [0.2, 0.2, 1.0]);
    let triangle = Shape { first, count: 3 };

    let first = start(&vertices);
    let corners = [
        (-1.0, -1.0, [0.9, 0.9, 0.2]),
        (1.0, -1.0, [0.2, 0.9, 0.9]),
        (1.0, 1.0, [0.9, 0.2, 0.9]),
        (-1.0, 1.0, [0.9, 0.5, 0.1]),
    ];
    for i in [0, 1, 2, 0, 2, 3] {
        let (x, y, rgb) = corners[i];
        push(&mut vertices, x, y, rgb);
    }
    let quad = Shape { first, count: 6 };

    (vertices, hexagon, triangle, quad)
}
