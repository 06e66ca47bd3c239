/* Popping an outer pool pops every pool pushed after it, newest object first. */
#include "check.h"

static void popping_the_outer_pool_pops_the_inner_ones(void) {
    reset_log();
    void *a = arp_pool_push();
    arp_autorelease(new_logged(1));
    void *b = arp_pool_push();
    arp_autorelease(new_logged(2));
    void *c = arp_pool_push();
    arp_autorelease(new_logged(3));
    (void)b;
    (void)c;
    CHECK_EQ(arp_pool_depth(), 3);
    arp_pool_pop(a);
    CHECK_EQ(arp_pool_depth(), 0);
    CHECK_EQ(arp_pool_pending(), 0);
    CHECK_EQ(dealloc_count, 3);
    CHECK_EQ(dealloc_log[0], 3);
    CHECK_EQ(dealloc_log[1], 2);
    CHECK_EQ(dealloc_log[2], 1);
}

static void popping_a_middle_pool_keeps_the_outer_one(void) {
    reset_log();
    void *a = arp_pool_push();
    arp_autorelease(new_logged(1));
    void *b = arp_pool_push();
    arp_autorelease(new_logged(2));
    arp_pool_push();
    arp_autorelease(new_logged(3));
    arp_pool_push();
    arp_pool_pop(b);
    CHECK_EQ(arp_pool_depth(), 1);
    CHECK_EQ(dealloc_count, 2);
    CHECK_EQ(dealloc_log[0], 3);
    CHECK_EQ(dealloc_log[1], 2);
    CHECK_EQ(arp_pool_pending(), 1);
    arp_pool_pop(a);
    CHECK_EQ(dealloc_count, 3);
}

static void drain_through_spans_pages_and_many_pools(void) {
    reset_log();
    size_t cap = arp_page_capacity();
    void *outer = arp_pool_push();
    int id = 0;
    for (int pool = 0; pool < 40; pool++) {
        arp_pool_push();
        for (size_t i = 0; i < cap / 7; i++) arp_autorelease(new_logged(id++));
    }
    CHECK_EQ(arp_pool_depth(), 41);
    CHECK_EQ(arp_pool_pending(), id);
    arp_pool_pop(outer);
    CHECK_EQ(arp_pool_depth(), 0);
    CHECK_EQ(dealloc_count, id);
    for (int i = 0; i < id; i++) CHECK_EQ(dealloc_log[i], id - 1 - i);
}

int main(void) {
    popping_the_outer_pool_pops_the_inner_ones();
    popping_a_middle_pool_keeps_the_outer_one();
    drain_through_spans_pages_and_many_pools();
    printf("drain_through_pop: ok\n");
    return 0;
}
