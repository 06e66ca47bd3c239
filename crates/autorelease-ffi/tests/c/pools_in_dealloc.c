/* Deallocs that run during a pop may push and pop pools of their own, and even leave one
 * pushed: the outer pop then pops it too (objc4's rr-autorelease2 does the same). */
#include "check.h"

enum behaviour { PUSH_AND_POP, PUSH_ONLY, NESTED_POP_OF_OWN_POOL_ONLY };

static size_t depth_seen_in_dealloc;

static void dealloc_with_pools(arp_object *obj, void *ctx) {
    enum behaviour b = (enum behaviour)(size_t)ctx;
    record_dealloc(obj, NULL);
    size_t depth = arp_pool_depth();
    void *pool = arp_pool_push();
    CHECK_EQ(arp_pool_depth(), depth + 1);
    depth_seen_in_dealloc = depth;
    arp_autorelease(new_logged(100 + *(int *)arp_object_payload(obj)));
    if (b == PUSH_AND_POP) {
        arp_pool_pop(pool);
        CHECK_EQ(arp_pool_depth(), depth);
        /* the object autoreleased above was released by our own pop */
    } else if (b == NESTED_POP_OF_OWN_POOL_ONLY) {
        void *inner = arp_pool_push();
        arp_autorelease(new_logged(200 + *(int *)arp_object_payload(obj)));
        arp_pool_pop(inner);
        arp_pool_pop(pool);
        CHECK_EQ(arp_pool_depth(), depth);
    }
}

static arp_object *new_with_pools(int id, enum behaviour b) {
    arp_object *obj = arp_object_new(sizeof(int), dealloc_with_pools, (void *)(size_t)b);
    CHECK(obj != NULL);
    *(int *)arp_object_payload(obj) = id;
    return obj;
}

static void dealloc_pushes_and_pops_a_pool_during_a_pop(void) {
    reset_log();
    void *outer = arp_pool_push();
    arp_autorelease(new_logged(0));
    void *pool = arp_pool_push();
    arp_autorelease(new_with_pools(1, PUSH_AND_POP));
    arp_autorelease(new_with_pools(2, NESTED_POP_OF_OWN_POOL_ONLY));
    arp_pool_pop(pool);
    CHECK_EQ(arp_pool_depth(), 1);
    CHECK_EQ(arp_pool_pending(), 1);
    /* 2, then 202 (its inner pool), then 102; then 1, then 101 */
    CHECK_EQ(dealloc_count, 5);
    CHECK_EQ(dealloc_log[0], 2);
    CHECK_EQ(dealloc_log[1], 202);
    CHECK_EQ(dealloc_log[2], 102);
    CHECK_EQ(dealloc_log[3], 1);
    CHECK_EQ(dealloc_log[4], 101);
    arp_pool_pop(outer);
    CHECK_EQ(dealloc_count, 6);
    CHECK_EQ(dealloc_log[5], 0);
}

static void pool_left_pushed_by_a_dealloc_is_popped_by_the_outer_pop(void) {
    reset_log();
    void *pool = arp_pool_push();
    arp_autorelease(new_logged(0));
    arp_autorelease(new_with_pools(5, PUSH_ONLY));
    arp_pool_pop(pool);
    CHECK_EQ(depth_seen_in_dealloc, 1);
    CHECK_EQ(arp_pool_depth(), 0);
    CHECK_EQ(arp_pool_pending(), 0);
    CHECK_EQ(dealloc_count, 3);
    CHECK_EQ(dealloc_log[0], 5);
    CHECK_EQ(dealloc_log[1], 105);
    CHECK_EQ(dealloc_log[2], 0);
}

int main(void) {
    dealloc_pushes_and_pops_a_pool_during_a_pop();
    pool_left_pushed_by_a_dealloc_is_popped_by_the_outer_pop();
    printf("pools_in_dealloc: ok\n");
    return 0;
}
