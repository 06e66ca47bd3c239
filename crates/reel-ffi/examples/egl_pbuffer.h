/* egl_pbuffer.h: a headless OpenGL ES 3 context drawing to an EGL pbuffer surface, as a program
 * without a window makes one. The pbuffer gives the context a default framebuffer (what
 * reel_recorder_capture_gl reads); Mesa's surfaceless platform needs no X server or GPU. */
#ifndef EGL_PBUFFER_H
#define EGL_PBUFFER_H

#include <stdio.h>
#include <string.h>

#include <EGL/egl.h>
#include <EGL/eglext.h>

typedef struct {
    EGLDisplay display;
    EGLSurface surface;
    EGLContext context;
} egl_pbuffer;

/* Mesa's surfaceless platform when libEGL offers it (no window system at all), else the
 * default display. */
static EGLDisplay egl_pbuffer_display(void) {
    const char *client = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
    PFNEGLGETPLATFORMDISPLAYEXTPROC get_platform_display =
        (PFNEGLGETPLATFORMDISPLAYEXTPROC)eglGetProcAddress("eglGetPlatformDisplayEXT");
    if (client && strstr(client, "EGL_MESA_platform_surfaceless") && get_platform_display)
        return get_platform_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
    return eglGetDisplay(EGL_DEFAULT_DISPLAY);
}

/* Makes a width x height pbuffer and an ES 3 context current on this thread; 0 or -1 with a
 * message on stderr. */
static int egl_pbuffer_open(egl_pbuffer *p, int width, int height) {
    static const EGLint config_attribs[] = {EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_RENDERABLE_TYPE,
                                            EGL_OPENGL_ES3_BIT, EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8,
                                            EGL_BLUE_SIZE, 8, EGL_ALPHA_SIZE, 8, EGL_NONE};
    static const EGLint context_attribs[] = {EGL_CONTEXT_MAJOR_VERSION, 3, EGL_NONE};
    const EGLint surface_attribs[] = {EGL_WIDTH, width, EGL_HEIGHT, height, EGL_NONE};
    EGLConfig config;
    EGLint configs = 0;
    p->display = egl_pbuffer_display();
    if (p->display == EGL_NO_DISPLAY || !eglInitialize(p->display, NULL, NULL) ||
        !eglBindAPI(EGL_OPENGL_ES_API) ||
        !eglChooseConfig(p->display, config_attribs, &config, 1, &configs) || configs < 1) {
        fprintf(stderr, "no EGL display with an RGBA8 pbuffer config (EGL error 0x%x)\n",
                (unsigned)eglGetError());
        return -1;
    }
    p->surface = eglCreatePbufferSurface(p->display, config, surface_attribs);
    p->context = eglCreateContext(p->display, config, EGL_NO_CONTEXT, context_attribs);
    if (p->surface == EGL_NO_SURFACE || p->context == EGL_NO_CONTEXT ||
        !eglMakeCurrent(p->display, p->surface, p->surface, p->context)) {
        fprintf(stderr, "no ES 3 context on a pbuffer (EGL error 0x%x)\n", (unsigned)eglGetError());
        return -1;
    }
    return 0;
}

/* Releases the context and surface and the display's resources. */
static void egl_pbuffer_close(egl_pbuffer *p) {
    eglMakeCurrent(p->display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
    eglDestroyContext(p->display, p->context);
    eglDestroySurface(p->display, p->surface);
    eglTerminate(p->display);
    eglReleaseThread();
}

#endif
