//! lastzero(N): array a[0..=N] of zeros; thread 0 scans down from a[N] to the
//! first zero; thread j sets a[j] = a[j-1] + 1. (N+3)*2^(N-2) traces.
use interlace_guest_sdk::thread;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

const MAX: usize = 16;
static A: [AtomicU32; MAX + 1] = [const { AtomicU32::new(0) }; MAX + 1];
static N: AtomicU32 = AtomicU32::new(0);

fn scan(_: u32) {
    let mut i = N.load(SeqCst) as usize;
    while A[i].load(SeqCst) != 0 {
        i -= 1;
    }
}

fn set(j: u32) {
    let j = j as usize;
    let v = A[j - 1].load(SeqCst);
    A[j].store(v + 1, SeqCst);
}

fn main() {
    let n: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    assert!((1..=MAX as u32).contains(&n));
    N.store(n, SeqCst);
    let mut threads = vec![thread::spawn(scan, 0)];
    for j in 1..=n {
        threads.push(thread::spawn(set, j));
    }
    for t in threads {
        t.join();
    }
}
