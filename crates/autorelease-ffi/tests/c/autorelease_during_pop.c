/* Objects autoreleased by deallocs that run during a pop are released by that same pop, even
 * when there are enough of them to need new pages mid-drain (GNUstep libobjc2 issue #217). */
#include "check.h"

/* Payload of a "parent": its id, then how many children its dealloc autoreleases. */
struct parent {
    int id;
    int children;
};

static void autorelease_children(arp_object *obj, void *ctx) {
    (void)ctx;
    struct parent *p = arp_object_payload(obj);
    record_dealloc(obj, NULL);
    for (int i = 0; i < p->children; i++) arp_autorelease(new_logged(p->id * 10000 + i + 1));
}

static arp_object *new_parent(int id, int children) {
    arp_object *obj = arp_object_new(sizeof(struct parent), autorelease_children, NULL);
    CHECK(obj != NULL);
    struct parent *p = arp_object_payload(obj);
    p->id = id;
    p->children = children;
    return obj;
}

static void child_autoreleased_in_dealloc_is_released_by_the_same_pop(void) {
    reset_log();
    void *pool = arp_pool_push();
    arp_autorelease(new_logged(1));
    arp_autorelease(new_parent(2, 1));
    arp_pool_pop(pool);
    CHECK_EQ(arp_pool_depth(), 0);
    CHECK_EQ(arp_pool_pending(), 0);
    /* the parent, then its child (autoreleased above the entry of 1), then 1 */
    CHECK_EQ(dealloc_count, 3);
    CHECK_EQ(dealloc_log[0], 2);
    CHECK_EQ(dealloc_log[1], 20001);
    CHECK_EQ(dealloc_log[2], 1);
}

static void deallocs_that_fill_new_pages_during_the_pop_are_drained(void) {
    reset_log();
    int children = (int)(2 * arp_page_capacity() + 3);
    void *outer = arp_pool_push();
    arp_autorelease(new_logged(1));
    void *inner = arp_pool_push();
    arp_autorelease(new_parent(3, children));
    arp_autorelease(new_parent(4, children));
    arp_pool_pop(inner);
    CHECK_EQ(arp_pool_depth(), 1);
    CHECK_EQ(arp_pool_pending(), 1);
    CHECK_EQ(dealloc_count, 2 + 2 * (size_t)children);
    /* parent 4, its children newest first, then parent 3 and its children */
    CHECK_EQ(dealloc_log[0], 4);
    CHECK_EQ(dealloc_log[1], 40000 + children);
    CHECK_EQ(dealloc_log[(size_t)children], 40001);
    CHECK_EQ(dealloc_log[(size_t)children + 1], 3);
    CHECK_EQ(dealloc_log[2 * (size_t)children + 1], 30001);
    arp_pool_pop(outer);
    CHECK_EQ(dealloc_log[2 + 2 * (size_t)children], 1);
}

int main(void) {
    child_autoreleased_in_dealloc_is_released_by_the_same_pop();
    deallocs_that_fill_new_pages_during_the_pop_are_drained();
    printf("autorelease_during_pop: ok\n");
    return 0;
}
