/* Thread-specific data: each thread stores its own value under one key;
 * each sees its own, and the key's destructor runs once per thread at its
 * exit. */
#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>

static pthread_key_t key;
static atomic_int destroyed;
static int slot[2];

static void destroy(void *p) {
    (void)p;
    atomic_fetch_add(&destroyed, 1);
}

static void *worker(void *arg) {
    long me = (long)arg;
    pthread_setspecific(key, &slot[me]);
    assert(pthread_getspecific(key) == &slot[me]);
    return 0;
}

int main(void) {
    pthread_t t[2];
    pthread_key_create(&key, destroy);
    for (long i = 0; i < 2; i++)
        pthread_create(&t[i], 0, worker, (void *)i);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], 0);
    assert(atomic_load(&destroyed) == 2);
    return 0;
}
