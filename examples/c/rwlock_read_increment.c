/* A rwlock misused: both threads increment the counter holding only the
 * read lock, which two threads may hold at once: a lost update. */
#include <assert.h>
#include <pthread.h>

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static volatile int total;

static void *add(void *arg) {
    (void)arg;
    pthread_rwlock_rdlock(&lock); /* should be pthread_rwlock_wrlock */
    int t = total;
    total = t + 1;
    pthread_rwlock_unlock(&lock);
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
