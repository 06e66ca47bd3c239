/* arp_object_new: zeroed, 16-byte aligned payloads of any size; the dealloc callback gets the
 * object and its context, exactly once; NULL dealloc is allowed; sizes that cannot be allocated
 * give NULL; NULL objects are accepted everywhere. */
#include <stdint.h>
#include <string.h>

#include "check.h"

struct seen {
    arp_object *obj;
    unsigned char first_byte;
    int calls;
};

static void note_dealloc(arp_object *obj, void *ctx) {
    struct seen *seen = ctx;
    seen->obj = obj;
    /* the payload is still readable in the callback */
    seen->first_byte = *(unsigned char *)arp_object_payload(obj);
    seen->calls++;
}

static void payloads_are_zeroed_aligned_and_writable(void) {
    size_t sizes[] = {1, 7, 16, 17, 100, 4096, 1 << 20};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        struct seen seen = {0};
        arp_object *obj = arp_object_new(sizes[k], note_dealloc, &seen);
        CHECK(obj != NULL);
        CHECK_EQ(arp_retain_count(obj), 1);
        unsigned char *p = arp_object_payload(obj);
        CHECK(p != NULL);
        CHECK_EQ((uintptr_t)p % 16, 0);
        for (size_t i = 0; i < sizes[k]; i++) CHECK_EQ(p[i], 0);
        memset(p, 0xAB, sizes[k]);
        arp_release(obj);
        CHECK_EQ(seen.calls, 1);
        CHECK(seen.obj == obj);
        CHECK_EQ(seen.first_byte, 0xAB);
    }
}

static void zero_sized_payload_and_null_dealloc(void) {
    arp_object *obj = arp_object_new(0, NULL, NULL);
    CHECK(obj != NULL);
    CHECK(arp_object_payload(obj) != NULL);
    CHECK(arp_retain(obj) == obj);
    CHECK_EQ(arp_retain_count(obj), 2);
    arp_release(obj);
    CHECK_EQ(arp_retain_count(obj), 1);
    arp_release(obj);
}

static void impossible_sizes_give_null(void) {
    CHECK(arp_object_new(SIZE_MAX, NULL, NULL) == NULL);
    CHECK(arp_object_new(SIZE_MAX - 64, NULL, NULL) == NULL);
    CHECK(arp_object_new((size_t)PTRDIFF_MAX, NULL, NULL) == NULL);
}

static void null_objects_are_accepted(void) {
    CHECK(arp_retain(NULL) == NULL);
    arp_release(NULL);
    CHECK(arp_autorelease(NULL) == NULL);
    CHECK_EQ(arp_retain_count(NULL), 0);
    CHECK(arp_object_payload(NULL) == NULL);
    void *pool = arp_pool_push();
    arp_autorelease(NULL);
    CHECK_EQ(arp_pool_pending(), 0);
    arp_pool_pop(pool);
}

static void autoreleased_object_lives_until_the_pop(void) {
    struct seen seen = {0};
    void *pool = arp_pool_push();
    arp_object *obj = arp_autorelease(arp_object_new(32, note_dealloc, &seen));
    ((unsigned char *)arp_object_payload(obj))[0] = 9;
    CHECK_EQ(seen.calls, 0);
    arp_pool_pop(pool);
    CHECK_EQ(seen.calls, 1);
    CHECK_EQ(seen.first_byte, 9);
}

int main(void) {
    payloads_are_zeroed_aligned_and_writable();
    zero_sized_payload_and_null_dealloc();
    impossible_sizes_give_null();
    null_objects_are_accepted();
    autoreleased_object_lives_until_the_pop();
    printf("payload: ok\n");
    return 0;
}
