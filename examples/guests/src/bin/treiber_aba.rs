//! ABA on a Treiber stack without tags. The stack is A -> B -> C (nodes 0,
//! 1, 2 of a fixed array). Thread 1 pops; thread 2 pops A, pops B, pushes A
//! back. If thread 1 read head = A and A.next = B before thread 2 ran, its
//! compare-exchange still sees A at the head and installs B, which thread 2
//! had popped: a popped node is back on the stack.
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::thread;

const NULL: usize = usize::MAX;
static NEXT: [AtomicUsize; 3] = [
    AtomicUsize::new(1),
    AtomicUsize::new(2),
    AtomicUsize::new(NULL),
];
static HEAD: AtomicUsize = AtomicUsize::new(0);

fn pop() -> Option<usize> {
    loop {
        let head = HEAD.load(SeqCst);
        if head == NULL {
            return None;
        }
        let next = NEXT[head].load(SeqCst);
        if HEAD.compare_exchange(head, next, SeqCst, SeqCst).is_ok() {
            return Some(head);
        }
    }
}

fn push(node: usize) {
    loop {
        let head = HEAD.load(SeqCst);
        NEXT[node].store(head, SeqCst);
        if HEAD.compare_exchange(head, node, SeqCst, SeqCst).is_ok() {
            return;
        }
    }
}

fn main() {
    let t1 = thread::spawn(pop);
    let t2 = thread::spawn(|| {
        let first = pop().expect("stack has three nodes");
        let second = pop().expect("stack has three nodes");
        push(first);
        second
    });
    let popped1 = t1.join().unwrap().expect("stack has three nodes");
    let popped2 = t2.join().unwrap();
    let mut reachable = vec![];
    let mut node = HEAD.load(SeqCst);
    while node != NULL && reachable.len() <= 3 {
        reachable.push(node);
        node = NEXT[node].load(SeqCst);
    }
    println!("popped {popped1} and {popped2}; stack {reachable:?}");
    for popped in [popped1, popped2] {
        assert!(
            !reachable.contains(&popped),
            "ABA: node {popped} was popped but is on the stack {reachable:?}"
        );
    }
}
