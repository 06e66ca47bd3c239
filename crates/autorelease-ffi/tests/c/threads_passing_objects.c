/* Four threads push pools, autorelease objects into them and pop them, and pass objects to each
 * other through a mutex-protected mailbox with arp_retain/arp_release (the last release of many
 * objects happens on a thread other than the one that made them). A correct program: helgrind and
 * drd must report nothing for it.
 *
 * With the argument "race", every thread also increments one shared counter in the payload of a
 * shared object without any lock: a real data race in the user's code, which the race detectors
 * must still report. */
#include <pthread.h>
#include <string.h>

#include "check.h"

#define THREADS 4
#define ROUNDS 300
#define MAILBOX 16

static pthread_mutex_t mailbox_lock = PTHREAD_MUTEX_INITIALIZER;
static arp_object *mailbox[MAILBOX];
static size_t mailbox_len;
static atomic_size_t deallocs;
static atomic_size_t made;
static int racy;
static arp_object *shared_counter;

static void count_dealloc(arp_object *obj, void *ctx) {
    (void)ctx;
    /* Reads the payload another thread wrote before handing the object over. */
    CHECK(*(int *)arp_object_payload(obj) >= 0);
    atomic_fetch_add(&deallocs, 1);
}

static arp_object *new_object(int value) {
    arp_object *obj = arp_object_new(sizeof(int), count_dealloc, NULL);
    CHECK(obj != NULL);
    *(int *)arp_object_payload(obj) = value;
    atomic_fetch_add(&made, 1);
    return obj;
}

/* Leaves a reference in the mailbox, or gives it back if the mailbox is full. */
static void post(arp_object *obj) {
    pthread_mutex_lock(&mailbox_lock);
    if (mailbox_len < MAILBOX) {
        mailbox[mailbox_len++] = obj;
        obj = NULL;
    }
    pthread_mutex_unlock(&mailbox_lock);
    arp_release(obj);
}

/* A reference some thread posted, or NULL. */
static arp_object *take(void) {
    arp_object *obj = NULL;
    pthread_mutex_lock(&mailbox_lock);
    if (mailbox_len > 0) obj = mailbox[--mailbox_len];
    pthread_mutex_unlock(&mailbox_lock);
    return obj;
}

static void *work(void *arg) {
    int id = (int)(size_t)arg;
    for (int round = 0; round < ROUNDS; round++) {
        void *outer = arp_pool_push();
        arp_object *mine = arp_autorelease(new_object(id * ROUNDS + round));
        void *inner = arp_pool_push();
        for (int i = 0; i < 8; i++) arp_autorelease(new_object(i));
        /* Another thread's object, read here, then released into this thread's pool. */
        arp_object *theirs = take();
        if (theirs != NULL) {
            CHECK(*(int *)arp_object_payload(theirs) >= 0);
            arp_autorelease(theirs);
        }
        arp_pool_pop(inner);
        post(arp_retain(mine));
        if (racy) (*(int *)arp_object_payload(shared_counter))++;
        arp_pool_pop(outer);
    }
    /* Pages go back to the shared page source at thread exit with a pool left pushed. */
    arp_pool_push();
    arp_autorelease(new_object(id));
    return NULL;
}

int main(int argc, char **argv) {
    racy = argc > 1 && strcmp(argv[1], "race") == 0;
    shared_counter = new_object(0);
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_create(&threads[i], NULL, work, (void *)(size_t)i) == 0);
    for (int i = 0; i < THREADS; i++) CHECK(pthread_join(threads[i], NULL) == 0);
    for (arp_object *left; (left = take()) != NULL;) arp_release(left);
    arp_release(shared_counter);
    CHECK_EQ(atomic_load(&deallocs), atomic_load(&made));
    printf("threads_passing_objects: ok\n");
    return 0;
}
