//! A seqlock whose reader forgets to check that the sequence is even: it
//! accepts a read taken while the writer is half-way (sequence odd and
//! unchanged) and sees the two fields from different writes.
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::thread;

struct Data(UnsafeCell<[u32; 2]>);
// SAFETY: guarded by the seqlock protocol (which the reader gets wrong).
unsafe impl Sync for Data {}

static SEQ: AtomicU32 = AtomicU32::new(0);
static DATA: Data = Data(UnsafeCell::new([0, 0]));

fn field(i: usize) -> *mut u32 {
    unsafe { (DATA.0.get() as *mut u32).add(i) }
}

fn main() {
    let writer = thread::spawn(|| {
        for v in 1..=2 {
            SEQ.fetch_add(1, SeqCst);
            unsafe { field(0).write_volatile(v) };
            unsafe { field(1).write_volatile(v) };
            SEQ.fetch_add(1, SeqCst);
        }
    });
    let s1 = SEQ.load(SeqCst);
    let a = unsafe { field(0).read_volatile() };
    let b = unsafe { field(1).read_volatile() };
    let s2 = SEQ.load(SeqCst);
    if s1 == s2 {
        assert_eq!(a, b, "torn read: fields ({a}, {b}) at sequence {s1}");
    }
    writer.join().unwrap();
    println!("read ({a}, {b})");
}
