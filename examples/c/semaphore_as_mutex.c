/* A semaphore used as a mutex, but initialised to 2: both threads enter
 * the critical section together and an increment is lost. */
#include <assert.h>
#include <pthread.h>
#include <semaphore.h>

static sem_t sem;
static volatile int total;

static void *add(void *arg) {
    (void)arg;
    sem_wait(&sem);
    int t = total;
    total = t + 1;
    sem_post(&sem);
    return 0;
}

int main(void) {
    pthread_t a, b;
    sem_init(&sem, 0, 2); /* should be 1 */
    pthread_create(&a, 0, add, 0);
    pthread_create(&b, 0, add, 0);
    pthread_join(a, 0);
    pthread_join(b, 0);
    assert(total == 2);
    return 0;
}
