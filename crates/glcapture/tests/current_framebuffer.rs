//! `glcapture::current_framebuffer` on contexts made by someone else (here `HeadlessContext`,
//! standing in for a program): found through the libraries already loaded, read exactly, and
//! every piece of state and every pending error left as it was.

mod common;

use glcapture::current_framebuffer::{
    current_context, loaded_symbol, Drawable, FramebufferReader, PboRing, ReadError, RingError,
    WindowSystem,
};
use glcapture::glow::{self, HasContext};
use glcapture::{ApiPreference, ContextOptions, HeadlessContext, SurfacePreference};

#[test]
fn a_pbuffer_context_is_read_exactly_with_its_pack_state_and_pending_error_left_as_they_were() {
    let options = ContextOptions {
        surface: SurfacePreference::Pbuffer,
        ..Default::default()
    };
    let Some(context) = common::context_or_skip("current_framebuffer_pbuffer", options) else {
        return;
    };
    let gl = context.gl();
    let (drawable, id) = Drawable::current(loaded_symbol).expect("the pbuffer is current");
    assert_eq!(drawable.window_system(), WindowSystem::Egl);
    let (w, h) = drawable.size(loaded_symbol).expect("its size");
    let reader = {
        let loader = WindowSystem::Egl.get_proc_address(loaded_symbol).unwrap();
        // SAFETY: `id` is current on this thread and `loader` is EGL's.
        unsafe { FramebufferReader::new(loader, id) }.unwrap()
    };
    assert_eq!(reader.context(), id);
    // SAFETY: plain GL calls on the current context.
    let pbo = unsafe {
        gl.bind_framebuffer(glow::FRAMEBUFFER, None);
        gl.clear_color(10.0 / 255.0, 20.0 / 255.0, 30.0 / 255.0, 1.0);
        gl.clear(glow::COLOR_BUFFER_BIT);
        let pbo = gl.create_buffer().unwrap();
        gl.bind_buffer(glow::PIXEL_PACK_BUFFER, Some(pbo));
        gl.buffer_data_size(glow::PIXEL_PACK_BUFFER, 4096, glow::STREAM_READ);
        gl.pixel_store_i32(glow::PACK_ALIGNMENT, 1);
        gl.pixel_store_i32(glow::PACK_ROW_LENGTH, 9);
        gl.pixel_store_i32(glow::PACK_SKIP_ROWS, 2);
        gl.pixel_store_i32(glow::PACK_SKIP_PIXELS, 3);
        gl.enable(0); // a pending GL_INVALID_ENUM of the "program's"
        pbo
    };
    let mut pixels = vec![0u8; w as usize * h as usize * 4];
    // SAFETY: the reader's context is current; (w, h) is its surface's size.
    let order = unsafe { reader.read(w, h, &mut pixels) }.unwrap();
    let mut rgba = vec![0u8; pixels.len()];
    order.copy_to_rgba(&pixels, &mut rgba);
    assert!(rgba.chunks_exact(4).all(|p| p == [10, 20, 30, 255]));
    // SAFETY: plain GL queries on the current context.
    unsafe {
        assert_eq!(
            gl.get_error(),
            glow::INVALID_ENUM,
            "the pending error is back"
        );
        assert_eq!(gl.get_error(), glow::NO_ERROR);
        let pack = |name| gl.get_parameter_i32(name);
        assert_eq!(
            gl.get_parameter_buffer(glow::PIXEL_PACK_BUFFER_BINDING),
            Some(pbo)
        );
        assert_eq!(pack(glow::PACK_ALIGNMENT), 1);
        assert_eq!(pack(glow::PACK_ROW_LENGTH), 9);
        assert_eq!(pack(glow::PACK_SKIP_ROWS), 2);
        assert_eq!(pack(glow::PACK_SKIP_PIXELS), 3);
        gl.delete_buffer(pbo);
    }
}

#[test]
fn a_surfaceless_context_has_no_default_framebuffer_to_read() {
    let options = ContextOptions {
        surface: SurfacePreference::Surfaceless,
        ..Default::default()
    };
    let Some(_context) = common::context_or_skip("current_framebuffer_surfaceless", options) else {
        return;
    };
    assert_eq!(
        Drawable::current(loaded_symbol).unwrap_err(),
        ReadError::NoSurface
    );
}

#[test]
fn a_thread_without_a_current_context_has_none() {
    let found = std::thread::spawn(|| Drawable::current(loaded_symbol).map(|(d, _)| d.id()))
        .join()
        .unwrap();
    assert_eq!(found.unwrap_err(), ReadError::NoContext);
}

