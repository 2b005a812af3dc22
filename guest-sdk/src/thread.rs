//! Lightweight threads: spawn and join straight through the host, with a
//! stack from a static pool and no libc bookkeeping (no malloc, no thread
//! list, no pthread locks), so a test's threads share only what the test
//! shares. Use them for exact DPOR counts and benchmarks; use `std::thread`
//! for everything else.
//!
//! A thread runs a plain `fn(u32)`. At most [`MAX_THREADS`] are spawned per
//! execution (stacks are not reused); each has a [`STACK_SIZE`] stack.
//! Off wasm32 (native builds of the same code) they are `std::thread`s.
//!
//! ```
//! use interlace_guest_sdk::thread;
//! use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
//! static X: AtomicU32 = AtomicU32::new(0);
//! let t = thread::spawn(|v| { X.store(v, SeqCst); }, 7);
//! t.join();
//! assert_eq!(X.load(SeqCst), 7);
//! ```

/// Bytes of stack per lightweight thread (its thread-local block included).
pub const STACK_SIZE: usize = 32 * 1024;
/// Bytes at the bottom of each stack slot reserved for thread-local storage.
pub const TLS_SIZE: usize = 2 * 1024;
/// Lightweight threads per execution. The pool is zero-initialised static
/// memory, which the module's memory initialiser clears at every execution,
/// touching each of its pages: 64 slots cost ~500 page faults (~300 µs) per
/// execution, 16 cost a quarter of that.
pub const MAX_THREADS: usize = 16;

/// A spawned lightweight thread.
#[must_use = "join the thread, or it is a daemon thread that the end of main kills"]
pub struct Thread {
    inner: imp::Handle,
}

/// Starts `f(arg)` on a new lightweight thread.
///
/// # Panics
/// When the host refuses. More than [`MAX_THREADS`] in one execution is
/// the tool's limit: under interlace-wasm the execution stops there with
/// the tool's error (exit 2), not a verdict.
pub fn spawn(f: fn(u32), arg: u32) -> Thread {
    Thread {
        inner: imp::spawn(f, arg),
    }
}

impl Thread {
    /// Waits until the thread has returned.
    pub fn join(self) {
        imp::join(self.inner)
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::{MAX_THREADS, STACK_SIZE, TLS_SIZE};
    use core::cell::UnsafeCell;
    use core::sync::atomic::{AtomicUsize, Ordering};

    #[link(wasm_import_module = "interlace")]
    extern "C" {
        /// # Safety
        /// `stack_top` and `tls_block` must point into memory no other thread uses.
        #[link_name = "spawn"]
        fn host_spawn(func: i32, arg: i32, stack_top: i32, tls_block: i32) -> i32;
        /// # Safety
        /// `tid` must be a thread returned by `host_spawn`.
        #[link_name = "join"]
        fn host_join(tid: i32);
    }

    #[repr(C, align(16))]
    struct Pool(UnsafeCell<[[u8; STACK_SIZE]; MAX_THREADS]>);
    // SAFETY: each slot is handed to exactly one thread, once (NEXT only grows).
    unsafe impl Sync for Pool {}

    static POOL: Pool = Pool(UnsafeCell::new([[0; STACK_SIZE]; MAX_THREADS]));
    static NEXT: AtomicUsize = AtomicUsize::new(0);

    pub struct Handle(i32);

    pub fn spawn(f: fn(u32), arg: u32) -> Handle {
        let slot = NEXT.fetch_add(1, Ordering::Relaxed);
        if slot >= MAX_THREADS {
            // The pool's limit is the tool's, not the program's: a spawn
            // with no stack tells the host, which stops the execution and
            // reports the limit (exit 2) instead of this panic.
            // SAFETY: no stack is handed over; the host refuses the spawn.
            unsafe { host_spawn(f as usize as i32, arg as i32, 0, 0) };
            panic!("more than {MAX_THREADS} lightweight threads");
        }
        let base = POOL.0.get() as usize + slot * STACK_SIZE;
        let top = base + STACK_SIZE;
        // SAFETY: the slot is this thread's alone; the host checks the entry.
        let tid = unsafe { host_spawn(f as usize as i32, arg as i32, top as i32, base as i32) };
        assert!(tid > 0, "the host refused to spawn a thread ({tid})");
        let _ = TLS_SIZE;
        Handle(tid)
    }

    pub fn join(h: Handle) {
        // SAFETY: `h` came from `host_spawn`.
        unsafe { host_join(h.0) }
    }

    /// Entry point the host calls on a new lightweight thread.
    #[no_mangle]
    pub extern "C" fn interlace_thread_entry(func: i32, arg: i32) {
        // SAFETY: `func` is the `fn(u32)` that `spawn` passed as an integer.
        let f: fn(u32) = unsafe { core::mem::transmute::<usize, fn(u32)>(func as u32 as usize) };
        f(arg as u32)
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    pub struct Handle(std::thread::JoinHandle<()>);

    pub fn spawn(f: fn(u32), arg: u32) -> Handle {
        Handle(std::thread::spawn(move || f(arg)))
    }

    pub fn join(h: Handle) {
        h.0.join().expect("lightweight thread panicked")
    }
}
