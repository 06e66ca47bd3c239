/* Mistakes memcheck must still catch although objects live in the runtime's own object heap (not
 * malloc's): `use_after_free` reads an object's payload after its last release, `leak` loses the
 * only reference to an object. Objects are made and freed around them, so free lists are in use. */
#include <string.h>

#include "check.h"

static volatile int sink;

static void churn(void) {
    void *pool = arp_pool_push();
    for (int i = 0; i < 3000; i++) arp_autorelease(arp_object_new(8, NULL, NULL));
    arp_pool_pop(pool);
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    churn();
    arp_object *obj = arp_object_new(8, NULL, NULL);
    *(int *)arp_object_payload(obj) = 7;
    if (strcmp(argv[1], "use_after_free") == 0) {
        int *payload = arp_object_payload(obj);
        arp_release(obj);
        sink = *payload; /* invalid read */
    } else if (strcmp(argv[1], "leak") == 0) {
        obj = NULL; /* the only reference is lost */
    } else {
        CHECK(!"unknown mode");
    }
    churn();
    printf("object_misuse: done\n");
    return 0;
}