/// Makes error `kind` pending as a program would, with calls unlike the ones the reader uses to
/// raise errors again.
fn raise_program_error(gl: &glow::Context, kind: u32) {
    // SAFETY: calls that fail without effect on the current context.
    unsafe {
        match kind {
            glow::INVALID_ENUM => gl.enable(0),
            glow::INVALID_VALUE => gl.line_width(-1.0),
            // No query of this kind is active.
            glow::INVALID_OPERATION => gl.end_query(glow::ANY_SAMPLES_PASSED),
            // Drawing into a framebuffer object without attachments.
            glow::INVALID_FRAMEBUFFER_OPERATION => {
                let bound = gl.get_parameter_framebuffer(glow::DRAW_FRAMEBUFFER_BINDING);
                let incomplete = gl.create_framebuffer().unwrap();
                gl.bind_framebuffer(glow::DRAW_FRAMEBUFFER, Some(incomplete));
                gl.clear(glow::COLOR_BUFFER_BIT);
                gl.bind_framebuffer(glow::DRAW_FRAMEBUFFER, bound);
                gl.delete_framebuffer(incomplete);
            }
            _ => unreachable!(),
        }
    }
}

/// The errors a program can leave pending that a readback raises again.
const PROGRAM_ERRORS: [u32; 4] = [
    glow::INVALID_ENUM,
    glow::INVALID_VALUE,
    glow::INVALID_OPERATION,
    glow::INVALID_FRAMEBUFFER_OPERATION,
];

/// The pack state a readback touches.
fn pack_state(gl: &glow::Context) -> [i32; 4] {
    // SAFETY: queries on the current context.
    unsafe {
        [
            glow::PACK_ALIGNMENT,
            glow::PACK_ROW_LENGTH,
            glow::PACK_SKIP_ROWS,
            glow::PACK_SKIP_PIXELS,
        ]
        .map(|name| gl.get_parameter_i32(name))
    }
}

#[test]
fn a_read_gl_refuses_names_the_gl_error_and_leaves_the_programs_pending_error_and_state() {
    for api in [ApiPreference::OpenGlCore, ApiPreference::OpenGlEs] {
        let options = ContextOptions {
            surface: SurfacePreference::Surfaceless,
            api,
        };
        let Some(context) = common::context_or_skip("current_framebuffer_read_error", options)
        else {
            return;
        };
        read_error_on_a_surfaceless_context(&context);
    }
}

/// The body of the test above, on one context.
fn read_error_on_a_surfaceless_context(context: &HeadlessContext) {
    let gl = context.gl();
    // A context without a surface has no default framebuffer: reading it must fail in GL.
    let id = current_context(loaded_symbol).expect("the surfaceless context is current");
    let reader = {
        let loader = WindowSystem::Egl.get_proc_address(loaded_symbol).unwrap();
        // SAFETY: `id` is current on this thread and `loader` is EGL's.
        unsafe { FramebufferReader::new(loader, id) }.unwrap()
    };
    // SAFETY: plain GL calls on the current context.
    unsafe {
        gl.pixel_store_i32(glow::PACK_ALIGNMENT, 2);
        gl.pixel_store_i32(glow::PACK_ROW_LENGTH, 7);
        gl.pixel_store_i32(glow::PACK_SKIP_ROWS, 1);
        gl.pixel_store_i32(glow::PACK_SKIP_PIXELS, 5);
    }
    let before = pack_state(gl);
    let mut ring = if reader.supports_ring() {
        // SAFETY: the reader's context is current.
        Some(unsafe { PboRing::new(&reader, 4, 4, 2) }.unwrap())
    } else {
        None
    };
    for kind in PROGRAM_ERRORS {
        raise_program_error(gl, kind);
        let mut pixels = vec![0u8; 4 * 4 * 4];
        // SAFETY: the reader's context is current; the read fails before writing anything.
        let error = unsafe { reader.read(4, 4, &mut pixels) }.unwrap_err();
        assert_eq!(
            error,
            ReadError::Gl {
                call: "glReadPixels",
                code: glow::INVALID_FRAMEBUFFER_OPERATION
            }
        );
        assert!(
            error
                .to_string()
                .contains("GL_INVALID_FRAMEBUFFER_OPERATION (0x0506)"),
            "{error}"
        );
        // SAFETY: queries on the current context.
        unsafe {
            assert_eq!(gl.get_error(), kind, "the program's error is pending again");
            assert_eq!(
                gl.get_error(),
                glow::NO_ERROR,
                "and ours is not left behind"
            );
        }
        assert_eq!(pack_state(gl), before);

        let Some(ring) = ring.as_mut() else { continue };
        raise_program_error(gl, kind);
        let mut deliver = |_: &[u8]| -> Result<(), std::io::Error> { panic!("nothing to deliver") };
        // SAFETY: the ring's context is current and `reader` is of it.
        let error = unsafe { ring.capture(&reader, &mut deliver) }.unwrap_err();
        let RingError::Read(ReadError::Gl { code, .. }) = error else {
            panic!("{error}")
        };
        assert_eq!(code, glow::INVALID_FRAMEBUFFER_OPERATION);
        assert_eq!(ring.in_flight(), 0, "a failed read puts nothing in flight");
        // SAFETY: queries on the current context.
        unsafe {
            assert_eq!(gl.get_error(), kind);
            assert_eq!(gl.get_error(), glow::NO_ERROR);
            assert_eq!(gl.get_parameter_i32(glow::PIXEL_PACK_BUFFER_BINDING), 0);
        }
        assert_eq!(pack_state(gl), before);
    }
    if let Some(ring) = ring {
        // SAFETY: the ring's context is current.
        assert_eq!(unsafe { ring.delete(&reader) }, Ok(0));
    }
}

