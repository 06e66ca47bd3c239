/* Each bad pool token stops the process. Usage: bad_token CASE, where CASE names the kind of
 * bad token. The program prints "token=%p" to stdout before the bad pop; the Rust test checks
 * that the process aborted (SIGABRT) and that stderr names that token and says the pool is
 * invalid or already popped. Objects of the still-live pools print "dealloc" if released:
 * nothing may be released by a refused pop. */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

typedef void (*pop_fn)(void *);

static void say_dealloc(arp_object *obj, void *ctx) {
    (void)obj;
    (void)ctx;
    printf("dealloc\n");
    fflush(stdout);
}

/* A live pool with one object in it, so that the thread has a page. */
static void *live_pool_with_object(void) {
    void *pool = arp_pool_push();
    arp_autorelease(arp_object_new(0, say_dealloc, NULL));
    return pool;
}

static void bad_pop(pop_fn pop, void *token) {
    printf("token=%p\n", token);
    fflush(stdout);
    pop(token);
    printf("returned from the bad pop\n");
    exit(1);
}

static void *foreign_token;
static pthread_barrier_t pushed;

/* Pushes a pool and keeps it live: the thread never exits (the abort ends it). */
static void *push_on_other_thread(void *with_page) {
    foreign_token = with_page ? live_pool_with_object() : arp_pool_push();
    pthread_barrier_wait(&pushed);
    for (;;) pause();
    return NULL;
}

static void *pop_on_other_thread(void *token) {
    bad_pop(arp_pool_pop, token);
    return NULL;
}

static void run(const char *name, pop_fn pop) {
    if (strcmp(name, "already_popped") == 0) {
        live_pool_with_object();
        void *pool = arp_pool_push();
        arp_autorelease(arp_object_new(0, NULL, NULL));
        pop(pool);
        bad_pop(pop, pool);
    } else if (strcmp(name, "already_popped_placeholder") == 0) {
        void *pool = arp_pool_push();
        pop(pool);
        bad_pop(pop, pool);
    } else if (strcmp(name, "popped_by_drain_through") == 0) {
        void *outer = arp_pool_push();
        void *inner = arp_pool_push();
        arp_autorelease(arp_object_new(0, NULL, NULL));
        pop(outer);
        live_pool_with_object();
        bad_pop(pop, inner);
    } else if (strcmp(name, "stale_slot_reused") == 0) {
        live_pool_with_object();
        void *old = arp_pool_push();
        pop(old);
        void *reused = arp_pool_push(); /* the same slot, a newer pool */
        CHECK(reused != old);
        CHECK_EQ((size_t)reused & 0xFFFFFFFFFFFFu, (size_t)old & 0xFFFFFFFFFFFFu);
        bad_pop(pop, old);
    } else if (strcmp(name, "stale_placeholder") == 0) {
        void *old = arp_pool_push();
        pop(old);
        void *now = arp_pool_push(); /* a new placeholder pool */
        CHECK(now != old);
        bad_pop(pop, old);
    } else if (strcmp(name, "token_into_freed_page") == 0) {
        /* a pool pushed on the fourth page; popping the outer pool frees that page */
        void *outer = arp_pool_push();
        for (size_t i = 0; i < 3 * arp_page_capacity(); i++)
            arp_autorelease(arp_object_new(0, NULL, NULL));
        void *deep = arp_pool_push();
        arp_autorelease(arp_object_new(0, NULL, NULL));
        pop(outer);
        live_pool_with_object();
        bad_pop(pop, deep);
    } else if (strcmp(name, "never_handed_out") == 0) {
        live_pool_with_object();
        bad_pop(pop, (void *)(size_t)0x7f0012345678u);
    } else if (strcmp(name, "null") == 0) {
        live_pool_with_object();
        bad_pop(pop, NULL);
    } else if (strcmp(name, "object_slot") == 0) {
        /* the slot just above a live boundary holds an object, not a pool */
        void *pool = live_pool_with_object();
        bad_pop(pop, (char *)pool + sizeof(void *));
    } else if (strcmp(name, "misaligned") == 0) {
        void *pool = live_pool_with_object();
        bad_pop(pop, (char *)pool + 1);
    } else if (strcmp(name, "other_thread") == 0 || strcmp(name, "other_thread_placeholder") == 0) {
        /* a live pool of another, still running, thread */
        live_pool_with_object();
        pthread_t t;
        void *with_page = strcmp(name, "other_thread") == 0 ? (void *)1 : NULL;
        CHECK(pthread_barrier_init(&pushed, NULL, 2) == 0);
        CHECK(pthread_create(&t, NULL, push_on_other_thread, with_page) == 0);
        pthread_barrier_wait(&pushed);
        bad_pop(pop, foreign_token);
    } else if (strcmp(name, "main_token_on_other_thread") == 0) {
        void *pool = live_pool_with_object();
        pthread_t t;
        CHECK(pthread_create(&t, NULL, pop_on_other_thread, pool) == 0);
        CHECK(pthread_join(t, NULL) == 0);
        printf("the other thread's bad pop returned\n");
        exit(1);
    } else {
        fprintf(stderr, "unknown case %s\n", name);
        exit(2);
    }
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: bad_token CASE arp|objc\n");
        return 2;
    }
    run(argv[1], strcmp(argv[2], "objc") == 0 ? objc_autoreleasePoolPop : arp_pool_pop);
    return 3;
}
