/* reel.h: record OpenGL frames to a crash-safe cache and export them in the background as a PNG
 * sequence or a QuickTime movie, with memory that stays flat however many frames there are.
 *
 * C99, usable from C++ and Objective-C. Link the static library with
 *     cc app.c target/release/libreel_ffi.a -lpthread -ldl -lm -lstdc++
 * or the shared one with -Ltarget/release -lreel_ffi; nothing else is needed. x264 is loaded at
 * run time when used; reel_recorder_capture_gl uses the EGL or GLX library the program loaded.
 *
 * Errors: functions that can fail return NULL or -1. Where they take `char **error`, a message
 * saying what was wrong is stored there (when `error` is not NULL) and must be freed with
 * reel_string_free; on success *error is set to NULL. No function ever unwinds or aborts on bad
 * input: a NULL argument, a wrong size or a bad path is an error with a message. */
#ifndef REEL_H
#define REEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A cache being recorded. */
typedef struct reel_recorder reel_recorder;
/* An export running on a background thread. */
typedef struct reel_export reel_export;

typedef struct {
    const char *png_dir;    /* write a PNG sequence into this directory, or */
    const char *movie_path; /* a QuickTime movie to this file */
    const char *codec;      /* movie codec: "png" (NULL: png), "mjpeg", "h264" */
    double fps;             /* movie frame rate; 0: 30 */
    int quality;            /* MJPEG quality 1-100; 0: the default (90) */
    int threads;            /* encoder threads; 0: one per core */
} reel_export_options;

/* ---- Recording ------------------------------------------------------------------------------
 * Frames are RGBA, 8 bits per channel, rows `stride_bytes` apart (at least width * 4);
 * bottom_up != 0 when the first row is the bottom one, as glReadPixels returns it. The cache
 * stores every frame as one checksummed record: a program that crashes mid-recording leaves every
 * complete frame readable (reel info / reel export read it). */

/* Creates the cache at `path` for frames of width x height (each 1 to 32768). `path` must not
 * exist: an existing file is refused ("... already exists") and left as it was, so a recording
 * never replaces a file, and of two recorders given one path only the first gets it. */
reel_recorder *reel_recorder_open(const char *path, uint32_t width, uint32_t height, char **error);

/* Appends one frame; 0 or -1 (reel_recorder_last_error says why; the recorder stays usable). */
int reel_recorder_append_rgba(reel_recorder *rec, const void *pixels, size_t stride_bytes,
                              int bottom_up);

/* The message of the recorder's last failed call, or NULL. Owned by the recorder: valid until
 * the next call on it. */
const char *reel_recorder_last_error(const reel_recorder *rec);

/* Frames stored in the cache so far. Frames captured through the pixel-buffer-object ring reach
 * it a capture later: see reel_recorder_frames_in_flight. */
uint64_t reel_recorder_frames(const reel_recorder *rec);

/* Reads the default framebuffer of the GL context current on this thread (EGL or GLX, through
 * the libraries the program loaded; reel links none) at its size, as the window system reports
 * it, and records it as one frame; 0 or -1 (reel_recorder_last_error says why: no context is
 * current, the context has no surface or reads from another surface than it draws to, the
 * surface's size is not the recorder's, a GL error
 * (named, e.g. GL_INVALID_FRAMEBUFFER_OPERATION), frames of another context still in flight).
 * Call it after drawing a frame, before swapping. After a failed call the recorder stays usable.
 *
 * The program's GL state is left as it was: the bound pixel-pack buffer, pack alignment, row
 * length and skips, read framebuffer, read buffer, and the errors it had pending
 * (GL_INVALID_ENUM, _VALUE, _OPERATION, _FRAMEBUFFER_OPERATION; the read's own error is returned,
 * never left pending).
 *
 * How the frame is read is reel_recorder_set_readback's choice. With the ring, the frame is
 * stored one capture later; frames always reach the cache in the order they were captured. */
int reel_recorder_capture_gl(reel_recorder *rec);

/* Readback modes for reel_recorder_set_readback. */
#define REEL_READBACK_AUTO 0     /* the default: SYNC on Mesa's software rasterisers (llvmpipe,
                                  * softpipe, swrast, from GL_RENDERER) and on contexts without
                                  * pixel-buffer objects and fences, PBO_RING elsewhere */
#define REEL_READBACK_SYNC 1     /* glReadPixels into memory: stored before the call returns */
#define REEL_READBACK_PBO_RING 2 /* glReadPixels into a ring of two pixel-buffer objects with
                                  * fences: the call returns without waiting for the transfer,
                                  * which is stored at the next capture; needs OpenGL 3.2 or
                                  * OpenGL ES 3.0 (else capture fails with a message) */

/* Chooses how reel_recorder_capture_gl reads frames (one of the REEL_READBACK_ constants); 0, or
 * -1 for an unknown mode. May be called at any time: frames already in the ring are stored
 * before any frame captured after the change. */
int reel_recorder_set_readback(reel_recorder *rec, int mode);

/* Frames captured through the ring and not yet stored (0 or 1 between captures; 0 after
 * reel_recorder_flush_gl). */
uint64_t reel_recorder_frames_in_flight(const reel_recorder *rec);

/* Stores every frame still in the ring and releases the ring's buffers (the next capture makes
 * new ones); 0 or -1. The ring lives in the context it was made in: call this with that context
 * current before destroying it or releasing it from this thread for good. With it not current,
 * -1 and the frames stay in flight. reel_recorder_append_rgba, a synchronous capture and a
 * capture from another context flush the ring first the same way (and fail the same way). */
int reel_recorder_flush_gl(reel_recorder *rec);

/* Stores the frames still in the ring (when their context is current on this thread), finishes
 * the cache (stores its frame count and syncs it to disk) and frees `rec`, whatever the result;
 * 0 or -1. When frames in the ring cannot be stored (their context is not current, a GL error),
 * the cache is still finished with every frame stored before them, and -1 comes with a message
 * saying how many frames were lost and why. */
int reel_recorder_finish(reel_recorder *rec, char **error);

/* ---- Export on a background thread ----------------------------------------------------------
 * The export reads the cache one frame at a time with one autorelease pool per frame and a
 * bounded number of frames in flight, so memory stays flat. Files are written under hidden
 * temporary names and renamed when complete: an aborted or failed export leaves only complete
 * files. Damaged frames in the cache are skipped. */

/* Starts exporting the cache at `cache_path`; NULL with a message if the options or the input are
 * wrong (nothing is written then). */
reel_export *reel_export_start(const char *cache_path, const reel_export_options *options,
                               char **error);

/* Frames written so far and frames to export. Safe from any thread while the export runs. */
void reel_export_progress(const reel_export *exp, uint64_t *done, uint64_t *total);

/* Asks the export to stop after the frames in flight; returns at once. Any thread. */
void reel_export_abort(reel_export *exp);

/* Waits for the export to end and frees `exp`: 0 when every frame was exported, 1 when it was
 * aborted, -1 when it failed (with a message in *error). */
int reel_export_wait(reel_export *exp, char **error);

/* 1 once the export is over (done, aborted or failed: reel_export_wait will not block), else 0;
 * 0 for NULL. Any thread; for programs that poll from a timer instead of waiting. */
int reel_export_finished(const reel_export *exp);

/* Frees a message returned through `error`. NULL is ignored. */
void reel_string_free(char *s);

#ifdef __cplusplus
}
#endif

#endif /* REEL_H */
