/* An export aborted from another thread while it runs stops after the frames in flight and
 * reports 1. argv[1]: a directory to work in. */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "reel.h"

enum { W = 320, H = 240, FRAMES = 150 };

static void *abort_soon(void *exp) {
    uint64_t done = 0, total = 0;
    struct timespec tick = {0, 200000};
    while (done < 2) {
        reel_export_progress(exp, &done, &total);
        nanosleep(&tick, NULL);
    }
    reel_export_abort(exp);
    return NULL;
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    char cache[4096], png[4096];
    snprintf(cache, sizeof cache, "%s/frames.reel", argv[1]);
    snprintf(png, sizeof png, "%s/png", argv[1]);
    reel_recorder *rec = reel_recorder_open(cache, W, H, NULL);
    CHECK(rec != NULL);
    unsigned char *buf = malloc(W * H * 4);
    CHECK(buf != NULL);
    unsigned seed = 1;
    for (unsigned i = 0; i < FRAMES; i++) {
        for (size_t p = 0; p < (size_t)W * H * 4; p++) buf[p] = (unsigned char)((seed = seed * 1103515245u + 12345u) >> 16);
        CHECK(reel_recorder_append_rgba(rec, buf, W * 4, 1) == 0);
    }
    free(buf);
    CHECK(reel_recorder_finish(rec, NULL) == 0);

    reel_export_options o;
    memset(&o, 0, sizeof o);
    o.png_dir = png;
    o.threads = 1;
    reel_export *exp = reel_export_start(cache, &o, NULL);
    CHECK(exp != NULL);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, abort_soon, exp) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    uint64_t done = 0, total = 0;
    reel_export_progress(exp, &done, &total);
    CHECK(total == FRAMES);
    char *error = NULL;
    CHECK(reel_export_wait(exp, &error) == 1);
    CHECK(error == NULL);
    printf("abort: ok\n");
    return 0;
}
