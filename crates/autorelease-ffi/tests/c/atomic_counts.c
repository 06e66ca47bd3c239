/* Retain counts are atomic: many threads retaining, releasing and autoreleasing one object (each
 * into its own pools) leave the count exact, and the dealloc runs once, on the last release. */
#include <pthread.h>

#include "check.h"

#define THREADS 8
#define ROUNDS 20000

static arp_object *shared;
static pthread_barrier_t start;
static atomic_size_t deallocs;

static void count_dealloc(arp_object *obj, void *ctx) {
    CHECK(obj == shared);
    CHECK(ctx == &deallocs);
    atomic_fetch_add(&deallocs, 1);
}

static void *hammer(void *arg) {
    (void)arg;
    pthread_barrier_wait(&start);
    for (int round = 0; round < ROUNDS; round++) {
        void *pool = arp_pool_push();
        arp_retain(shared);
        arp_retain(shared);
        arp_autorelease(shared);
        arp_release(shared);
        if (round % 64 == 0) arp_pool_pop(pool);
        else {
            arp_retain(shared);
            arp_autorelease(shared);
            arp_pool_pop(pool);
        }
    }
    return NULL;
}

/* The last reference is dropped on a thread other than the one that made the object. */
static void *release_last(void *arg) {
    (void)arg;
    arp_release(shared);
    return NULL;
}

int main(void) {
    shared = arp_object_new(64, count_dealloc, &deallocs);
    CHECK(shared != NULL);
    CHECK(pthread_barrier_init(&start, NULL, THREADS + 1) == 0);
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++) CHECK(pthread_create(&threads[i], NULL, hammer, NULL) == 0);
    pthread_barrier_wait(&start);
    for (int i = 0; i < THREADS; i++) CHECK(pthread_join(threads[i], NULL) == 0);
    CHECK(pthread_barrier_destroy(&start) == 0);
    CHECK_EQ(arp_retain_count(shared), 1);
    CHECK_EQ(atomic_load(&deallocs), 0);
    pthread_t last;
    CHECK(pthread_create(&last, NULL, release_last, NULL) == 0);
    CHECK(pthread_join(last, NULL) == 0);
    CHECK_EQ(atomic_load(&deallocs), 1);
    printf("atomic_counts: ok\n");
    return 0;
}
