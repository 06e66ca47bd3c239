/* Records three frames from C (a padded stride with bottom-up rows, top-down rows, and packed
 * bottom-up rows), then exports them in the background to PNGs and to an MJPEG movie while
 * polling progress. argv[1]: a directory to work in. The test decodes the outputs. */
#include <string.h>
#include <time.h>

#include "check.h"
#include "reel.h"

enum { W = 13, H = 7 };

/* Fills a frame whose upright pixel (x, y) is pixel_channel(x, y, i, c), rows `stride` apart. */
static void fill(unsigned char *buf, size_t stride, int bottom_up, unsigned i) {
    for (unsigned r = 0; r < H; r++) {
        unsigned y = bottom_up ? H - 1 - r : r;
        for (unsigned x = 0; x < W; x++)
            for (unsigned c = 0; c < 4; c++) buf[r * stride + x * 4 + c] = pixel_channel(x, y, i, c);
    }
}

static void wait_for(reel_export *exp, const char *what) {
    uint64_t done = 0, total = 0, polls = 0;
    struct timespec tick = {0, 1000000};
    do {
        reel_export_progress(exp, &done, &total);
        CHECK(done <= total);
        nanosleep(&tick, NULL);
        polls++;
    } while (done < total && polls < 100000);
    CHECK(total == 3);
    char *error = (char *)"untouched";
    int rc = reel_export_wait(exp, &error);
    if (rc != 0) fprintf(stderr, "%s: %s\n", what, error ? error : "(no message)");
    CHECK(rc == 0);
    CHECK(error == NULL);
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    char cache[4096], png[4096], movie[4096];
    snprintf(cache, sizeof cache, "%s/frames.reel", argv[1]);
    snprintf(png, sizeof png, "%s/png", argv[1]);
    snprintf(movie, sizeof movie, "%s/out.mov", argv[1]);

    char *error = (char *)"untouched";
    reel_recorder *rec = reel_recorder_open(cache, W, H, &error);
    CHECK(rec != NULL);
    CHECK(error == NULL);
    CHECK(reel_recorder_last_error(rec) == NULL);

    size_t padded = W * 4 + 12;
    unsigned char *buf = calloc(padded * H, 1);
    CHECK(buf != NULL);
    fill(buf, padded, 1, 0);
    CHECK(reel_recorder_append_rgba(rec, buf, padded, 1) == 0);
    fill(buf, W * 4, 0, 1);
    CHECK(reel_recorder_append_rgba(rec, buf, W * 4, 0) == 0);
    fill(buf, W * 4, 1, 2);
    CHECK(reel_recorder_append_rgba(rec, buf, W * 4, 1) == 0);
    free(buf);
    CHECK(reel_recorder_frames(rec) == 3);
    CHECK(reel_recorder_finish(rec, &error) == 0);
    CHECK(error == NULL);

    reel_export_options options;
    memset(&options, 0, sizeof options);
    options.png_dir = png;
    options.threads = 2;
    reel_export *exp = reel_export_start(cache, &options, &error);
    CHECK(exp != NULL);
    wait_for(exp, "png export");

    memset(&options, 0, sizeof options);
    options.movie_path = movie;
    options.codec = "mjpeg";
    options.quality = 95;
    options.fps = 24;
    exp = reel_export_start(cache, &options, NULL);
    CHECK(exp != NULL);
    wait_for(exp, "movie export");

    printf("record_then_export: ok\n");
    return 0;
}
