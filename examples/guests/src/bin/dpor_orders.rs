//! orders(N, K): N std threads each add 1 to one counter K times and return
//! the values they saw, so every order of the increments is a different
//! result: a sound exhaustive search finds all (NK)! / (K!)^N of them
//! (90 for the default N = 3, K = 2).
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::thread;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn main() {
    let arg = |i: usize, default: usize| {
        std::env::args()
            .nth(i)
            .and_then(|a| a.parse().ok())
            .unwrap_or(default)
    };
    let (n, k) = (arg(1, 3), arg(2, 2));
    let threads: Vec<_> = (0..n)
        .map(|_| {
            thread::spawn(move || {
                (0..k)
                    .map(|_| COUNTER.fetch_add(1, SeqCst))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let seen: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    println!("{seen:?}");
}
