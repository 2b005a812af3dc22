/* Three threads each publish a value, meet at a barrier, then read all
 * three: after the barrier every value is there. */
#include <assert.h>
#include <pthread.h>

static pthread_barrier_t barrier;
static volatile int value[3];

static void *worker(void *arg) {
    int me = (int)(long)arg;
    value[me] = 1;
    pthread_barrier_wait(&barrier);
    for (int i = 0; i < 3; i++)
        assert(value[i] == 1);
    return 0;
}

int main(void) {
    pthread_t t[3];
    pthread_barrier_init(&barrier, 0, 3);
    for (long i = 0; i < 3; i++)
        pthread_create(&t[i], 0, worker, (void *)i);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], 0);
    return 0;
}
