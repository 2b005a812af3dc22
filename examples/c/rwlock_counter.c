/* A rwlock used right: a writer increments under the write lock, a reader
 * reads under the read lock and sees 0 or 1, never a torn pair. */
#include <assert.h>
#include <pthread.h>

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static volatile int a, b;

static void *writer(void *arg) {
    (void)arg;
    pthread_rwlock_wrlock(&lock);
    a = a + 1;
    b = b + 1;
    pthread_rwlock_unlock(&lock);
    return 0;
}

static void *reader(void *arg) {
    (void)arg;
    pthread_rwlock_rdlock(&lock);
    int x = a, y = b;
    pthread_rwlock_unlock(&lock);
    assert(x == y);
    return 0;
}

int main(void) {
    pthread_t w, r;
    pthread_create(&w, 0, writer, 0);
    pthread_create(&r, 0, reader, 0);
    pthread_join(w, 0);
    pthread_join(r, 0);
    assert(a == 1 && b == 1);
    return 0;
}
