/* A small OpenGL program for `reel capture`'s tests: frame n is cleared to the colour
 * (n % 256, n / 256 % 256, 77) with a white band over its top quarter, so a capture shows which
 * frame it holds and which way up. Before every swap it leaves unusual GL state behind (pack
 * alignment, row length and skips, a bound pixel-pack buffer full of a pattern, a user read
 * framebuffer with its own read buffer, the default framebuffer's read buffer, a pending GL
 * error) and after the swap it checks that all of it is exactly as it left it; any difference is
 * reported and the program exits with status 3.
 *
 * Usage: frame_counter FRAMES [EXIT_STATUS [RESIZE_AT_FRAME [SECOND_WINDOW [SWAP]]]]
 * With SECOND_WINDOW = 1 (GLX builds), every frame also clears and swaps a second window (all
 * black) after the first one's swap. A RESIZE_AT_FRAME of -1 means no resize. SWAP = oml (GLX
 * builds) swaps with glXSwapBuffersMscOML, found with glXGetProcAddressARB.
 * With FRAME_COUNTER_TEARDOWN=1 in the environment, the program releases its context, destroys
 * it and closes its display before it exits (otherwise it exits with the context current). 
 * Built three ways (see tests/capture_programs.rs):
 *   -DGLX_DIRECT  GLX, linked against libGL, calling glXSwapBuffers directly;
 *   -DGLX_DLSYM   GLX, libGL opened with dlopen and every function found with dlsym;
 *   -DEGL_DLOPEN  EGL (OpenGL ES 3), libEGL opened with dlopen + dlsym, GL through
 *                 eglGetProcAddress.
 * The window is 64x48; with RESIZE_AT_FRAME it becomes 80x40 before that frame. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>

#define GL_GLEXT_PROTOTYPES 0
#include <GL/gl.h>
#include <GL/glext.h>
#if defined(EGL_DLOPEN)
#include <EGL/egl.h>
#else
#include <GL/glx.h>
#endif

#define W 64
#define H 48
#define W2 80
#define H2 40
#define PBO_SIZE 4096
#define PATTERN 0xAB

typedef void (*fn_t)(void);
static fn_t (*get_proc)(const char *);

#define GLFN(ret, name, args) static ret(*p_##name) args;
GLFN(void, glClearColor, (GLfloat, GLfloat, GLfloat, GLfloat))
GLFN(void, glClear, (GLbitfield))
GLFN(void, glEnable, (GLenum))
GLFN(void, glDisable, (GLenum))
GLFN(void, glScissor, (GLint, GLint, GLsizei, GLsizei))
GLFN(void, glViewport, (GLint, GLint, GLsizei, GLsizei))
GLFN(void, glPixelStorei, (GLenum, GLint))
GLFN(void, glGetIntegerv, (GLenum, GLint *))
GLFN(GLenum, glGetError, (void))
GLFN(void, glReadPixels, (GLint, GLint, GLsizei, GLsizei, GLenum, GLenum, void *))
GLFN(void, glReadBuffer, (GLenum))
GLFN(void, glGenBuffers, (GLsizei, GLuint *))
GLFN(void, glBindBuffer, (GLenum, GLuint))
GLFN(void, glBufferData, (GLenum, GLsizeiptr, const void *, GLenum))
GLFN(void *, glMapBufferRange, (GLenum, GLintptr, GLsizeiptr, GLbitfield))
GLFN(GLboolean, glUnmapBuffer, (GLenum))
GLFN(void, glGenFramebuffers, (GLsizei, GLuint *))
GLFN(void, glBindFramebuffer, (GLenum, GLuint))
GLFN(void, glGenRenderbuffers, (GLsizei, GLuint *))
GLFN(void, glBindRenderbuffer, (GLenum, GLuint))
GLFN(void, glRenderbufferStorage, (GLenum, GLenum, GLsizei, GLsizei))
GLFN(void, glFramebufferRenderbuffer, (GLenum, GLenum, GLenum, GLuint))

static void *must(void *p, const char *name) {
    if (!p) {
        fprintf(stderr, "frame_counter: %s not found\n", name);
        exit(2);
    }
    return p;
}

#define LOAD_GL(name) p_##name = (void *)must((void *)get_proc(#name), #name)

static void load_gl(void) {
    LOAD_GL(glClearColor); LOAD_GL(glClear); LOAD_GL(glEnable); LOAD_GL(glDisable);
    LOAD_GL(glScissor); LOAD_GL(glViewport); LOAD_GL(glPixelStorei); LOAD_GL(glGetIntegerv);
    LOAD_GL(glGetError); LOAD_GL(glReadPixels); LOAD_GL(glReadBuffer); LOAD_GL(glGenBuffers);
    LOAD_GL(glBindBuffer); LOAD_GL(glBufferData); LOAD_GL(glMapBufferRange);
    LOAD_GL(glUnmapBuffer); LOAD_GL(glGenFramebuffers); LOAD_GL(glBindFramebuffer);
    LOAD_GL(glGenRenderbuffers); LOAD_GL(glBindRenderbuffer); LOAD_GL(glRenderbufferStorage);
    LOAD_GL(glFramebufferRenderbuffer);
}

static GLuint pbo, fbo; /* the pixel-pack buffer and read framebuffer left bound */

