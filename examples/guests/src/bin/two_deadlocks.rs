//! Two lock-order deadlocks, one after the other: main takes A then B and
//! later C then D; t1 takes B then A and later D then C. A schedule that
//! deadlocks on C and D, minimised, must still deadlock on C and D (at the
//! same places), never on A and B, though a deadlock it is too.
use std::sync::Mutex;
use std::thread;

static A: Mutex<u32> = Mutex::new(0);
static B: Mutex<u32> = Mutex::new(0);
static C: Mutex<u32> = Mutex::new(0);
static D: Mutex<u32> = Mutex::new(0);

fn main() {
    let t1 = thread::spawn(|| {
        {
            let mut b = B.lock().unwrap();
            let mut a = A.lock().unwrap();
            *a += 1;
            *b += 1;
        }
        let mut d = D.lock().unwrap();
        let mut c = C.lock().unwrap();
        *c += 1;
        *d += 1;
    });
    {
        let mut a = A.lock().unwrap();
        let mut b = B.lock().unwrap();
        *a += 1;
        *b += 1;
    }
    {
        let mut c = C.lock().unwrap();
        let mut d = D.lock().unwrap();
        *c += 1;
        *d += 1;
    }
    t1.join().unwrap();
}
