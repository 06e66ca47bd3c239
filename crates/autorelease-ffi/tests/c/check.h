/* Helpers shared by the C test programs: checks that exit(1) with the failing expression, and
 * objects that record their deallocation. */
#ifndef CHECK_H
#define CHECK_H

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "autorelease.h"

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
            exit(1);                                                                   \
        }                                                                              \
    } while (0)

#define CHECK_EQ(actual, expected)                                                     \
    do {                                                                               \
        size_t check_a_ = (size_t)(actual), check_e_ = (size_t)(expected);             \
        if (check_a_ != check_e_) {                                                    \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s is %zu, expected %s = %zu\n",  \
                    __FILE__, __LINE__, #actual, check_a_, #expected, check_e_);       \
            exit(1);                                                                   \
        }                                                                              \
    } while (0)

/* The order objects were deallocated in, by id (the int in their payload). */
#define DEALLOC_LOG_MAX 100000
static int dealloc_log[DEALLOC_LOG_MAX];
static atomic_size_t dealloc_count;

static void record_dealloc(arp_object *obj, void *ctx) {
    (void)ctx;
    size_t i = atomic_fetch_add(&dealloc_count, 1);
    if (i < DEALLOC_LOG_MAX) dealloc_log[i] = *(int *)arp_object_payload(obj);
}

/* A new object (count 1) whose payload is the int id and whose dealloc is logged. */
static inline arp_object *new_logged(int id) {
    arp_object *obj = arp_object_new(sizeof(int), record_dealloc, NULL);
    CHECK(obj != NULL);
    *(int *)arp_object_payload(obj) = id;
    return obj;
}

static inline void reset_log(void) { atomic_store(&dealloc_count, 0); }

#endif
