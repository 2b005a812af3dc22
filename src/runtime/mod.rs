//! Runs one execution: every guest thread is its own store and instance over
//! one shared memory, polled as a fiber by a tiny executor on this OS thread,
//! so exactly one guest thread runs at a time and the scheduler alone picks
//! the next one at each scheduling point.

pub(crate) mod hooks;
mod memory;
mod park;
pub(crate) mod state;
pub(crate) mod wasi;

use crate::error::{Error, ErrorKind, Result};
use crate::op::ThreadId;
use crate::outcome::{failure_of, End, Execution};
use crate::program::{Program, EPOCH_TICK};
use crate::scheduler::Scheduler;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use state::ExecState;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use wasmtime::{Linker, SharedMemory, Store, Trap};

/// Store data of a guest thread.
pub(crate) struct ThreadData {
    pub tid: ThreadId,
}

/// Default `--max-steps`.
pub const DEFAULT_MAX_STEPS: u64 = 2_000_000;
/// Default `--timeout`, seconds of wall time per execution.
pub const DEFAULT_TIMEOUT_SECS: u64 = 20;
/// Default limit on threads per execution.
pub const DEFAULT_MAX_THREADS: u32 = 1024;

/// How to run each execution.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Scheduling points after which an execution is cut and reported as not terminating.
    pub max_steps: u64,
    /// Wall-time limit per execution, for loops with no scheduling point.
    pub timeout_secs: u64,
    /// Guest arguments after `argv[0]`.
    pub args: Vec<String>,
    /// Guest environment, `KEY=VALUE`.
    pub env: Vec<String>,
    /// Seed of the guest's `random_get`.
    pub guest_seed: u64,
    /// Record every step (replays do; exploration does not, for speed).
    pub trace: bool,
    /// Threads an execution may create.
    pub max_threads: u32,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            max_steps: DEFAULT_MAX_STEPS,
            timeout_secs: DEFAULT_TIMEOUT_SECS,
            args: vec![],
            env: vec![],
            guest_seed: 0,
            trace: false,
            max_threads: DEFAULT_MAX_THREADS,
        }
    }
}

type ThreadFuture = Pin<Box<dyn Future<Output = wasmtime::Result<()>>>>;

fn thread_future(
    program: &Program,
    linker: &Rc<Linker<ThreadData>>,
    mut store: Store<ThreadData>,
    arg: Option<i32>,
) -> ThreadFuture {
    let linker = linker.clone();
    let module = program.module.clone();
    Box::pin(async move {
        let instance = linker.instantiate_async(&mut store, &module).await?;
        match arg {
            None => {
                instance
                    .get_typed_func::<(), ()>(&mut store, "_start")?
                    .call_async(&mut store, ())
                    .await
            }
            Some(arg) => {
                let tid = store.data().tid.0 as i32;
                instance
                    .get_typed_func::<(i32, i32), ()>(&mut store, "wasi_thread_start")?
                    .call_async(&mut store, (tid, arg))
                    .await
            }
        }
    })
}

fn end_of_error(thread: ThreadId, e: wasmtime::Error, cfg: &RunConfig) -> End {
    if let Some(exit) = e.downcast_ref::<wasi::ProcExit>() {
        return End::Exit(exit.0);
    }
    if let Some(t) = e.downcast_ref::<hooks::GuestTrap>() {
        return End::Trap {
            thread,
            message: t.0.clone(),
        };
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => End::Timeout(cfg.timeout_secs),
        Some(trap) => End::Trap {
            thread,
            message: trap.to_string(),
        },
        None => End::HostError(format!("{e}")),
    }
}

