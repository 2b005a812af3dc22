//! mutex(T, K): T lightweight threads each take a std Mutex K times and
//! increment a counter under it. Correct; the trace count measures what the
//! futex mutex's contended paths (spin, swap, wait, wake) cost DPOR.
use interlace_guest_sdk::thread;
use std::sync::Mutex;

static COUNTER: Mutex<u32> = Mutex::new(0);

fn bump(k: u32) {
    for _ in 0..k {
        *COUNTER.lock().unwrap() += 1;
    }
}

fn main() {
    let arg = |i: usize, d: u32| std::env::args().nth(i).and_then(|a| a.parse().ok()).unwrap_or(d);
    let (t, k) = (arg(1, 2), arg(2, 1));
    let threads: Vec<_> = (0..t).map(|_| thread::spawn(bump, k)).collect();
    for h in threads {
        h.join();
    }
    assert_eq!(*COUNTER.lock().unwrap(), t * k);
}
