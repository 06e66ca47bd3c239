/* objc4's names work on the same pool stack as the arp_pool_* functions, with the same
 * behaviour: tokens from either push pop with either pop, drain-through included. */
#include "check.h"

int main(void) {
    reset_log();
    void *a = objc_autoreleasePoolPush();
    CHECK_EQ(arp_pool_depth(), 1);
    arp_autorelease(new_logged(1));
    void *b = arp_pool_push();
    arp_autorelease(new_logged(2));
    void *c = objc_autoreleasePoolPush();
    CHECK_EQ(arp_pool_depth(), 3);
    arp_autorelease(new_logged(3));
    arp_pool_pop(c); /* objc token, arp pop */
    CHECK_EQ(arp_pool_depth(), 2);
    CHECK_EQ(dealloc_count, 1);
    objc_autoreleasePoolPop(b); /* arp token, objc pop */
    CHECK_EQ(arp_pool_depth(), 1);
    CHECK_EQ(dealloc_count, 2);
    objc_autoreleasePoolPush();
    arp_autorelease(new_logged(4));
    objc_autoreleasePoolPop(a); /* drain-through */
    CHECK_EQ(arp_pool_depth(), 0);
    CHECK_EQ(arp_pool_pending(), 0);
    CHECK_EQ(dealloc_count, 4);
    CHECK_EQ(dealloc_log[0], 3);
    CHECK_EQ(dealloc_log[1], 2);
    CHECK_EQ(dealloc_log[2], 4);
    CHECK_EQ(dealloc_log[3], 1);

    /* the placeholder path through the objc names */
    void *empty = objc_autoreleasePoolPush();
    CHECK_EQ(arp_pool_depth(), 1);
    objc_autoreleasePoolPop(empty);
    CHECK_EQ(arp_pool_depth(), 0);
    printf("objc_names: ok\n");
    return 0;
}
