/* Two threads each wait for a semaphore that main posts once: one of them
 * waits forever, whichever order they come in. */
#include <pthread.h>
#include <semaphore.h>

static sem_t ready;

static void *worker(void *arg) {
    (void)arg;
    sem_wait(&ready);
    return 0;
}

int main(void) {
    pthread_t t[2];
    sem_init(&ready, 0, 0);
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], 0, worker, 0);
    sem_post(&ready);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], 0);
    return 0;
}
