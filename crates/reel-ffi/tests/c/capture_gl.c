/* reel_recorder_capture_gl from a headless EGL program (ES 3 on a pbuffer): frames of known
 * content (a colour per frame, a white top-left quadrant) captured while the program holds odd
 * pack state, a bound pixel-pack buffer, a user read framebuffer and a pending GL error, all of
 * which must be as it was after each capture; then the errors: no current context, a context
 * without a surface, a recorder of another size. Exports the frames to PNGs for the test to
 * decode. argv[1]: a directory to work in. */
#include <time.h>

#include <GLES3/gl3.h>

#include "check.h"
#include "egl_pbuffer.h"
#include "reel.h"

enum { W = 64, H = 48, FRAMES = 5 };

/* Channel c of frame i's colour (the test's `frame_colour`). */
static unsigned colour(unsigned i, unsigned c) { return (i * 53 + c * 97 + 11) & 0xFF; }

static void draw(unsigned i) {
    glClearColor(colour(i, 0) / 255.0f, colour(i, 1) / 255.0f, colour(i, 2) / 255.0f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    /* The top-left quadrant (GL counts rows from the bottom). */
    glEnable(GL_SCISSOR_TEST);
    glScissor(0, H - H / 2, W / 2, H / 2);
    glClearColor(1.0f, 1.0f, 1.0f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    glDisable(GL_SCISSOR_TEST);
}

/* The state a capture touches, as glGet reports it. */
typedef struct {
    GLint pack_buffer, alignment, row_length, skip_rows, skip_pixels, read_framebuffer,
        draw_framebuffer, read_buffer;
} pack_state;

static pack_state query_state(void) {
    pack_state s;
    glGetIntegerv(GL_PIXEL_PACK_BUFFER_BINDING, &s.pack_buffer);
    glGetIntegerv(GL_PACK_ALIGNMENT, &s.alignment);
    glGetIntegerv(GL_PACK_ROW_LENGTH, &s.row_length);
    glGetIntegerv(GL_PACK_SKIP_ROWS, &s.skip_rows);
    glGetIntegerv(GL_PACK_SKIP_PIXELS, &s.skip_pixels);
    glGetIntegerv(GL_READ_FRAMEBUFFER_BINDING, &s.read_framebuffer);
    glGetIntegerv(GL_DRAW_FRAMEBUFFER_BINDING, &s.draw_framebuffer);
    glGetIntegerv(GL_READ_BUFFER, &s.read_buffer);
    return s;
}

static void check_state(const pack_state *before) {
    pack_state after = query_state();
    CHECK(after.pack_buffer == before->pack_buffer);
    CHECK(after.alignment == before->alignment);
    CHECK(after.row_length == before->row_length);
    CHECK(after.skip_rows == before->skip_rows);
    CHECK(after.skip_pixels == before->skip_pixels);
    CHECK(after.read_framebuffer == before->read_framebuffer);
    CHECK(after.draw_framebuffer == before->draw_framebuffer);
    CHECK(after.read_buffer == before->read_buffer);
}

/* Sets state unlike the defaults: a pixel-pack buffer, odd pack parameters, a user framebuffer
 * bound for reading (drawing still goes to the default one). */
static void set_odd_state(GLuint *buffer, GLuint *framebuffer, GLuint *renderbuffer) {
    glGenBuffers(1, buffer);
    glBindBuffer(GL_PIXEL_PACK_BUFFER, *buffer);
    glBufferData(GL_PIXEL_PACK_BUFFER, 1 << 20, NULL, GL_STREAM_READ);
    glPixelStorei(GL_PACK_ALIGNMENT, 2);
    glPixelStorei(GL_PACK_ROW_LENGTH, 100);
    glPixelStorei(GL_PACK_SKIP_ROWS, 3);
    glPixelStorei(GL_PACK_SKIP_PIXELS, 5);
    glGenRenderbuffers(1, renderbuffer);
    glBindRenderbuffer(GL_RENDERBUFFER, *renderbuffer);
    glRenderbufferStorage(GL_RENDERBUFFER, GL_RGBA8, 8, 8);
    glGenFramebuffers(1, framebuffer);
    glBindFramebuffer(GL_READ_FRAMEBUFFER, *framebuffer);
    glFramebufferRenderbuffer(GL_READ_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER,
                              *renderbuffer);
    CHECK(glCheckFramebufferStatus(GL_READ_FRAMEBUFFER) == GL_FRAMEBUFFER_COMPLETE);
    CHECK(glGetError() == GL_NO_ERROR);
}

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
    CHECK(done == FRAMES && total == FRAMES);
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
        draw(i);
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

    const char *extensions = eglQueryString(egl.display, EGL_EXTENSIONS);
    if (extensions && strstr(extensions, "EGL_KHR_surfaceless_context")) {
        CHECK(eglMakeCurrent(egl.display, EGL_NO_SURFACE, EGL_NO_SURFACE, egl.context));
        expect_error(rec, "no draw surface");
        CHECK(eglMakeCurrent(egl.display, egl.surface, egl.surface, egl.context));
    }
    glDeleteFramebuffers(1, &framebuffer);
    glDeleteRenderbuffers(1, &renderbuffer);
    glDeleteBuffers(1, &buffer);
    egl_pbuffer_close(&egl);
    expect_error(rec, "no OpenGL context is current");
    CHECK(reel_recorder_frames(rec) == FRAMES);
    CHECK(reel_recorder_finish(rec, NULL) == 0);

    export_pngs(cache, png);
    printf("capture_gl: ok\n");
    return 0;
}
