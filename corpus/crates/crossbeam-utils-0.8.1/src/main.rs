// crossbeam-utils 0.8.1 -- fixed (expected: passes)
//
// Bug: crossbeam issue #595, fixed by crossbeam PR #596 (commit 4b1ce50d, "Fix a bug in
// seq_lock_wide"), released in crossbeam-utils 0.8.1 (CHANGELOG: "Fix a bug in
// `seq_lock_wide`"). On 32-bit targets (wasm32 included) `AtomicCell<T>` for types without a
// native atomic uses the "wide" seqlock. `SeqLockWriteGuard::abort` restored the old stamp but
// did not `mem::forget` the guard, so its `Drop` then stored stamp+2 as well: the lock is
// released twice. If another writer acquires the lock between the two releases, the second
// release marks the lock free (even stamp) while that writer is still writing, and an
// optimistic reader validates a torn value. `AtomicCell::load` takes the abort path whenever
// its optimistic read meets a writer.
//
// Triggering interleaving (2 threads):
//   writer: store([1;4]) takes the lock (stamp 1), writes part of the value
//   main:   load(): optimistic read sees the lock held -> falls back to write lock (waits)
//   writer: finishes, releases (stamp s)
//   main:   takes the lock, reads, abort(): stamp = s        (released once)
//   writer: store([2;4]) takes the lock, writes half of the value   (preempted)
//   main:   guard Drop: stamp = s+2 (even = "unlocked" while the writer is writing)
//   main:   second load(): optimistic read of a half-written value validates -> torn read.
//
// Expected verdict: 0.8.0 (buggy) -> "panic" (assert on a torn value) under some schedule;
//                   0.8.1 (fixed) -> passes under every schedule (the slow-path load spins
//                   with Backoff while the writer holds the lock: needs a fair schedule).

use crossbeam_utils::atomic::AtomicCell;
use std::sync::Arc;
use std::thread;

fn check(v: [u64; 4]) {
    assert!(v.iter().all(|x| *x == v[0]), "torn AtomicCell read: {:?}", v);
}

fn main() {
    let cell = Arc::new(AtomicCell::new([0u64; 4]));
    assert!(!AtomicCell::<[u64; 4]>::is_lock_free());
    let c2 = cell.clone();
    let writer = thread::spawn(move || {
        c2.store([1; 4]);
        c2.store([2; 4]);
    });
    check(cell.load());
    check(cell.load());
    writer.join().unwrap();
    assert_eq!(cell.load(), [2; 4]);
}
