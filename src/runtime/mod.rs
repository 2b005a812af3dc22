//! Runs one execution: every guest thread is its own store and instance over
//! one shared memory, polled as a fiber by a tiny executor on this OS thread,
//! so exactly one guest thread runs at a time and the scheduler alone picks
//! the next one at each scheduling point.

pub mod costs;
pub(crate) mod fairness;
pub(crate) mod hooks;
mod memory;
mod models;
mod park;
pub mod races;
mod recycle;
pub(crate) mod stacks;
pub(crate) mod state;
pub(crate) mod wasi;

use crate::error::{Error, ErrorKind, Result};
use crate::op::ThreadId;
use crate::outcome::{failure_of, End, Execution};
use crate::program::{Program, EPOCH_TICK};
use crate::scheduler::{Finish, FinishKind, Scheduler};
use interlace_guest_sdk::abi;
use state::{Entry, ExecState};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use wasmtime::{InstancePre, SharedMemory, Store, Trap, Val};

/// Store data of a guest thread.
pub(crate) struct ThreadData {
    pub tid: ThreadId,
}

/// Default `--max-steps`.
pub const DEFAULT_MAX_STEPS: u64 = 50_000_000;
/// Default `--timeout`, seconds of wall time per execution.
pub const DEFAULT_TIMEOUT_SECS: u64 = 20;
/// Default limit on threads per execution.
pub const DEFAULT_MAX_THREADS: u32 = 8192;

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
    /// The exported function the main thread runs (`_start`, or a test's).
    pub entry: String,
    /// Detect data races (happens-before, vector clocks); a race is a failure.
    pub races: bool,
    /// Whether plain loads and stores in library code (std, wasi-libc) are
    /// scheduling points (see `abi::LIBRARY_POINTS_EXPORT`). None (the
    /// default): they are, except that exploration leaves them out for the
    /// sampling strategies, which never preempt there. A schedule file
    /// records what was in force, so a replay takes the same points.
    pub library_points: Option<bool>,
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
            entry: "_start".to_string(),
            races: false,
            library_points: None,
        }
    }
}

type ThreadFuture = Pin<Box<dyn Future<Output = wasmtime::Result<()>>>>;

/// A module problem found only when a thread starts (exit 2, not a verdict).
#[derive(Debug)]
pub(crate) struct SetupError(pub String);

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SetupError {}

fn thread_future(
    pre: &Rc<InstancePre<ThreadData>>,
    mut store: Store<ThreadData>,
    entry: Entry,
    main_entry: &Rc<str>,
    library_points: bool,
) -> ThreadFuture {
    let pre = pre.clone();
    let main_entry = main_entry.clone();
    Box::pin(async move {
        let instance = pre.instantiate_async(&mut store).await?;
        if !library_points {
            if let Some(g) = instance.get_global(&mut store, abi::LIBRARY_POINTS_EXPORT) {
                g.set(&mut store, Val::I32(0))?;
            }
        }
        match entry {
            Entry::Main => {
                // Alone until its first spawn (see abi::SOLO_EXPORT).
                let solo = instance.get_global(&mut store, abi::SOLO_EXPORT);
                let budget = instance.get_global(&mut store, abi::SOLO_BUDGET_EXPORT);
                if let (Some(solo), Some(budget)) = (solo, budget) {
                    let grant = state::with(|st| st.solo_grant());
                    budget.set(&mut store, Val::I32(grant as i32))?;
                    solo.set(&mut store, Val::I32(1))?;
                }
                if &*main_entry != "_start" {
                    // What `_start` does before `main`: thread pointer, constructors.
                    for (_, export) in abi::INIT_EXPORTS {
                        if let Ok(init) = instance.get_typed_func::<(), ()>(&mut store, export) {
                            init.call_async(&mut store, ()).await?;
                        }
                    }
                }
                instance
                    .get_typed_func::<(), ()>(&mut store, &main_entry)
                    .map_err(|_| {
                        wasmtime::Error::new(SetupError(format!(
                            "the module exports no function `{main_entry}` taking and returning nothing; list its exports with a wasm tool, or drop --entry"
                        )))
                    })?
                    .call_async(&mut store, ())
                    .await
            }
            Entry::Wasi(arg) => {
                let tid = store.data().tid.0 as i32;
                // No own stack until `wasi_thread_start` switches to it
                // (the instrumenter sets `top` there): the instance starts
                // with main's stack top, which is not this thread's.
                if let Some(top) = instance.get_global(&mut store, abi::STACK_TOP_EXPORT) {
                    top.set(&mut store, Val::I32(0))?;
                }
                let start =
                    instance.get_typed_func::<(i32, i32), ()>(&mut store, "wasi_thread_start")?;
                start.call_async(&mut store, (tid, arg)).await
            }
            Entry::Light {
                func,
                arg,
                stack_top,
                tls_block,
            } => {
                let setup = |what: &str| {
                    wasmtime::Error::new(SetupError(format!(
                        "a lightweight thread needs {what}; link interlace-guest-sdk and run the module through the interlace instrumenter"
                    )))
                };
                let sp = instance
                    .get_global(&mut store, abi::STACK_POINTER_EXPORT)
                    .ok_or_else(|| {
                        setup("the `__stack_pointer` global exported by the instrumenter")
                    })?;
                sp.set(&mut store, Val::I32(stack_top))?;
                // Its own stack from here (see abi::STACK_TOP_EXPORT).
                if let Some(top) = instance.get_global(&mut store, abi::STACK_TOP_EXPORT) {
                    top.set(&mut store, Val::I32(stack_top))?;
                }
                if let Ok(init_tls) =
                    instance.get_typed_func::<i32, ()>(&mut store, abi::INIT_TLS_EXPORT)
                {
                    init_tls.call_async(&mut store, tls_block).await?;
                }
                let start = instance
                    .get_typed_func::<(i32, i32), ()>(&mut store, abi::THREAD_ENTRY)
                    .map_err(|_| setup("the guest-sdk's `interlace_thread_entry` export"))?;
                start.call_async(&mut store, (func, arg)).await
            }
        }
    })
}

