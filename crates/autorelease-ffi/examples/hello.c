/* hello.c: push a pool, autorelease an object into it, pop the pool. */
#include <stdio.h>
#include <string.h>

#include "autorelease.h"

static void goodbye(arp_object *obj, void *ctx) {
    (void)ctx;
    printf("dealloc: %s\n", (char *)arp_object_payload(obj));
}

int main(void) {
    void *pool = arp_pool_push();

    arp_object *greeting = arp_autorelease(arp_object_new(32, goodbye, NULL));
    strcpy(arp_object_payload(greeting), "hello, world");
    printf("%s (%zu pending)\n", (char *)arp_object_payload(greeting), arp_pool_pending());

    arp_pool_pop(pool); /* releases greeting: prints "dealloc: hello, world" */
    printf("popped (%zu pending)\n", arp_pool_pending());
    return 0;
}
