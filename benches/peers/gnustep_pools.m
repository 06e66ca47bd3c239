/* GNUstep Base peer of the autorelease benchmark (issue 2): the same workloads with
 * NSAutoreleasePool and NSObject subclasses, manual retain/release (gcc has no ARC).
 *
 * Build: gcc -O2 $(gnustep-config --objc-flags) gnustep_pools.m $(gnustep-config --base-libs)
 * Run:   ./gnustep_pools [pools|w3]  W1 W2 W4 W5 (pools), W3 (w3), or both; RESULT lines
 *        ./gnustep_pools w3child VARIANT ITERATIONS   one W3 run (used by the parent)
 *        ./gnustep_pools cold   one W1 in this fresh process (heap not grown yet)
 *
 * W3 runs each variant in a child process (the parent re-executes itself through popen), so
 * each peak RSS is that variant's own. */
#import <Foundation/Foundation.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_common.h"

/* The W1/W2/W4/W5 object: one word of payload, like Payload(u64) on the Rust side. */
@interface BenchObj : NSObject
{
@public
    uint64_t value;
}
@end
@implementation BenchObj
@end

/* Records its release order, for the W4 LIFO check. */
static long *dropped;
static long n_dropped;

@interface Tracked : NSObject
{
@public
    long seq;
}
@end
@implementation Tracked
- (void) dealloc
{
    dropped[n_dropped++] = seq;
    [super dealloc];
}
@end

/* A W3 frame: an object owning a 64 KiB buffer with every byte written. */
@interface Frame : NSObject
{
@public
    unsigned char *bytes;
}
- (id) initWithFill: (int)fill;
@end
@implementation Frame
- (id) initWithFill: (int)fill
{
    if ((self = [super init]) != nil) {
        bytes = malloc(W3_FRAME_BYTES);
        memset(bytes, fill | 1, W3_FRAME_BYTES);
    }
    return self;
}
- (void) dealloc
{
    free(bytes);
    [super dealloc];
}
@end

static volatile uint64_t sink;

static void w1(void)
{
    NSAutoreleasePool *pool = [[NSAutoreleasePool alloc] init];
    for (uint64_t i = 0; i < W1_OBJECTS; i++) {
        BenchObj *o = [[BenchObj alloc] init];
        o->value = i;
        [o autorelease];
    }
    [pool drain];
}

/* ns per push/pop pair, over W2_PAIRS pairs. */
static double w2_batch(void)
{
    uint64_t t = now_ns();
    for (int i = 0; i < W2_PAIRS; i++) {
        NSAutoreleasePool *pool = [[NSAutoreleasePool alloc] init];
        [pool drain];
    }
    return (double)(now_ns() - t) / W2_PAIRS;
}

/* 1,000 nested pools of 10 objects each, then one drain of the outermost pool (which
 * releases the nested pools too). With `tracked`, objects record their release order. */
static void w4(int tracked)
{
    NSAutoreleasePool *outer = [[NSAutoreleasePool alloc] init];
    long seq = 0;
    for (int p = 0; p < W4_POOLS; p++) {
        [[NSAutoreleasePool alloc] init];
        for (int k = 0; k < W4_PER_POOL; k++, seq++) {
            if (tracked) {
                Tracked *o = [[Tracked alloc] init];
                o->seq = seq;
                [o autorelease];
            } else {
                BenchObj *o = [[BenchObj alloc] init];
                o->value = (uint64_t)seq;
                [o autorelease];
            }
        }
    }
    [outer drain];
}

/* "strict" if every object was released, newest first; else how it failed. */
static const char *w4_lifo(void)
{
    long total = W4_POOLS * W4_PER_POOL;
    dropped = calloc((size_t)total + 1, sizeof *dropped);
    n_dropped = 0;
    w4(1);
    const char *verdict = "strict";
    if (n_dropped != total) {
        verdict = "incomplete";
    } else {
        for (long i = 0; i < total; i++) {
            if (dropped[i] != total - 1 - i) {
                verdict = "not_lifo";
                break;
            }
        }
    }
    free(dropped);
    return verdict;
}

/* W5: two threads doing W1 at once. */
static pthread_barrier_t w5_start;
static double w5_ns[2];

static void *w5_thread(void *arg)
{
    int index = (int)(intptr_t)arg;
    GSRegisterCurrentThread();
    pthread_barrier_wait(&w5_start);
    uint64_t t = now_ns();
    w1();
    w5_ns[index] = (double)(now_ns() - t);
    GSUnregisterCurrentThread();
    return NULL;
}

