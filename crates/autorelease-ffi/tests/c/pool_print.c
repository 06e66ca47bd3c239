/* arp_pool_print and _objc_autoreleasePoolPrint write the thread's pools to stderr. Each phase
 * is announced on stderr; stdout lists the object addresses the printout must contain. */
#include "check.h"

int main(void) {
    fprintf(stderr, "=== placeholder ===\n");
    void *outer = arp_pool_push();
    arp_pool_print();

    fprintf(stderr, "=== objects ===\n");
    arp_object *a = arp_autorelease(arp_object_new(4, NULL, NULL));
    arp_object *b = arp_object_new(4, NULL, NULL);
    arp_retain(b);
    arp_autorelease(b);
    arp_autorelease(b); /* two autoreleases in a row share one entry: "(x2)" */
    void *inner = arp_pool_push();
    arp_object *c = arp_autorelease(arp_object_new(4, NULL, NULL));
    printf("a=%p\nb=%p\nc=%p\n", (void *)a, (void *)b, (void *)c);
    fflush(stdout);
    CHECK_EQ(arp_pool_pending(), 4);
    arp_pool_print();

    fprintf(stderr, "=== objc ===\n");
    _objc_autoreleasePoolPrint();

    arp_pool_pop(inner);
    arp_pool_pop(outer);
    fprintf(stderr, "=== empty ===\n");
    arp_pool_print();
    printf("pool_print: ok\n");
    return 0;
}
