//! The `interlace.*` imports the instrumenter adds, and `wasi.thread-spawn`.

use super::memory;
use super::models::Acquire;
use super::park::Park;
use super::state::{self, Entry, ExecState};
use super::ThreadData;
use crate::op::{Op, OpKind, ThreadId};
use crate::outcome::End;
use crate::program::{ALLOCATOR_SITE, JOIN_SITE};
use interlace_guest_sdk::abi::{self, AccessKind};
use std::sync::Arc;
use wasmtime::{Caller, Linker};

/// A trap raised by a host function on the guest's behalf.
#[derive(Debug)]
pub(crate) struct GuestTrap(pub String);

impl std::fmt::Display for GuestTrap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GuestTrap {}

fn trap(msg: impl Into<String>) -> wasmtime::Error {
    wasmtime::Error::new(GuestTrap(msg.into()))
}

impl ExecState {
    /// The site of an [`abi::ACCESS`] call, after taking note of the
    /// thread's unseen library writes it reports (see [`abi::ACCESS_WROTE`]).
    #[inline(always)]
    fn unseen_write(&mut self, tid: ThreadId, site: i32) -> i32 {
        if site & abi::ACCESS_WROTE != 0 {
            self.fair.wrote_unseen(tid);
        }
        site & !abi::ACCESS_WROTE
    }

    /// The operation of site `site` at dynamic address `addr`. On every
    /// step: when LLVM stopped inlining it, a step cost 6 ns more (`cargo
    /// bench`, 13 vs 19 ns).
    #[inline(always)]
    fn site_op(&self, site: i32, addr: i32, src: i32, len: i32) -> wasmtime::Result<Op> {
        let s = self.sites.sites.get(site as u32 as usize).ok_or_else(|| {
            trap(format!(
                "unknown interlace site {site}: the module's site table does not match its code"
            ))
        })?;
        let flags = self
            .site_flags
            .get(site as u32 as usize)
            .copied()
            .unwrap_or(0);
        let (addr, len, src) = match s.kind {
            AccessKind::Copy => (addr as u32 as u64, len as u32 as u64, src as u32 as u64),
            AccessKind::Fill => (addr as u32 as u64, len as u32 as u64, 0),
            _ => (
                (addr as u32 as u64).wrapping_add(s.offset),
                u64::from(s.size),
                0,
            ),
        };
        Ok(Op {
            kind: OpKind::Memory(s.kind),
            site: Some(site as u32),
            addr,
            len,
            src,
            atomic: s.atomic,
            library: s.library,
            allocator: flags & ALLOCATOR_SITE != 0,
            join: flags & JOIN_SITE != 0,
            fails: false,
            lock: false,
            bookkeeping: !self.sites.bookkeeping.is_empty()
                && self.sites.bookkeeping.iter().any(|&(a, n)| {
                    addr < u64::from(a) + u64::from(n) && u64::from(a) < addr + len.max(1)
                }),
        })
    }
}

/// Yields at `op`, parking until this thread is scheduled again.
async fn yield_at(tid: ThreadId, op: Op) {
    if state::with(|st| st.yield_point(tid, op)) {
        Park::default().await;
    }
}

async fn wait(
    tid: ThreadId,
    addr: i32,
    expected: u64,
    timeout: i64,
    site: i32,
) -> wasmtime::Result<i32> {
    let op = state::with(|st| st.site_op(site, addr, 0, 0))?;
    yield_at(tid, op).await;
    let begin = state::with(|st| -> wasmtime::Result<WaitBegin> {
        if op.addr % op.len != 0 {
            return Err(trap("unaligned atomic wait"));
        }
        let value = memory::read_uint(&st.memory, op.addr, op.len)
            .ok_or_else(|| trap("out of bounds memory access in atomic wait"))?;
        if value != expected {
            return Ok(WaitBegin::Done(1));
        }
        if timeout == 0 {
            return Ok(WaitBegin::Done(2));
        }
        let deadline = (timeout > 0).then(|| st.clock_ns.saturating_add(timeout as u64));
        Ok(WaitBegin::Blocked {
            park: st.block(tid, op.addr, deadline, op.site),
        })
    })?;
    match begin {
        WaitBegin::Done(code) => Ok(code),
        WaitBegin::Blocked { park } => {
            if park {
                Park::default().await;
            }
            let notified = state::with(|st| st.resume_from_wait(tid));
            Ok(if notified { 0 } else { 2 })
        }
    }
}