static double w5_per_thread_ns(void)
{
    pthread_t threads[2];
    pthread_barrier_init(&w5_start, NULL, 2);
    for (int i = 0; i < 2; i++)
        pthread_create(&threads[i], NULL, w5_thread, (void *)(intptr_t)i);
    for (int i = 0; i < 2; i++)
        pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&w5_start);
    return (w5_ns[0] + w5_ns[1]) / 2;
}

/* One W3 run in this (child) process. */
static int w3_child(const char *variant, int iters)
{
    long rss0, flt0, rss1, flt1;
    self_rusage(&rss0, &flt0);
    uint64_t t = now_ns();
    if (strcmp(variant, "pool_per_iter") == 0 || strcmp(variant, "outer_pool") == 0) {
        int per_iter = variant[0] == 'p';
        NSAutoreleasePool *outer = [[NSAutoreleasePool alloc] init];
        for (int i = 0; i < iters; i++) {
            NSAutoreleasePool *inner = per_iter ? [[NSAutoreleasePool alloc] init] : nil;
            for (int k = 0; k < W3_FRAMES_PER_ITER; k++) {
                Frame *f = [[[Frame alloc] initWithFill: i + k] autorelease];
                sink += f->bytes[k];
            }
            [inner drain];
        }
        [outer drain];
    } else {
        fprintf(stderr, "unknown W3 variant %s\n", variant);
        return 2;
    }
    double ms = (double)(now_ns() - t) / 1e6;
    self_rusage(&rss1, &flt1);
    printf("CHILD ms=%.3f maxrss_kib=%ld minflt=%ld\n", ms, rss1, flt1 - flt0);
    return 0;
}

/* Runs this program as a W3 child, under an argv[0] of argv0_len bytes, and parses its CHILD
 * line. The argv[0] length varies per repetition on purpose: it shifts the heap's layout by a
 * few bytes, and whether glibc trims the heap top every iteration depends on that layout (see
 * crates/autorelease/benches/frame_export.rs). */
static int w3_measure(const char *self, const char *variant, int iters, int argv0_len, double out[3])
{
    char argv0[256], iters_s[32];
    if (argv0_len < 1 || argv0_len >= (int)sizeof argv0)
        return -1;
    memset(argv0, 'w', (size_t)argv0_len);
    argv0[argv0_len] = '\0';
    snprintf(iters_s, sizeof iters_s, "%d", iters);
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        char *args[] = { argv0, "w3child", (char *)variant, iters_s, NULL };
        execv(self, args);
        _exit(127);
    }
    close(fds[1]);
    FILE *p = fdopen(fds[0], "r");
    char line[512];
    int ok = 0;
    while (p != NULL && fgets(line, sizeof line, p) != NULL) {
        if (sscanf(line, "CHILD ms=%lf maxrss_kib=%lf minflt=%lf", &out[0], &out[1], &out[2]) == 3)
            ok = 1;
    }
    if (p != NULL)
        fclose(p);
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 && ok ? 0 : -1;
}

/* W1, W2, W4 and W5, each measured `reps()` times; prints the medians. */
static void run_pools(void)
{
    int n = reps();
    double *xs = calloc((size_t)n, sizeof *xs);

    /* W2 before and after W1, as on the Rust and C side (where the first is the placeholder
     * path); GNUstep has no such distinction, its pools are cached objects either way. */
    w2_batch();
    for (int r = 0; r < n; r++)
        xs[r] = w2_batch();
    result("W2", "gnustep", "ns_per_pair", median(xs, n));

    w1(); /* warm-up: the first run pays for growing the heap */
    for (int r = 0; r < n; r++) {
        uint64_t t = now_ns();
        w1();
        xs[r] = (double)(now_ns() - t) / W1_OBJECTS;
    }
    result("W1", "gnustep", "ns_per_object", median(xs, n));

    for (int r = 0; r < n; r++)
        xs[r] = w2_batch();
    result("W2p", "gnustep", "ns_per_pair", median(xs, n));

    {
        /* Inside an outer pool that holds an object. */
        NSAutoreleasePool *outer = [[NSAutoreleasePool alloc] init];
        [[[BenchObj alloc] init] autorelease];
        for (int r = 0; r < n; r++)
            xs[r] = w2_batch();
        [outer drain];
        result("W2n", "gnustep", "ns_per_pair", median(xs, n));
    }

    printf("RESULT W4 gnustep lifo %s\n", w4_lifo());
    w4(0);
    {
        int n4 = 3 * n;
        double *ys = calloc((size_t)n4, sizeof *ys);
        for (int r = 0; r < n4; r++) {
            uint64_t t = now_ns();
            w4(0);
            ys[r] = (double)(now_ns() - t) / 1e3;
        }
        result("W4", "gnustep", "us", median(ys, n4));
        free(ys);
    }

    for (int r = 0; r < n; r++)
        xs[r] = w5_per_thread_ns() / W1_OBJECTS;
    result("W5", "gnustep", "ns_per_object_per_thread", median(xs, n));
    free(xs);
}

