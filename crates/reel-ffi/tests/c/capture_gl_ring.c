/* reel_recorder_capture_gl with the pixel-buffer-object ring forced (REEL_READBACK_PBO_RING) on a
 * headless EGL program (ES 3 on a pbuffer), while the program holds odd pack state, a bound
 * pixel-pack buffer, a user read framebuffer and pending GL errors of each restorable kind, all
 * of which must be as they were after every call. Checks that each frame is stored one capture
 * later, that switching to REEL_READBACK_SYNC stores the frame in flight first, that a capture
 * of a surface of another size, or from another context, is refused while frames are in flight
 * (the latter works after reel_recorder_flush_gl), that reel_recorder_append_rgba stores the frame
 * in flight first, that the ring flushes with its context current without a surface, and that
 * reel_recorder_finish stores the last frame. A second recorder loses a frame on purpose: with
 * no context current, flush and append are refused and finish says so. Exports the frames to PNGs
 * for the test to decode. argv[1]: a directory to work in. */
#include <time.h>

#include <GLES3/gl3.h>

#include "check.h"
#include "egl_pbuffer.h"
#include "gl_frames.h"
#include "reel.h"

enum { W = 64, H = 48, FRAMES = 11 };

static void expect_error(int result, reel_recorder *rec, const char *words) {
    CHECK(result == -1);
    const char *message = reel_recorder_last_error(rec);
    CHECK(message != NULL);
    printf("capture_gl_ring error: %s\n", message);
    CHECK(strstr(message, words) != NULL);
}

/* Makes error `kind` pending as a program would (0: none). */
static void raise_program_error(unsigned kind) {
    unsigned char scratch[16];
    switch (kind) {
    case GL_INVALID_ENUM: glEnable(0); break;
    case GL_INVALID_VALUE: glPixelStorei(GL_PACK_ALIGNMENT, 3); break;
    /* 5-6-5 pixels only come as RGB (checked before the bound pack buffer is touched). */
    case GL_INVALID_OPERATION:
        glReadPixels(0, 0, 1, 1, GL_RGBA, GL_UNSIGNED_SHORT_5_6_5, scratch);
        break;
    /* Clearing a framebuffer object without attachments. */
    case GL_INVALID_FRAMEBUFFER_OPERATION: {
        GLuint incomplete;
        glGenFramebuffers(1, &incomplete);
        glBindFramebuffer(GL_DRAW_FRAMEBUFFER, incomplete);
        glClear(GL_COLOR_BUFFER_BIT);
        glBindFramebuffer(GL_DRAW_FRAMEBUFFER, 0);
        glDeleteFramebuffers(1, &incomplete);
        break;
    }
    default: break;
    }
}

static const GLenum kinds[] = {GL_INVALID_ENUM, GL_INVALID_VALUE, GL_INVALID_OPERATION,
                               GL_INVALID_FRAMEBUFFER_OPERATION, 0};

/* Draws frame i and captures it with a pending error of the program's, which must still be the
 * only one pending afterwards, and the state `before` unchanged. */
static int draw_and_capture(reel_recorder *rec, unsigned i, const pack_state *before) {
    draw(i, W, H);
    GLenum kind = kinds[i % 5];
    raise_program_error(kind);
    int result = reel_recorder_capture_gl(rec);
    CHECK(glGetError() == kind);
    CHECK(glGetError() == GL_NO_ERROR);
    check_state(before);
    return result;
}

static void export_pngs(const char *cache, const char *dir, uint64_t frames) {
    reel_export_options options;
    memset(&options, 0, sizeof options);
    options.png_dir = dir;
    char *error = NULL;
    reel_export *exp = reel_export_start(cache, &options, &error);
    CHECK(exp != NULL);
    CHECK(reel_export_wait(exp, &error) == 0);
    printf("exported %llu frames\n", (unsigned long long)frames);
}

