// lock_api 0.3.1 -- fixed (expected: passes)
//
// Bug: Amanieu/parking_lot commit da16c2c7 "Fix race condition in ReentrantMutex"; lock_api
// 0.3.0 was yanked "due to a regression in ReentrantMutex (da16c2c7)", fixed in lock_api
// 0.3.1 (parking_lot CHANGELOG, 2019-07-14). `RawReentrantMutex::unlock` released the inner
// mutex (owner = 0; mutex.unlock()) and only afterwards wrote the decremented `lock_count`.
// Another thread can acquire the mutex in between and set lock_count = 1, which the first
// thread then overwrites with its stale 0; the new owner's unlock computes 0 - 1.
//
// Triggering interleaving (2 threads, one lock/unlock each):
//   A: unlock: lock_count.get() - 1 == 0, owner = 0, mutex.unlock()
//   B: lock: mutex.lock(), owner = B, lock_count = 1
//   A: lock_count.set(0)                      (stale write)
//   B: unlock: lock_count.get() - 1 -> arithmetic underflow (overflow-checks: panic).
// (Each critical section calls thread::yield_now(), an opaque call, so the compiler must
// re-read lock_count in unlock instead of forwarding the value its own lock() stored.)
// The raw mutex and thread-id provider below are test scaffolding (a Mutex<bool>/Condvar
// lock and a thread-local address), not part of the crate under test.
//
// Expected verdict: 0.3.0 (buggy) -> "panic" (attempt to subtract with overflow);
//                   0.3.1 (fixed) -> passes under every schedule.

use lock_api::{GetThreadId, GuardSend, RawMutex, ReentrantMutex};
use std::num::NonZeroUsize;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;

struct CvRawMutex {
    locked: Mutex<bool>,
    cv: Condvar,
}

unsafe impl RawMutex for CvRawMutex {
    const INIT: Self = CvRawMutex { locked: Mutex::new(false), cv: Condvar::new() };
    type GuardMarker = GuardSend;
    fn lock(&self) {
        let mut g = self.locked.lock().unwrap();
        while *g {
            g = self.cv.wait(g).unwrap();
        }
        *g = true;
    }
    fn try_lock(&self) -> bool {
        let mut g = self.locked.lock().unwrap();
        if *g {
            false
        } else {
            *g = true;
            true
        }
    }
    fn unlock(&self) {
        *self.locked.lock().unwrap() = false;
        self.cv.notify_one();
    }
}

struct TlsThreadId;

unsafe impl GetThreadId for TlsThreadId {
    const INIT: Self = TlsThreadId;
    fn nonzero_thread_id(&self) -> NonZeroUsize {
        thread_local!(static ID: u8 = 0);
        ID.with(|x| NonZeroUsize::new(x as *const u8 as usize).unwrap())
    }
}

fn main() {
    let m: Arc<ReentrantMutex<CvRawMutex, TlsThreadId, u32>> =
        Arc::new(ReentrantMutex::new(0));
    let m2 = m.clone();
    let t = thread::spawn(move || {
        let g = m2.lock();
        thread::yield_now(); // some work while holding the lock
        assert_eq!(*g, 0);
    });
    {
        let g = m.lock();
        thread::yield_now(); // some work while holding the lock
        assert_eq!(*g, 0);
    }
    t.join().unwrap();
}
