/* One thread sleeps on a futex word; the other sets it, wakes the sleeper,
 * writes x, and wakes the word again. After its wake-up the sleeper reads
 * x: before or after the write, either way. A ground truth for DPOR: a
 * woken thread is ordered after the notify that woke it, not after the
 * waker's later notify of the same word (which would hide the read before
 * the write). Prints whether it slept and what it read: four results. */
#include <pthread.h>
#include <stdio.h>

static int word;
static volatile int x, seen, slept;

static void *sleeper(void *arg) {
    (void)arg;
    slept = __builtin_wasm_memory_atomic_wait32(&word, 0, -1) == 0;
    seen = x;
    return 0;
}

static void *waker(void *arg) {
    (void)arg;
    __atomic_store_n(&word, 1, __ATOMIC_SEQ_CST);
    __builtin_wasm_memory_atomic_notify(&word, 1);
    x = 1;
    __builtin_wasm_memory_atomic_notify(&word, 1);
    return 0;
}

int main(void) {
    pthread_t a, b;
    pthread_create(&a, 0, sleeper, 0);
    pthread_create(&b, 0, waker, 0);
    pthread_join(a, 0);
    pthread_join(b, 0);
    printf("slept %d, read %d\n", slept, seen);
    return 0;
}
