//! A plain (non-atomic) data race that never fails: the spawned thread writes
//! DATA while main reads it, with nothing ordering the two. Every run prints
//! 0 or 1 and exits 0; only `--races` reports it.
use std::cell::UnsafeCell;
use std::thread;

struct Shared(UnsafeCell<u32>);
// SAFETY: it is not; this example exists to show the race being found.
unsafe impl Sync for Shared {}

static DATA: Shared = Shared(UnsafeCell::new(0));

fn main() {
    let writer = thread::spawn(|| unsafe { DATA.0.get().write_volatile(1) });
    let seen = unsafe { DATA.0.get().read_volatile() };
    writer.join().unwrap();
    println!("seen {seen}");
}
