/* gl_frames.h: what the GL capture tests draw and check. Frame i is a colour of its own with a
 * white top-left quadrant (c_programs.rs's check_quadrant_frames decodes it); the state a capture
 * touches is queried before and after, and must not change. Needs <GLES3/gl3.h>, check.h and
 * egl_pbuffer.h. */
#ifndef GL_FRAMES_H
#define GL_FRAMES_H

/* Channel c of frame i's colour (the test's `frame_colour`). */
static inline unsigned colour(unsigned i, unsigned c) { return (i * 53 + c * 97 + 11) & 0xFF; }

static inline void draw(unsigned i, int w, int h) {
    glClearColor(colour(i, 0) / 255.0f, colour(i, 1) / 255.0f, colour(i, 2) / 255.0f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    /* The top-left quadrant (GL counts rows from the bottom). */
    glEnable(GL_SCISSOR_TEST);
    glScissor(0, h - h / 2, w / 2, h / 2);
    glClearColor(1.0f, 1.0f, 1.0f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    glDisable(GL_SCISSOR_TEST);
}

/* The state a capture touches, as glGet reports it. */
typedef struct {
    GLint pack_buffer, alignment, row_length, skip_rows, skip_pixels, read_framebuffer,
        draw_framebuffer, read_buffer;
} pack_state;

static inline pack_state query_state(void) {
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

static inline void check_state(const pack_state *before) {
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
static inline void set_odd_state(GLuint *buffer, GLuint *framebuffer, GLuint *renderbuffer) {
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

/* A width x height pbuffer of the context's config, to make current with it. */
static inline EGLSurface pbuffer_like(const egl_pbuffer *egl, int width, int height) {
    EGLint config_id = 0, configs = 0;
    CHECK(eglQueryContext(egl->display, egl->context, EGL_CONFIG_ID, &config_id));
    const EGLint attribs[] = {EGL_CONFIG_ID, config_id, EGL_NONE};
    EGLConfig config;
    CHECK(eglChooseConfig(egl->display, attribs, &config, 1, &configs) && configs == 1);
    const EGLint size[] = {EGL_WIDTH, width, EGL_HEIGHT, height, EGL_NONE};
    EGLSurface surface = eglCreatePbufferSurface(egl->display, config, size);
    CHECK(surface != EGL_NO_SURFACE);
    return surface;
}

#endif
