// oneshot 0.1.5 (faern/oneshot, default features std+async) -- fixed (expected: passes)
//
// Bug: oneshot CHANGELOG 0.1.5: "Handle the UNPARKING state correctly in all recv methods.
// `try_recv` will now not panic if used on a `Receiver` that is being unparked from an
// async wait" (found in the review of github.com/faern/oneshot/pull/22; fixed in 0.1.5,
// 2022-09-01). After the Receiver has been polled as a future (state RECEIVING), a
// concurrent `Sender::send` moves the state RECEIVING -> UNPARKING while it takes the
// waker, then -> MESSAGE. `Receiver::try_recv` in 0.1.4 matched EMPTY/MESSAGE/
// DISCONNECTED/RECEIVING only and hit `unreachable!()` on UNPARKING.
//
// Triggering interleaving (2 threads):
//   main:   poll the receiver once (Pending; state RECEIVING, waker stored)
//   sender: send(): fetch_add RECEIVING -> UNPARKING, (preempted while taking the waker)
//   main:   try_recv() loads UNPARKING -> unreachable!() panics.
// (The Receiver is dropped only after the sender thread is joined, so the separate
// UNPARKING bug in Receiver::drop, fixed in 0.1.11, cannot interfere.)
//
// Expected verdict: 0.1.4 (buggy) -> "panic" under some schedule;
//                   0.1.5 (fixed) -> passes under every schedule.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::thread;

fn main() {
    let (tx, mut rx) = oneshot::channel::<u32>();
    let mut cx = Context::from_waker(Waker::noop());
    assert!(matches!(Pin::new(&mut rx).poll(&mut cx), Poll::Pending));
    let sender = thread::spawn(move || {
        tx.send(5).unwrap();
    });
    let early = rx.try_recv();
    sender.join().unwrap();
    match early {
        Ok(v) => assert_eq!(v, 5),
        Err(_) => assert_eq!(rx.try_recv().unwrap(), 5),
    }
    drop(rx);
}
