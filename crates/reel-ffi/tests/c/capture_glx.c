/* reel_recorder_capture_gl from a GLX program: a 64x48 X window (the test runs an Xvfb of its
 * own), frames of known content (a colour per frame, a white top-left quadrant) captured while
 * the program holds odd pack state and a pending GL error, all of which must be as it was after
 * each capture; a recorder of another size, the context current without a drawable and no
 * current context are errors. Exports the frames to PNGs for the test to decode. argv[1]: a
 * directory to work in; argv[2], optional: "ring" to force the pixel-buffer-object ring (each
 * frame stored a capture later, the last one by reel_recorder_flush_gl while the context is
 * current without a drawable), or "no-ring" on a context without fences (see below). */
#include <string.h>
#include <time.h>

#include <GL/gl.h>
#include <GL/glx.h>
#include <X11/Xlib.h>

#include "check.h"
#include "reel.h"

enum { W = 64, H = 48, FRAMES = 4 };

/* Channel c of frame i's colour (as in capture_gl.c). */
static unsigned colour(unsigned i, unsigned c) { return (i * 53 + c * 97 + 11) & 0xFF; }

static void draw(unsigned i) {
    glClearColor(colour(i, 0) / 255.0f, colour(i, 1) / 255.0f, colour(i, 2) / 255.0f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    glEnable(GL_SCISSOR_TEST);
    glScissor(0, H - H / 2, W / 2, H / 2);
    glClearColor(1.0f, 1.0f, 1.0f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    glDisable(GL_SCISSOR_TEST);
}

static void expect_error(reel_recorder *rec, const char *words) {
    CHECK(reel_recorder_capture_gl(rec) == -1);
    const char *message = reel_recorder_last_error(rec);
    CHECK(message != NULL);
    printf("capture_glx error: %s\n", message);
    CHECK(strstr(message, words) != NULL);
}

int main(int argc, char **argv) {
    CHECK(argc == 2 || argc == 3);
    int ring = argc == 3 && strcmp(argv[2], "ring") == 0;
    /* "no-ring": the test runs this on an OpenGL 3.0 (MESA_GL_VERSION_OVERRIDE), without fences. */
    int no_ring = argc == 3 && strcmp(argv[2], "no-ring") == 0;
    char cache[4096], other[4096], png[4096];
    snprintf(cache, sizeof cache, "%s/glx.reel", argv[1]);
    snprintf(other, sizeof other, "%s/other-size.reel", argv[1]);
    snprintf(png, sizeof png, "%s/png", argv[1]);

    Display *dpy = XOpenDisplay(NULL);
    CHECK(dpy != NULL);
    int attribs[] = {GLX_RGBA, GLX_DOUBLEBUFFER, GLX_RED_SIZE, 8, GLX_GREEN_SIZE, 8,
                     GLX_BLUE_SIZE, 8, None};
    XVisualInfo *visual = glXChooseVisual(dpy, DefaultScreen(dpy), attribs);
    CHECK(visual != NULL);
    XSetWindowAttributes wa;
    memset(&wa, 0, sizeof wa);
    wa.colormap = XCreateColormap(dpy, RootWindow(dpy, visual->screen), visual->visual, AllocNone);
    Window window = XCreateWindow(dpy, RootWindow(dpy, visual->screen), 0, 0, W, H, 0,
                                  visual->depth, InputOutput, visual->visual, CWColormap, &wa);
    XMapWindow(dpy, window);
    GLXContext context = glXCreateContext(dpy, visual, NULL, True);
    CHECK(context != NULL);

    reel_recorder *rec = reel_recorder_open(cache, W, H, NULL);
    CHECK(rec != NULL);
    CHECK(reel_recorder_set_readback(rec, ring ? REEL_READBACK_PBO_RING : REEL_READBACK_SYNC) == 0);
    expect_error(rec, "no OpenGL context is current");
    CHECK(glXMakeCurrent(dpy, window, context));
    reel_recorder *wrong = reel_recorder_open(other, W, H + 1, NULL);
    CHECK(wrong != NULL);
    expect_error(wrong, "the current framebuffer is 64x48 but this recorder records 64x49");
    CHECK(reel_recorder_finish(wrong, NULL) == 0);

    if (no_ring) {
        /* The ring asked of a context without it: refused, nothing left in GL; AUTO reads
         * synchronously there. */
        CHECK(reel_recorder_set_readback(rec, REEL_READBACK_PBO_RING) == 0);
        draw(0);
        glEnable(0);
        expect_error(rec, "no pixel-buffer objects with fences");
        CHECK(glGetError() == GL_INVALID_ENUM && glGetError() == GL_NO_ERROR);
        CHECK(reel_recorder_frames(rec) == 0);
        CHECK(reel_recorder_set_readback(rec, REEL_READBACK_AUTO) == 0);
    }
    glPixelStorei(GL_PACK_ALIGNMENT, 8);
    glPixelStorei(GL_PACK_ROW_LENGTH, 70);
    glPixelStorei(GL_PACK_SKIP_ROWS, 2);
    glPixelStorei(GL_PACK_SKIP_PIXELS, 1);
    glReadBuffer(GL_FRONT);
    for (unsigned i = 0; i < FRAMES; i++) {
        draw(i);
        glEnable(0); /* a pending error of the program's own */
        CHECK(reel_recorder_capture_gl(rec) == 0);
        CHECK(glGetError() == GL_INVALID_ENUM);
        CHECK(glGetError() == GL_NO_ERROR);
        GLint v;
        glGetIntegerv(GL_PACK_ALIGNMENT, &v);
        CHECK(v == 8);
        glGetIntegerv(GL_PACK_ROW_LENGTH, &v);
        CHECK(v == 70);
        glGetIntegerv(GL_PACK_SKIP_ROWS, &v);
        CHECK(v == 2);
        glGetIntegerv(GL_PACK_SKIP_PIXELS, &v);
        CHECK(v == 1);
        glGetIntegerv(GL_READ_BUFFER, &v);
        CHECK(v == GL_FRONT);
        CHECK(reel_recorder_frames(rec) == (ring ? i : i + 1));
        CHECK(reel_recorder_frames_in_flight(rec) == (ring ? 1 : 0));
        glXSwapBuffers(dpy, window);
    }
    /* Current without a drawable (GLX_ARB_create_context allows it): nothing to read, but the
     * ring's buffers are the context's, so it flushes. */
    CHECK(glXMakeContextCurrent(dpy, None, None, context));
    expect_error(rec, "no draw surface");
    CHECK(reel_recorder_flush_gl(rec) == 0);
    CHECK(reel_recorder_frames(rec) == FRAMES && reel_recorder_frames_in_flight(rec) == 0);
    CHECK(glXMakeCurrent(dpy, None, NULL));
    expect_error(rec, "no OpenGL context is current");
    CHECK(reel_recorder_finish(rec, NULL) == 0);
    glXDestroyContext(dpy, context);
    XDestroyWindow(dpy, window);
    XFree(visual);
    XCloseDisplay(dpy);

    reel_export_options options;
    memset(&options, 0, sizeof options);
    options.png_dir = png;
    reel_export *exp = reel_export_start(cache, &options, NULL);
    CHECK(exp != NULL);
    CHECK(reel_export_wait(exp, NULL) == 0);
    printf("capture_glx: ok\n");
    return 0;
}
