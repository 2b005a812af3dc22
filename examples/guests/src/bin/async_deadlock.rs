//! Two tasks each await the other's oneshot before sending their own: a
//! deadlock in every run, reported with where each task waits.
use interlace_guest_sdk::task;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// A one-value channel: the value and the waker of the receiver.
type Slot = Arc<Mutex<(Option<u32>, Option<Waker>)>>;

struct Receiver(Slot);

impl Future for Receiver {
    type Output = u32;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        let mut s = self.0.lock().unwrap();
        match s.0.take() {
            Some(v) => Poll::Ready(v),
            None => {
                s.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

fn send(slot: &Slot, v: u32) {
    let mut s = slot.lock().unwrap();
    s.0 = Some(v);
    if let Some(w) = s.1.take() {
        w.wake();
    }
}

fn main() {
    let (a, b): (Slot, Slot) = (Arc::default(), Arc::default());
    task::block_on(async move {
        let (a1, b1) = (Arc::clone(&a), Arc::clone(&b));
        let t1 = task::spawn_named("left", async move {
            let x = Receiver(b1).await;
            send(&a1, x + 1);
        });
        let t2 = task::spawn_named("right", async move {
            let y = Receiver(a).await;
            send(&b, y + 1);
        });
        t1.await;
        t2.await;
    });
    println!("both tasks finished");
}
