/* record_and_export: a headless OpenGL ES program that records what it draws with reel and
 * exports it in the background, polling progress from its main loop as a program would from a
 * timer.
 *
 *     cargo build --release -p reel-ffi
 *     cc -std=c99 -Icrates/reel-ffi/include -Icrates/reel-ffi/examples \
 *        crates/reel-ffi/examples/record_and_export.c target/release/libreel_ffi.a \
 *        -lEGL -lGLESv2 -lpthread -ldl -lm -lstdc++ -o record_and_export
 *     ./record_and_export frames.reel png/ 60        # a PNG sequence in png/
 *     ./record_and_export frames.reel out.mov 60 h264 # a QuickTime movie
 *
 * Usage: record_and_export CACHE OUTPUT [FRAMES [CODEC]]. OUTPUT ending in .mov is a movie
 * (CODEC png, mjpeg or h264; png when omitted), anything else a directory for PNGs. Each frame
 * is a colour of its own with a white bar moving right and a black band along the top. CACHE
 * must not exist yet (reel never writes over a file); it is removed once the export is done. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <time.h>

#include <GLES3/gl3.h>

#include "egl_pbuffer.h"
#include "reel.h"

enum { WIDTH = 320, HEIGHT = 180, BAR = 16 };

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Frame i: its colour, the bar at x = (i * 8) % (WIDTH - BAR), the band over the top quarter. */
static void draw(unsigned i) {
    glClearColor(((i * 53 + 11) & 0xFF) / 255.0f, ((i * 53 + 108) & 0xFF) / 255.0f,
                 ((i * 53 + 205) & 0xFF) / 255.0f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    glEnable(GL_SCISSOR_TEST);
    glScissor((GLint)((i * 8) % (WIDTH - BAR)), 0, BAR, HEIGHT);
    glClearColor(1.0f, 1.0f, 1.0f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    glScissor(0, HEIGHT - HEIGHT / 4, WIDTH, HEIGHT / 4); /* GL counts rows from the bottom */
    glClearColor(0.0f, 0.0f, 0.0f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    glDisable(GL_SCISSOR_TEST);
}

/* Draws and records `frames` frames into `cache`; 0 or -1. */
static int record(const char *cache, unsigned frames) {
    egl_pbuffer egl;
    if (egl_pbuffer_open(&egl, WIDTH, HEIGHT) != 0) return -1;
    char *error = NULL;
    reel_recorder *rec = reel_recorder_open(cache, WIDTH, HEIGHT, &error);
    if (!rec) {
        fprintf(stderr, "record_and_export: %s\n", error);
        reel_string_free(error);
        egl_pbuffer_close(&egl);
        return -1;
    }
    int rc = 0;
    for (unsigned i = 0; i < frames && rc == 0; i++) {
        draw(i);
        if (reel_recorder_capture_gl(rec) != 0) {
            fprintf(stderr, "record_and_export: frame %u: %s\n", i, reel_recorder_last_error(rec));
            rc = -1;
        }
        eglSwapBuffers(egl.display, egl.surface);
    }
    if (reel_recorder_finish(rec, &error) != 0) {
        fprintf(stderr, "record_and_export: %s\n", error);
        reel_string_free(error);
        rc = -1;
    }
    egl_pbuffer_close(&egl);
    return rc;
}

/* Exports `cache` to `output` on reel's thread while this loop polls, as a timer would; 0 or -1. */
static int export_polling(const char *cache, const char *output, const char *codec,
                          uint64_t *exported, unsigned *polls) {
    size_t len = strlen(output);
    int movie = len > 4 && strcmp(output + len - 4, ".mov") == 0;
    reel_export_options options;
    memset(&options, 0, sizeof options);
    if (movie) {
        options.movie_path = output;
        options.codec = codec;
    } else {
        options.png_dir = output;
    }
    char *error = NULL;
    reel_export *exp = reel_export_start(cache, &options, &error);
    if (!exp) {
        fprintf(stderr, "record_and_export: %s\n", error);
        reel_string_free(error);
        return -1;
    }
    struct timespec tick = {0, 10 * 1000 * 1000};
    uint64_t done = 0, total = 0, shown = UINT64_MAX;
    while (!reel_export_finished(exp)) {
        reel_export_progress(exp, &done, &total);
        if (done != shown) fprintf(stderr, "\rexporting %llu/%llu", (unsigned long long)done,
                                   (unsigned long long)total);
        shown = done;
        (*polls)++;
        nanosleep(&tick, NULL);
    }
    reel_export_progress(exp, exported, &total);
    fprintf(stderr, "\rexporting %llu/%llu\n", (unsigned long long)*exported,
            (unsigned long long)total);
    int rc = reel_export_wait(exp, &error);
    if (rc != 0) {
        fprintf(stderr, "record_and_export: export %s: %s\n", rc == 1 ? "aborted" : "failed",
                error ? error : "");
        reel_string_free(error);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: record_and_export CACHE OUTPUT [FRAMES [CODEC]]\n");
        return 2;
    }
    unsigned frames = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 60;
    const char *codec = argc > 4 ? argv[4] : NULL;
    if (frames == 0) {
        fprintf(stderr, "record_and_export: FRAMES must be a positive number\n");
        return 2;
    }
    double start = now_ms();
    if (record(argv[1], frames) != 0) return 1;
    double recorded = now_ms();
    uint64_t exported = 0;
    unsigned polls = 0;
    if (export_polling(argv[1], argv[2], codec, &exported, &polls) != 0) return 1;
    /* The cache was the way to the export; a program that keeps recordings would keep it. */
    if (remove(argv[1]) != 0) perror(argv[1]);
    printf("record_and_export: recorded %u frames of %dx%d from GL in %.0f ms; exported %llu to "
           "%s in %.0f ms (polled %u times)\n",
           frames, WIDTH, HEIGHT, recorded - start, (unsigned long long)exported, argv[2],
           now_ms() - recorded, polls);
    return 0;
}