/// std's contended `Mutex` path (see [`abi::LOCK`]) and wasi-libc's
/// modelled acquisitions (see [`abi::ACQUIRE`]).
async fn lock(tid: ThreadId, addr: i32, site: i32, kind: Acquire) -> wasmtime::Result<()> {
    let op = Op {
        lock: true,
        ..state::with(|st| st.site_op(site, addr, 0, 0))?
    };
    if !word_ok(op.addr) {
        return Err(trap("a lock word out of bounds or unaligned"));
    }
    if state::with(|st| st.lock_point(tid, op, kind)) {
        Park::default().await;
    }
    state::with(|st| st.locked(tid));
    Ok(())
}

/// wasi-libc's `pthread_barrier_wait` (see [`abi::BARRIER`]).
async fn barrier(tid: ThreadId, addr: i32, site: i32, parties: i32) -> wasmtime::Result<i32> {
    let op = Op {
        kind: OpKind::Arrive,
        ..state::with(|st| st.site_op(site, addr, 0, 0))?
    };
    if !word_ok(op.addr) || parties < 2 {
        return Err(trap(
            "a barrier out of bounds, unaligned, or of fewer than 2 threads",
        ));
    }
    yield_at(tid, op).await;
    if state::with(|st| st.arrive(tid, op.addr, parties as u32)) {
        Park::default().await;
    }
    Ok(state::with(|st| st.left_barrier(tid)))
}

/// Whether `addr` is an aligned 32-bit word in memory (a lock's, a
/// barrier's).
fn word_ok(addr: u64) -> bool {
    addr.is_multiple_of(4) && state::with(|st| memory::read_u32(&st.memory, addr).is_some())
}

enum WaitBegin {
    /// Returned at once with this code (1: value differs, 2: zero timeout).
    Done(i32),
    /// Now waiting; `park` unless the scheduler let it time out at once.
    Blocked { park: bool },
}

/// Reads a UTF-8 name the guest passed as (ptr, len).
fn guest_name(st: &ExecState, ptr: i32, len: i32) -> wasmtime::Result<Arc<str>> {
    let bytes = memory::read(&st.memory, ptr as u32 as u64, len as u32 as u64)
        .filter(|b| b.len() <= 256)
        .ok_or_else(|| trap("a marker or thread name out of bounds (or over 256 bytes)"))?;
    let name =
        String::from_utf8(bytes).map_err(|_| trap("a marker or thread name is not UTF-8"))?;
    Ok(Arc::from(name))
}

/// The scheduling point of marker `name`.
async fn pass_marker(tid: ThreadId, name: Arc<str>) {
    let id = state::with(|st| match st.markers.iter().position(|m| *m == name) {
        Some(i) => i,
        None => {
            st.markers.push(name);
            st.markers.len() - 1
        }
    });
    yield_at(
        tid,
        Op {
            addr: id as u64,
            ..Op::plain(OpKind::Marker)
        },
    )
    .await;
}

/// A spawn (a scheduling point), then the new thread's id, or a negative
/// errno (EAGAIN, as wasi-threads has it) past the thread limit.
async fn spawn(tid: ThreadId, entry: Entry) -> i32 {
    yield_at(tid, Op::plain(OpKind::Spawn)).await;
    state::with(|st| {
        if let Entry::Light { stack_top: 0, .. } = entry {
            // guest-sdk's pool is empty (see guest_sdk::thread::spawn).
            st.end_with(End::ToolLimit(format!(
                "the program starts more than {} lightweight threads or tasks, interlace-guest-sdk's pool per execution (`thread::MAX_THREADS`); use fewer, or std::thread",
                interlace_guest_sdk::thread::MAX_THREADS
            )));
            return -6;
        }
        if st.threads.len() as u32 >= st.max_threads {
            // The tool's limit, not the program's failure: stop here, exit 2.
            let max = st.max_threads;
            st.end_with(End::ToolLimit(format!(
                "the program creates more than {max} threads, interlace-wasm's limit per execution; raise it with --max-threads"
            )));
            return -6;
        }
        let child = st.add_thread(entry);
        st.parents.resize(child.0 as usize + 1, None);
        st.parents[child.0 as usize] = Some(tid);
        child.0 as i32
    })
}

