//! A deterministic WASI preview1 for guests: captured stdout/stderr, empty
//! stdin, a virtual clock, seeded randomness, args and env from the run
//! configuration, `sched_yield` and sleeps as scheduling points, no files.
//!
//! Everything else in preview1 answers ENOSYS, so guests that merely import
//! it still link.

use super::memory;
use super::park::Park;
use super::state::{self, ExecState};
use super::ThreadData;
use crate::op::{Op, OpKind};
use rand::RngCore;
use wasmtime::{Caller, FuncType, Linker, Val, ValType};

const MODULE: &str = "wasi_snapshot_preview1";
const SUCCESS: i32 = 0;
const EBADF: i32 = 8;
const EFAULT: i32 = 21;
const EINVAL: i32 = 28;
const ENOSYS: i32 = 52;
const ESPIPE: i32 = 70;

/// Virtual wall-clock time at the start of every execution (2024-01-01T00:00:00Z).
pub const REALTIME_BASE_NS: u64 = 1_704_067_200_000_000_000;
/// Virtual time that passes at each clock read, so that loops waiting for
/// time to pass make progress.
pub const CLOCK_TICK_NS: u64 = 1_000;
/// Captured output per stream and execution; more is dropped with a note.
pub const OUTPUT_LIMIT: usize = 1 << 20;

/// Every preview1 function name; imports outside this list are rejected.
pub const PREVIEW1_FUNCTIONS: &[&str] = &[
    "args_get",
    "args_sizes_get",
    "environ_get",
    "environ_sizes_get",
    "clock_res_get",
    "clock_time_get",
    "fd_advise",
    "fd_allocate",
    "fd_close",
    "fd_datasync",
    "fd_fdstat_get",
    "fd_fdstat_set_flags",
    "fd_fdstat_set_rights",
    "fd_filestat_get",
    "fd_filestat_set_size",
    "fd_filestat_set_times",
    "fd_pread",
    "fd_prestat_get",
    "fd_prestat_dir_name",
    "fd_pwrite",
    "fd_read",
    "fd_readdir",
    "fd_renumber",
    "fd_seek",
    "fd_sync",
    "fd_tell",
    "fd_write",
    "path_create_directory",
    "path_filestat_get",
    "path_filestat_set_times",
    "path_link",
    "path_open",
    "path_readlink",
    "path_remove_directory",
    "path_rename",
    "path_symlink",
    "path_unlink_file",
    "poll_oneoff",
    "proc_exit",
    "proc_raise",
    "sched_yield",
    "random_get",
    "sock_accept",
    "sock_recv",
    "sock_send",
    "sock_shutdown",
];

/// `proc_exit` unwinds the calling thread with this error.
#[derive(Debug)]
pub(crate) struct ProcExit(pub i32);

impl std::fmt::Display for ProcExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "proc_exit({})", self.0)
    }
}

impl std::error::Error for ProcExit {}

type Ctx<'a> = Caller<'a, ThreadData>;

fn ok_or_fault(r: Option<()>) -> i32 {
    if r.is_some() {
        SUCCESS
    } else {
        EFAULT
    }
}

/// Writes `strings` as NUL-terminated strings at `buf` and their pointers at `ptrs`.
fn write_strings(st: &ExecState, strings: &[String], ptrs: i32, buf: i32) -> i32 {
    let mut ptr = ptrs as u32 as u64;
    let mut at = buf as u32 as u64;
    for s in strings {
        let mut bytes = s.as_bytes().to_vec();
        bytes.push(0);
        if memory::write_u32(&st.memory, ptr, at as u32).is_none()
            || memory::write(&st.memory, at, &bytes).is_none()
        {
            return EFAULT;
        }
        ptr += 4;
        at += bytes.len() as u64;
    }
    SUCCESS
}

fn write_sizes(st: &ExecState, strings: &[String], count: i32, size: i32) -> i32 {
    let total: usize = strings.iter().map(|s| s.len() + 1).sum();
    ok_or_fault(
        memory::write_u32(&st.memory, count as u32 as u64, strings.len() as u32)
            .and_then(|_| memory::write_u32(&st.memory, size as u32 as u64, total as u32)),
    )
}

