/* A semaphore of one used as a mutex by three threads: no update is lost. */
#include <assert.h>
#include <pthread.h>
#include <semaphore.h>

static sem_t sem;
static volatile int total;

static void *worker(void *arg) {
    (void)arg;
    sem_wait(&sem);
    total = total + 1;
    sem_post(&sem);
    return 0;
}

int main(void) {
    pthread_t t[3];
    sem_init(&sem, 0, 1);
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], 0, worker, 0);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], 0);
    assert(total == 3);
    return 0;
}
