/* An object autoreleased with no pool pushed is kept until its thread exits (objc4's default);
 * under AUTORELEASE_DEBUG_MISSING_POOLS or OBJC_DEBUG_MISSING_POOLS the runtime also says so on
 * stderr. The Rust test runs this with and without the switches and reads stderr. */
#include <pthread.h>

#include "check.h"

static void *autorelease_without_pool(void *arg) {
    (void)arg;
    reset_log();
    CHECK_EQ(arp_pool_depth(), 0);
    arp_object *obj = new_logged(1);
    printf("object=%p\n", (void *)obj);
    fflush(stdout);
    CHECK(arp_autorelease(obj) == obj);
    /* kept, not released: the thread's exit releases it */
    CHECK_EQ(arp_pool_pending(), 1);
    CHECK_EQ(arp_retain_count(obj), 1);
    CHECK_EQ(dealloc_count, 0);
    /* a pool pushed and popped later does not release it either */
    arp_pool_pop(arp_pool_push());
    CHECK_EQ(arp_pool_pending(), 1);
    CHECK_EQ(dealloc_count, 0);
    return NULL;
}

int main(void) {
    pthread_t t;
    CHECK(pthread_create(&t, NULL, autorelease_without_pool, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    CHECK_EQ(dealloc_count, 1);
    printf("missing_pool: ok\n");
    return 0;
}
