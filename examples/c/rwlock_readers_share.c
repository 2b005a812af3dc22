/* Two readers hold the read lock at once: each waits, holding it, until
 * the other has it too. A rwlock that let one reader in at a time would
 * never let them both through. A writer comes in after them. */
#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static atomic_int inside;
static int value;

static void *reader(void *arg) {
    (void)arg;
    pthread_rwlock_rdlock(&lock);
    atomic_fetch_add(&inside, 1);
    while (atomic_load(&inside) < 2)
        ;
    assert(value == 0);
    pthread_rwlock_unlock(&lock);
    return 0;
}

int main(void) {
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], 0, reader, 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], 0);
    pthread_rwlock_wrlock(&lock);
    value = 1;
    pthread_rwlock_unlock(&lock);
    return 0;
}
