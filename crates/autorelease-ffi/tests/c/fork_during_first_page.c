/* A thread takes the process's first pool page while the main thread forks; the child then pushes
 * a pool and autoreleases one object. The runtime's fork handlers must already be registered by
 * then (they are registered when the library is loaded): had the other thread been registering
 * them lazily at the moment of the fork, the child would wait for ever on its first page. The
 * child has 5 seconds (SIGALRM) to finish. */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static atomic_int started;

static void *first_page(void *arg) {
    (void)arg;
    void *pool = arp_pool_push();
    arp_object *obj = arp_object_new(8, NULL, NULL);
    atomic_store(&started, 1);
    arp_autorelease(obj); /* takes the first page */
    arp_pool_pop(pool);
    return NULL;
}

int main(void) {
    pthread_t worker;
    CHECK(pthread_create(&worker, NULL, first_page, NULL) == 0);
    while (!atomic_load(&started)) {
    }
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        alarm(5);
        void *pool = arp_pool_push();
        arp_autorelease(arp_object_new(8, NULL, NULL));
        arp_pool_pop(pool);
        _exit(0);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(pthread_join(worker, NULL) == 0);
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
        fprintf(stderr, "the forked child hung on its first pool page\n");
        return 1;
    }
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    printf("fork_during_first_page: ok\n");
    return 0;
}
