//! The benchmark programs. Each module holds the same tiny program twice: once in loom's idiom
//! (`on_loom`) and once in shuttle's (`on_shuttle`). Every model closure calls [`tick`] first so
//! the harness can count executions.
//!
//! The loom programs share state through `std::sync::Arc`, not `loom::sync::Arc`: the latter's
//! `Drop` calls into the loom runtime, so when a *spawned* thread unwinds after loom reports a
//! deadlock (or an assertion fails in it), dropping the captured Arc panics again and the whole
//! process aborts ("thread caused non-unwinding panic", tokio-rs/loom#291), which would stop the
//! bench. loom's own deadlock test shares its mutexes with `std::rc::Rc` for the same reason.
//! `shuttle::sync::Arc` is a re-export of `std::sync::Arc`, so with this neither tool models
//! reference-count operations and both explore the same set of visible operations.

pub mod condvar_lost_wakeup;
pub mod lock_order_deadlock;
pub mod lost_update;
pub mod peterson;
pub mod plain_lost_update;
pub mod seqlock;
pub mod treiber_aba;

/// Executions of the model closure in the current run (reset by the harness before each run).
pub static EXECUTIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Called at the start of every model-closure invocation.
pub fn tick() {
    EXECUTIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Plain (non-atomic) shared data under loom: a `loom::cell::UnsafeCell`, whose accesses loom
/// checks for causality (data races) with vector clocks.
pub struct LoomPlain<T>(loom::cell::UnsafeCell<T>);

// SAFETY: only used inside loom models, where loom itself reports every unsynchronised access.
unsafe impl<T: Send> Sync for LoomPlain<T> {}

impl<T> LoomPlain<T> {
    pub fn new(v: T) -> Self {
        LoomPlain(loom::cell::UnsafeCell::new(v))
    }

    /// Read through the cell (a loom-tracked read access).
    pub fn read<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        // SAFETY: loom tracks the access and panics on a concurrent conflicting one.
        self.0.with(|p| f(unsafe { &*p }))
    }

    /// Write through the cell (a loom-tracked write access).
    pub fn write<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        // SAFETY: as above.
        self.0.with_mut(|p| f(unsafe { &mut *p }))
    }
}

/// Plain (non-atomic) shared data under shuttle: a std `UnsafeCell`. Shuttle does not see these
/// accesses at all (they are not scheduling points), so a race on them only shows up if some
/// interleaving of the *visible* operations makes an assertion fail.
pub struct ShuttlePlain<T>(std::cell::UnsafeCell<T>);

// SAFETY: shuttle runs all tasks of an execution on one OS thread, one at a time, switching only
// at its own scheduling points, so these accesses never overlap in real time.
unsafe impl<T: Send> Sync for ShuttlePlain<T> {}

impl<T> ShuttlePlain<T> {
    pub fn new(v: T) -> Self {
        ShuttlePlain(std::cell::UnsafeCell::new(v))
    }

    pub fn read<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        // SAFETY: see the `Sync` impl.
        f(unsafe { &*self.0.get() })
    }

    pub fn write<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        // SAFETY: see the `Sync` impl.
        f(unsafe { &mut *self.0.get() })
    }
}
