//! Threads that each sum into a local array on their own stack and share
//! only the results through a mutex: correct. Their stack traffic is no
//! scheduling point, and the result is the same in every interleaving.
use std::sync::Mutex;
use std::thread;

#[inline(never)]
fn sum(seed: u32) -> u32 {
    let mut cells = [0u32; 16];
    for (i, c) in cells.iter_mut().enumerate() {
        *c = std::hint::black_box(seed + i as u32);
    }
    cells.iter().sum()
}

fn main() {
    let total = std::sync::Arc::new(Mutex::new(0u32));
    let workers: Vec<_> = (0..2)
        .map(|k| {
            let total = total.clone();
            thread::spawn(move || {
                let s = sum(k * 100);
                *total.lock().unwrap() += s;
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let value = *total.lock().unwrap();
    println!("total = {value}");
    assert_eq!(value, 120 + 1720);
}
