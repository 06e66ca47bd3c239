/*
 * autorelease.h - objc4-style autorelease pools and reference-counted objects for C and C++.
 *
 * The C interface of the Rust crate `autorelease-ffi`. Link the static library
 * (libautorelease_ffi.a, with -lpthread -ldl -lm) or the shared one (libautorelease_ffi.so).
 * C99; usable from C++.
 *
 *     void *pool = arp_pool_push();
 *     arp_object *obj = arp_autorelease(arp_object_new(sizeof(int), NULL, NULL));
 *     ... use obj until the pool is popped ...
 *     arp_pool_pop(pool);   // releases obj
 *
 * Threads: every thread has its own pool stack. Objects may be retained and released from any
 * thread (counts are atomic), but a pool belongs to the thread that pushed it. When a thread
 * exits (including threads made with pthread_create), every pool it left pushed is popped.
 *
 * Errors: a pool token that is not a live pool of the calling thread (already popped, stale,
 * never handed out, or pushed on another thread) stops the process: a message naming the token
 * and saying the pool is invalid or already popped goes to stderr, then abort() (SIGABRT).
 * Nothing is released and no memory is read through the bad token. The same happens for any
 * other internal error (a Rust panic never unwinds into C; it is printed, then abort()).
 *
 * Environment: AUTORELEASE_DEBUG_MISSING_POOLS=YES (or objc4's OBJC_DEBUG_MISSING_POOLS=YES)
 * reports objects autoreleased while no pool is pushed; without it they are kept, silently,
 * until their thread exits (objc4's behaviour).
 * AUTORELEASE_DEBUG_POOL_PROTECT=1 keeps every pool page except the thread's newest (hot) one
 * read-only, so a stray write into a full pool page stops the program with SIGSEGV at the write.
 * Every pop checks the pages it reads: a page whose header was overwritten is reported with its
 * address on stderr, then abort().
 *
 * This library defines objc4's pool symbols (objc_autoreleasePoolPush, ...). Do not link it into
 * a program that also links another Objective-C runtime (libobjc).
 */
#ifndef AUTORELEASE_H
#define AUTORELEASE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Objects ---------------------------------------------------------------------------- */

/* A reference-counted object of the runtime. Objects made by Rust code (Obj<T>) are arp_objects
 * too: they can be retained, released and autoreleased through these functions. */
typedef struct arp_object arp_object;

/* Called exactly once, when obj's retain count reaches zero, just before its memory is freed.
 * The payload is still valid during the call; obj must not be retained or autoreleased again.
 * ctx is the value given to arp_object_new. Must not throw (C++) or longjmp out. */
typedef void (*arp_dealloc_fn)(arp_object *obj, void *ctx);

/* A new object with retain count 1 and payload_size zeroed bytes. dealloc (may be NULL) runs
 * exactly once, when the count reaches zero, before the memory is freed. The object and its
 * payload are one allocation. Returns NULL if payload_size is too large or memory runs out. */
arp_object *arp_object_new(size_t payload_size, arp_dealloc_fn dealloc, void *ctx);

/* The object's payload: payload_size bytes, 16-byte aligned, valid while the object lives.
 * NULL for a NULL obj, and for objects not made by arp_object_new (Rust objects). */
void *arp_object_payload(arp_object *obj);

/* Adds a reference to obj; returns obj. NULL is returned unchanged. */
arp_object *arp_retain(arp_object *obj);

/* Gives up a reference to obj; the last one runs its dealloc and frees it. NULL is ignored. */
void arp_release(arp_object *obj);

/* Hands one reference of obj to the innermost pool of this thread, which releases it when that
 * pool is popped; returns obj. With no pool pushed, obj is kept until the thread exits (see
 * Environment above). NULL is returned unchanged. */
arp_object *arp_autorelease(arp_object *obj);

/* Return-value hand-off (objc4's objc_autoreleaseReturnValue / objc_retainAutoreleasedReturnValue).
 * A function returning an object it owns at +0 ends with `return arp_autorelease_return(obj);`
 * instead of `return arp_autorelease(obj);`, and its caller, wanting to own the result, writes
 * `x = arp_retain_autoreleased_return(f());` instead of `x = arp_retain(f());`.
 *
 * arp_autorelease_return gives up the caller's reference to obj and returns obj. The reference
 * waits for arp_retain_autoreleased_return of the SAME object, which takes it: no pool entry, no
 * retain, no release. The identity is always checked: a claim of a different object retains that
 * object normally and moves the waiting one into the innermost pool. Anything else that observes
 * the pools first (a push, a pop, an autorelease, another hand-off, thread exit, the statistics)
 * moves the waiting object into the innermost pool, so it is released exactly once, by the pool
 * it would have been in with arp_autorelease. NULL passes through both unchanged. */
arp_object *arp_autorelease_return(arp_object *obj);
arp_object *arp_retain_autoreleased_return(arp_object *obj);

/* obj's current retain count (a snapshot if other threads hold references); 0 for NULL.
 * References held by pools count. */
size_t arp_retain_count(const arp_object *obj);

/* ---- Pools -------------------------------------------------------------------------------- */

/* Pushes a new pool on this thread and returns its token, an opaque value to pass to
 * arp_pool_pop. The first push on a thread allocates nothing: a page is allocated when the first
 * object is autoreleased. */
void *arp_pool_push(void);

/* objc4 semantics: pops token's pool and every pool pushed after it, releasing their objects
 * newest first. Objects autoreleased during the pop (by deallocs) are released by it too, and
 * deallocs may push and pop pools of their own. A token that is not a live pool of this thread
 * aborts the process (see Errors above). */
void arp_pool_pop(void *token);

/* Pools pushed and not popped on this thread. */
size_t arp_pool_depth(void);

/* Objects awaiting release on this thread, all pools together (an object autoreleased twice
 * counts twice). */
size_t arp_pool_pending(void);

/* The most objects ever pending at once on this thread. */
size_t arp_pool_high_water(void);

/* Entries per pool page: 505 on 64-bit. A pool boundary takes one entry. */
size_t arp_page_capacity(void);

/* Writes every pool and pending object of this thread to stderr, in the format of objc4's
 * _objc_autoreleasePoolPrint. */
void arp_pool_print(void);

/* ---- objc4's names: same behaviour, same pool stack as the arp_pool_* functions ---------- */

/* The same as arp_pool_push. */
void *objc_autoreleasePoolPush(void);

/* The same as arp_pool_pop, including the abort for a bad token. */
void objc_autoreleasePoolPop(void *token);

/* The same as arp_pool_print. */
void _objc_autoreleasePoolPrint(void);

/* The same as arp_autorelease_return: the claim is matched by the object's identity, never by
 * inspecting the caller's return address or instructions. */
void *objc_autoreleaseReturnValue(void *obj);

/* The same as arp_retain_autoreleased_return. */
void *objc_retainAutoreleasedReturnValue(void *obj);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* AUTORELEASE_H */
