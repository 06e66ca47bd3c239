/* Pools a pthread_create thread leaves pushed, and objects it autoreleased with no pool at all,
 * are released when the thread exits, on that thread. The thread never ran Rust code before. */
#include <pthread.h>
#include <string.h>

#include "check.h"

static atomic_size_t released_on_worker;
static atomic_size_t released_elsewhere;
static pthread_t worker_id;

static void dealloc_note_thread(arp_object *obj, void *ctx) {
    (void)obj;
    (void)ctx;
    if (pthread_equal(pthread_self(), worker_id))
        atomic_fetch_add(&released_on_worker, 1);
    else
        atomic_fetch_add(&released_elsewhere, 1);
}

static arp_object *new_noted(void) {
    arp_object *obj = arp_object_new(8, dealloc_note_thread, NULL);
    CHECK(obj != NULL);
    return obj;
}

enum scenario { NESTED_POOLS_LEFT_PUSHED, NO_POOL_AT_ALL, POPPED_THEN_EXIT, PTHREAD_EXIT };

struct job {
    enum scenario scenario;
    size_t objects;
};

static void *worker(void *arg) {
    struct job *job = arg;
    worker_id = pthread_self();
    switch (job->scenario) {
    case NESTED_POOLS_LEFT_PUSHED:
        arp_pool_push();
        for (size_t i = 0; i < job->objects / 2; i++) arp_autorelease(new_noted());
        arp_pool_push();
        for (size_t i = job->objects / 2; i < job->objects; i++) arp_autorelease(new_noted());
        CHECK_EQ(arp_pool_depth(), 2);
        break;
    case NO_POOL_AT_ALL:
        for (size_t i = 0; i < job->objects; i++) arp_autorelease(new_noted());
        CHECK_EQ(arp_pool_depth(), 0);
        break;
    case POPPED_THEN_EXIT: {
        void *pool = arp_pool_push();
        for (size_t i = 0; i < job->objects; i++) arp_autorelease(new_noted());
        arp_pool_pop(pool);
        CHECK_EQ(atomic_load(&released_on_worker), job->objects);
        break;
    }
    case PTHREAD_EXIT:
        arp_pool_push();
        for (size_t i = 0; i < job->objects; i++) arp_autorelease(new_noted());
        pthread_exit(NULL);
    }
    CHECK_EQ(arp_pool_pending(), job->scenario == POPPED_THEN_EXIT ? 0 : job->objects);
    return NULL;
}

static void run(enum scenario scenario, size_t objects) {
    atomic_store(&released_on_worker, 0);
    atomic_store(&released_elsewhere, 0);
    struct job job = {scenario, objects};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, worker, &job) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    CHECK_EQ(atomic_load(&released_on_worker), objects);
    CHECK_EQ(atomic_load(&released_elsewhere), 0);
}

int main(void) {
    size_t many = 3 * arp_page_capacity();
    run(NESTED_POOLS_LEFT_PUSHED, 10);
    run(NESTED_POOLS_LEFT_PUSHED, many);
    run(NO_POOL_AT_ALL, 10);
    run(POPPED_THEN_EXIT, many);
    run(PTHREAD_EXIT, many);
    /* the main thread's own pools are untouched by the workers */
    CHECK_EQ(arp_pool_depth(), 0);
    CHECK_EQ(arp_pool_pending(), 0);
    printf("thread_exit_drain: ok\n");
    return 0;
}
