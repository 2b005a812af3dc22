//! The seqlock of seqlock_torn with the reader fixed: it retries unless the
//! sequence was even and unchanged across the read. Never fails.
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::thread;

struct Data(UnsafeCell<[u32; 2]>);
// SAFETY: guarded by the seqlock protocol.
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
    let (a, b) = loop {
        let s1 = SEQ.load(SeqCst);
        if s1 % 2 == 1 {
            thread::yield_now();
            continue;
        }
        let a = unsafe { field(0).read_volatile() };
        let b = unsafe { field(1).read_volatile() };
        if SEQ.load(SeqCst) == s1 {
            break (a, b);
        }
    };
    assert_eq!(a, b, "torn read: fields ({a}, {b})");
    writer.join().unwrap();
    println!("read ({a}, {b})");
}