/// Runs one execution of `program` under `scheduler`, which is handed back.
pub fn execute(
    program: &Program,
    scheduler: Box<dyn Scheduler>,
    cfg: &RunConfig,
) -> (Result<Execution>, Box<dyn Scheduler>) {
    let engine_err = |e: wasmtime::Error| Error::new(ErrorKind::Engine, format!("wasmtime: {e}"));
    let memory = match SharedMemory::new(&program.engine, program.memory_ty.clone()) {
        Ok(m) => m,
        Err(e) => return (Err(engine_err(e)), scheduler),
    };
    let ticks = (cfg.timeout_secs * 1000)
        .div_ceil(EPOCH_TICK.as_millis() as u64)
        .max(1);
    let new_store = |tid: ThreadId| {
        let mut store = Store::new(&program.engine, ThreadData { tid });
        store.epoch_deadline_trap();
        store.set_epoch_deadline(ticks);
        store
    };
    let main_store = new_store(ThreadId::MAIN);
    let mut linker = program.linker.clone();
    if let Err(e) = linker.define(&main_store, "env", "memory", memory.clone()) {
        return (Err(engine_err(e)), scheduler);
    }
    let linker = Rc::new(linker);
    let mut args = vec![program.name().to_string()];
    args.extend(cfg.args.iter().cloned());
    state::install(ExecState {
        sites: Arc::clone(&program.sites),
        memory,
        threads: vec![],
        runnable: vec![],
        pending: vec![],
        waiters: vec![],
        current: ThreadId::MAIN,
        steps: 0,
        max_steps: cfg.max_steps,
        end: None,
        scheduler,
        decisions: vec![],
        trace: cfg.trace.then(Vec::new),
        clock_ns: 0,
        rng: ChaCha8Rng::seed_from_u64(cfg.guest_seed),
        stdout: vec![],
        stderr: vec![],
        args: Arc::new(args),
        env: Arc::new(cfg.env.clone()),
        max_threads: cfg.max_threads,
    });
    state::with(|st| st.add_thread(None));

    let mut futures: Vec<Option<ThreadFuture>> =
        vec![Some(thread_future(program, &linker, main_store, None))];
    let mut cx = Context::from_waker(Waker::noop());
    while let Some(cur) = state::with(|st| {
        if st.end.is_some() {
            None
        } else {
            Some(st.current)
        }
    }) {
        let i = cur.0 as usize;
        if futures.len() <= i {
            futures.resize_with(i + 1, || None);
        }
        let fut = match &mut futures[i] {
            Some(f) => f,
            slot => {
                let arg = state::with(|st| st.threads[i].start_arg);
                slot.insert(thread_future(program, &linker, new_store(cur), arg))
            }
        };
        match fut.as_mut().poll(&mut cx) {
            Poll::Pending => {
                let stuck = state::with(|st| {
                    st.end.is_none() && st.current == cur && st.runnable.contains(&cur)
                });
                if stuck {
                    state::with(|st| {
                        st.end_with(End::HostError(format!(
                            "thread {cur} suspended without a scheduling decision"
                        )))
                    });
                }
            }
            Poll::Ready(result) => {
                futures[i] = None;
                match result {
                    Ok(()) if cur == ThreadId::MAIN => state::with(|st| st.end_with(End::Exit(0))),
                    Ok(()) => state::with(|st| st.finish(cur)),
                    Err(e) => {
                        let end = end_of_error(cur, e, cfg);
                        state::with(|st| st.end_with(end));
                    }
                }
            }
        }
    }
    // Dropping a suspended fiber unwinds it: this kills the threads still alive.
    drop(futures);
    let mut st = state::take();
    let end = st
        .end
        .take()
        .expect("the loop exits only once the execution ended");
    let divergence = st.scheduler.finish_execution();
    let scheduler = st.scheduler;
    if let End::HostError(m) = end {
        return (Err(Error::new(ErrorKind::Engine, m)), scheduler);
    }
    if let Err(d) = divergence {
        return (
            Err(Error::new(
                ErrorKind::Divergence,
                format!("the schedule does not match this execution: {}", d.0),
            )),
            scheduler,
        );
    }
    let execution = Execution {
        failure: failure_of(&end, &st.stderr),
        exit_code: if let End::Exit(c) = end {
            Some(c)
        } else {
            None
        },
        stdout: st.stdout,
        stderr: st.stderr,
        decisions: st.decisions,
        steps: st.steps,
        threads: st.threads.len() as u32,
        trace: st.trace,
    };
    (Ok(execution), scheduler)
}