fn global(caller: &mut Caller<'_, ThreadData>, name: &str) -> Option<wasmtime::Global> {
    caller
        .get_export(name)
        .and_then(wasmtime::Extern::into_global)
}

/// The calling thread is no longer alone: its accesses are scheduling
/// points again, and those it skipped are counted as steps (see
/// [`abi::SOLO_EXPORT`]). Before the spawn's own point.
fn leave_solo(caller: &mut Caller<'_, ThreadData>) -> wasmtime::Result<()> {
    let Some(solo) = global(caller, abi::SOLO_EXPORT) else {
        return Ok(());
    };
    if solo.get(&mut *caller).i32() == Some(0) {
        return Ok(());
    }
    solo.set(&mut *caller, wasmtime::Val::I32(0))?;
    let left = global(caller, abi::SOLO_BUDGET_EXPORT)
        .and_then(|b| b.get(&mut *caller).i32())
        .unwrap_or(0);
    state::with(|st| st.solo_left(left.max(0) as u32));
    Ok(())
}

/// A spawn's argument handed to the new thread without a store: if it
/// points into the caller's live stack, the stack escaped (see
/// `abi::STACK_TOP_EXPORT`), as for a pointer stored elsewhere.
fn escape_arg(caller: &mut Caller<'_, ThreadData>, value: i32) -> wasmtime::Result<()> {
    let (Some(sp), Some(top)) = (
        global(caller, abi::STACK_POINTER_EXPORT),
        global(caller, abi::STACK_TOP_EXPORT),
    ) else {
        return Ok(());
    };
    let sp_value = sp.get(&mut *caller).i32().unwrap_or(0) as u32;
    let top_value = top.get(&mut *caller).i32().unwrap_or(0) as u32;
    if (value as u32).wrapping_sub(sp_value) < top_value.wrapping_sub(sp_value) {
        top.set(&mut *caller, wasmtime::Val::I32(0))?;
    }
    Ok(())
}

async fn spawn_after(
    left_solo: wasmtime::Result<()>,
    tid: ThreadId,
    entry: Entry,
) -> wasmtime::Result<i32> {
    left_solo?;
    Ok(spawn(tid, entry).await)
}

