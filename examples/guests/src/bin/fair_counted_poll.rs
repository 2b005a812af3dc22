//! Correct: two workers poll a cancel flag (never raised) in a counted loop
//! of 5,000 iterations of arithmetic on registers: from outside, each looks
//! like a thread that re-reads a flag nobody changes. It ends, so it is no
//! livelock.
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::thread;

fn main() {
    let cancel = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..2u64)
        .map(|w| {
            let cancel = Arc::clone(&cancel);
            thread::spawn(move || {
                let mut acc = w;
                for i in 0..5000u64 {
                    if cancel.load(Relaxed) {
                        break;
                    }
                    acc = acc.wrapping_mul(6364136223846793005).wrapping_add(i);
                }
                acc
            })
        })
        .collect();
    let mut all = 0;
    for w in workers {
        all ^= w.join().unwrap();
    }
    println!("{all:x}");
}
