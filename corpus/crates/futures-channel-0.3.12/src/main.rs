// futures-channel 0.3.12 -- bug (expected: panic)
//
// Bug: futures-rs PR #2304 "Fix race with dropping mpsc::Receiver" (commit f7654fe1, port of
// the 0.1 fix #1241 for issue #909), released in futures-channel 0.3.13 (CHANGELOG:
// "Fixed race with dropping `mpsc::Receiver`"). A send first bumps `num_messages` in the
// shared state and only then pushes the message onto the queue. `Receiver::drop` closes the
// channel and drains with `while let Poll::Ready(Some(..)) = self.next_message()`; if the
// queue is still empty because the sender is between its two steps, `next_message` returns
// Pending (closed but num_messages != 0) and the drain stops. The message pushed
// afterwards was accepted by `send` (Ok) but is never received nor dropped while any
// Sender lives: it is leaked past the Receiver's drop (upstream regression test
// stress_try_send_as_receiver_closes checks exactly this with a Weak).
//
// Triggering interleaving (2 threads):
//   main:     unbounded_send: inc_num_messages() succeeds (channel still open)
//   receiver: drop(rx): close(); next_message() finds the queue empty -> Pending -> stop
//   main:     queue_push_and_signal(msg); send returns Ok
//   main:     after joining the receiver thread, the sent Arc is still alive -> assert fails.
//
// Expected verdict: 0.3.12 (buggy) -> "panic" (assert) under some schedule;
//                   0.3.13 (fixed) -> passes under every schedule (its drop yields in a loop
//                   until the in-flight message arrives: needs a fair schedule).

use futures_channel::mpsc;
use std::sync::Arc;
use std::thread;

fn main() {
    let (tx, rx) = mpsc::unbounded::<Arc<u32>>();
    let item = Arc::new(1);
    let weak = Arc::downgrade(&item);
    let receiver = thread::spawn(move || drop(rx));
    let sent = tx.unbounded_send(item).is_ok();
    receiver.join().unwrap();
    if sent {
        assert!(
            weak.upgrade().is_none(),
            "message accepted by send() outlived the Receiver's drop"
        );
    }
    drop(tx);
}
