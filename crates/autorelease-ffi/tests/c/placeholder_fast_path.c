/* The first pool of a thread is a placeholder: pushing and popping it allocates nothing until
 * an object arrives. Two measurements: heap use from glibc's mallinfo2, with glibc's per-thread
 * cache off (GLIBC_TUNABLES=glibc.malloc.tcache_count=0: mallinfo2 counts cached free chunks as in
 * use), and memory mapped outside malloc (the runtime's pool pages come from chunks it maps
 * itself): the process's data segment size (VmData in /proc/self/status) less what malloc holds
 * from the system. mallinfo2 does not see valgrind's allocator: under valgrind
 * (ARP_TEST_NO_MALLINFO=1) the measurements are left out. */
#include <string.h>
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>

#include "check.h"

static int measure_heap;

static size_t heap_in_use(void) { return mallinfo2().uordblks; }

/* KiB of private writable memory mapped other than by malloc. */
static long mapped_outside_malloc_kib(void) {
    FILE *status = fopen("/proc/self/status", "r");
    CHECK(status != NULL);
    char line[256];
    long vm_data_kib = -1;
    while (fgets(line, sizeof line, status) != NULL) {
        if (sscanf(line, "VmData: %ld kB", &vm_data_kib) == 1) break;
    }
    fclose(status);
    CHECK(vm_data_kib >= 0);
    struct mallinfo2 m = mallinfo2();
    return vm_data_kib - (long)((m.arena + m.hblkhd) / 1024);
}

/* Whether mallinfo2 sees allocations; if not, the run must have said it expects that. */
static void calibrate_heap_measurement(void) {
    const char *tunables = getenv("GLIBC_TUNABLES");
    CHECK(getenv("ARP_TEST_NO_MALLINFO") != NULL ||
          (tunables != NULL && strstr(tunables, "glibc.malloc.tcache_count=0") != NULL));
    size_t before = heap_in_use();
    void *volatile block = malloc(4096); /* volatile: the pair must not be optimised away */
    measure_heap = heap_in_use() - before >= 4096;
    free(block);
    if (!measure_heap) {
        const char *expected = getenv("ARP_TEST_NO_MALLINFO");
        CHECK(expected != NULL && expected[0] == '1');
        printf("heap measurements skipped: mallinfo2 does not see allocations here\n");
    }
}

static void empty_push_pop_allocates_nothing(void) {
    /* measured from before the thread's very first push: without the placeholder, that push
     * would allocate the thread's first page and keep it */
    size_t before = heap_in_use();
    long mapped_before = measure_heap ? mapped_outside_malloc_kib() : 0;
    for (int i = 0; i < 1000; i++) {
        void *pool = arp_pool_push();
        CHECK_EQ(arp_pool_depth(), 1);
        CHECK_EQ(arp_pool_pending(), 0);
        arp_pool_pop(pool);
        CHECK_EQ(arp_pool_depth(), 0);
    }
    if (measure_heap) {
        CHECK_EQ(heap_in_use(), before);
        CHECK_EQ(mapped_outside_malloc_kib(), mapped_before);
    }
}

static void first_object_allocates_the_page_and_the_token_still_pops(void) {
    void *pool = arp_pool_push();
    arp_object *fresh = new_logged(1);
    long mapped_before = measure_heap ? mapped_outside_malloc_kib() : 0;
    arp_object *obj = arp_autorelease(fresh);
    (void)obj;
    /* the thread's first page, the process's first: a 4 KiB page in a newly mapped chunk, which
     * the measurement of the empty pools would have seen */
    if (measure_heap) CHECK(mapped_outside_malloc_kib() - mapped_before >= 4);
    CHECK_EQ(arp_pool_pending(), 1);
    CHECK_EQ(arp_pool_depth(), 1);
    /* a pool pushed now goes on the page, above the boundary the placeholder stood for */
    void *inner = arp_pool_push();
    CHECK(inner != pool);
    CHECK_EQ(arp_pool_depth(), 2);
    reset_log();
    arp_pool_pop(pool);
    CHECK_EQ(arp_pool_depth(), 0);
    CHECK_EQ(arp_pool_pending(), 0);
    CHECK_EQ(dealloc_count, 1);
    CHECK_EQ(dealloc_log[0], 1);
}

static void *token_on_another_thread(void *arg) {
    (void)arg;
    void *pool = arp_pool_push();
    CHECK_EQ(arp_pool_depth(), 1);
    arp_pool_pop(pool);
    return pool;
}

static void placeholder_tokens_differ_between_threads(void) {
    void *mine = arp_pool_push();
    pthread_t t;
    void *theirs;
    CHECK(pthread_create(&t, NULL, token_on_another_thread, NULL) == 0);
    CHECK(pthread_join(t, &theirs) == 0);
    CHECK(mine != theirs);
    arp_pool_pop(mine);
}

int main(void) {
    calibrate_heap_measurement();
    if (sizeof(void *) == 8) CHECK_EQ(arp_page_capacity(), 505);
    CHECK_EQ(arp_pool_depth(), 0);
    CHECK_EQ(arp_pool_high_water(), 0);
    empty_push_pop_allocates_nothing();
    CHECK_EQ(arp_pool_high_water(), 0);
    placeholder_tokens_differ_between_threads();
    first_object_allocates_the_page_and_the_token_still_pops();
    CHECK_EQ(arp_pool_high_water(), 1);
    printf("placeholder_fast_path: ok\n");
    return 0;
}
