//! Correct: two workers each check a stop flag (never raised) and then sort
//! a vector of their own, 110,000 times (a livelock report needs 100,000
//! re-reads in a row). Between two reads of the flag each writes memory inside std's
//! sort, so neither spins: no strategy may call it a livelock, with library
//! accesses scheduling points or not. (The test compiles it with plain
//! `rustc -O`: no line tables, so all of its writes are library code to the
//! tool.)
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::thread;

fn main() {
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..2u32)
        .map(|w| {
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                let mut v: Vec<u32> = (0..4).map(|i| (i * 3 + w) % 4).collect();
                for _ in 0..110_000 {
                    if stop.load(Relaxed) {
                        break;
                    }
                    v.sort_unstable_by(|a, b| b.cmp(a));
                    v.sort_unstable();
                }
                v[0]
            })
        })
        .collect();
    for w in workers {
        assert_eq!(w.join().unwrap(), 0);
    }
}
