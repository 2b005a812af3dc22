// crossbeam-channel 0.5.7 -- bug (expected: livelock, NULL block dereference)
//
// Bug: crossbeam issue #971, fixed by crossbeam PR #972 ("channel: unbounded: synchronize
// receiver disconnect with initialization", commit f58e7f13), released in 0.5.8
// (0.5.1-0.5.7 were yanked for it). `Channel::discard_all_messages` (run when the last
// Receiver is dropped) assumed `head.index != tail.index` implies the list is initialized,
// but a sender can be preempted between installing the first block in `tail.block` and
// publishing it in `head.block`, while a second sender already wrote a message into it.
// The receiver then walks the list from a NULL `head.block` (upstream: segfault).
//
// Triggering interleaving (3 threads; the upstream regression test gh_971):
//   sender A: first send; CAS tail.block null->B1 ... (preempted before head.block.store)
//   sender B: sees tail.block == B1, advances tail.index, writes its message
//   main:     drops the Receiver -> discard_all_messages reads head.block == NULL and,
//             since head != tail, dereferences slot 0 of a "block" at address 0.
// In wasm address 0 is mapped, so instead of a segfault the receiver spins forever in
// `Slot::wait_write` on zeroed memory (or, if the WRITE bit happens to be set, frees a
// NULL block, which the checking allocator turns into an out-of-bounds trap).
//
// Expected verdict: 0.5.7 (buggy) -> spins forever ("livelock"/"did not terminate"; a
//                   "trap" is also a correct detection) under some schedule;
//                   0.5.8 (fixed) -> passes under every schedule (its fix waits, with
//                   backoff, for sender A to publish head.block: needs a fair schedule).

use crossbeam_channel::unbounded;
use std::thread;

fn main() {
    let (tx, rx) = unbounded::<u32>();
    let tx2 = tx.clone();
    let a = thread::spawn(move || {
        let _ = tx.send(1);
    });
    let b = thread::spawn(move || {
        let _ = tx2.send(2);
    });
    drop(rx);
    a.join().unwrap();
    b.join().unwrap();
}

// ---- Quarantining checker allocator (test harness, not part of the crate under test) ----
// Every block gets a header word ALIVE; dealloc checks it, marks it FREED and never hands
// the memory back, so a double free is detected deterministically: it aborts (wasm trap).
mod qalloc {
    use std::alloc::{GlobalAlloc, Layout, System};
    const ALIVE: usize = 0xA11C_E5ED;
    const FREED: usize = 0xDEAD_F4EE;
    pub struct Quarantine;
    fn hdr(l: &Layout) -> usize {
        if l.align() > 16 { l.align() } else { 16 }
    }
    unsafe impl GlobalAlloc for Quarantine {
        unsafe fn alloc(&self, l: Layout) -> *mut u8 {
            let h = hdr(&l);
            let p = System.alloc(Layout::from_size_align_unchecked(l.size() + h, h));
            if p.is_null() {
                return p;
            }
            let u = p.add(h);
            *(u as *mut usize).sub(1) = ALIVE;
            u
        }
        unsafe fn dealloc(&self, u: *mut u8, _l: Layout) {
            let m = (u as *mut usize).sub(1);
            if *m != ALIVE {
                // double free (or free of a foreign pointer)
                std::process::abort();
            }
            *m = FREED;
        }
    }
}
#[global_allocator]
static GLOBAL: qalloc::Quarantine = qalloc::Quarantine;
