//! `glcapture::current_framebuffer` on contexts made by someone else (here `HeadlessContext`,
//! standing in for a program): found through the libraries already loaded, read exactly, and
//! every piece of state and every pending error left as it was.

mod common;

use glcapture::current_framebuffer::{
    loaded_symbol, Drawable, FramebufferReader, ReadError, WindowSystem,
};
use glcapture::glow::{self, HasContext};
use glcapture::{ContextOptions, SurfacePreference};

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
