//! A lock-free single-producer single-consumer ring with an off-by-one in its
//! "full" check: the producer may write one slot too far and overwrite a value
//! the consumer has not read yet.
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering::{Acquire, Relaxed, Release}};
use std::sync::Arc;
use std::thread;

const CAP: usize = 2;
const ITEMS: u32 = 6;

struct Ring {
    slots: [AtomicU32; CAP],
    head: AtomicUsize, // next slot to read (consumer)
    tail: AtomicUsize, // next slot to write (producer)
}

impl Ring {
    fn push(&self, v: u32) -> bool {
        let tail = self.tail.load(Relaxed);
        let head = self.head.load(Acquire);
        if tail - head > CAP {
            // BUG: should be `>= CAP`; with `>` the ring accepts CAP + 1 items.
            return false;
        }
        self.slots[tail % CAP].store(v, Relaxed);
        self.tail.store(tail + 1, Release);
        true
    }

    fn pop(&self) -> Option<u32> {
        let head = self.head.load(Relaxed);
        let tail = self.tail.load(Acquire);
        if head == tail {
            return None;
        }
        let v = self.slots[head % CAP].load(Relaxed);
        self.head.store(head + 1, Release);
        Some(v)
    }
}

fn main() {
    let ring = Arc::new(Ring {
        slots: [AtomicU32::new(0), AtomicU32::new(0)],
        head: AtomicUsize::new(0),
        tail: AtomicUsize::new(0),
    });
    let producer = {
        let ring = Arc::clone(&ring);
        thread::spawn(move || {
            for v in 0..ITEMS {
                while !ring.push(v) {
                    thread::yield_now();
                }
            }
        })
    };
    let mut expected = 0;
    while expected < ITEMS {
        match ring.pop() {
            Some(v) => {
                assert_eq!(v, expected, "consumer read {v}, expected {expected}: a slot was overwritten");
                expected += 1;
            }
            None => thread::yield_now(),
        }
    }
    producer.join().unwrap();
    println!("received {ITEMS} items in order");
}
