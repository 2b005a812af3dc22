//! The plain lost update on a counter that lives on the main thread's
//! stack, shared with a scoped thread: a pointer into a stack leaves it, so
//! the main thread's accesses to its own frame are scheduling points from
//! then on (the own-stack filter must see the escape).
use std::cell::UnsafeCell;
use std::thread;

struct Counter(UnsafeCell<u32>);
// SAFETY: it is not; this example exists to show the race being found.
unsafe impl Sync for Counter {}

#[inline(never)]
fn increment(counter: &Counter) {
    let p = counter.0.get();
    unsafe { p.write_volatile(p.read_volatile() + 1) };
}

fn main() {
    let counter = Counter(UnsafeCell::new(0));
    thread::scope(|s| {
        s.spawn(|| increment(&counter));
        increment(&counter);
    });
    let value = unsafe { counter.0.get().read_volatile() };
    println!("counter = {value}");
    assert_eq!(value, 2, "lost update: two increments, counter is {value}");
}
