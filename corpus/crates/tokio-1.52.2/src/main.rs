// tokio 1.52.2 (feature "sync" only) -- bug (expected: panic)
//
// Bug: tokio PR #8062 "sync: fix underflow in mpsc channel `len()`" (commit ebf61b45b),
// released in 1.52.3 (also backported to 1.51.3 and 1.47.5). `list::Rx::len` computed
// `tail_position - self.index - (tx.is_closed() as usize)`, reading `tail_position`
// and the block's TX_CLOSED flag separately. If the last Sender is dropped (which claims
// one more slot for the "closed" marker and then sets TX_CLOSED) between the two reads,
// `len()` subtracts 1 from 0: an arithmetic underflow (panic with overflow checks on,
// a huge bogus length otherwise). `is_empty()` goes through the same code.
//
// Triggering interleaving (2 threads, mirrors upstream loom test len_during_close_0):
//   thread: rx.len() loads tail_position == 0
//   main:   drop(tx) -> close(): tail_position 0 -> 1, block.tx_close()
//   thread: tx.is_closed() == true -> 0 - 0 - 1 underflows.
//
// Expected verdict: 1.52.2 (buggy) -> "panic" (attempt to subtract with overflow);
//                   1.52.3 (fixed) -> passes under every schedule.

use std::thread;
use tokio::sync::mpsc;

fn main() {
    let (tx, rx) = mpsc::channel::<u32>(1);
    let th = thread::spawn(move || {
        assert_eq!(rx.len(), 0);
    });
    drop(tx);
    th.join().unwrap();
}
