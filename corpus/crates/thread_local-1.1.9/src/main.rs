// thread_local 1.1.9 -- bug (expected: panic)
//
// Bug: Amanieu/thread_local-rs commit 33f151b "Fix integer underflow in
// `RawIter::size_hint`", released in thread_local 1.1.10. `ThreadLocal::insert` sets an
// entry's `present` flag before incrementing the shared `values` counter, while
// `Iter::size_hint` computed `values - yielded`. A concurrent iterator can yield the
// new entry (yielded = 1) and then read values == 0: arithmetic underflow.
// `Vec::from_iter` calls `next()` once and then `size_hint()`, so a plain `collect()`
// hits it.
//
// Triggering interleaving (2 threads; the one the upstream fix comment describes):
//   A: get_or(): allocate bucket, write value, present = true   (preempted)
//   B: tl.iter().collect(): next() yields A's entry, yielded = 1; size_hint() reads
//      values == 0 -> 0 - 1 underflows (overflow-checks: panic)
//   A: values += 1
//
// Expected verdict: 1.1.9 (buggy) -> "panic" (attempt to subtract with overflow);
//                   1.1.10 (fixed) -> passes under every schedule.

use std::sync::Arc;
use std::thread;
use thread_local::ThreadLocal;

fn main() {
    let tl: Arc<ThreadLocal<u32>> = Arc::new(ThreadLocal::new());
    let tl2 = tl.clone();
    let inserter = thread::spawn(move || {
        assert_eq!(*tl2.get_or(|| 7), 7);
    });
    let seen: Vec<&u32> = tl.iter().collect();
    assert!(seen.len() <= 1);
    assert!(seen.iter().all(|v| **v == 7));
    inserter.join().unwrap();
}
