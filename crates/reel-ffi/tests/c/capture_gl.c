/* reel_recorder_capture_gl from a headless EGL program (ES 3 on a pbuffer): frames of known
 * content (a colour per frame, a white top-left quadrant) captured while the program holds odd
 * pack state, a bound pixel-pack buffer, a user read framebuffer and a pending GL error, all of
 * which must be as it was after each capture; then the errors: no current context, a context
 * reading another surface than it draws to, a context without a surface, a recorder of another
 * size. Exports the frames to PNGs for the test to decode. argv[1]: a directory to work in. */
#include <time.h>

#include <GLES3/gl3.h>

#include "check.h"
#include "egl_pbuffer.h"
#include "gl_frames.h"
#include "reel.h"

enum { W = 64, H = 48, FRAMES = 5 };

static void expect_error(reel_recorder *rec, const char *words) {
    CHECK(reel_recorder_capture_gl(rec) == -1);
    const char *message = reel_recorder_last_error(rec);
    CHECK(message != NULL);
    printf("capture_gl error: %s\n", message);
    CHECK(strstr(message, words) != NULL);
}

static void export_pngs(const char *cache, const char *dir) {
    reel_export_options options;
    memset(&options, 0, sizeof options);
    options.png_dir = dir;
    char *error = NULL;
    reel_export *exp = reel_export_start(cache, &options, &error);
    CHECK(exp != NULL);
    struct timespec tick = {0, 2000000};
    while (!reel_export_finished(exp)) nanosleep(&tick, NULL);
    CHECK(reel_export_finished(exp) == 1);
    uint64_t done = 0, total = 0;
    reel_export_progress(exp, &done, &total);
    CHECK(done == FRAMES + 1 && total == FRAMES + 1);
    CHECK(reel_export_wait(exp, &error) == 0);
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    char cache[4096], other[4096], png[4096];
    snprintf(cache, sizeof cache, "%s/gl.reel", argv[1]);
    snprintf(other, sizeof other, "%s/other-size.reel", argv[1]);
    snprintf(png, sizeof png, "%s/png", argv[1]);
    reel_recorder *rec = reel_recorder_open(cache, W, H, NULL);
    CHECK(rec != NULL);
    CHECK(reel_recorder_capture_gl(NULL) == -1);
    expect_error(rec, "no OpenGL context is current");

    egl_pbuffer egl;
    CHECK(egl_pbuffer_open(&egl, W, H) == 0);
    reel_recorder *wrong = reel_recorder_open(other, W + 1, H, NULL);
    CHECK(wrong != NULL);
    expect_error(wrong, "the current framebuffer is 64x48 but this recorder records 65x48");
    CHECK(reel_recorder_frames(wrong) == 0);
    CHECK(reel_recorder_finish(wrong, NULL) == 0);

    GLuint buffer, framebuffer, renderbuffer;
    set_odd_state(&buffer, &framebuffer, &renderbuffer);
    pack_state before = query_state();
    CHECK(before.pack_buffer == (GLint)buffer && before.read_framebuffer == (GLint)framebuffer);
    for (unsigned i = 0; i < FRAMES; i++) {
        draw(i, W, H);
        /* A pending error of the program's own, on every other frame, must still be pending. */
        if (i % 2 == 0) glEnable(0);
        CHECK(reel_recorder_capture_gl(rec) == 0);
        CHECK(reel_recorder_last_error(rec) == NULL);
        if (i % 2 == 0) CHECK(glGetError() == GL_INVALID_ENUM);
        CHECK(glGetError() == GL_NO_ERROR);
        check_state(&before);
        CHECK(eglSwapBuffers(egl.display, egl.surface));
    }
    CHECK(reel_recorder_frames(rec) == FRAMES);

    /* Reading from another surface than the one drawn to would not give the frame drawn. */
    EGLSurface small = pbuffer_like(&egl, 16, 16);
    CHECK(eglMakeCurrent(egl.display, egl.surface, small, egl.context));
    expect_error(rec, "reads from another surface than it draws to");
    CHECK(eglMakeCurrent(egl.display, egl.surface, egl.surface, egl.context));
    CHECK(eglDestroySurface(egl.display, small));
    CHECK(reel_recorder_frames(rec) == FRAMES);

    const char *extensions = eglQueryString(egl.display, EGL_EXTENSIONS);
    /* Mesa has it; a surfaceless current context has no default framebuffer. */
    CHECK(extensions && strstr(extensions, "EGL_KHR_surfaceless_context"));
    CHECK(eglMakeCurrent(egl.display, EGL_NO_SURFACE, EGL_NO_SURFACE, egl.context));
    glEnable(0); /* the program's pending error stays, and no error of ours is added */
    expect_error(rec, "no draw surface");
    CHECK(glGetError() == GL_INVALID_ENUM && glGetError() == GL_NO_ERROR);
    CHECK(eglMakeCurrent(egl.display, egl.surface, egl.surface, egl.context));
    /* The recorder is still usable. */
    draw(FRAMES, W, H);
    CHECK(reel_recorder_capture_gl(rec) == 0);
    CHECK(reel_recorder_frames(rec) == FRAMES + 1);
    check_state(&before);
    glDeleteFramebuffers(1, &framebuffer);
    glDeleteRenderbuffers(1, &renderbuffer);
    glDeleteBuffers(1, &buffer);
    egl_pbuffer_close(&egl);
    expect_error(rec, "no OpenGL context is current");
    CHECK(reel_recorder_frames(rec) == FRAMES + 1);
    CHECK(reel_recorder_finish(rec, NULL) == 0);

    export_pngs(cache, png);
    printf("capture_gl: ok\n");
    return 0;
}
