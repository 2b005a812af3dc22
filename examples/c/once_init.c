/* pthread_once: two threads ask for the same initialisation; it runs
 * exactly once, and both see it done. */
#include <assert.h>
#include <pthread.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static volatile int inits, config;

static void init(void) {
    inits = inits + 1;
    config = 42;
}

static void *use(void *arg) {
    (void)arg;
    pthread_once(&once, init);
    assert(config == 42);
    return 0;
}

int main(void) {
    pthread_t a, b;
    pthread_create(&a, 0, use, 0);
    pthread_create(&b, 0, use, 0);
    pthread_join(a, 0);
    pthread_join(b, 0);
    assert(inits == 1);
    return 0;
}