/// A guest thread's store, trapping after `ticks` epoch ticks (`--timeout`).
pub(crate) fn thread_store(program: &Program, tid: ThreadId, ticks: u64) -> Store<ThreadData> {
    let mut store = Store::new(&program.engine, ThreadData { tid });
    store.epoch_deadline_trap();
    store.set_epoch_deadline(ticks);
    store
}

/// The program's imports resolved over the execution's `memory`: once per
/// execution, so that each thread's instance needs no lookup by name.
pub(crate) fn link(
    program: &Program,
    memory: &SharedMemory,
) -> wasmtime::Result<InstancePre<ThreadData>> {
    let mut linker = program.linker.clone();
    let store = thread_store(program, ThreadId::MAIN, 1);
    linker.define(&store, "env", "memory", memory.clone())?;
    linker.instantiate_pre(&program.module)
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
    if let Some(s) = e.downcast_ref::<SetupError>() {
        return End::HostError(s.0.clone());
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
    // The last execution's memory, zeroed, or a fresh one (see `recycle`).
    let (memory, pre) = match recycle::take(program) {
        Some(spare) => spare,
        None => {
            let memory = match SharedMemory::new(&program.engine, program.memory_ty.clone()) {
                Ok(m) => m,
                Err(e) => return (Err(engine_err(e)), scheduler),
            };
            match link(program, &memory) {
                Ok(pre) => (
                    memory::GuestMemory::new(memory, program.virtual_memory),
                    Rc::new(pre),
                ),
                Err(e) => return (Err(engine_err(e)), scheduler),
            }
        }
    };
    let ticks = (cfg.timeout_secs * 1000)
        .div_ceil(EPOCH_TICK.as_millis() as u64)
        .max(1);
    let new_store = |tid: ThreadId| thread_store(program, tid, ticks);
    let main_entry: Rc<str> = Rc::from(cfg.entry.as_str());
    state::install(ExecState::new(program, memory, scheduler, cfg));
    // Main's first step, `start`, is a scheduling point like any other.
    state::with(|st| {
        st.add_thread(Entry::Main);
        st.switch_away();
    });

    let mut futures: Vec<Option<ThreadFuture>> = vec![];
    let mut started: Vec<bool> = vec![];
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
            started.resize(i + 1, false);
        }
        if !started[i] {
            started[i] = true;
            let entry = state::with(|st| st.threads[i].entry);
            futures[i] = Some(thread_future(
                &pre,
                new_store(cur),
                entry,
                &main_entry,
                cfg.library_points.unwrap_or(true),
            ));
        }
        let Some(fut) = &mut futures[i] else {
            // Its entry point returned and it waited at its `stop`: now it stops the program.
            state::with(|st| {
                let code = st.threads[i].stopping.unwrap_or(0);
                st.end_with(End::Exit(code))
            });
            continue;
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
                    Ok(()) if cur == ThreadId::MAIN => {
                        state::with(|st| st.stop_point(cur, 0));
                    }
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
    st.fill_value();
    let end = st
        .end
        .take()
        .expect("the loop exits only once the execution ended");
    let kind = match end {
        End::Exit(_) => FinishKind::Stopped,
        End::Deadlock(_) | End::Livelock(_) => FinishKind::Deadlock,
        End::StepBound(_) => FinishKind::StepBound,
        End::Abandoned => FinishKind::Abandoned,
        End::Trap { .. } | End::Timeout(_) | End::HostError(_) | End::ToolLimit(_) => {
            FinishKind::Failed
        }
    };
    let waiting = st.lock_waiting();
    let finish = Finish {
        kind,
        runnable: &st.runnable,
        waiting: &waiting,
        pending: &st.pending,
    };
    let divergence = st.scheduler.finish_execution(&finish);
    let places = places_of(&end, &st);
    recycle::give_back(program, st.memory, pre);
    let scheduler = st.scheduler;
    match end {
        End::HostError(m) => return (Err(Error::new(ErrorKind::Engine, m)), scheduler),
        End::ToolLimit(m) => return (Err(Error::new(ErrorKind::ToolLimit, m)), scheduler),
        _ => {}
    }
    if let Err(d) = divergence {
        let msg = format!("the schedule does not match this execution: {}", d.0);
        return (Err(Error::new(ErrorKind::Divergence, msg)), scheduler);
    }
    let races = st.races.take().map(|r| r.races).unwrap_or_default();
    let failure = failure_of(&end, &st.stderr)
        .or_else(|| (!races.is_empty()).then(|| race_failure(&races, &st.sites)));
    let execution = Execution {
        places,
        failure,
        races,
        exit_code: if let End::Exit(c) = end {
            Some(c)
        } else {
            None
        },
        stdout: st.stdout,
        stderr: st.stderr,
        decisions: st.decisions,
        steps: st.steps,
        unseen: st.private_accesses,
        threads: st.threads.len() as u32,
        trace: st.trace,
        abandoned: end == End::Abandoned,
    };
    (Ok(execution), scheduler)
}

/// Where an execution failed (see [`Execution::places`]).
fn places_of(end: &End, st: &ExecState) -> Vec<u32> {
    let site = |t: usize| st.pending.get(t).and_then(|op| op.site);
    let mut places: Vec<u32> = match end {
        End::Trap { thread, .. } => site(thread.0 as usize).into_iter().collect(),
        End::Deadlock(waiting) => waiting
            .iter()
            .filter_map(|(t, _)| site(t.0 as usize))
            .collect(),
        End::Livelock(_) => st.fair.spin_sites(&st.runnable),
        End::StepBound(_) => st
            .runnable
            .iter()
            .filter_map(|t| site(t.0 as usize))
            .collect(),
        _ => vec![],
    };
    places.sort_unstable();
    places.dedup();
    places
}

/// The failure of an execution with data races: the first, with both lines.
fn race_failure(races: &[races::Race], sites: &abi::SiteTable) -> crate::outcome::Failure {
    let r = &races[0];
    let side = |a: &races::RaceAccess| {
        format!(
            "{} {}{} at {} (step {})",
            a.thread,
            if a.atomic { "atomic " } else { "" },
            if a.write { "write" } else { "read" },
            crate::trace::site_location(sites, a.site),
            a.step
        )
    };
    let more = match races.len() {
        1 => String::new(),
        n => format!(" (and {} more)", n - 1),
    };
    crate::outcome::Failure {
        kind: crate::outcome::FailureKind::DataRace,
        thread: Some(r.second.thread),
        message: format!(
            "data race on {:#x}: {} and {} are not ordered by happens-before{more}",
            r.addr,
            side(&r.first),
            side(&r.second)
        ),
    }
}
