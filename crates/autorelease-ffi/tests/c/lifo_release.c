/* Objects are released newest first, within a page, across pages, and pool by pool. */
#include "check.h"

static void releases_newest_first_across_pages(void) {
    size_t n = 3 * arp_page_capacity() + 7;
    reset_log();
    void *pool = arp_pool_push();
    for (size_t i = 0; i < n; i++) {
        arp_object *obj = arp_autorelease(new_logged((int)i));
        CHECK_EQ(arp_retain_count(obj), 1);
    }
    CHECK_EQ(arp_pool_pending(), n);
    CHECK_EQ(dealloc_count, 0);
    arp_pool_pop(pool);
    CHECK_EQ(dealloc_count, n);
    for (size_t i = 0; i < n; i++) CHECK_EQ(dealloc_log[i], n - 1 - i);
    CHECK_EQ(arp_pool_pending(), 0);
    CHECK_EQ(arp_pool_depth(), 0);
    CHECK(arp_pool_high_water() >= n);
}

static void inner_pool_releases_only_its_own_objects(void) {
    reset_log();
    void *outer = arp_pool_push();
    arp_autorelease(new_logged(1));
    arp_autorelease(new_logged(2));
    void *inner = arp_pool_push();
    CHECK_EQ(arp_pool_depth(), 2);
    arp_autorelease(new_logged(3));
    arp_autorelease(new_logged(4));
    arp_pool_pop(inner);
    CHECK_EQ(dealloc_count, 2);
    CHECK_EQ(dealloc_log[0], 4);
    CHECK_EQ(dealloc_log[1], 3);
    CHECK_EQ(arp_pool_depth(), 1);
    CHECK_EQ(arp_pool_pending(), 2);
    arp_pool_pop(outer);
    CHECK_EQ(dealloc_count, 4);
    CHECK_EQ(dealloc_log[2], 2);
    CHECK_EQ(dealloc_log[3], 1);
}

static void repeated_autoreleases_release_once_each(void) {
    reset_log();
    void *pool = arp_pool_push();
    arp_object *obj = new_logged(7);
    for (int i = 0; i < 3; i++) CHECK(arp_retain(obj) == obj);
    CHECK_EQ(arp_retain_count(obj), 4);
    for (int i = 0; i < 4; i++) CHECK(arp_autorelease(obj) == obj);
    CHECK_EQ(arp_pool_pending(), 4);
    CHECK_EQ(arp_retain_count(obj), 4);
    arp_retain(obj); /* keep one reference past the pop to see the count drop */
    arp_pool_pop(pool);
    CHECK_EQ(arp_retain_count(obj), 1);
    CHECK_EQ(dealloc_count, 0);
    arp_release(obj);
    CHECK_EQ(dealloc_count, 1);
}

int main(void) {
    releases_newest_first_across_pages();
    inner_pool_releases_only_its_own_objects();
    repeated_autoreleases_release_once_each();
    printf("lifo_release: ok\n");
    return 0;
}
