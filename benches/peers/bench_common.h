/* Timing helpers shared by the C-ABI and GNUstep peers of the autorelease benchmark.
 *
 * Every measurement is repeated and its median printed as one machine-readable line,
 *   RESULT <workload> <implementation> <metric> <value>
 * which benches/run.sh collects into its table. */
#ifndef AUTORELEASE_BENCH_COMMON_H
#define AUTORELEASE_BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* Workload sizes, the same as crates/autorelease/benches/{pools,frame_export}.rs. */
#define W1_OBJECTS 1000000
#define W2_PAIRS 1000000
#define W4_POOLS 1000
#define W4_PER_POOL 10
#define W3_FRAMES_PER_ITER 50
#define W3_FRAME_BYTES (64 * 1024)

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of n samples (sorts them in place). */
static inline double median(double *xs, int n)
{
    qsort(xs, (size_t)n, sizeof *xs, cmp_double);
    return n % 2 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2.0;
}

/* Repetitions per measurement: PEER_REPS, default 11. */
static inline int reps(void)
{
    const char *s = getenv("PEER_REPS");
    int n = s ? atoi(s) : 11;
    return n > 0 && n <= 1000 ? n : 11;
}

static inline void result(const char *workload, const char *impl, const char *metric, double value)
{
    printf("RESULT %s %s %s %.3f\n", workload, impl, metric, value);
    fflush(stdout);
}

/* Peak RSS (KiB) and minor faults of this process so far. */
static inline void self_rusage(long *maxrss_kib, long *minflt)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *maxrss_kib = ru.ru_maxrss;
    *minflt = ru.ru_minflt;
}

#endif
