//! What an execution pays before its guest runs: a shared memory (fresh,
//! or the last execution's cleared) and one instance per thread. Measured apart so that `cargo bench --bench
//! speed` can break an execution's cost down (memory, instantiation, host
//! bookkeeping, guest code) and show which one a change moved.

use crate::op::ThreadId;
use crate::program::Program;
use interlace_guest_sdk::abi;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use wasmtime::SharedMemory;

/// Mean costs of an execution's setup pieces.
#[derive(Clone, Copy, Debug)]
pub struct SetupCosts {
    /// A fresh shared memory (its mapping and unmapping, nothing touched).
    pub memory: Duration,
    /// The first touch of one 4 KiB page of a fresh memory: the page fault
    /// (and the kernel's zeroing) every page an execution writes costs it.
    pub page_fault: Duration,
    /// One thread's store and instance from the execution's resolved
    /// imports (instantiation runs the module's start function, wasi-libc's
    /// `__wasm_init_memory`), and their drop.
    pub instance: Duration,
}

/// Time this OS thread's executions have spent clearing their memory for
/// the next one (a memory is reused, not mapped afresh; see the runtime's
/// recycling): a run's share is the difference before and after.
pub fn reset_time() -> Duration {
    super::recycle::reset_time()
}

/// Executions this OS thread has started on a recycled memory (see
/// `super::recycle`), for tests that must know one was.
pub fn reuses() -> u64 {
    super::recycle::reuses()
}

/// Polls a future that never parks (instantiation calls no interlace hook).
fn ready<T>(fut: impl Future<Output = T>) -> Option<T> {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1_000 {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return Some(v);
        }
    }
    None
}

/// Measures [`SetupCosts`] over `rounds` repetitions; None when the module
/// cannot be instantiated outside an execution.
pub fn setup_costs(program: &Program, rounds: u32) -> Option<SetupCosts> {
    let rounds = rounds.max(1);
    let fresh = |touch: bool| -> Option<(Duration, usize)> {
        let start = Instant::now();
        let mut pages = 0;
        for _ in 0..rounds {
            let m = SharedMemory::new(&program.engine, program.memory_ty.clone()).ok()?;
            if touch {
                for cell in m.data().iter().step_by(4096) {
                    // SAFETY: this thread is the only user of this fresh memory.
                    unsafe { *cell.get() = 1 };
                    pages += 1;
                }
            }
            drop(m);
        }
        Some((start.elapsed(), pages))
    };
    let (untouched, _) = fresh(false)?;
    let (touched, pages) = fresh(true)?;
    let memory = untouched / rounds;
    let page_fault = touched.saturating_sub(untouched) / (pages.max(1) as u32);

    let m = SharedMemory::new(&program.engine, program.memory_ty.clone()).ok()?;
    // As an execution does: imports resolved once, then an instance per
    // thread, inside an execution (instantiation may call the host: the
    // start function's bulk operations check their bounds).
    let pre = super::link(program, &m).ok()?;
    let scheduler = Box::new(crate::scheduler::round_robin::RoundRobinScheduler::new(1));
    let cfg = super::RunConfig::default();
    super::state::install(super::state::ExecState::new(
        program,
        super::memory::GuestMemory::new(m, program.virtual_memory),
        scheduler,
        &cfg,
    ));
    let start = Instant::now();
    let mut instantiated = true;
    for _ in 0..rounds {
        let mut store = super::thread_store(program, ThreadId::MAIN, 1_000_000);
        match ready(pre.instantiate_async(&mut store)) {
            Some(Ok(instance)) => {
                std::hint::black_box(instance.get_global(&mut store, abi::SOLO_EXPORT));
            }
            _ => instantiated = false,
        }
        drop(store);
    }
    let instance = start.elapsed() / rounds;
    drop(super::state::take());
    if !instantiated {
        return None;
    }
    Some(SetupCosts {
        memory,
        page_fault,
        instance,
    })
}
