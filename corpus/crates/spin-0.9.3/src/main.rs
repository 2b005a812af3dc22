// spin 0.9.3 (feature "once" only) -- fixed (expected: passes)
//
// Bug: mvdnes/spin-rs issue #117, fixed by commit 02d9ee8 "Fix `call_once`", released in
// spin 0.9.3 (CHANGELOG: "Fixed bug that caused `Once::call_once` to incorrectly fail");
// introduced in 0.9.2 by the one-byte status rewrite of `Once`. The AtomicStatus
// `compare_exchange` wrapper returned `Ok(..)` on both success and failure, so a thread
// that loses the Incomplete -> Running race in `Once::call_once` believes it won and runs
// the initializer a second time (racing on the data cell).
//
// Triggering interleaving (2 threads):
//   A: load status == Incomplete          B: load status == Incomplete
//   A: CAS Incomplete -> Running (wins)   B: CAS fails but reports Ok -> runs f() too
// The initializer is then executed twice; the assert after joining fires.
//
// Expected verdict: 0.9.2 (buggy) -> "panic" (assert: initializer ran twice);
//                   0.9.3 (fixed) -> passes under every schedule (the loser spin-waits in
//                   Once::poll for Complete: needs a fair schedule).

use spin::Once;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

static ONCE: Once<u32> = Once::new();
static CALLS: AtomicUsize = AtomicUsize::new(0);

fn init() -> u32 {
    CALLS.fetch_add(1, Ordering::SeqCst);
    42
}

fn main() {
    let t = thread::spawn(|| {
        assert_eq!(*ONCE.call_once(init), 42);
    });
    assert_eq!(*ONCE.call_once(init), 42);
    t.join().unwrap();
    assert_eq!(CALLS.load(Ordering::SeqCst), 1, "Once initializer ran more than once");
}
