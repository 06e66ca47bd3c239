/* The autorelease runtime through its C ABI (issue 3's benchmark): W1, W2 and W4 called from C,
 * linked against the static library, so the cost of crossing the ABI is visible next to the
 * Rust API and GNUstep.
 *
 * Build (benches/run.sh does this after `cargo build --release -p autorelease-ffi`):
 *   cc -std=c99 -O2 -I crates/autorelease-ffi/include benches/peers/c_abi_pools.c \
 *      target/release/libautorelease_ffi.a -lpthread -ldl -lm -o c_abi_pools
 * Output: RESULT lines (see bench_common.h).
 *
 * `c_abi_pools op OP N REPS` instead runs a loop of N operations REPS times (w1, w2_placeholder,
 * w2_page, w4, as in crates/autorelease/benches/ops.rs), for benches/profile.sh's instruction
 * counts.
 *
 * `c_abi_pools cold` runs one W1 in this fresh process (the heap not grown yet) and prints its
 * time and peak memory per object. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>

#include "autorelease.h"
#include "bench_common.h"

/* The W1/W4 object: one word of payload, like Payload(u64) on the Rust side. */
static arp_object *new_object(uint64_t value, arp_dealloc_fn dealloc, void *ctx)
{
    arp_object *obj = arp_object_new(sizeof(uint64_t), dealloc, ctx);
    if (obj == NULL) {
        fprintf(stderr, "arp_object_new failed\n");
        exit(1);
    }
    *(uint64_t *)arp_object_payload(obj) = value;
    return obj;
}

static void w1(void)
{
    void *pool = arp_pool_push();
    for (uint64_t i = 0; i < W1_OBJECTS; i++)
        arp_autorelease(new_object(i, NULL, NULL));
    arp_pool_pop(pool);
}

/* ns per push/pop pair, over W2_PAIRS pairs. */
static double w2_batch(void)
{
    uint64_t t = now_ns();
    for (int i = 0; i < W2_PAIRS; i++)
        arp_pool_pop(arp_pool_push());
    return (double)(now_ns() - t) / W2_PAIRS;
}

/* W6: a getter returning an object it holds, at +0, and a caller keeping it for a moment; one
 * pool per call, as a run loop turn would have. With the hand-off the object never enters the
 * pool; without it, it is autoreleased, retained by the caller, and released by the pop. */
#define W6_PAIRS 1000000
static arp_object *w6_ivar;

static arp_object *get_handoff(void) { return arp_autorelease_return(arp_retain(w6_ivar)); }
static arp_object *get_autoreleased(void) { return arp_autorelease(arp_retain(w6_ivar)); }

/* ns per call, over W6_PAIRS calls. */
static double w6_batch(int handoff)
{
    uint64_t t = now_ns();
    for (int i = 0; i < W6_PAIRS; i++) {
        void *pool = arp_pool_push();
        arp_object *x = handoff ? arp_retain_autoreleased_return(get_handoff())
                                : arp_retain(get_autoreleased());
        arp_release(x);
        arp_pool_pop(pool);
    }
    return (double)(now_ns() - t) / W6_PAIRS;
}

/* Release order of tracked objects, for the LIFO check. */
static uint64_t *dropped;
static long n_dropped;

static void record_drop(arp_object *obj, void *ctx)
{
    (void)ctx;
    dropped[n_dropped++] = *(uint64_t *)arp_object_payload(obj);
}

/* 1,000 nested pools of 10 objects each, then one pop of the outermost token (which pops the
 * nested pools too). With `tracked`, objects record their release order. */
static void w4(int tracked)
{
    void *outer = arp_pool_push();
    uint64_t seq = 0;
    for (int p = 0; p < W4_POOLS; p++) {
        (void)arp_pool_push(); /* popped by the outer pop */
        for (int k = 0; k < W4_PER_POOL; k++, seq++)
            arp_autorelease(new_object(seq, tracked ? record_drop : NULL, NULL));
    }
    arp_pool_pop(outer);
}

/* "strict" if every object was released, newest first; else how it failed. */
static const char *w4_lifo(void)
{
    long total = W4_POOLS * W4_PER_POOL;
    dropped = calloc((size_t)total + 1, sizeof *dropped);
    n_dropped = 0;
    w4(1);
    const char *verdict = "strict";
    if (n_dropped != total || arp_pool_depth() != 0) {
        verdict = "incomplete";
    } else {
        for (long i = 0; i < total; i++) {
            if (dropped[i] != (uint64_t)(total - 1 - i)) {
                verdict = "not_lifo";
                break;
            }
        }
    }
    free(dropped);
    return verdict;
}

