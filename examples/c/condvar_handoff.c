/* Correct: a producer hands a value to a consumer through a mutex and a
 * condition variable, waiting in a loop on the predicate. */
#include <assert.h>
#include <pthread.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready, value;

static void *producer(void *arg) {
    (void)arg;
    pthread_mutex_lock(&m);
    value = 42;
    ready = 1;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&m);
    return 0;
}

int main(void) {
    pthread_t t;
    pthread_create(&t, 0, producer, 0);
    pthread_mutex_lock(&m);
    while (!ready)
        pthread_cond_wait(&cv, &m);
    int v = value;
    pthread_mutex_unlock(&m);
    pthread_join(t, 0);
    assert(v == 42);
    return 0;
}