/* W3: every variant in child processes, interleaved over AUTORELEASE_BENCH_W3_REPS rounds
 * (default 5; 3 for the outer pool at 2,000 iterations, as on the Rust side), each round under a
 * different argv[0] length (8, 20, 32, ... bytes); prints the median, minimum and maximum. */
static int run_w3(void)
{
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) {
        perror("readlink /proc/self/exe");
        return 1;
    }
    self[len] = '\0';
    const char *w3_reps_env = getenv("AUTORELEASE_BENCH_W3_REPS");
    int w3_reps = w3_reps_env ? atoi(w3_reps_env) : 5;
    if (w3_reps <= 0 || w3_reps > 20)
        w3_reps = 5;
    const char *variants[2] = { "pool_per_iter", "outer_pool" };
    const int iter_counts[2] = { 200, 2000 };
    static double samples[2][2][3][20];
    int counts[2][2] = { { 0, 0 }, { 0, 0 } };
    for (int r = 0; r < w3_reps; r++) {
        for (int v = 0; v < 2; v++) {
            for (int c = 0; c < 2; c++) {
                if (v == 1 && c == 1 && r >= 3)
                    continue; /* keeping 6 GB for seconds tells nothing new after three runs */
                double out[3];
                if (w3_measure(self, variants[v], iter_counts[c], 8 + 12 * r, out) != 0) {
                    fprintf(stderr, "W3 child %s %d failed\n", variants[v], iter_counts[c]);
                    return 1;
                }
                for (int m = 0; m < 3; m++)
                    samples[v][c][m][counts[v][c]] = out[m];
                counts[v][c]++;
            }
        }
    }
    const char *metrics[3] = { "ms", "maxrss_kib", "minflt" };
    for (int v = 0; v < 2; v++) {
        for (int c = 0; c < 2; c++) {
            for (int m = 0; m < 3; m++) {
                int k = counts[v][c];
                double *xs = samples[v][c][m];
                double med = median(xs, k); /* sorts xs */
                printf("RESULT W3 gnustep_%s %d %s %.3f\n", variants[v], iter_counts[c], metrics[m], med);
                printf("RESULT W3 gnustep_%s %d %s_min %.3f\n", variants[v], iter_counts[c], metrics[m], xs[0]);
                printf("RESULT W3 gnustep_%s %d %s_max %.3f\n", variants[v], iter_counts[c], metrics[m], xs[k - 1]);
            }
        }
    }
    return 0;
}

/* Cold W1: this process's first W1, its heap not grown yet (run as a fresh process each time). */
static void w1_cold(void)
{
    /* The runtime's one-time set-up (class initialisation, the thread's pool cache) is not what
     * is measured. */
    NSAutoreleasePool *pool = [[NSAutoreleasePool alloc] init];
    [[[BenchObj alloc] init] autorelease];
    [pool drain];
    long rss0, flt0, rss1, flt1;
    self_rusage(&rss0, &flt0);
    uint64_t t = now_ns();
    w1();
    double ns = (double)(now_ns() - t) / W1_OBJECTS;
    self_rusage(&rss1, &flt1);
    result("W1cold", "gnustep", "ns_per_object", ns);
    result("W1cold", "gnustep", "peak_bytes_per_object", (double)(rss1 - rss0) * 1024.0 / W1_OBJECTS);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "w3child") == 0)
        return w3_child(argv[2], atoi(argv[3]));
    if (argc == 2 && strcmp(argv[1], "cold") == 0) {
        w1_cold();
        return 0;
    }
    if (argc > 2 || (argc == 2 && strcmp(argv[1], "pools") != 0 && strcmp(argv[1], "w3") != 0)) {
        fprintf(stderr, "usage: %s [pools|w3]\n", argv[0]);
        return 2;
    }
    if (argc < 2 || strcmp(argv[1], "pools") == 0)
        run_pools();
    if (argc < 2 || strcmp(argv[1], "w3") == 0)
        return run_w3() | (int)(sink & 0);
    return 0;
}
