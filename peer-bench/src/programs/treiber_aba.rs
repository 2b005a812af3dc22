//! 6. `treiber_aba`: a Treiber stack over a fixed array of 3 nodes (A=0, B=1, C=2; `next` and
//!    `head` are `AtomicUsize`, `usize::MAX` is null), push/pop by an untagged `compare_exchange`
//!    on head. Initial stack A->B->C. Thread 1 pops once; thread 2 pops twice and pushes its
//!    first popped node back. If thread 1 reads head=A and A.next=B, then thread 2 pops A, pops
//!    B, pushes A, thread 1's CAS(A -> B) still succeeds and installs the popped node B as head.
//!    Main checks the final reachable set equals {A, B, C} minus {thread 1's node, thread 2's
//!    second node} (the set every linearizable execution ends with), and that there is no cycle.
//!    Buggy: fails via ABA.

const NULL: usize = usize::MAX;
const N: usize = 3;

/// The reachable set every linearizable execution ends with.
fn expected_set(t1_popped: Option<usize>, t2_second_pop: Option<usize>) -> [bool; N] {
    let mut expected = [true; N];
    for x in [t1_popped, t2_second_pop].into_iter().flatten() {
        expected[x] = false;
    }
    expected
}

pub mod on_loom {
    use super::{expected_set, N, NULL};
    use crate::programs::tick;
    use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use loom::thread;
    use std::sync::Arc; // not loom::sync::Arc: see programs/mod.rs

    struct Stack {
        head: AtomicUsize,
        next: [AtomicUsize; N],
    }

    impl Stack {
        fn pop(&self) -> Option<usize> {
            loop {
                let h = self.head.load(SeqCst);
                if h == NULL {
                    return None;
                }
                let n = self.next[h].load(SeqCst);
                if self.head.compare_exchange(h, n, SeqCst, SeqCst).is_ok() {
                    return Some(h);
                }
            }
        }

        fn push(&self, x: usize) {
            loop {
                let h = self.head.load(SeqCst);
                self.next[x].store(h, SeqCst);
                if self.head.compare_exchange(h, x, SeqCst, SeqCst).is_ok() {
                    break;
                }
            }
        }
    }

    pub fn run() {
        tick();
        let s = Arc::new(Stack {
            head: AtomicUsize::new(0),
            next: [
                AtomicUsize::new(1),
                AtomicUsize::new(2),
                AtomicUsize::new(NULL),
            ],
        });
        let t1 = {
            let s = s.clone();
            thread::spawn(move || s.pop())
        };
        let t2 = {
            let s = s.clone();
            thread::spawn(move || {
                let p1 = s.pop();
                let p2 = s.pop();
                if let Some(x) = p1 {
                    s.push(x);
                }
                p2
            })
        };
        let r1 = t1.join().unwrap();
        let p2 = t2.join().unwrap();

        let mut seen = [false; N];
        let mut cur = s.head.load(SeqCst);
        while cur != NULL {
            assert!(!seen[cur], "cycle in stack at node {cur}");
            seen[cur] = true;
            cur = s.next[cur].load(SeqCst);
        }
        assert_eq!(seen, expected_set(r1, p2), "stack corrupted (ABA)");
    }
}

pub mod on_shuttle {
    use super::{expected_set, N, NULL};
    use crate::programs::tick;
    use shuttle::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use shuttle::sync::Arc;
    use shuttle::thread;

    struct Stack {
        head: AtomicUsize,
        next: [AtomicUsize; N],
    }

    impl Stack {
        fn pop(&self) -> Option<usize> {
            loop {
                let h = self.head.load(SeqCst);
                if h == NULL {
                    return None;
                }
                let n = self.next[h].load(SeqCst);
                if self.head.compare_exchange(h, n, SeqCst, SeqCst).is_ok() {
                    return Some(h);
                }
            }
        }

        fn push(&self, x: usize) {
            loop {
                let h = self.head.load(SeqCst);
                self.next[x].store(h, SeqCst);
                if self.head.compare_exchange(h, x, SeqCst, SeqCst).is_ok() {
                    break;
                }
            }
        }
    }

    pub fn run() {
        tick();
        let s = Arc::new(Stack {
            head: AtomicUsize::new(0),
            next: [
                AtomicUsize::new(1),
                AtomicUsize::new(2),
                AtomicUsize::new(NULL),
            ],
        });
        let t1 = {
            let s = s.clone();
            thread::spawn(move || s.pop())
        };
        let t2 = {
            let s = s.clone();
            thread::spawn(move || {
                let p1 = s.pop();
                let p2 = s.pop();
                if let Some(x) = p1 {
                    s.push(x);
                }
                p2
            })
        };
        let r1 = t1.join().unwrap();
        let p2 = t2.join().unwrap();

        let mut seen = [false; N];
        let mut cur = s.head.load(SeqCst);
        while cur != NULL {
            assert!(!seen[cur], "cycle in stack at node {cur}");
            seen[cur] = true;
            cur = s.next[cur].load(SeqCst);
        }
        assert_eq!(seen, expected_set(r1, p2), "stack corrupted (ABA)");
    }
}
