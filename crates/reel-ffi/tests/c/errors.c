/* Every refusal of the C API comes back as NULL or -1 with a message, never a crash.
 * argv[1]: a directory to work in. */
#include <string.h>

#include "check.h"
#include "reel.h"

static int contains(const char *text, const char *part) { return text && strstr(text, part); }

/* Checks that `call` failed with a message containing `part`, and frees it. */
#define REFUSED(call, error, part)                                                       \
    do {                                                                                 \
        CHECK(call);                                                                     \
        if (!contains(error, part)) fprintf(stderr, "message: %s\n", error ? error : "(null)"); \
        CHECK(contains(error, part));                                                    \
        reel_string_free(error);                                                         \
        error = NULL;                                                                    \
    } while (0)

int main(int argc, char **argv) {
    CHECK(argc == 2);
    char cache[4096], missing_dir[4096], not_cache[4096];
    snprintf(cache, sizeof cache, "%s/ok.reel", argv[1]);
    snprintf(missing_dir, sizeof missing_dir, "%s/no/such/dir/x.reel", argv[1]);
    snprintf(not_cache, sizeof not_cache, "%s/notes.txt", argv[1]);
    FILE *f = fopen(not_cache, "w");
    CHECK(f != NULL);
    fputs("not a cache\n", f);
    fclose(f);

    char *error = NULL;
    /* Recorder. */
    REFUSED(reel_recorder_open(NULL, 4, 4, &error) == NULL, error, "path is NULL");
    REFUSED(reel_recorder_open(cache, 0, 4, &error) == NULL, error, "0x4 is out of range");
    REFUSED(reel_recorder_open(cache, 100000, 100000, &error) == NULL, error, "out of range");
    REFUSED(reel_recorder_open(missing_dir, 4, 4, &error) == NULL, error, "no/such/dir");
    CHECK(reel_recorder_open(NULL, 4, 4, NULL) == NULL); /* no place for the message: fine */

    reel_recorder *rec = reel_recorder_open(cache, 4, 2, &error);
    CHECK(rec != NULL);
    unsigned char pixels[4 * 4 * 2] = {0};
    CHECK(reel_recorder_append_rgba(rec, NULL, 16, 1) == -1);
    CHECK(contains(reel_recorder_last_error(rec), "pixels is NULL"));
    CHECK(reel_recorder_append_rgba(rec, pixels, 15, 1) == -1);
    CHECK(contains(reel_recorder_last_error(rec), "stride_bytes 15"));
    CHECK(reel_recorder_append_rgba(rec, pixels, 16, 1) == 0);
    CHECK(reel_recorder_last_error(rec) == NULL);
    CHECK(reel_recorder_frames(rec) == 1);
    CHECK(reel_recorder_append_rgba(NULL, pixels, 16, 1) == -1);
    CHECK(reel_recorder_last_error(NULL) == NULL);
    CHECK(reel_recorder_frames(NULL) == 0);
    CHECK(reel_recorder_finish(rec, &error) == 0);
    REFUSED(reel_recorder_finish(NULL, &error) == -1, error, "rec is NULL");
    /* An existing file is never written over: the finished cache keeps its frame. */
    REFUSED(reel_recorder_open(cache, 4, 2, &error) == NULL, error, "already exists");
    REFUSED(reel_recorder_open(not_cache, 4, 2, &error) == NULL, error, "already exists");
    f = fopen(not_cache, "r");
    CHECK(f != NULL);
    char line[32] = {0};
    CHECK(fgets(line, sizeof line, f) != NULL && strcmp(line, "not a cache\n") == 0);
    fclose(f);

    /* Export. */
    reel_export_options o;
    memset(&o, 0, sizeof o);
    REFUSED(reel_export_start(cache, NULL, &error) == NULL, error, "options is NULL");
    REFUSED(reel_export_start(NULL, &o, &error) == NULL, error, "cache_path is NULL");
    REFUSED(reel_export_start(cache, &o, &error) == NULL, error, "no target");
    o.png_dir = argv[1];
    o.movie_path = "x.mov";
    REFUSED(reel_export_start(cache, &o, &error) == NULL, error, "not both");
    o.movie_path = NULL;
    o.codec = "mjpeg";
    REFUSED(reel_export_start(cache, &o, &error) == NULL, error, "apply to movies");
    memset(&o, 0, sizeof o);
    o.movie_path = "out.mov";
    o.codec = "theora";
    REFUSED(reel_export_start(cache, &o, &error) == NULL, error, "theora");
    o.codec = "mjpeg";
    o.quality = 101;
    REFUSED(reel_export_start(cache, &o, &error) == NULL, error, "quality 101");
    o.quality = 0;
    o.fps = -5;
    REFUSED(reel_export_start(cache, &o, &error) == NULL, error, "fps");
    o.fps = 0;
    o.threads = -1;
    REFUSED(reel_export_start(cache, &o, &error) == NULL, error, "threads -1");
    o.threads = 0;
    o.movie_path = missing_dir;
    REFUSED(reel_export_start(cache, &o, &error) == NULL, error, "does not exist");
    o.movie_path = "out.mov";
    REFUSED(reel_export_start(not_cache, &o, &error) == NULL, error, "not a reel cache");
    REFUSED(reel_export_start("/no/such/file.reel", &o, &error) == NULL, error, "/no/such/file.reel");
    REFUSED(reel_export_wait(NULL, &error) == -1, error, "exp is NULL");
    reel_export_abort(NULL);
    CHECK(reel_export_finished(NULL) == 0);
    uint64_t done = 7, total = 7;
    reel_export_progress(NULL, &done, &total);
    CHECK(done == 0 && total == 0);
    reel_export_progress(NULL, NULL, NULL);
    reel_string_free(NULL);

    printf("errors: ok\n");
    return 0;
}
