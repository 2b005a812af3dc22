/* A lost update: two threads increment a shared counter without a lock. */
#include <assert.h>
#include <pthread.h>

static volatile int total;

static void *add(void *arg) {
    (void)arg;
    int t = total;
    total = t + 1;
    return 0;
}

int main(void) {
    pthread_t a, b;
    pthread_create(&a, 0, add, 0);
    pthread_create(&b, 0, add, 0);
    pthread_join(a, 0);
    pthread_join(b, 0);
    assert(total == 2);
    return 0;
}