#[test]
fn a_pbo_ring_delivers_every_frame_exactly_in_order_a_capture_late_with_state_and_errors_untouched()
{
    let (w, h) = (32u32, 24u32);
    let options = ContextOptions {
        surface: SurfacePreference::PbufferOfSize {
            width: w,
            height: h,
        },
        ..Default::default()
    };
    let Some(context) = common::context_or_skip("current_framebuffer_ring", options) else {
        return;
    };
    let gl = context.gl();
    let (drawable, id) = Drawable::current(loaded_symbol).expect("the pbuffer is current");
    assert_eq!(drawable.size(loaded_symbol), Ok((w, h)));
    let reader = {
        let loader = WindowSystem::Egl.get_proc_address(loaded_symbol).unwrap();
        // SAFETY: `id` is current on this thread and `loader` is EGL's.
        unsafe { FramebufferReader::new(loader, id) }.unwrap()
    };
    assert!(reader.supports_ring(), "{}", reader.version());
    // SAFETY: the reader's context is current.
    let refused = unsafe { PboRing::new(&reader, w, h, 1) }.unwrap_err();
    assert_eq!(refused, ReadError::RingDepth { depth: 1 });
    // SAFETY: as above.
    let refused = unsafe { PboRing::new(&reader, 0, h, 2) }.unwrap_err();
    assert_eq!(
        refused,
        ReadError::InvalidFrameSize {
            width: 0,
            height: h
        }
    );
    // SAFETY: as above.
    let mut ring = unsafe { PboRing::new(&reader, w, h, 3) }.unwrap();
    // The program's own state: a bound pack buffer and odd pack parameters.
    // SAFETY: plain GL calls on the current context.
    let pbo = unsafe {
        gl.bind_framebuffer(glow::FRAMEBUFFER, None);
        let pbo = gl.create_buffer().unwrap();
        gl.bind_buffer(glow::PIXEL_PACK_BUFFER, Some(pbo));
        gl.buffer_data_size(glow::PIXEL_PACK_BUFFER, 4096, glow::STREAM_READ);
        gl.pixel_store_i32(glow::PACK_ALIGNMENT, 8);
        gl.pixel_store_i32(glow::PACK_ROW_LENGTH, 3);
        pbo
    };
    let before = pack_state(gl);
    let shade = |frame: u8| [frame * 40, 255 - frame * 30, 7 * frame, 255];
    let delivered = std::cell::RefCell::new(Vec::<[u8; 4]>::new());
    let order = reader.channel_order();
    let mut deliver = |pixels: &[u8]| -> Result<(), std::io::Error> {
        let mut rgba = vec![0u8; pixels.len()];
        order.copy_to_rgba(pixels, &mut rgba);
        let first: [u8; 4] = rgba[..4].try_into().unwrap();
        assert!(
            rgba.chunks_exact(4).all(|p| p == first),
            "one colour per frame"
        );
        delivered.borrow_mut().push(first);
        Ok(())
    };
    for frame in 0..6u8 {
        let [r, g, b, _] = shade(frame).map(|c| f32::from(c) / 255.0);
        // SAFETY: plain GL calls on the current context.
        unsafe {
            gl.clear_color(r, g, b, 1.0);
            gl.clear(glow::COLOR_BUFFER_BIT);
        }
        let kind = PROGRAM_ERRORS[usize::from(frame) % PROGRAM_ERRORS.len()];
        raise_program_error(gl, kind);
        // SAFETY: the ring's context is current, `reader` is of it, the pbuffer is w x h.
        unsafe { ring.capture(&reader, &mut deliver) }.unwrap();
        // A ring of 3 keeps up to two frames in flight; the others were delivered.
        assert_eq!(ring.in_flight(), usize::from(frame + 1).min(2));
        assert_eq!(
            delivered.borrow().len(),
            usize::from(frame + 1) - ring.in_flight()
        );
        // SAFETY: queries on the current context.
        unsafe {
            assert_eq!(gl.get_error(), kind, "the program's error is pending again");
            assert_eq!(gl.get_error(), glow::NO_ERROR);
            assert_eq!(
                gl.get_parameter_buffer(glow::PIXEL_PACK_BUFFER_BINDING),
                Some(pbo)
            );
            assert_eq!(
                gl.get_parameter_framebuffer(glow::READ_FRAMEBUFFER_BINDING),
                None
            );
        }
        assert_eq!(pack_state(gl), before);
    }
    // SAFETY: as above.
    unsafe { ring.flush(&reader, &mut deliver) }.unwrap();
    assert_eq!(*delivered.borrow(), (0..6).map(shade).collect::<Vec<_>>());
    // SAFETY: as above.
    assert_eq!(unsafe { ring.delete(&reader) }, Ok(0));
    // SAFETY: queries on the current context.
    unsafe {
        assert_eq!(gl.get_error(), glow::NO_ERROR);
        assert_eq!(
            gl.get_parameter_buffer(glow::PIXEL_PACK_BUFFER_BINDING),
            Some(pbo)
        );
        gl.delete_buffer(pbo);
    }
}
