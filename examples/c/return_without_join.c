/* main returns without joining its worker: in some orders the worker has
 * not yet written its result, and main's exit status says so (1). */
#include <pthread.h>
#include <stdatomic.h>

static atomic_int written;

static void *worker(void *arg) {
    (void)arg;
    atomic_store(&written, 1);
    return 0;
}

int main(void) {
    pthread_t t;
    pthread_create(&t, 0, worker, 0);
    /* missing: pthread_join(t, 0); */
    return atomic_load(&written) ? 0 : 1;
}