/* ---- the window system: three ways of reaching the swap ---- */
static Display *dpy;
static Window win;
static void (*swap)(void);

#if defined(EGL_DLOPEN)
static EGLDisplay edpy;
static EGLSurface esurf;
static EGLContext ectx;
static void *egl_lib;
static EGLBoolean (*p_eglSwapBuffers)(EGLDisplay, EGLSurface);
static void egl_swap(void) { p_eglSwapBuffers(edpy, esurf); }
static fn_t (*p_eglGetProcAddress)(const char *);
static fn_t egl_get_proc(const char *name) { return p_eglGetProcAddress(name); }

static void open_window_system(Visual **visual, int *depth) {
    *visual = DefaultVisual(dpy, DefaultScreen(dpy));
    *depth = DefaultDepth(dpy, DefaultScreen(dpy));
}

static void make_context(void) {
    void *egl = must(dlopen("libEGL.so.1", RTLD_NOW | RTLD_LOCAL), "libEGL.so.1");
#define EGLFN(ret, name, args) ret(*name) args = must(dlsym(egl, #name), #name);
    EGLFN(EGLDisplay, eglGetDisplay, (EGLNativeDisplayType))
    EGLFN(EGLBoolean, eglInitialize, (EGLDisplay, EGLint *, EGLint *))
    EGLFN(EGLBoolean, eglBindAPI, (EGLenum))
    EGLFN(EGLBoolean, eglChooseConfig, (EGLDisplay, const EGLint *, EGLConfig *, EGLint, EGLint *))
    EGLFN(EGLSurface, eglCreateWindowSurface, (EGLDisplay, EGLConfig, EGLNativeWindowType, const EGLint *))
    EGLFN(EGLContext, eglCreateContext, (EGLDisplay, EGLConfig, EGLContext, const EGLint *))
    EGLFN(EGLBoolean, eglMakeCurrent, (EGLDisplay, EGLSurface, EGLSurface, EGLContext))
    p_eglSwapBuffers = must(dlsym(egl, "eglSwapBuffers"), "eglSwapBuffers");
    p_eglGetProcAddress = must(dlsym(egl, "eglGetProcAddress"), "eglGetProcAddress");
    edpy = eglGetDisplay((EGLNativeDisplayType)dpy);
    if (!eglInitialize(edpy, NULL, NULL) || !eglBindAPI(EGL_OPENGL_ES_API)) exit(2);
    const EGLint attrs[] = {EGL_SURFACE_TYPE, EGL_WINDOW_BIT, EGL_RENDERABLE_TYPE, EGL_OPENGL_ES3_BIT,
                            EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8, EGL_BLUE_SIZE, 8, EGL_NONE};
    EGLConfig config;
    EGLint n = 0;
    if (!eglChooseConfig(edpy, attrs, &config, 1, &n) || n < 1) exit(2);
    esurf = eglCreateWindowSurface(edpy, config, (EGLNativeWindowType)win, NULL);
    const EGLint ctx_attrs[] = {EGL_CONTEXT_MAJOR_VERSION, 3, EGL_NONE};
    EGLContext ctx = eglCreateContext(edpy, config, EGL_NO_CONTEXT, ctx_attrs);
    if (!esurf || !ctx || !eglMakeCurrent(edpy, esurf, esurf, ctx)) exit(2);
    swap = egl_swap;
    get_proc = egl_get_proc;
    egl_lib = egl;
    ectx = ctx;
}

