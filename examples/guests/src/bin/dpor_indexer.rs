//! indexer(N) (Flanagan and Godefroid, POPL 2005): N threads each insert 4
//! values into a 128-slot hash table with compare-exchange and linear
//! probing. No collisions for N <= 11 (1 trace); 8 traces for N = 12.
use interlace_guest_sdk::thread;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

const SIZE: usize = 128;
const MAX: u32 = 4;
static TABLE: [AtomicU32; SIZE] = [const { AtomicU32::new(0) }; SIZE];

fn insert(tid: u32) {
    for m in 1..=MAX {
        let w = m * 11 + tid;
        let mut h = (w as usize * 7) % SIZE;
        while TABLE[h].compare_exchange(0, w, SeqCst, SeqCst).is_err() {
            h = (h + 1) % SIZE;
        }
    }
}

fn main() {
    let n: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(2);
    let threads: Vec<_> = (0..n).map(|tid| thread::spawn(insert, tid)).collect();
    for t in threads {
        t.join();
    }
}
