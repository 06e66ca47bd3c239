/* The return-value hand-off (arp_autorelease_return / arp_retain_autoreleased_return and objc4's
 * names): a claim of the same object takes the callee's reference with no pool entry and no
 * retain or release; a claim of another object retains it and sends the waiting one to the
 * innermost pool; a push, a pop, an autorelease, another hand-off, the statistics and thread exit
 * each move an unclaimed hand-off into the innermost pool first, where it is released once. */
#include <pthread.h>

#include "check.h"

/* A callee returning a new object at +0 through the hand-off. */
static arp_object *make(int id) { return arp_autorelease_return(new_logged(id)); }

static void same_object_claim_takes_the_reference(void) {
    void *pool = arp_pool_push();
    reset_log();
    arp_object *obj = arp_retain_autoreleased_return(make(1));
    CHECK_EQ(arp_retain_count(obj), 1); /* no extra retain */
    CHECK_EQ(arp_pool_pending(), 0);    /* no pool entry */
    arp_release(obj);
    CHECK_EQ(atomic_load(&dealloc_count), 1);
    arp_pool_pop(pool);
    CHECK_EQ(atomic_load(&dealloc_count), 1);
}

static void different_object_claim_retains_and_pools_the_waiting_one(void) {
    void *pool = arp_pool_push();
    reset_log();
    arp_object *other = new_logged(2);
    arp_object *returned = make(1);
    CHECK(arp_retain_autoreleased_return(other) == other);
    CHECK_EQ(arp_retain_count(other), 2);
    CHECK_EQ(arp_retain_count(returned), 1);
    CHECK_EQ(arp_pool_pending(), 1); /* the waiting object went into the pool */
    arp_release(other);
    arp_release(other);
    CHECK_EQ(atomic_load(&dealloc_count), 1);
    arp_pool_pop(pool);
    CHECK_EQ(atomic_load(&dealloc_count), 2);
    CHECK_EQ(dealloc_log[1], 1);
}

static void a_push_first_moves_the_hand_off_into_the_outer_pool(void) {
    void *outer = arp_pool_push();
    reset_log();
    (void)make(1);
    void *inner = arp_pool_push();
    CHECK_EQ(arp_pool_depth(), 2);
    arp_autorelease(new_logged(2));
    arp_pool_pop(inner);
    CHECK_EQ(atomic_load(&dealloc_count), 1); /* only the inner pool's object */
    CHECK_EQ(dealloc_log[0], 2);
    arp_pool_pop(outer);
    CHECK_EQ(atomic_load(&dealloc_count), 2);
    CHECK_EQ(dealloc_log[1], 1);
}

static void an_autorelease_or_hand_off_first_keeps_the_pool_order(void) {
    void *pool = arp_pool_push();
    reset_log();
    (void)make(1);
    arp_autorelease(new_logged(2));
    (void)make(3);
    (void)make(4); /* moves 3 into the pool */
    arp_object *four = arp_retain_autoreleased_return(make(5)); /* moves 4, claims 5 */
    CHECK_EQ(arp_pool_pending(), 4);
    arp_release(four);
    CHECK_EQ(atomic_load(&dealloc_count), 1);
    arp_pool_pop(pool);
    CHECK_EQ(atomic_load(&dealloc_count), 5);
    int expected[] = {5, 4, 3, 2, 1}; /* 5 by the release, then the pool newest first */
    for (int i = 0; i < 5; i++) CHECK_EQ(dealloc_log[i], expected[i]);
}

static void a_pop_releases_the_hand_off_with_its_pool(void) {
    void *outer = arp_pool_push();
    void *pool = arp_pool_push();
    reset_log();
    arp_object *obj = make(1);
    arp_pool_pop(pool);
    CHECK_EQ(atomic_load(&dealloc_count), 1);
    /* A claim after the pop would be a use after free: the object is gone, as with autorelease. */
    (void)obj;
    arp_pool_pop(outer);
}

static void null_passes_through(void) {
    CHECK(arp_autorelease_return(NULL) == NULL);
    CHECK(arp_retain_autoreleased_return(NULL) == NULL);
    CHECK(objc_autoreleaseReturnValue(NULL) == NULL);
    CHECK(objc_retainAutoreleasedReturnValue(NULL) == NULL);
}

static void objc_names_use_the_same_hand_off(void) {
    void *pool = objc_autoreleasePoolPush();
    reset_log();
    arp_object *obj = objc_retainAutoreleasedReturnValue(objc_autoreleaseReturnValue(new_logged(1)));
    CHECK_EQ(arp_retain_count(obj), 1);
    CHECK_EQ(arp_pool_pending(), 0);
    /* Mixed with the arp_ names. */
    arp_object *again = arp_retain_autoreleased_return(objc_autoreleaseReturnValue(obj));
    CHECK(again == obj);
    CHECK_EQ(arp_retain_count(obj), 1);
    arp_release(obj);
    objc_autoreleasePoolPop(pool);
    CHECK_EQ(atomic_load(&dealloc_count), 1);
}

static void a_million_pairs_leave_the_pool_empty(void) {
    void *pool = arp_pool_push();
    size_t high_water = arp_pool_high_water();
    arp_object *obj = arp_object_new(8, NULL, NULL);
    for (int i = 0; i < 1000000; i++) {
        obj = arp_retain_autoreleased_return(arp_autorelease_return(obj));
        CHECK(obj != NULL);
    }
    CHECK_EQ(arp_retain_count(obj), 1);
    CHECK_EQ(arp_pool_pending(), 0);
    CHECK_EQ(arp_pool_high_water(), high_water);
    arp_release(obj);
    arp_pool_pop(pool);
}

static pthread_t worker_id;
static atomic_int released_on_worker;

static void note_thread(arp_object *obj, void *ctx) {
    (void)obj;
    (void)ctx;
    if (pthread_equal(pthread_self(), worker_id)) atomic_fetch_add(&released_on_worker, 1);
}

/* The thread never pushes a pool or autoreleases: its only object is an unclaimed hand-off. */
static void *hand_off_and_exit(void *arg) {
    (void)arg;
    worker_id = pthread_self();
    (void)arp_autorelease_return(arp_object_new(8, note_thread, NULL));
    return NULL;
}

static void thread_exit_releases_an_unclaimed_hand_off(void) {
    pthread_t t;
    CHECK(pthread_create(&t, NULL, hand_off_and_exit, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    CHECK_EQ(atomic_load(&released_on_worker), 1);
}

int main(void) {
    same_object_claim_takes_the_reference();
    different_object_claim_retains_and_pools_the_waiting_one();
    a_push_first_moves_the_hand_off_into_the_outer_pool();
    an_autorelease_or_hand_off_first_keeps_the_pool_order();
    a_pop_releases_the_hand_off_with_its_pool();
    null_passes_through();
    objc_names_use_the_same_hand_off();
    a_million_pairs_leave_the_pool_empty();
    thread_exit_releases_an_unclaimed_hand_off();
    CHECK_EQ(arp_pool_depth(), 0);
    printf("return_handoff: ok\n");
    return 0;
}