static void teardown(void) {
    EGLBoolean (*make_current)(EGLDisplay, EGLSurface, EGLSurface, EGLContext) = must(dlsym(egl_lib, "eglMakeCurrent"), "eglMakeCurrent");
    EGLBoolean (*destroy)(EGLDisplay, EGLContext) = must(dlsym(egl_lib, "eglDestroyContext"), "eglDestroyContext");
    EGLBoolean (*terminate)(EGLDisplay) = must(dlsym(egl_lib, "eglTerminate"), "eglTerminate");
    make_current(edpy, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
    destroy(edpy, ectx);
    terminate(edpy);
    XCloseDisplay(dpy);
}
#define DEFAULT_READ_BUFFER GL_NONE /* ES 3 allows only BACK or NONE here */
#else
static XVisualInfo *vi;
static void (*p_glXSwapBuffers)(Display *, GLXDrawable);
static fn_t (*p_glXGetProcAddressARB)(const GLubyte *);
static void glx_swap(void) { p_glXSwapBuffers(dpy, win); }
static int64_t (*p_glXSwapBuffersMscOML)(Display *, GLXDrawable, int64_t, int64_t, int64_t);
static void glx_swap_oml(void) { p_glXSwapBuffersMscOML(dpy, win, 0, 0, 0); }
static GLXContext glx_ctx;
static Bool (*p_glXMakeCurrent)(Display *, GLXDrawable, GLXContext);
static fn_t glx_get_proc(const char *name) { return p_glXGetProcAddressARB((const GLubyte *)name); }
#if defined(GLX_DIRECT)
#define GLXFN(ret, name, args) ret(*f_##name) args = name;
#define GLX_SYM(name) ((void *)name)
#else
static void *libgl;
#define GLXFN(ret, name, args) ret(*f_##name) args = must(dlsym(libgl, #name), #name);
#define GLX_SYM(name) must(dlsym(libgl, #name), #name)
#endif

static void open_window_system(Visual **visual, int *depth) {
#if !defined(GLX_DIRECT)
    libgl = must(dlopen("libGL.so.1", RTLD_NOW | RTLD_LOCAL), "libGL.so.1");
#endif
    GLXFN(XVisualInfo *, glXChooseVisual, (Display *, int, int *))
    int attrs[] = {GLX_RGBA, GLX_DOUBLEBUFFER, GLX_RED_SIZE, 8, GLX_GREEN_SIZE, 8, GLX_BLUE_SIZE, 8, None};
    vi = must(f_glXChooseVisual(dpy, DefaultScreen(dpy), attrs), "a double-buffered RGB visual");
    *visual = vi->visual;
    *depth = vi->depth;
}

static void make_context(void) {
    GLXFN(GLXContext, glXCreateContext, (Display *, XVisualInfo *, GLXContext, Bool))
    GLXFN(Bool, glXMakeCurrent, (Display *, GLXDrawable, GLXContext))
    p_glXSwapBuffers = GLX_SYM(glXSwapBuffers);
    p_glXGetProcAddressARB = GLX_SYM(glXGetProcAddressARB);
    GLXContext ctx = f_glXCreateContext(dpy, vi, NULL, True);
    if (!ctx || !f_glXMakeCurrent(dpy, win, ctx)) exit(2);
    glx_ctx = ctx;
    p_glXMakeCurrent = f_glXMakeCurrent;
    swap = glx_swap;
    get_proc = glx_get_proc;
}

static void teardown(void) {
    GLXFN(void, glXDestroyContext, (Display *, GLXContext))
    p_glXMakeCurrent(dpy, None, NULL);
    f_glXDestroyContext(dpy, glx_ctx);
    XCloseDisplay(dpy);
}
#define DEFAULT_READ_BUFFER GL_FRONT
#endif

/* ---- the state the capture must not change ---- */

static void leave_unusual_state(void) {
    unsigned char pattern[PBO_SIZE];
    memset(pattern, PATTERN, sizeof pattern);
    p_glGenBuffers(1, &pbo);
    p_glBindBuffer(GL_PIXEL_PACK_BUFFER, pbo);
    p_glBufferData(GL_PIXEL_PACK_BUFFER, PBO_SIZE, pattern, GL_STREAM_READ);
    p_glPixelStorei(GL_PACK_ALIGNMENT, 2);
    p_glPixelStorei(GL_PACK_ROW_LENGTH, 13);
    p_glPixelStorei(GL_PACK_SKIP_ROWS, 3);
    p_glPixelStorei(GL_PACK_SKIP_PIXELS, 5);
    p_glReadBuffer(DEFAULT_READ_BUFFER);
    GLuint rb;
    p_glGenRenderbuffers(1, &rb);
    p_glBindRenderbuffer(GL_RENDERBUFFER, rb);
    p_glRenderbufferStorage(GL_RENDERBUFFER, GL_RGBA8, 16, 16);
    p_glGenFramebuffers(1, &fbo);
    p_glBindFramebuffer(GL_READ_FRAMEBUFFER, fbo);
    p_glFramebufferRenderbuffer(GL_READ_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, rb);
    p_glReadBuffer(GL_COLOR_ATTACHMENT0);
}

static int failures;

static void expect_int(int frame, const char *what, GLenum name, GLint want) {
    GLint got = -1;
    p_glGetIntegerv(name, &got);
    if (got != want) {
        fprintf(stderr, "frame_counter: frame %d: %s changed across the swap: %d, now %d\n", frame, what, want, got);
        failures++;
    }
}

/* Leaves error `kind` pending before the swap (0: none). */
static GLenum raise_error(int frame) {
    switch (frame % 4) {
    case 1: p_glPixelStorei(0x1234, 1); return GL_INVALID_ENUM;
    case 2: p_glPixelStorei(GL_PACK_ALIGNMENT, 3); return GL_INVALID_VALUE;
    case 3: p_glReadPixels(0, 0, 1, 1, GL_RGBA, GL_UNSIGNED_SHORT_5_6_5, 0); return GL_INVALID_OPERATION;
    default: return GL_NO_ERROR;
    }
}

static void check_state(int frame, GLenum pending) {
    GLenum e = p_glGetError();
    if (e != pending) {
        fprintf(stderr, "frame_counter: frame %d: pending GL error %#x became %#x across the swap\n", frame, pending, e);
        failures++;
    }
    expect_int(frame, "GL_PACK_ALIGNMENT", GL_PACK_ALIGNMENT, 2);
    expect_int(frame, "GL_PACK_ROW_LENGTH", GL_PACK_ROW_LENGTH, 13);
    expect_int(frame, "GL_PACK_SKIP_ROWS", GL_PACK_SKIP_ROWS, 3);
    expect_int(frame, "GL_PACK_SKIP_PIXELS", GL_PACK_SKIP_PIXELS, 5);
    expect_int(frame, "GL_PIXEL_PACK_BUFFER_BINDING", GL_PIXEL_PACK_BUFFER_BINDING, (GLint)pbo);
    expect_int(frame, "GL_READ_FRAMEBUFFER_BINDING", GL_READ_FRAMEBUFFER_BINDING, (GLint)fbo);
    expect_int(frame, "the read framebuffer's GL_READ_BUFFER", GL_READ_BUFFER, GL_COLOR_ATTACHMENT0);
    const unsigned char *mapped = p_glMapBufferRange(GL_PIXEL_PACK_BUFFER, 0, PBO_SIZE, GL_MAP_READ_BIT);
    for (int i = 0; mapped && i < PBO_SIZE; i++) {
        if (mapped[i] != PATTERN) {
            fprintf(stderr, "frame_counter: frame %d: the bound pixel-pack buffer was written at byte %d\n", frame, i);
            failures++;
            break;
        }
    }
    p_glUnmapBuffer(GL_PIXEL_PACK_BUFFER);
    p_glBindFramebuffer(GL_READ_FRAMEBUFFER, 0);
    expect_int(frame, "the default framebuffer's GL_READ_BUFFER", GL_READ_BUFFER, DEFAULT_READ_BUFFER);
    p_glBindFramebuffer(GL_READ_FRAMEBUFFER, fbo);
    e = p_glGetError();
    if (e != GL_NO_ERROR) {
        fprintf(stderr, "frame_counter: frame %d: GL error %#x while checking\n", frame, e);
        failures++;
    }
    if (failures) exit(3);
}

#if !defined(EGL_DLOPEN)
static Window second;

static void open_second_window(Visual *visual, int depth, Colormap colormap) {
    XSetWindowAttributes swa = {0};
    swa.colormap = colormap;
    second = XCreateWindow(dpy, DefaultRootWindow(dpy), 100, 0, 32, 32, 0, depth, InputOutput, visual, CWColormap, &swa);
    XMapWindow(dpy, second);
    XSync(dpy, False);
}

/* Clears and swaps the second window, then makes the first current again. */
static void swap_second_window(void) {
    p_glXMakeCurrent(dpy, second, glx_ctx);
    p_glClearColor(0, 0, 0, 1);
    p_glClear(GL_COLOR_BUFFER_BIT);
    p_glXSwapBuffers(dpy, second);
    p_glXMakeCurrent(dpy, win, glx_ctx);
    /* The read buffer belongs to the drawable's framebuffer, which the make-current reset. */
    p_glBindFramebuffer(GL_READ_FRAMEBUFFER, 0);
    p_glReadBuffer(DEFAULT_READ_BUFFER);
    p_glBindFramebuffer(GL_READ_FRAMEBUFFER, fbo);
}
#endif

static void draw(int frame, int w, int h) {
    p_glViewport(0, 0, w, h);
    p_glClearColor((frame % 256) / 255.0f, (frame / 256 % 256) / 255.0f, 77 / 255.0f, 1.0f);
    p_glClear(GL_COLOR_BUFFER_BIT);
    p_glEnable(GL_SCISSOR_TEST);
    p_glScissor(0, h - h / 4, w, h / 4);
    p_glClearColor(1, 1, 1, 1);
    p_glClear(GL_COLOR_BUFFER_BIT);
    p_glDisable(GL_SCISSOR_TEST);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: frame_counter FRAMES [EXIT_STATUS [RESIZE_AT_FRAME [SECOND_WINDOW [SWAP]]]]\n");
        return 2;
    }
    int frames = atoi(argv[1]);
    int status = argc > 2 ? atoi(argv[2]) : 0;
    int resize_at = argc > 3 ? atoi(argv[3]) : -1;
    int two_windows = argc > 4 && atoi(argv[4]) == 1;
    int oml_swap = argc > 5 && strcmp(argv[5], "oml") == 0;
    dpy = must(XOpenDisplay(NULL), "an X display");
    Visual *visual;
    int depth;
    open_window_system(&visual, &depth);
    XSetWindowAttributes swa = {0};
    swa.colormap = XCreateColormap(dpy, DefaultRootWindow(dpy), visual, AllocNone);
    win = XCreateWindow(dpy, DefaultRootWindow(dpy), 0, 0, W, H, 0, depth, InputOutput, visual, CWColormap, &swa);
    XMapWindow(dpy, win);
    XSync(dpy, False);
#if !defined(EGL_DLOPEN)
    if (two_windows) open_second_window(visual, depth, swa.colormap);
#else
    if (two_windows) {
        fprintf(stderr, "frame_counter: SECOND_WINDOW needs a GLX build\n");
        return 2;
    }
#endif
    make_context();
    load_gl();
#if !defined(EGL_DLOPEN)
    if (oml_swap) {
        p_glXSwapBuffersMscOML = (void *)must((void *)get_proc("glXSwapBuffersMscOML"), "glXSwapBuffersMscOML");
        swap = glx_swap_oml;
    }
#else
    if (oml_swap) {
        fprintf(stderr, "frame_counter: SWAP = oml needs a GLX build\n");
        return 2;
    }
#endif
    leave_unusual_state();
    int w = W, h = H;
    for (int frame = 0; frame < frames; frame++) {
        if (frame == resize_at) {
            XResizeWindow(dpy, win, W2, H2);
            XSync(dpy, False);
            w = W2;
            h = H2;
        }
        draw(frame, w, h);
        GLenum pending = raise_error(frame);
        swap();
        check_state(frame, pending);
#if !defined(EGL_DLOPEN)
        if (two_windows) swap_second_window();
#endif
    }
    const char *teardown_env = getenv("FRAME_COUNTER_TEARDOWN");
    if (teardown_env && strcmp(teardown_env, "1") == 0) teardown();
    printf("frame_counter: drew %d frames\n", frames);
    return status;
}
