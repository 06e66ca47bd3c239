/* Every function of autorelease.h has exactly the signature issue 3 gives it: each is assigned
 * to a pointer of that type, which a mismatch turns into an error under -Werror. Compiled as
 * strict C99 and as C++ (-fsyntax-only) by tests/header.rs. The pointers have external linkage
 * so that no unused-variable warning fires. */
#include "autorelease.h"

void (*p_dealloc_type)(arp_object *obj, void *ctx) = (arp_dealloc_fn)0;

arp_object *(*p_new)(size_t, arp_dealloc_fn, void *) = arp_object_new;
void *(*p_payload)(arp_object *) = arp_object_payload;
arp_object *(*p_retain)(arp_object *) = arp_retain;
void (*p_release)(arp_object *) = arp_release;
arp_object *(*p_autorelease)(arp_object *) = arp_autorelease;
size_t (*p_retain_count)(const arp_object *) = arp_retain_count;
void *(*p_push)(void) = arp_pool_push;
void (*p_pop)(void *) = arp_pool_pop;
size_t (*p_depth)(void) = arp_pool_depth;
size_t (*p_pending)(void) = arp_pool_pending;
size_t (*p_high_water)(void) = arp_pool_high_water;
size_t (*p_capacity)(void) = arp_page_capacity;
void (*p_print)(void) = arp_pool_print;
void *(*p_objc_push)(void) = objc_autoreleasePoolPush;
void (*p_objc_pop)(void *) = objc_autoreleasePoolPop;
void (*p_objc_print)(void) = _objc_autoreleasePoolPrint;
arp_object *(*p_autorelease_return)(arp_object *) = arp_autorelease_return;
arp_object *(*p_retain_autoreleased_return)(arp_object *) = arp_retain_autoreleased_return;
void *(*p_objc_return)(void *) = objc_autoreleaseReturnValue;
void *(*p_objc_claim)(void *) = objc_retainAutoreleasedReturnValue;
