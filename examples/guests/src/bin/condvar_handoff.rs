//! Correct: a value handed from one thread to another through a Mutex and a
//! Condvar; the consumer waits in a loop, so no wakeup is lost.
use std::sync::{Arc, Condvar, Mutex};
use std::thread;

fn main() {
    let pair = Arc::new((Mutex::new(None::<u32>), Condvar::new()));
    let producer = {
        let pair = Arc::clone(&pair);
        thread::spawn(move || {
            let (lock, cv) = &*pair;
            *lock.lock().unwrap() = Some(42);
            cv.notify_one();
        })
    };
    let (lock, cv) = &*pair;
    let mut slot = lock.lock().unwrap();
    while slot.is_none() {
        slot = cv.wait(slot).unwrap();
    }
    let v = slot.take().unwrap();
    drop(slot);
    producer.join().unwrap();
    println!("got {v}");
    assert_eq!(v, 42);
}