fn fd_write(st: &mut ExecState, fd: i32, iovs: i32, n: i32, written: i32) -> i32 {
    let mut data = vec![];
    for i in 0..n as u32 as u64 {
        let at = iovs as u32 as u64 + i * 8;
        let (Some(ptr), Some(len)) = (
            memory::read_u32(&st.memory, at),
            memory::read_u32(&st.memory, at + 4),
        ) else {
            return EFAULT;
        };
        let Some(bytes) = memory::read(&st.memory, ptr as u64, len as u64) else {
            return EFAULT;
        };
        data.extend_from_slice(&bytes);
    }
    let sink = match fd {
        1 => &mut st.stdout,
        2 => &mut st.stderr,
        _ => return EBADF,
    };
    let room = OUTPUT_LIMIT.saturating_sub(sink.len());
    if room < data.len() {
        sink.extend_from_slice(&data[..room]);
        if room > 0 {
            sink.extend_from_slice(b"\n[interlace-wasm: output truncated]\n");
        }
    } else {
        sink.extend_from_slice(&data);
    }
    ok_or_fault(memory::write_u32(
        &st.memory,
        written as u32 as u64,
        data.len() as u32,
    ))
}

/// `poll_oneoff`: fd subscriptions are ready at once; clock subscriptions are a
/// sleep, a scheduling point after which the clock has reached the deadline.
async fn poll_oneoff(
    tid: crate::op::ThreadId,
    input: i32,
    out: i32,
    nsubs: i32,
    nevents: i32,
) -> i32 {
    if nsubs <= 0 {
        return EINVAL;
    }
    let parsed = state::with(|st| {
        let mut clocks = vec![];
        let mut fds = vec![];
        for i in 0..nsubs as u32 as u64 {
            let at = input as u32 as u64 + i * 48;
            let sub = memory::read(&st.memory, at, 48)?;
            let userdata = u64::from_le_bytes(sub[0..8].try_into().unwrap());
            match sub[8] {
                0 => {
                    let clock = u32::from_le_bytes(sub[16..20].try_into().unwrap());
                    let timeout = u64::from_le_bytes(sub[24..32].try_into().unwrap());
                    let abstime = u16::from_le_bytes(sub[40..42].try_into().unwrap()) & 1 != 0;
                    let deadline = match (abstime, clock) {
                        (true, 0) => timeout.saturating_sub(REALTIME_BASE_NS),
                        (true, _) => timeout,
                        (false, _) => st.clock_ns.saturating_add(timeout),
                    };
                    clocks.push((deadline, userdata));
                }
                tag => fds.push((userdata, tag)),
            }
        }
        Some((clocks, fds))
    });
    let Some((mut clocks, fds)) = parsed else {
        return EFAULT;
    };
    let op = Op::plain(if fds.is_empty() {
        OpKind::Sleep
    } else {
        OpKind::Yield
    });
    if state::with(|st| st.yield_point(tid, op)) {
        Park::default().await;
    }
    state::with(|st| {
        let mut events: Vec<[u8; 32]> = vec![];
        for (userdata, tag) in fds {
            let mut e = [0u8; 32];
            e[0..8].copy_from_slice(&userdata.to_le_bytes());
            e[10] = tag;
            events.push(e);
        }
        if events.is_empty() {
            clocks.sort();
            let (deadline, userdata) = clocks[0];
            st.clock_ns = st.clock_ns.max(deadline);
            let mut e = [0u8; 32];
            e[0..8].copy_from_slice(&userdata.to_le_bytes());
            events.push(e);
        }
        for (i, e) in events.iter().enumerate() {
            if memory::write(&st.memory, out as u32 as u64 + 32 * i as u64, e).is_none() {
                return EFAULT;
            }
        }
        ok_or_fault(memory::write_u32(
            &st.memory,
            nevents as u32 as u64,
            events.len() as u32,
        ))
    })
}