/* One operation repeated n times, for profiles: see crates/autorelease/benches/ops.rs. */
static int run_op(const char *op, long n)
{
    if (strcmp(op, "w1") == 0) {
        void *pool = arp_pool_push();
        for (long i = 0; i < n; i++)
            arp_autorelease(new_object((uint64_t)i, NULL, NULL));
        arp_pool_pop(pool);
    } else if (strcmp(op, "w2_placeholder") == 0 || strcmp(op, "w2_page") == 0) {
        if (op[3] == 'p' && op[4] == 'a') {
            /* Give the thread its first page (kept, empty, after the pop). */
            void *pool = arp_pool_push();
            arp_autorelease(new_object(0, NULL, NULL));
            arp_pool_pop(pool);
        }
        for (long i = 0; i < n; i++)
            arp_pool_pop(arp_pool_push());
    } else if (strcmp(op, "w4") == 0) {
        void *outer = arp_pool_push();
        for (long i = 0; i < n; i++) {
            if (i % 10 == 0)
                (void)arp_pool_push(); /* popped by the outer pop */
            arp_autorelease(new_object((uint64_t)i, NULL, NULL));
        }
        arp_pool_pop(outer);
    } else {
        fprintf(stderr, "unknown op %s\n", op);
        return 2;
    }
    return 0;
}

/* Cold W1: this process's first W1, its heap not grown yet (run as a fresh process each time). */
static void w1_cold(void)
{
    /* The runtime's one-time set-up (thread-local state, first page) is not what is measured. */
    arp_pool_pop(arp_pool_push());
    arp_release(new_object(0, NULL, NULL));
    long rss0, flt0, rss1, flt1;
    self_rusage(&rss0, &flt0);
    uint64_t t = now_ns();
    w1();
    double ns = (double)(now_ns() - t) / W1_OBJECTS;
    self_rusage(&rss1, &flt1);
    result("W1cold", "c_abi", "ns_per_object", ns);
    result("W1cold", "c_abi", "peak_bytes_per_object", (double)(rss1 - rss0) * 1024.0 / W1_OBJECTS);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "cold") == 0) {
        w1_cold();
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "op") == 0) {
        for (long r = 0; r < atol(argv[4]); r++) {
            if (run_op(argv[2], atol(argv[3])) != 0)
                return 2;
        }
        return 0;
    }

    int n = reps();
    double *xs = calloc((size_t)n, sizeof *xs);

    /* W2 first: until this thread's first autorelease, an empty push/pop takes the placeholder
     * path (no page). Afterwards the thread keeps an empty first page (as objc4 does), and W2p
     * measures that page path. */
    w2_batch();
    for (int r = 0; r < n; r++)
        xs[r] = w2_batch();
    result("W2", "c_abi", "ns_per_pair", median(xs, n));

    w1(); /* warm-up: the first run pays for growing the heap */
    for (int r = 0; r < n; r++) {
        uint64_t t = now_ns();
        w1();
        xs[r] = (double)(now_ns() - t) / W1_OBJECTS;
    }
    result("W1", "c_abi", "ns_per_object", median(xs, n));

    w2_batch();
    for (int r = 0; r < n; r++)
        xs[r] = w2_batch();
    result("W2p", "c_abi", "ns_per_pair", median(xs, n));

    {
        /* Inside an outer pool that holds an object. */
        void *outer = arp_pool_push();
        arp_autorelease(new_object(0, NULL, NULL));
        for (int r = 0; r < n; r++)
            xs[r] = w2_batch();
        arp_pool_pop(outer);
        result("W2n", "c_abi", "ns_per_pair", median(xs, n));
    }

    w6_ivar = new_object(6, NULL, NULL);
    w6_batch(1);
    for (int r = 0; r < n; r++)
        xs[r] = w6_batch(1);
    result("W6", "c_abi_handoff", "ns_per_call", median(xs, n));
    for (int r = 0; r < n; r++)
        xs[r] = w6_batch(0);
    result("W6", "c_abi_autorelease", "ns_per_call", median(xs, n));
    arp_release(w6_ivar);

    printf("RESULT W4 c_abi lifo %s\n", w4_lifo());
    w4(0);
    {
        int n4 = 3 * n;
        double *ys = calloc((size_t)n4, sizeof *ys);
        for (int r = 0; r < n4; r++) {
            uint64_t t = now_ns();
            w4(0);
            ys[r] = (double)(now_ns() - t) / 1e3;
        }
        result("W4", "c_abi", "us", median(ys, n4));
        free(ys);
    }
    free(xs);
    return 0;
}
