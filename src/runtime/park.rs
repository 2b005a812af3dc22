//! The future a guest thread awaits to give the OS thread back to the executor.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Pending once, then ready: the executor polls a thread again only when the
/// scheduler picked it, so the second poll means "your turn".
#[derive(Default)]
pub(crate) struct Park {
    parked: bool,
}

impl Future for Park {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if self.parked {
            Poll::Ready(())
        } else {
            self.parked = true;
            Poll::Pending
        }
    }
}
