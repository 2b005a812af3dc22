//! 4./5. `seqlock_torn` / `seqlock_fixed`: a seqlock over two `u32` fields with an `AtomicU32`
//! sequence number. The writer thread publishes (1,1) then (2,2), each as: seq += 1 (odd),
//! write a, write b, seq += 1 (even). The reader (main) reads seq1, a, b, seq2:
//! * torn (buggy): accepts when seq1 == seq2 (forgets to check that seq1 is even), so it can
//!   accept a half-written pair; it then asserts a == b.
//! * fixed: accepts only when seq1 is even and seq1 == seq2 (correct under SC).
//!
//! A rejected read retries after `yield_now()` (a spin loop must yield under both tools).
//! All atomics are SeqCst. The data is either plain (`UnsafeCell<(u32, u32)>`, the program as
//! specified) or two SeqCst `AtomicU32`s (the `data=AtomicU32` variant, which is how a seqlock
//! has to be written in Rust to be free of undefined behaviour, and which lets both tools see
//! the individual field accesses).

/// How the reader validates a snapshot.
#[derive(Clone, Copy)]
enum Reader {
    Torn,
    Fixed,
}

fn accept(reader: Reader, s1: u32, s2: u32) -> bool {
    match reader {
        Reader::Torn => s1 == s2,
        Reader::Fixed => s1.is_multiple_of(2) && s1 == s2,
    }
}

pub mod on_loom {
    use super::{accept, Reader};
    use crate::programs::{tick, LoomPlain};
    use loom::sync::atomic::{AtomicU32, Ordering::SeqCst};
    use loom::thread;
    use std::sync::Arc; // not loom::sync::Arc: see programs/mod.rs

    trait Data: Send + Sync + 'static {
        fn new() -> Self;
        fn write_a(&self, v: u32);
        fn write_b(&self, v: u32);
        fn read_a(&self) -> u32;
        fn read_b(&self) -> u32;
    }

    impl Data for LoomPlain<(u32, u32)> {
        fn new() -> Self {
            LoomPlain::new((0, 0))
        }
        fn write_a(&self, v: u32) {
            self.write(|d| d.0 = v)
        }
        fn write_b(&self, v: u32) {
            self.write(|d| d.1 = v)
        }
        fn read_a(&self) -> u32 {
            self.read(|d| d.0)
        }
        fn read_b(&self) -> u32 {
            self.read(|d| d.1)
        }
    }

    impl Data for (AtomicU32, AtomicU32) {
        fn new() -> Self {
            (AtomicU32::new(0), AtomicU32::new(0))
        }
        fn write_a(&self, v: u32) {
            self.0.store(v, SeqCst)
        }
        fn write_b(&self, v: u32) {
            self.1.store(v, SeqCst)
        }
        fn read_a(&self) -> u32 {
            self.0.load(SeqCst)
        }
        fn read_b(&self) -> u32 {
            self.1.load(SeqCst)
        }
    }

    struct SeqLock<D> {
        seq: AtomicU32,
        data: D,
    }

    fn model<D: Data>(reader: Reader) {
        tick();
        let s = Arc::new(SeqLock {
            seq: AtomicU32::new(0),
            data: D::new(),
        });
        let writer = {
            let s = s.clone();
            thread::spawn(move || {
                for v in [1u32, 2] {
                    s.seq.fetch_add(1, SeqCst); // odd: write in progress
                    s.data.write_a(v);
                    s.data.write_b(v);
                    s.seq.fetch_add(1, SeqCst); // even: stable
                }
            })
        };
        let (a, b) = loop {
            let s1 = s.seq.load(SeqCst);
            let a = s.data.read_a();
            let b = s.data.read_b();
            let s2 = s.seq.load(SeqCst);
            if accept(reader, s1, s2) {
                break (a, b);
            }
            thread::yield_now();
        };
        assert_eq!(a, b, "torn read");
        writer.join().unwrap();
    }

    pub fn torn_plain() {
        model::<LoomPlain<(u32, u32)>>(Reader::Torn)
    }
    pub fn torn_atomic() {
        model::<(AtomicU32, AtomicU32)>(Reader::Torn)
    }
    pub fn fixed_plain() {
        model::<LoomPlain<(u32, u32)>>(Reader::Fixed)
    }
    pub fn fixed_atomic() {
        model::<(AtomicU32, AtomicU32)>(Reader::Fixed)
    }
}

pub mod on_shuttle {
    use super::{accept, Reader};
    use crate::programs::{tick, ShuttlePlain};
    use shuttle::sync::atomic::{AtomicU32, Ordering::SeqCst};
    use shuttle::sync::Arc;
    use shuttle::thread;

    trait Data: Send + Sync + 'static {
        fn new() -> Self;
        fn write_a(&self, v: u32);
        fn write_b(&self, v: u32);
        fn read_a(&self) -> u32;
        fn read_b(&self) -> u32;
    }

    impl Data for ShuttlePlain<(u32, u32)> {
        fn new() -> Self {
            ShuttlePlain::new((0, 0))
        }
        fn write_a(&self, v: u32) {
            self.write(|d| d.0 = v)
        }
        fn write_b(&self, v: u32) {
            self.write(|d| d.1 = v)
        }
        fn read_a(&self) -> u32 {
            self.read(|d| d.0)
        }
        fn read_b(&self) -> u32 {
            self.read(|d| d.1)
        }
    }

    impl Data for (AtomicU32, AtomicU32) {
        fn new() -> Self {
            (AtomicU32::new(0), AtomicU32::new(0))
        }
        fn write_a(&self, v: u32) {
            self.0.store(v, SeqCst)
        }
        fn write_b(&self, v: u32) {
            self.1.store(v, SeqCst)
        }
        fn read_a(&self) -> u32 {
            self.0.load(SeqCst)
        }
        fn read_b(&self) -> u32 {
            self.1.load(SeqCst)
        }
    }

    struct SeqLock<D> {
        seq: AtomicU32,
        data: D,
    }

    fn model<D: Data>(reader: Reader) {
        tick();
        let s = Arc::new(SeqLock {
            seq: AtomicU32::new(0),
            data: D::new(),
        });
        let writer = {
            let s = s.clone();
            thread::spawn(move || {
                for v in [1u32, 2] {
                    s.seq.fetch_add(1, SeqCst); // odd: write in progress
                    s.data.write_a(v);
                    s.data.write_b(v);
                    s.seq.fetch_add(1, SeqCst); // even: stable
                }
            })
        };
        let (a, b) = loop {
            let s1 = s.seq.load(SeqCst);
            let a = s.data.read_a();
            let b = s.data.read_b();
            let s2 = s.seq.load(SeqCst);
            if accept(reader, s1, s2) {
                break (a, b);
            }
            thread::yield_now();
        };
        assert_eq!(a, b, "torn read");
        writer.join().unwrap();
    }

    pub fn torn_plain() {
        model::<ShuttlePlain<(u32, u32)>>(Reader::Torn)
    }
    pub fn torn_atomic() {
        model::<(AtomicU32, AtomicU32)>(Reader::Torn)
    }
    pub fn fixed_plain() {
        model::<ShuttlePlain<(u32, u32)>>(Reader::Fixed)
    }
    pub fn fixed_atomic() {
        model::<(AtomicU32, AtomicU32)>(Reader::Fixed)
    }
}
