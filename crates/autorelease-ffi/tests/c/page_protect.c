/* Pool page protection and page checks.
 *   stray_write       a write through a pool token into a full (not hot) page: with
 *                     AUTORELEASE_DEBUG_POOL_PROTECT=1 it stops the program (SIGSEGV) at the write.
 *   header_overwrite  the hot page's header is overwritten, then the pool is popped: the pop
 *                     reports the page's address as corrupted and stops (SIGABRT), releasing
 *                     nothing.
 *   workload          everything the runtime writes still works with the switch on: pages filled,
 *                     popped, reused and freed, nested pools, deallocs that autorelease, hand-offs,
 *                     another thread's pools. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "check.h"

static void autorelease_many(size_t n) {
    for (size_t i = 0; i < n; i++) arp_autorelease(new_logged((int)i));
}

static void chain_dealloc(arp_object *obj, void *ctx) {
    (void)obj;
    (void)ctx;
    void *pool = arp_pool_push();
    autorelease_many(3);
    arp_pool_pop(pool);
    arp_autorelease(arp_object_new(8, NULL, NULL)); /* into the pool being popped */
}

static void *thread_workload(void *arg) {
    (void)arg;
    for (int round = 0; round < 20; round++) {
        void *pool = arp_pool_push();
        autorelease_many(1200);
        arp_pool_pop(pool);
    }
    return NULL;
}

static int workload(void) {
    size_t capacity = arp_page_capacity();
    for (int round = 0; round < 3; round++) {
        void *outer = arp_pool_push();
        autorelease_many(3 * capacity + 7);
        for (int i = 0; i < 50; i++) {
            void *inner = arp_pool_push();
            autorelease_many(capacity / 3);
            arp_autorelease(arp_object_new(8, chain_dealloc, NULL));
            if (i % 2) arp_pool_pop(inner); /* the others are popped by the outer pop */
        }
        arp_object *kept = arp_retain_autoreleased_return(arp_autorelease_return(new_logged(1)));
        arp_release(kept);
        (void)arp_autorelease_return(new_logged(2)); /* unclaimed: goes to the outer pool */
        arp_pool_pop(outer);
        CHECK_EQ(arp_pool_depth(), 0);
        CHECK_EQ(arp_pool_pending(), 0);
    }
    pthread_t t;
    CHECK(pthread_create(&t, NULL, thread_workload, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    printf("page_protect: ok\n");
    return 0;
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    if (strcmp(argv[1], "workload") == 0) return workload();
    /* The first pool of a thread has no page yet (its token is not a slot address): push an
     * outer pool with an object, so the next token is the address of its boundary's slot (its
     * top 16 bits carry a serial, masked off here). */
    void *outer = arp_pool_push();
    arp_autorelease(new_logged(-1));
    void *pool = arp_pool_push();
    void **slot = (void **)((uintptr_t)pool & (((uintptr_t)1 << 48) - 1));
    if (strcmp(argv[1], "stray_write") == 0) {
        autorelease_many(arp_page_capacity() + 50); /* the token's page is full, not hot */
        printf("writing\n");
        fflush(stdout);
        *(void *volatile *)slot = NULL;
        printf("wrote\n");
        fflush(stdout);
    } else if (strcmp(argv[1], "header_overwrite") == 0) {
        autorelease_many(10);
        uintptr_t page = (uintptr_t)slot & ~(uintptr_t)4095;
        printf("page=%p\n", (void *)page);
        fflush(stdout);
        memset((void *)page, 0x41, 16); /* the magic */
    } else {
        CHECK(!"unknown mode");
    }
    reset_log();
    arp_pool_pop(pool);
    printf("popped, %zu released\n", atomic_load(&dealloc_count));
    arp_pool_pop(outer);
    return 0;
}
