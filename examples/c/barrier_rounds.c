/* Two threads meet at a barrier twice. Between the rounds one reads x and
 * the other writes it: a race the barrier does not order, so every pair
 * (who was first at the first round, what the reader saw) happens. A
 * ground truth for DPOR: leaving a round is ordered after that round's
 * arrivals only, not after what a thread did on its way to the next. */
#include <pthread.h>
#include <stdio.h>

static pthread_barrier_t barrier;
static volatile int x, seen;
static volatile long serial;

static void *worker(void *arg) {
    long me = (long)arg;
    if (pthread_barrier_wait(&barrier) == PTHREAD_BARRIER_SERIAL_THREAD)
        serial = me;
    if (me == 1)
        seen = x;
    else
        x = 1;
    pthread_barrier_wait(&barrier);
    return 0;
}

int main(void) {
    pthread_t t[2];
    pthread_barrier_init(&barrier, 0, 2);
    for (long i = 0; i < 2; i++)
        pthread_create(&t[i], 0, worker, (void *)(i + 1));
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], 0);
    printf("first t%ld, read %d\n", serial, seen);
    return 0;
}