pub(crate) fn add_to_linker(linker: &mut Linker<ThreadData>) -> wasmtime::Result<()> {
    let m = abi::IMPORT_MODULE;
    linker.func_wrap_async(
        m,
        abi::MARKER,
        |caller: Caller<'_, ThreadData>, (ptr, len): (i32, i32)| {
            let tid = caller.data().tid;
            Box::new(async move {
                let name = state::with(|st| guest_name(st, ptr, len))?;
                pass_marker(tid, name).await;
                Ok(())
            })
        },
    )?;
    linker.func_wrap_async(
        m,
        abi::MARKER_ID,
        |caller: Caller<'_, ThreadData>, (id,): (i32,)| {
            let tid = caller.data().tid;
            Box::new(async move {
                let name = state::with(|st| {
                    st.sites
                        .markers
                        .get(id as u32 as usize)
                        .map(|n| Arc::from(n.as_str()))
                });
                let name = name.ok_or_else(|| trap(format!("unknown comment marker {id}")))?;
                pass_marker(tid, name).await;
                Ok(())
            })
        },
    )?;
    linker.func_wrap(
        m,
        abi::SOLO_STEPS,
        |mut caller: Caller<'_, ThreadData>| -> wasmtime::Result<i32> {
            let Some(grant) = state::with(|st| st.solo_spent()) else {
                return Ok(1);
            };
            if let Some(budget) = global(&mut caller, abi::SOLO_BUDGET_EXPORT) {
                budget.set(&mut caller, wasmtime::Val::I32(grant as i32))?;
            }
            Ok(0)
        },
    )?;
    // The memory's size is the host's (see `super::recycle`). In an
    // instrumented function `memory.grow` made its scheduling point just
    // before (the instrumenter's hook).
    linker.func_wrap(m, abi::MEMORY_SIZE, || {
        state::with(|st| (st.memory.size() / super::memory::PAGE) as i32)
    })?;
    linker.func_wrap(m, abi::MEMORY_GROW, |pages: i32| {
        state::with(|st| {
            st.memory
                .grow(u64::from(pages as u32))
                .map_or(-1, |old| old as i32)
        })
    })?;
    linker.func_wrap(m, abi::MEMORY_BOUNDS, |end: i64| -> wasmtime::Result<i32> {
        let size = state::with(|st| st.memory.size());
        if end as u64 > size {
            return Err(wasmtime::Trap::MemoryOutOfBounds.into());
        }
        Ok(size as i32)
    })?;
    linker.func_wrap(m, abi::TASK, |caller: Caller<'_, ThreadData>| {
        let tid = caller.data().tid.0 as usize;
        state::with(|st| {
            let parent = st.parents.get(tid).copied().flatten();
            // A task spawned by a task runs on that task's executor.
            let executor = parent.map(|p| {
                st.executors
                    .get(p.0 as usize)
                    .copied()
                    .flatten()
                    .unwrap_or(p)
            });
            if st.executors.len() <= tid {
                st.executors.resize(tid + 1, None);
            }
            st.executors[tid] = executor;
        });
    })?;
    linker.func_wrap(m, abi::PRIVATE_SPENT, || -> i32 {
        i32::from(!state::with(|st| st.private_spent()))
    })?;
    linker.func_wrap(
        m,
        abi::ALLOCATED,
        |caller: Caller<'_, ThreadData>, ptr: i32, len: i32, old: i32| {
            let tid = caller.data().tid;
            let (addr, len) = (u64::from(ptr as u32), u64::from(len as u32));
            state::with(|st| {
                if old != 0 && old != ptr {
                    st.blocks.remove(&u64::from(old as u32));
                }
                if ptr != 0 {
                    st.blocks.insert(addr, len);
                }
                if ptr != 0 && ptr != old {
                    st.scheduler.allocated(tid, addr, len);
                }
            });
        },
    )?;
    linker.func_wrap_async(
        m,
        abi::FREED,
        |caller: Caller<'_, ThreadData>, (ptr,): (i32,)| {
            let tid = caller.data().tid;
            Box::new(async move {
                if ptr != 0 {
                    let (head, tail) = state::with(|st| st.freed_ops(ptr as u32));
                    yield_at(tid, head).await;
                    if let Some(tail) = tail {
                        yield_at(tid, tail).await;
                    }
                }
            })
        },
    )?;
    linker.func_wrap(
        m,
        abi::THREAD_NAME,
        |caller: Caller<'_, ThreadData>, ptr: i32, len: i32| {
            let tid = caller.data().tid.0 as usize;
            state::with(|st| -> wasmtime::Result<()> {
                let name = guest_name(st, ptr, len)?;
                if st.thread_names.len() <= tid {
                    st.thread_names.resize(tid + 1, None);
                }
                st.thread_names[tid] = Some(name);
                Ok(())
            })
        },
    )?;
    linker.func_wrap(
        m,
        abi::ACCESS,
        |caller: Caller<'_, ThreadData>, addr: i32, site: i32| -> wasmtime::Result<i32> {
            let tid = caller.data().tid;
            state::with(|st| {
                let site = st.unseen_write(tid, site);
                let op = st.site_op(site, addr, 0, 0)?;
                Ok(st.yield_point(tid, op) as i32)
            })
        },
    )?;
    linker.func_wrap(
        m,
        abi::ACCESS_CAS,
        |caller: Caller<'_, ThreadData>,
         addr: i32,
         site: i32,
         expected: i64|
         -> wasmtime::Result<i32> {
            let tid = caller.data().tid;
            state::with(|st| {
                let site = st.unseen_write(tid, site);
                let mut op = st.site_op(site, addr, 0, 0)?;
                // Narrow forms compare the low bytes of the expected value.
                let bits = (op.len.min(8) * 8) as u32;
                op.src = (expected as u64) & u64::MAX.checked_shr(64 - bits).unwrap_or(0);
                Ok(st.yield_point(tid, op) as i32)
            })
        },
    )?;
    linker.func_wrap(
        m,
        abi::BULK,
        |caller: Caller<'_, ThreadData>,
         dst: i32,
         src: i32,
         len: i32,
         site: i32|
         -> wasmtime::Result<i32> {
            let tid = caller.data().tid;
            state::with(|st| {
                let op = st.site_op(site, dst, src, len)?;
                Ok(st.yield_point(tid, op) as i32)
            })
        },
    )?;
    linker.func_wrap_async(
        m,
        abi::LOCK,
        |caller: Caller<'_, ThreadData>, (addr, site): (i32, i32)| {
            let tid = caller.data().tid;
            Box::new(lock(tid, addr, site, Acquire::Mutex))
        },
    )?;
    linker.func_wrap_async(
        m,
        abi::ACQUIRE,
        |caller: Caller<'_, ThreadData>, (addr, site, kind): (i32, i32, i32)| {
            let tid = caller.data().tid;
            Box::new(async move {
                let kind = Acquire::from_abi(kind)
                    .ok_or_else(|| trap(format!("unknown acquire kind {kind}")))?;
                lock(tid, addr, site, kind).await
            })
        },
    )?;
    linker.func_wrap_async(
        m,
        abi::BARRIER,
        |caller: Caller<'_, ThreadData>, (addr, site, parties): (i32, i32, i32)| {
            let tid = caller.data().tid;
            Box::new(barrier(tid, addr, site, parties))
        },
    )?;
    linker.func_wrap_async(m, abi::PARK, |_caller: Caller<'_, ThreadData>, (): ()| {
        Box::new(Park::default())
    })?;
    linker.func_wrap_async(
        m,
        abi::WAIT32,
        |caller: Caller<'_, ThreadData>, (addr, expected, timeout, site): (i32, i32, i64, i32)| {
            let tid = caller.data().tid;
            Box::new(wait(tid, addr, expected as u32 as u64, timeout, site))
        },
    )?;
    linker.func_wrap_async(
        m,
        abi::WAIT64,
        |caller: Caller<'_, ThreadData>, (addr, expected, timeout, site): (i32, i64, i64, i32)| {
            let tid = caller.data().tid;
            Box::new(wait(tid, addr, expected as u64, timeout, site))
        },
    )?;
    linker.func_wrap_async(
        m,
        abi::NOTIFY,
        |caller: Caller<'_, ThreadData>, (addr, count, site): (i32, i32, i32)| {
            let tid = caller.data().tid;
            Box::new(async move {
                let op = state::with(|st| st.site_op(site, addr, 0, 0))?;
                yield_at(tid, op).await;
                state::with(|st| {
                    if op.addr % 4 != 0 {
                        return Err(trap("unaligned atomic notify"));
                    }
                    if op.addr + 4 > st.memory.size() {
                        return Err(trap("out of bounds memory access in atomic notify"));
                    }
                    Ok(st.notify(op.addr, count as u32) as i32)
                })
            })
        },
    )?;
    linker.func_wrap_async(
        m,
        abi::SPAWN,
        |mut caller: Caller<'_, ThreadData>,
         (func, arg, stack_top, tls_block): (i32, i32, i32, i32)| {
            let tid = caller.data().tid;
            let left = leave_solo(&mut caller)
                .and_then(|()| escape_arg(&mut caller, arg))
                .and_then(|()| escape_arg(&mut caller, stack_top));
            Box::new(spawn_after(
                left,
                tid,
                Entry::Light {
                    func,
                    arg,
                    stack_top,
                    tls_block,
                },
            ))
        },
    )?;
    linker.func_wrap_async(
        m,
        abi::JOIN,
        |caller: Caller<'_, ThreadData>, (child,): (i32,)| {
            let tid = caller.data().tid;
            Box::new(async move {
                let known = state::with(|st| {
                    child > 0 && (child as usize) < st.threads.len() && child as u32 != tid.0
                });
                if !known {
                    return Err(trap(format!(
                        "join of thread {child}, which does not exist or is the caller"
                    )));
                }
                let child = ThreadId(child as u32);
                yield_at(
                    tid,
                    Op {
                        addr: u64::from(child.0),
                        ..Op::plain(OpKind::Join)
                    },
                )
                .await;
                if state::with(|st| st.join(tid, child)) {
                    Park::default().await;
                }
                Ok(())
            })
        },
    )?;
    linker.func_wrap_async(
        "wasi",
        "thread-spawn",
        |mut caller: Caller<'_, ThreadData>, (arg,): (i32,)| {
            let tid = caller.data().tid;
            let left = leave_solo(&mut caller).and_then(|()| escape_arg(&mut caller, arg));
            Box::new(spawn_after(left, tid, Entry::Wasi(arg)))
        },
    )?;
    Ok(())
}
