// tokio 1.13.1 (feature "sync" only) -- fixed (expected: passes)
//
// Bug: RUSTSEC-2021-0124 / GHSA-fg7r-2g4j-5cgr, tokio issue #4225, fixed by tokio PR #4226
// ("sync: fix racy UnsafeCell access on a closed oneshot"), released in 1.13.1 (and 1.8.4).
// `oneshot::Sender::send` stores the value and then `State::set_complete` does an
// unconditional `fetch_or(VALUE_SENT)`. If the receiver had already called `close()`,
// the sender then takes the value back out (`consume_value().unwrap()`), but the
// VALUE_SENT bit it just set tells a concurrent `Receiver::try_recv` that the value is
// ready, so both threads access the same UnsafeCell<Option<T>>.
//
// Triggering interleaving (2 threads): main closes the receiver; the sender thread
// writes the value and sets VALUE_SENT; main's try_recv sees VALUE_SENT and takes the
// value; the sender's own take then finds None and `unwrap()` panics (if the two takes
// overlap instead, the value is duplicated and the assert in main fires).
//
// Expected verdict: 1.13.0 (buggy) -> "panic" under some schedule;
//                   1.13.1 (fixed) -> passes under every schedule.

use std::thread;
use tokio::sync::oneshot;

fn main() {
    let (tx, mut rx) = oneshot::channel::<u32>();
    rx.close();
    let sender = thread::spawn(move || tx.send(7).is_err());
    let received = rx.try_recv().is_ok();
    let returned = sender.join().expect("sender thread panicked");
    // The value must end up in exactly one place: returned to the sender
    // (the channel was closed first), never also handed to the receiver.
    assert!(!(received && returned), "oneshot value delivered twice");
    assert!(returned, "value sent on a closed oneshot was not returned to the sender");
}
