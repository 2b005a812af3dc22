/* Two threads each publish a value, meet at a barrier, then read the
 * other's: after the barrier both values are there. */
#include <assert.h>
#include <pthread.h>

static pthread_barrier_t barrier;
static volatile int value[2];

static void *worker(void *arg) {
    int me = (int)(long)arg;
    value[me] = me + 1;
    pthread_barrier_wait(&barrier);
    assert(value[1 - me] == 2 - me);
    return 0;
}

int main(void) {
    pthread_t t[2];
    pthread_barrier_init(&barrier, 0, 2);
    for (long i = 0; i < 2; i++)
        pthread_create(&t[i], 0, worker, (void *)i);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], 0);
    pthread_barrier_destroy(&barrier);
    return 0;
}
