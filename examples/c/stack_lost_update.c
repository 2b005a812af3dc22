/* A lost update on a counter in main's stack frame, handed to the thread
 * by pointer: the pointer leaves main's stack (pthread_create stores it),
 * so main's own-stack accesses are scheduling points from then on. */
#include <assert.h>
#include <pthread.h>

static void *add(void *arg) {
    volatile int *total = arg;
    int t = *total;
    *total = t + 1;
    return 0;
}

int main(void) {
    volatile int total = 0;
    pthread_t a;
    pthread_create(&a, 0, add, (void *)&total);
    int t = total;
    total = t + 1;
    pthread_join(a, 0);
    assert(total == 2);
    return 0;
}
