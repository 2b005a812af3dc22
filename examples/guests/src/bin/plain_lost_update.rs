//! The lost update on a plain (non-atomic) counter: two threads read it and
//! write it back plus one, with nothing ordering them.
use std::cell::UnsafeCell;
use std::thread;

struct Counter(UnsafeCell<u32>);
// SAFETY: it is not; this example exists to show the race being found.
unsafe impl Sync for Counter {}

static COUNTER: Counter = Counter(UnsafeCell::new(0));

fn increment() {
    let p = COUNTER.0.get();
    unsafe { p.write_volatile(p.read_volatile() + 1) };
}

fn main() {
    let t1 = thread::spawn(increment);
    let t2 = thread::spawn(increment);
    t1.join().unwrap();
    t2.join().unwrap();
    let value = unsafe { COUNTER.0.get().read_volatile() };
    println!("counter = {value}");
    assert_eq!(value, 2, "lost update: two increments, counter is {value}");
}
