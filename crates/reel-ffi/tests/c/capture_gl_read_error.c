/* A glReadPixels that GL itself refuses, from reel_recorder_capture_gl: an ES 3 program drawing to
 * a floating-point (RGBA16F, EGL_EXT_pixel_format_float) pbuffer on a driver without
 * GL_EXT_read_format_bgra (the test hides it with MESA_EXTENSION_OVERRIDE), where ES 3 allows no
 * 8-bit RGBA read of the colour buffer: GL_INVALID_OPERATION. Synchronously and through the ring:
 * -1, a message naming the GL error, nothing recorded or in flight, the program's pending error
 * and GL state as they were, no error of ours left behind; then the same recorder records from an
 * RGBA8 context and finishes. Exports the frames to PNGs for the test to decode. argv[1]: a
 * directory to work in. */
#include <GLES3/gl3.h>

#include "check.h"
#include "egl_pbuffer.h"
#include "gl_frames.h"
#include "reel.h"

enum { W = 64, H = 48 };

/* An ES 3 context current on a W x H RGBA16F pbuffer of `display`. */
static egl_pbuffer float_pbuffer(EGLDisplay display) {
    static const EGLint config_attribs[] = {
        EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_RENDERABLE_TYPE, EGL_OPENGL_ES3_BIT,
        EGL_COLOR_COMPONENT_TYPE_EXT, EGL_COLOR_COMPONENT_TYPE_FLOAT_EXT, EGL_RED_SIZE, 16,
        EGL_GREEN_SIZE, 16, EGL_BLUE_SIZE, 16, EGL_ALPHA_SIZE, 16, EGL_NONE};
    static const EGLint context_attribs[] = {EGL_CONTEXT_MAJOR_VERSION, 3, EGL_NONE};
    const EGLint size[] = {EGL_WIDTH, W, EGL_HEIGHT, H, EGL_NONE};
    egl_pbuffer p;
    EGLConfig config;
    EGLint configs = 0;
    p.display = display;
    const char *extensions = eglQueryString(display, EGL_EXTENSIONS);
    CHECK(extensions && strstr(extensions, "EGL_EXT_pixel_format_float"));
    CHECK(eglChooseConfig(display, config_attribs, &config, 1, &configs) && configs == 1);
    p.surface = eglCreatePbufferSurface(display, config, size);
    p.context = eglCreateContext(display, config, EGL_NO_CONTEXT, context_attribs);
    CHECK(p.surface != EGL_NO_SURFACE && p.context != EGL_NO_CONTEXT);
    CHECK(eglMakeCurrent(display, p.surface, p.surface, p.context));
    return p;
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    char cache[4096], png[4096];
    snprintf(cache, sizeof cache, "%s/frames.reel", argv[1]);
    snprintf(png, sizeof png, "%s/png", argv[1]);
    egl_pbuffer rgba8;
    CHECK(egl_pbuffer_open(&rgba8, W, H) == 0);
    egl_pbuffer hdr = float_pbuffer(rgba8.display);
    const char *gl_extensions = (const char *)glGetString(GL_EXTENSIONS);
    CHECK(gl_extensions && !strstr(gl_extensions, "GL_EXT_read_format_bgra"));
    GLuint buffer, framebuffer, renderbuffer;
    set_odd_state(&buffer, &framebuffer, &renderbuffer);
    pack_state before = query_state();

    reel_recorder *rec = reel_recorder_open(cache, W, H, NULL);
    CHECK(rec != NULL);
    const int modes[] = {REEL_READBACK_SYNC, REEL_READBACK_PBO_RING};
    for (unsigned m = 0; m < 2; m++) {
        CHECK(reel_recorder_set_readback(rec, modes[m]) == 0);
        draw(m, W, H);
        glEnable(0); /* the program's own pending error */
        CHECK(reel_recorder_capture_gl(rec) == -1);
        const char *message = reel_recorder_last_error(rec);
        CHECK(message != NULL);
        printf("capture_gl_read_error: %s\n", message);
        CHECK(strstr(message, "glReadPixels") != NULL);
        CHECK(strstr(message, "raised GL_INVALID_OPERATION (0x0502)") != NULL);
        CHECK(glGetError() == GL_INVALID_ENUM);
        CHECK(glGetError() == GL_NO_ERROR);
        check_state(&before);
        CHECK(reel_recorder_frames(rec) == 0 && reel_recorder_frames_in_flight(rec) == 0);
    }
    glDeleteFramebuffers(1, &framebuffer);
    glDeleteRenderbuffers(1, &renderbuffer);
    glDeleteBuffers(1, &buffer);

    /* The recorder goes on: a frame from the RGBA8 context in each mode, the ring's stored at
     * finish. */
    CHECK(eglMakeCurrent(rgba8.display, rgba8.surface, rgba8.surface, rgba8.context));
    for (unsigned m = 0; m < 2; m++) {
        CHECK(reel_recorder_set_readback(rec, modes[m]) == 0);
        draw(m, W, H);
        CHECK(reel_recorder_capture_gl(rec) == 0);
    }
    CHECK(reel_recorder_frames(rec) == 1 && reel_recorder_frames_in_flight(rec) == 1);
    char *error = NULL;
    CHECK(reel_recorder_finish(rec, &error) == 0);
    eglDestroyContext(hdr.display, hdr.context);
    eglDestroySurface(hdr.display, hdr.surface);
    egl_pbuffer_close(&rgba8);

    reel_export_options options;
    memset(&options, 0, sizeof options);
    options.png_dir = png;
    reel_export *exp = reel_export_start(cache, &options, &error);
    CHECK(exp != NULL);
    CHECK(reel_export_wait(exp, &error) == 0);
    printf("capture_gl_read_error: ok\n");
    return 0;
}