/// Defines the preview1 functions `imports` names (module, name, type).
pub(crate) fn add_to_linker(
    linker: &mut Linker<ThreadData>,
    imports: &[(String, FuncType)],
) -> wasmtime::Result<()> {
    // Every imported preview1 function answers ENOSYS first, so guests that
    // merely import one link; the implementations below shadow their stubs.
    for (name, ty) in imports {
        let results: Vec<ValType> = ty.results().collect();
        if results.len() != 1 || !matches!(results[0], ValType::I32) {
            continue;
        }
        linker.func_new(MODULE, name, ty.clone(), |_, _, results: &mut [Val]| {
            results[0] = Val::I32(ENOSYS);
            Ok(())
        })?;
    }
    linker.func_wrap(MODULE, "args_get", |_: Ctx, argv: i32, buf: i32| {
        state::with(|st| write_strings(st, &st.args.clone(), argv, buf))
    })?;
    linker.func_wrap(MODULE, "args_sizes_get", |_: Ctx, c: i32, s: i32| {
        state::with(|st| write_sizes(st, &st.args.clone(), c, s))
    })?;
    linker.func_wrap(MODULE, "environ_get", |_: Ctx, p: i32, b: i32| {
        state::with(|st| write_strings(st, &st.env.clone(), p, b))
    })?;
    linker.func_wrap(MODULE, "environ_sizes_get", |_: Ctx, c: i32, s: i32| {
        state::with(|st| write_sizes(st, &st.env.clone(), c, s))
    })?;
    linker.func_wrap(MODULE, "clock_res_get", |_: Ctx, _id: i32, res: i32| {
        state::with(|st| {
            ok_or_fault(memory::write_u64(
                &st.memory,
                res as u32 as u64,
                CLOCK_TICK_NS,
            ))
        })
    })?;
    linker.func_wrap(
        MODULE,
        "clock_time_get",
        |_: Ctx, id: i32, _precision: i64, out: i32| {
            state::with(|st| {
                st.clock_ns += CLOCK_TICK_NS;
                // A loop that reads the clock may end when time passes: no livelock.
                st.fair.changed();
                let now = if id == 0 {
                    REALTIME_BASE_NS + st.clock_ns
                } else {
                    st.clock_ns
                };
                ok_or_fault(memory::write_u64(&st.memory, out as u32 as u64, now))
            })
        },
    )?;
    linker.func_wrap(
        MODULE,
        "fd_write",
        |_: Ctx, fd: i32, iovs: i32, n: i32, written: i32| {
            state::with(|st| fd_write(st, fd, iovs, n, written))
        },
    )?;
    linker.func_wrap(
        MODULE,
        "fd_read",
        |_: Ctx, fd: i32, _iovs: i32, _n: i32, nread: i32| {
            state::with(|st| match fd {
                0 => ok_or_fault(memory::write_u32(&st.memory, nread as u32 as u64, 0)),
                _ => EBADF,
            })
        },
    )?;
    linker.func_wrap(MODULE, "fd_close", |_: Ctx, fd: i32| {
        if (0..=2).contains(&fd) {
            SUCCESS
        } else {
            EBADF
        }
    })?;
    linker.func_wrap(MODULE, "fd_fdstat_get", |_: Ctx, fd: i32, out: i32| {
        if !(0..=2).contains(&fd) {
            return EBADF;
        }
        let mut stat = [0u8; 24];
        stat[0] = 2; // character device
        stat[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
        state::with(|st| ok_or_fault(memory::write(&st.memory, out as u32 as u64, &stat)))
    })?;
    linker.func_wrap(MODULE, "fd_prestat_get", |_: Ctx, _fd: i32, _out: i32| {
        EBADF
    })?;
    linker.func_wrap(
        MODULE,
        "fd_prestat_dir_name",
        |_: Ctx, _fd: i32, _p: i32, _l: i32| EBADF,
    )?;
    linker.func_wrap(
        MODULE,
        "fd_seek",
        |_: Ctx, fd: i32, _o: i64, _w: i32, _out: i32| {
            if (0..=2).contains(&fd) {
                ESPIPE
            } else {
                EBADF
            }
        },
    )?;
    linker.func_wrap_async(MODULE, "proc_exit", |caller: Ctx, (code,): (i32,)| {
        let tid = caller.data().tid;
        Box::new(async move {
            // Stopping is a scheduling point: the other threads may run first.
            if state::with(|st| st.stop_point(tid, code)) {
                Park::default().await;
            }
            Err::<(), _>(wasmtime::Error::new(ProcExit(code)))
        })
    })?;
    linker.func_wrap(MODULE, "random_get", |_: Ctx, buf: i32, len: i32| {
        state::with(|st| {
            let mut bytes = vec![0u8; len as u32 as usize];
            st.rng.fill_bytes(&mut bytes);
            ok_or_fault(memory::write(&st.memory, buf as u32 as u64, &bytes))
        })
    })?;
    linker.func_wrap_async(MODULE, "sched_yield", |caller: Ctx, (): ()| {
        let tid = caller.data().tid;
        Box::new(async move {
            if state::with(|st| st.yield_point(tid, Op::plain(OpKind::Yield))) {
                Park::default().await;
            }
            SUCCESS
        })
    })?;
    linker.func_wrap_async(
        MODULE,
        "poll_oneoff",
        |caller: Ctx, (i, o, n, e): (i32, i32, i32, i32)| {
            let tid = caller.data().tid;
            Box::new(poll_oneoff(tid, i, o, n, e))
        },
    )?;
    Ok(())
}
