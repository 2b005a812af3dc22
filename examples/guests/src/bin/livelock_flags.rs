//! A real livelock: each thread spins until the other has raised its flag,
//! and raises its own only afterwards. No schedule, fair or not, lets either
//! leave its loop; the report must say where each one spins. (The flags
//! live on the heap: with two statics, LLVM proves that neither store can
//! be seen by the loops and compiles each loop to `loop {}`, with no memory
//! access left to schedule.)
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;

fn main() {
    let flags = Arc::new([AtomicBool::new(false), AtomicBool::new(false)]);
    let theirs = Arc::clone(&flags);
    let t1 = thread::spawn(move || {
        while !theirs[0].load(SeqCst) {
            std::hint::spin_loop();
        }
        theirs[1].store(true, SeqCst);
    });
    while !flags[1].load(SeqCst) {
        std::hint::spin_loop();
    }
    flags[0].store(true, SeqCst);
    t1.join().unwrap();
}
