/* Another thread makes and frees objects without pause (its free lists overflow into the object
 * heap's shared lists, under their lock) while the main thread forks, again and again; each child
 * then makes and frees thousands of objects of its own. The heap's lock is held across fork, like
 * the page source's: had the other thread held it at the moment of a fork, the child would wait
 * for ever on its first shared batch. Each child has 5 seconds (SIGALRM). The lock is held for
 * a moment in every thousand objects, so the test forks 1000 times: without the fork handling,
 * a child hung within the first 400 forks in each of three runs. */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static atomic_int stop;

static void *churn(void *arg) {
    (void)arg;
    while (!atomic_load(&stop)) {
        void *pool = arp_pool_push();
        for (int i = 0; i < 5000; i++) arp_autorelease(arp_object_new(8, NULL, NULL));
        arp_pool_pop(pool);
    }
    return NULL;
}

int main(void) {
    pthread_t worker;
    CHECK(pthread_create(&worker, NULL, churn, NULL) == 0);
    for (int round = 0; round < 1000; round++) {
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            alarm(5);
            for (int k = 0; k < 3; k++) {
                void *pool = arp_pool_push();
                for (int i = 0; i < 5000; i++) arp_autorelease(arp_object_new(8, NULL, NULL));
                arp_pool_pop(pool);
            }
            _exit(0);
        }
        int status = 0;
        CHECK(waitpid(pid, &status, 0) == pid);
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
            fprintf(stderr, "a forked child hung on the object heap (round %d)\n", round);
            return 1;
        }
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    atomic_store(&stop, 1);
    CHECK(pthread_join(worker, NULL) == 0);
    printf("fork_during_object_churn: ok\n");
    return 0;
}
