/* A lost wakeup: the consumer checks the flag with `if`, not `while`, and
 * the producer signals without holding the mutex after setting the flag
 * outside it, so the signal can come between the check and the wait. */
#include <pthread.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static volatile int ready;

static void *producer(void *arg) {
    (void)arg;
    ready = 1;
    pthread_cond_signal(&cv);
    return 0;
}

int main(void) {
    pthread_t t;
    pthread_create(&t, 0, producer, 0);
    pthread_mutex_lock(&m);
    if (!ready)
        pthread_cond_wait(&cv, &m);
    pthread_mutex_unlock(&m);
    pthread_join(t, 0);
    return 0;
}
