/* A detached thread publishes a value with a release store of a flag;
 * main waits for the flag with acquire loads (yielding) and then reads
 * the value: correct. */
#include <assert.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

static int value;
static atomic_int ready;

static void *producer(void *arg) {
    (void)arg;
    value = 42;
    atomic_store_explicit(&ready, 1, memory_order_release);
    return 0;
}

int main(void) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_create(&t, &attr, producer, 0);
    while (!atomic_load_explicit(&ready, memory_order_acquire))
        sched_yield();
    assert(value == 42);
    return 0;
}