/* A recorder whose frame in flight cannot be stored: its context is not current at finish. */
static void lose_a_frame(const char *cache, egl_pbuffer *egl, const pack_state *before) {
    reel_recorder *rec = reel_recorder_open(cache, W, H, NULL);
    CHECK(rec != NULL);
    CHECK(reel_recorder_set_readback(rec, REEL_READBACK_PBO_RING) == 0);
    CHECK(draw_and_capture(rec, 0, before) == 0);
    CHECK(draw_and_capture(rec, 1, before) == 0);
    CHECK(reel_recorder_frames(rec) == 1 && reel_recorder_frames_in_flight(rec) == 1);
    CHECK(eglMakeCurrent(egl->display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT));
    expect_error(reel_recorder_flush_gl(rec), rec, "not current on this thread");
    static const unsigned char pixel[W * H * 4];
    expect_error(reel_recorder_append_rgba(rec, pixel, W * 4, 1), rec, "not current on this thread");
    CHECK(reel_recorder_frames(rec) == 1 && reel_recorder_frames_in_flight(rec) == 1);
    char *error = NULL;
    CHECK(reel_recorder_finish(rec, &error) == -1);
    CHECK(error != NULL);
    printf("capture_gl_ring finish error: %s\n", error);
    CHECK(strstr(error, "1 frame(s) captured through the pixel-buffer ring were lost") != NULL);
    CHECK(strstr(error, "keeps the 1 frames") != NULL);
    reel_string_free(error);
    CHECK(eglMakeCurrent(egl->display, egl->surface, egl->surface, egl->context));
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    char cache[4096], lost[4096], png[4096];
    snprintf(cache, sizeof cache, "%s/ring.reel", argv[1]);
    snprintf(lost, sizeof lost, "%s/lost.reel", argv[1]);
    snprintf(png, sizeof png, "%s/png", argv[1]);
    reel_recorder *rec = reel_recorder_open(cache, W, H, NULL);
    CHECK(rec != NULL);
    CHECK(reel_recorder_set_readback(NULL, REEL_READBACK_SYNC) == -1);
    expect_error(reel_recorder_set_readback(rec, 7), rec, "readback mode 7 is unknown");
    CHECK(reel_recorder_set_readback(rec, REEL_READBACK_PBO_RING) == 0);
    CHECK(reel_recorder_frames_in_flight(NULL) == 0);

    egl_pbuffer egl, other;
    CHECK(egl_pbuffer_open(&other, W, H) == 0);
    CHECK(egl_pbuffer_open(&egl, W, H) == 0);
    GLuint buffer, framebuffer, renderbuffer;
    set_odd_state(&buffer, &framebuffer, &renderbuffer);
    pack_state before = query_state();

    /* Frames 0-3 through the ring: each is stored one capture later. */
    unsigned i = 0;
    for (; i < 4; i++) {
        CHECK(draw_and_capture(rec, i, &before) == 0);
        CHECK(reel_recorder_last_error(rec) == NULL);
        CHECK(reel_recorder_frames(rec) == i && reel_recorder_frames_in_flight(rec) == 1);
        CHECK(eglSwapBuffers(egl.display, egl.surface));
    }
    /* The drawable's size changes: refused, frame 3 stays in flight. */
    EGLSurface larger = pbuffer_like(&egl, W + 16, H + 12);
    CHECK(eglMakeCurrent(egl.display, larger, larger, egl.context));
    draw(98, W + 16, H + 12);
    expect_error(reel_recorder_capture_gl(rec), rec, "is 80x60 but this recorder records 64x48");
    CHECK(reel_recorder_frames(rec) == 3 && reel_recorder_frames_in_flight(rec) == 1);
    CHECK(eglMakeCurrent(egl.display, egl.surface, egl.surface, egl.context));
    CHECK(eglDestroySurface(egl.display, larger));
    check_state(&before);
    /* Another context may not overtake frame 3, in this context's ring. */
    CHECK(eglMakeCurrent(other.display, other.surface, other.surface, other.context));
    draw(99, W, H);
    expect_error(reel_recorder_capture_gl(rec), rec, "not current on this thread");
    CHECK(eglMakeCurrent(egl.display, egl.surface, egl.surface, egl.context));
    CHECK(reel_recorder_frames(rec) == 3 && reel_recorder_frames_in_flight(rec) == 1);

    /* Frame 4 synchronously: frame 3 is stored first. */
    CHECK(reel_recorder_set_readback(rec, REEL_READBACK_SYNC) == 0);
    CHECK(draw_and_capture(rec, i++, &before) == 0);
    CHECK(reel_recorder_frames(rec) == 5 && reel_recorder_frames_in_flight(rec) == 0);

    /* Frames 5-6 through the ring again, flushed explicitly. */
    CHECK(reel_recorder_set_readback(rec, REEL_READBACK_PBO_RING) == 0);
    CHECK(draw_and_capture(rec, i++, &before) == 0);
    CHECK(draw_and_capture(rec, i++, &before) == 0);
    CHECK(reel_recorder_frames(rec) == 6 && reel_recorder_frames_in_flight(rec) == 1);
    glEnable(0);
    CHECK(reel_recorder_flush_gl(rec) == 0);
    CHECK(glGetError() == GL_INVALID_ENUM && glGetError() == GL_NO_ERROR);
    check_state(&before);
    CHECK(reel_recorder_frames(rec) == 7 && reel_recorder_frames_in_flight(rec) == 0);

    /* Frame 7 in the other context (its own ring, after the flush), frame 8 back in this one. */
    CHECK(eglMakeCurrent(other.display, other.surface, other.surface, other.context));
    draw(i, W, H);
    CHECK(reel_recorder_capture_gl(rec) == 0);
    i++;
    CHECK(reel_recorder_flush_gl(rec) == 0);
    CHECK(eglMakeCurrent(egl.display, egl.surface, egl.surface, egl.context));
    CHECK(draw_and_capture(rec, i++, &before) == 0);
    CHECK(reel_recorder_frames(rec) == 8 && reel_recorder_frames_in_flight(rec) == 1);

    /* Frame 9 appended from memory: frame 8, in flight, is stored first. */
    static unsigned char pixels[H][W][4];
    for (unsigned y = 0; y < H; y++)
        for (unsigned x = 0; x < W; x++)
            for (unsigned c = 0; c < 4; c++)
                pixels[y][x][c] = (x < W / 2 && y < H / 2) || c == 3 ? 255 : colour(i, c);
    CHECK(reel_recorder_append_rgba(rec, pixels, W * 4, 0) == 0);
    i++;
    CHECK(reel_recorder_frames(rec) == 10 && reel_recorder_frames_in_flight(rec) == 0);
    CHECK(draw_and_capture(rec, i++, &before) == 0);
    CHECK(reel_recorder_frames(rec) == 10 && reel_recorder_frames_in_flight(rec) == 1);
    CHECK(i == FRAMES);

    /* Without a surface the context has no framebuffer to read, but its ring still flushes. */
    const char *extensions = eglQueryString(egl.display, EGL_EXTENSIONS);
    CHECK(extensions && strstr(extensions, "EGL_KHR_surfaceless_context"));
    CHECK(eglMakeCurrent(egl.display, EGL_NO_SURFACE, EGL_NO_SURFACE, egl.context));
    expect_error(reel_recorder_capture_gl(rec), rec, "no draw surface");
    CHECK(reel_recorder_frames_in_flight(rec) == 1);
    char *error = NULL;
    CHECK(reel_recorder_finish(rec, &error) == 0);
    CHECK(error == NULL);
    CHECK(eglMakeCurrent(egl.display, egl.surface, egl.surface, egl.context));
    check_state(&before);

    lose_a_frame(lost, &egl, &before);

    glDeleteFramebuffers(1, &framebuffer);
    glDeleteRenderbuffers(1, &renderbuffer);
    glDeleteBuffers(1, &buffer);
    egl_pbuffer_close(&egl);
    egl_pbuffer_close(&other);
    export_pngs(cache, png, FRAMES);
    printf("capture_gl_ring: ok\n");
    return 0;
}
