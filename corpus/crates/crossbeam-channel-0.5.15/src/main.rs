// crossbeam-channel 0.5.15 -- fixed (expected: passes)
//
// Bug: RUSTSEC-2025-0024 / CVE-2025-4574 "crossbeam-channel: double free on Drop",
// introduced in 0.5.12 (crossbeam PR #1084), fixed in 0.5.15 (crossbeam PR #1187,
// github.com/crossbeam-rs/crossbeam/pull/1187). In the unbounded (list) flavor,
// `Channel::discard_all_messages` (run when the last Receiver is dropped) swaps
// `head.block` to null, but if it saw null and messages are pending it waits in a loop
// that re-reads `head.block` with a plain `load` (not `swap`). It then frees that block,
// leaving the pointer in `head.block`, and `Channel::drop` frees it a second time.
//
// Triggering interleaving (3 threads):
//   sender A: first send; CAS tail.block null->B1 ... (preempted before head.block.store(B1))
//   sender B: sees tail.block == B1, advances tail.index, writes its message
//   main:     drops the Receiver -> disconnect -> discard_all_messages: swap(head.block)
//             returns null, head != tail, so it spins on head.block.load()
//   sender A: head.block.store(B1); main's loop loads B1, drops the message, frees B1,
//             head.block still == B1
//   last handle dropped -> Channel::drop frees head.block (B1) again.
// The double free is caught by the quarantining allocator below, which aborts.
//
// Expected verdict: 0.5.14 (buggy) -> "trap" (abort on double free) under some schedule;
//                   0.5.15 (fixed) -> passes under every schedule.

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
