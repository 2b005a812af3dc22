/* A C11 lock-free stack (Treiber): two threads push with a
 * compare-exchange loop; main pops everything: both nodes are there. */
#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

struct node {
    int value;
    struct node *next;
};

static _Atomic(struct node *) top;
static struct node nodes[2];

static void *push(void *arg) {
    struct node *n = &nodes[(long)arg];
    n->value = (int)(long)arg + 1;
    struct node *old = atomic_load(&top);
    do {
        n->next = old;
    } while (!atomic_compare_exchange_weak(&top, &old, n));
    return 0;
}

int main(void) {
    pthread_t t[2];
    for (long i = 0; i < 2; i++)
        pthread_create(&t[i], 0, push, (void *)i);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], 0);
    int sum = 0, count = 0;
    for (struct node *n = atomic_load(&top); n; n = n->next) {
        sum += n->value;
        count++;
    }
    assert(count == 2 && sum == 3);
    return 0;
}
