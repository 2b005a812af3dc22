//! Correct: N tasks (the argument, 3 by default), each reading and writing
//! only its own counter across a `yield_now`. No two tasks' steps
//! conflict, yet DPOR runs more executions with each task: it reverses
//! every two successive runs of the executor's baton (docs/async.md).
use interlace_guest_sdk::task;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

static COUNTERS: [AtomicU32; 8] = [const { AtomicU32::new(0) }; 8];

async fn increment(i: usize) {
    let v = COUNTERS[i].load(SeqCst);
    task::yield_now().await;
    COUNTERS[i].store(v + 1, SeqCst);
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(3, |s| s.parse().expect("a number of tasks"))
        .min(COUNTERS.len());
    task::block_on(async {
        let handles: Vec<_> = (0..n).map(|i| task::spawn(increment(i))).collect();
        for h in handles {
            h.await;
        }
    });
    for (i, c) in COUNTERS[..n].iter().enumerate() {
        assert_eq!(c.load(SeqCst), 1, "task {i}'s counter");
    }
}
