//! The hook ABI between instrumented guests and the interlace-wasm host.
//!
//! Defined once, here, so the instrumenter (which emits these imports) and the
//! runtime (which implements them) cannot drift apart. Everything is plain data:
//! this module has no dependencies and builds on every target.

/// Import module of every hook the instrumenter adds.
pub const IMPORT_MODULE: &str = "interlace";

/// `access(addr: i32, site: i32) -> i32`: called before a shared-memory access or
/// atomic. A non-zero result means another thread was scheduled and the caller
/// must call [`PARK`] before performing its access.
///
/// Split into a cheap synchronous check plus a rarely-called async [`PARK`]
/// because an async host call on every access costs four times as much.
pub const ACCESS: &str = "access";
/// `access_cas(addr: i32, site: i32, expected: i64) -> i32`: [`ACCESS`] for a
/// compare-exchange, with its expected value (zero-extended), so that the host
/// knows before it runs whether it will fail: a failing compare-exchange only
/// reads, and DPOR treats it as a read.
pub const ACCESS_CAS: &str = "access_cas";
/// Set in the site argument of [`ACCESS`] and [`ACCESS_CAS`] when the
/// thread wrote memory in library code since its last access without
/// telling the host (see [`LIBRARY_POINTS_EXPORT`]): what it reads next is
/// no spin's re-read.
pub const ACCESS_WROTE: i32 = i32::MIN;
/// `bulk(dst: i32, src: i32, len: i32, site: i32) -> i32`: like [`ACCESS`] for
/// `memory.copy` / `memory.fill` / `memory.init`, with the byte ranges.
pub const BULK: &str = "bulk";
/// `park()`: suspends the calling thread until the scheduler runs it again.
pub const PARK: &str = "park";
/// `solo_steps() -> i32`: the main thread, alone (see [`SOLO_EXPORT`]),
/// used up the accesses [`SOLO_BUDGET_EXPORT`] granted it: the host counts
/// them as steps (the step bound stops a program that loops alone) and
/// grants more. Nonzero: park (the execution ended).
pub const SOLO_STEPS: &str = "solo_steps";
/// `fn(ptr: i32, len: i32, old: i32)`: the allocator handed out `len`
/// bytes at `ptr` (0 when it failed); `old` is the block `realloc` was given
/// (else 0), which keeps its history when `realloc` grew it in place. Called
/// by the instrumenter at the return of `malloc`, `calloc`, `realloc` and
/// `aligned_alloc`. Not a scheduling point: DPOR forgets the accesses the
/// bytes had before (another owner's, before its `free`), so memory reuse
/// does not order two threads.
pub const ALLOCATED: &str = "allocated";
/// `fn(ptr: i32)`: made on entry to `free` and `realloc` (when `ptr` is
/// not 0): the block at `ptr` is given back. The host takes it as plain
/// library writes over the block's first and last 64 bytes (one or two
/// scheduling points; the length from the [`ALLOCATED`] call that handed
/// the block out), everything `free` writes into a block, so another
/// thread's use of those bytes conflicts with it: a use after free is
/// explored on both sides of the free.
pub const FREED: &str = "freed";
/// `wait32(addr: i32, expected: i32, timeout_ns: i64, site: i32) -> i32`:
/// replaces `memory.atomic.wait32` (same result codes: 0 woken, 1 not-equal, 2 timed out).
pub const WAIT32: &str = "wait32";
/// `wait64(addr: i32, expected: i64, timeout_ns: i64, site: i32) -> i32`:
/// replaces `memory.atomic.wait64`.
pub const WAIT64: &str = "wait64";
/// `notify(addr: i32, count: i32, site: i32) -> i32`: replaces
/// `memory.atomic.notify`; returns how many waiters were woken.
pub const NOTIFY: &str = "notify";

/// `lock(addr: i32, site: i32)`: a scheduling point that blocks while the
/// 32-bit mutex word at `addr` (plus the site's offset) is not 0. It replaces
/// the hook of the compare-exchange with which Rust std's futex
/// `Mutex::lock()` tries to take the mutex (the one followed by a call of
/// `Mutex::lock_contended`), and the body of `lock_contended` (then storing
/// 1). Contention is so modelled as blocking, as loom and GenMC model a
/// mutex, instead of std's failed attempt, spin, swap, futex wait and wake,
/// whose every order would otherwise be an interleaving of its own. The
/// same for wasi-libc's `pthread_mutex_lock` on a normal mutex (then
/// storing `EBUSY` in `_m_lock`, the mutex's second word).
pub const LOCK: &str = "lock";
/// `acquire(addr: i32, site: i32, kind: i32)`: [`LOCK`] for wasi-libc's
/// other blocking acquisitions, modelled so that DPOR orders acquisitions,
/// not musl's spins and futex waits (a 3-thread semaphore or rwlock program
/// did not finish in 20,000 executions): a scheduling point that blocks
/// while the 32-bit word at `addr` (plus the site's offset) cannot be taken
/// as `kind` says ([`ACQUIRE_EXCLUSIVE`], [`ACQUIRE_SHARED`],
/// [`ACQUIRE_COUNT`]). The caller updates the word right after, in the
/// same step.
pub const ACQUIRE: &str = "acquire";
/// [`ACQUIRE`] kind: free while the word is 0 (a rwlock's write side).
pub const ACQUIRE_EXCLUSIVE: i32 = 0;
/// [`ACQUIRE`] kind: free unless the low 31 bits are all ones (musl's
/// rwlock word while a writer holds it; a reader adds 1).
pub const ACQUIRE_SHARED: i32 = 1;
/// [`ACQUIRE`] kind: free while the low 31 bits are not 0 (musl's
/// semaphore count; the top bit flags waiters; a waiter subtracts 1).
pub const ACQUIRE_COUNT: i32 = 2;
/// `barrier(addr: i32, site: i32, parties: i32) -> i32`: wasi-libc's
/// `pthread_barrier_wait` on a barrier of `parties` threads (not
/// process-shared), modelled for the same reason: the arrival is a
/// scheduling point; the thread then blocks until `parties` threads
/// arrived. Returns what `pthread_barrier_wait` returns: -1
/// (`PTHREAD_BARRIER_SERIAL_THREAD`) to the first to arrive, as musl does,
/// 0 to the others.
pub const BARRIER: &str = "barrier";
/// `spawn(func: i32, arg: i32, stack_top: i32, tls_block: i32) -> i32`: starts
/// a guest-sdk lightweight thread that runs [`THREAD_ENTRY`]`(func, arg)` with
/// its stack pointer at `stack_top` and its thread-local storage initialised
/// at `tls_block` (via [`INIT_TLS_EXPORT`]); returns its thread id.
pub const SPAWN: &str = "spawn";
/// `join(tid: i32)`: blocks until lightweight thread `tid` has returned.
pub const JOIN: &str = "join";
/// `marker(name_ptr: i32, name_len: i32)`: a named scheduling point (UTF-8
/// name in guest memory); the thread pauses there like at any other.
pub const MARKER: &str = "marker";
/// `marker_id(id: i32)`: a comment marker the instrumenter placed; its name
/// is `SiteTable::markers[id]`.
pub const MARKER_ID: &str = "marker_id";
/// Export of guest-sdk, `fn(id: i32)`: calls [`MARKER_ID`] letting the
/// executor's baton go around it when the caller is a `task` (see
/// `crate::task`), so that a comment marker in an async function is a task
/// switch. The instrumenter places comment markers as calls of it when the
/// module exports it, of the host import otherwise.
pub const MARKER_GATE_EXPORT: &str = "interlace_marker_gate";
/// `thread_name(name_ptr: i32, name_len: i32)`: names the calling thread in
/// traces and schedules.
pub const THREAD_NAME: &str = "thread_name";
/// `task()`: the calling thread runs an async task (guest-sdk's
/// `task::spawn`): traces label its lane with the executor thread it runs
/// on, its spawner's (or, spawned by another task, that task's executor).
pub const TASK: &str = "task";
/// Export the guest-sdk provides as the entry point of lightweight threads.
pub const THREAD_ENTRY: &str = "interlace_thread_entry";
/// Name under which the instrumenter exports the `__stack_pointer` global, so
/// the host can give a lightweight thread its own stack.
pub const STACK_POINTER_EXPORT: &str = "__interlace_stack_pointer";
/// Names under which the instrumenter exports wasi-libc's `__wasi_init_tp`
/// and `__wasm_call_ctors`, which `_start` runs first: the host runs them
/// before an entry point other than `_start` (a test function).
pub const INIT_EXPORTS: [(&str, &str); 2] = [
    ("__wasi_init_tp", "__interlace_init_tp"),
    ("__wasm_call_ctors", "__interlace_call_ctors"),
];
/// Mutable `i32` global the instrumenter adds and exports: while it is 1,
/// the access helpers return without asking the host. The host sets it to 1
/// in the main thread's instance and to 0 at the first spawn, so it holds
/// exactly while the main thread is the only thread there has been. Sound
/// for every strategy: no other thread exists to interleave with, and every
/// access made then happens before everything any later thread does (the
/// spawn orders them), so none of them can race, be reordered by DPOR or
/// matter to fairness. Instances start at 0 (spawned threads never skip).
pub const SOLO_EXPORT: &str = "__interlace_solo";
/// Mutable `i32` global: accesses the main thread may still skip while
/// alone before it calls [`SOLO_STEPS`]; set by the host.
pub const SOLO_BUDGET_EXPORT: &str = "__interlace_solo_budget";
/// Mutable `i32` global the instrumenter adds and exports: the top of the
/// running thread's stack, so that a plain access in `[__stack_pointer,
/// top)` (the thread's live frames) asks no host. 0 turns the filter off
/// (the stack escaped: a pointer into it was stored elsewhere). The host
/// sets it for a lightweight thread.
pub const STACK_TOP_EXPORT: &str = "__interlace_stack_top";
/// `private_spent() -> i32`: the thread made [`PRIVATE_CHUNK`] more
/// accesses to its own stack without asking the host; the host counts them
/// against the step bound. Nonzero: park (the execution ended).
pub const PRIVATE_SPENT: &str = "private_spent";
/// Own-stack accesses a thread makes between two [`PRIVATE_SPENT`] calls.
pub const PRIVATE_CHUNK: i32 = 1 << 16;
/// Global the instrumenter exports (mutable `i32`, initially 1): while the
/// host sets it to 0 in an instance, a plain (non-atomic) load or store in
/// library code (std, wasi-libc: told by the line table) is no scheduling
/// point; it is counted like an own-stack access ([`PRIVATE_SPENT`]), and
/// a stored pointer into the own stack still escapes. The sampling
/// strategies never preempt there, so they turn it off for speed; DPOR, race
/// detection and traces of every step keep it.
pub const LIBRARY_POINTS_EXPORT: &str = "__interlace_library_points";
/// `memory_size() -> i32`: replaces `memory.size` on the shared memory.
/// The host keeps the memory's size itself, so that it can hand the next
/// execution the same memory, zeroed and at its initial size again, instead
/// of a fresh mapping (see [`VIRTUAL_MEMORY_EXPORT`]).
pub const MEMORY_SIZE: &str = "memory_size";
/// `memory_grow(pages: i32) -> i32`: replaces `memory.grow` on the shared
/// memory (the same result: the old size in pages, or -1).
pub const MEMORY_GROW: &str = "memory_grow";
/// `memory_bounds(end: i64) -> i32`: an access reaches byte `end`
/// (exclusive) of the shared memory past the size the module last learned:
/// traps as wasm does when that is past the memory's size, and returns the
/// size in bytes otherwise (the caller keeps it to check the next access
/// without a host call; a 4 GiB memory's size wraps to 0, and every check
/// then asks the host).
pub const MEMORY_BOUNDS: &str = "memory_bounds";
/// Exported by the instrumenter once every `memory.size`, `memory.grow`,
/// `memory.fill`, `memory.copy` and `memory.init` on the shared memory asks
/// the host ([`MEMORY_SIZE`], [`MEMORY_GROW`], [`MEMORY_BOUNDS`]) and every
/// load, store and atomic on it checks its bytes against the size first: the
/// module sees the size the host says, not the mapping's, and cannot reach
/// past it, so the host may reuse one memory for many executions and leave
/// the pages an earlier execution grew into open. (Modules instrumented
/// before the loads and stores were checked exported
/// `__interlace_virtual_memory`; they get a fresh memory per execution.)
pub const VIRTUAL_MEMORY_EXPORT: &str = "__interlace_checked_memory";
/// Name under which the instrumenter exports `__wasm_init_tls`, so the host
/// can give a lightweight thread its own thread-local storage.
pub const INIT_TLS_EXPORT: &str = "__interlace_init_tls";

/// Custom section holding the [`SiteTable`] of an instrumented module. Its
/// presence also marks a module as already instrumented.
pub const SITES_SECTION: &str = "interlace.sites";

/// What an instrumented instruction does to memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum AccessKind {
    /// A load.
    Read = 0,
    /// A store.
    Write = 1,
    /// An atomic read-modify-write (`rmw.*`).
    ReadModifyWrite = 2,
    /// An atomic compare-exchange (`rmw.cmpxchg`).
    CompareExchange = 3,
    /// `atomic.fence`.
    Fence = 4,
    /// `memory.atomic.wait32/64`.
    Wait = 5,
    /// `memory.atomic.notify`.
    Notify = 6,
    /// `memory.copy`: reads `[src, src+len)`, writes `[dst, dst+len)`.
    Copy = 7,
    /// `memory.fill` and `memory.init`: writes `[dst, dst+len)`.
    Fill = 8,
    /// `memory.grow`.
    Grow = 9,
}

impl AccessKind {
    /// Every kind, in code order.
    pub const ALL: [AccessKind; 10] = [
        AccessKind::Read,
        AccessKind::Write,
        AccessKind::ReadModifyWrite,
        AccessKind::CompareExchange,
        AccessKind::Fence,
        AccessKind::Wait,
        AccessKind::Notify,
        AccessKind::Copy,
        AccessKind::Fill,
        AccessKind::Grow,
    ];

    /// The kind with this code, if any.
    pub fn from_code(code: u8) -> Option<AccessKind> {
        AccessKind::ALL.get(code as usize).copied()
    }

    /// Short lower-case name used in traces and counts.
    pub fn name(self) -> &'static str {
        match self {
            AccessKind::Read => "read",
            AccessKind::Write => "write",
            AccessKind::ReadModifyWrite => "rmw",
            AccessKind::CompareExchange => "cmpxchg",
            AccessKind::Fence => "fence",
            AccessKind::Wait => "wait",
            AccessKind::Notify => "notify",
            AccessKind::Copy => "copy",
            AccessKind::Fill => "fill",
            AccessKind::Grow => "grow",
        }
    }
}

/// One instrumented instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// What the instruction does.
    pub kind: AccessKind,
    /// Bytes accessed (0 for bulk operations, whose length is dynamic).
    pub size: u32,
    /// Whether the instruction is atomic.
    pub atomic: bool,
    /// The instruction's static offset, added to the dynamic address by the host.
    pub offset: u64,
    /// Index into [`SiteTable::funcs`].
    pub func: u32,
    /// Byte offset of the instruction in the original module's code section
    /// payload (what DWARF line tables refer to).
    pub code_offset: u32,
    /// Source file (index into [`SiteTable::files`]) from the DWARF line table,
    /// or [`NO_FILE`] when the module has no line info for it.
    pub file: u32,
    /// Source line (1-based; 0 when unknown).
    pub line: u32,
    /// Source column (1-based; 0 when unknown).
    pub column: u32,
    /// Library code (Rust std, wasi-libc) rather than the program's own: no
    /// frame of its inline chain is in the program's sources. Strategies may
    /// preempt there less.
    pub library: bool,
}

/// wasi-libc's join functions: their reads of the joined thread's state
/// (plain `volatile` loads) are the join, which DPOR treats as a
/// synchronisation only. The instrumenter keeps their plain accesses even
/// with [`Granularity::AtomicsOnly`], or the join would go unseen.
pub const JOIN_FUNCTIONS: &[&str] = &[
    "__pthread_timedjoin_np",
    "__pthread_join",
    "pthread_join",
    "__pthread_tryjoin_np",
    "pthread_tryjoin_np",
    "pthread_timedjoin_np",
];

/// Path fragments of library sources: Rust's std/core/alloc (built under
/// `/rustc/<hash>/library`), the sysroot's own dependencies (libtest's
/// getopts, std's hashbrown...: `/rust/deps/<crate>-<version>`) and
/// wasi-libc (`wasisdk://...`).
pub const LIBRARY_PATHS: &[&str] = &[
    "/rustc/",
    "/rust/deps/",
    "/library/std/",
    "/library/core/",
    "/library/alloc/",
    "wasisdk://",
    "wasi-libc",
    "libc-bottom-half",
    "libc-top-half",
];

/// wasi-libc functions (source file, name) whose plain (non-atomic) loads
/// and stores are not scheduling points: they touch only the calling
/// thread's own TSD slots and the TSD key table, never memory a program can
/// name, so no program access can race with them (the key table is written
/// under the library's key lock, whose atomics stay points). The destructor
/// loop a thread runs at exit reads 128 keys and slots: 516 of a std
/// thread's ~700 points, with nothing a program could do between them.
/// Whole files are not listed on purpose: `pthread_create` stores the new
/// thread's handle into the program's variable after the spawn (a race a
/// program can have), `pthread_key_create` its key. (The allocator is
/// [`PRIVATE_ALLOCATOR_FILES`].)
pub const PRIVATE_LIBRARY_FUNCTIONS: &[(&str, &str)] = &[
    ("src/thread/pthread_key_create.c", "__pthread_tsd_run_dtors"),
    ("src/thread/pthread_getspecific.c", "pthread_getspecific"),
    ("src/thread/pthread_setspecific.c", "pthread_setspecific"),
];

/// The allocator's sources, whose plain accesses are not scheduling
/// points: its statics and its chunks' headers and links. They happen
/// under the allocator's lock, whose atomics stay points, and so do its
/// plain accesses to any word the module also accesses atomically (the
/// lock's own word: dlmalloc spins on plain reads of it, and a hidden spin
/// hid the order of the lock's holders from DPOR). What a program could
/// race with, a block it still uses while another thread frees it, is the
/// [`FREED`] points that `free` and `realloc` make on entry: writes over
/// the block's ends. Bulk operations (realloc's copy of the old block)
/// stay points.
pub const PRIVATE_ALLOCATOR_FILES: &[&str] = &["dlmalloc/src/malloc.c"];

/// Whether code of function `function` from source `file`, in a library
/// compile unit, is one of [`PRIVATE_LIBRARY_FUNCTIONS`].
pub fn is_private_library_function(file: &str, function: &str) -> bool {
    PRIVATE_LIBRARY_FUNCTIONS
        .iter()
        .any(|&(f, name)| function == name && file.ends_with(f))
}

/// Whether a source path is library code (see [`LIBRARY_PATHS`]).
pub fn is_library_path(path: &str) -> bool {
    LIBRARY_PATHS.iter().any(|p| path.contains(p))
}

/// [`Site::file`] of a site without line info.
pub const NO_FILE: u32 = u32::MAX;

/// A function that contains sites.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuncInfo {
    /// Function index in the original (uninstrumented) module.
    pub index: u32,
    /// Name from the name section, or empty.
    pub name: String,
}

/// Whether every shared access is a scheduling point, or atomics only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(u8)]
pub enum Granularity {
    /// Every load/store on shared memory, every atomic, bulk ops (the default).
    #[default]
    All = 0,
    /// Atomics, fences, wait/notify only (faster, misses plain data races).
    AtomicsOnly = 1,
}

/// Everything the host needs to know about an instrumented module's sites.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SiteTable {
    /// Granularity the module was instrumented with.
    pub granularity: Granularity,
    /// Functions referenced by sites.
    pub funcs: Vec<FuncInfo>,
    /// Source files named by sites.
    pub files: Vec<String>,
    /// Sites, indexed by site id.
    pub sites: Vec<Site>,
    /// Names of the comment markers (`// interlace: name`) the instrumenter
    /// placed, indexed by the id passed to [`MARKER_ID`].
    pub markers: Vec<String>,
    /// Memory of the C library's private thread bookkeeping (wasi-libc's
    /// thread-list lock and its waiter count, the TLS-key lock), found by
    /// name in the DWARF: `(address, bytes)`. The program cannot see this
    /// state, so the order in which threads take these locks is not the
    /// program's (DPOR treats it as independent, like the allocator).
    pub bookkeeping: Vec<(u32, u32)>,
}

impl SiteTable {
    /// The source file of `site`, if known.
    pub fn file_of(&self, site: &Site) -> Option<&str> {
        self.files.get(site.file as usize).map(String::as_str)
    }
}

/// Why a site table could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError(pub &'static str);

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "malformed {SITES_SECTION} section: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}

/// One section of a wasm module, as found by [`sections`].
#[derive(Clone, Copy, Debug)]
pub struct RawSection<'a> {
    /// Section id (0 for custom sections).
    pub id: u8,
    /// Name of a custom section.
    pub name: Option<&'a str>,
    /// The section's contents (after a custom section's name).
    pub data: &'a [u8],
    /// Offset of the section's payload (after its size) in the module.
    pub payload_offset: usize,
}

/// The sections of `wasm`, in order; stops at the first malformed header.
///
/// A minimal walk, so that both sides can find custom sections without a
/// full parser.
pub fn sections(wasm: &[u8]) -> Vec<RawSection<'_>> {
    let mut out = vec![];
    if wasm.len() < 8 || &wasm[0..4] != b"\0asm" {
        return out;
    }
    let mut pos = 8;
    while pos < wasm.len() {
        let id = wasm[pos];
        pos += 1;
        let Some((size, n)) = read_leb_u32(&wasm[pos..]) else {
            break;
        };
        pos += n;
        let Some(end) = pos.checked_add(size as usize).filter(|&e| e <= wasm.len()) else {
            break;
        };
        let mut section = RawSection {
            id,
            name: None,
            data: &wasm[pos..end],
            payload_offset: pos,
        };
        if id == 0 {
            let Some((nlen, n)) = read_leb_u32(&wasm[pos..end]) else {
                break;
            };
            let Some(name_end) = (pos + n).checked_add(nlen as usize).filter(|&e| e <= end) else {
                break;
            };
            section.name = core::str::from_utf8(&wasm[pos + n..name_end]).ok();
            section.data = &wasm[name_end..end];
        }
        out.push(section);
        pos = end;
    }
    out
}

/// The raw site table section of an instrumented module, if present.
pub fn find_site_section(wasm: &[u8]) -> Option<&[u8]> {
    sections(wasm)
        .into_iter()
        .find(|s| s.name == Some(SITES_SECTION))
        .map(|s| s.data)
}

fn read_leb_u32(b: &[u8]) -> Option<(u32, usize)> {
    let mut result: u32 = 0;
    for (i, byte) in b.iter().enumerate().take(5) {
        result |= u32::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((result, i + 1));
        }
    }
    None
}

/// The site table's format version: its first four bytes. It versions the
/// hook imports too (5: [`ACCESS_CAS`], [`LOCK`]), so a module instrumented by an older
/// version is refused, not misread. Caches of instrumented modules include it
/// in their key.
pub const SITE_TABLE_FORMAT: &str = "ILS5";
const MAGIC: &[u8; 4] = b"ILS5";

impl SiteTable {
    /// Serialises the table (little-endian, fixed-width fields).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.sites.len() * 22);
        out.extend_from_slice(MAGIC);
        out.push(self.granularity as u8);
        out.extend_from_slice(&(self.funcs.len() as u32).to_le_bytes());
        for f in &self.funcs {
            out.extend_from_slice(&f.index.to_le_bytes());
            out.extend_from_slice(&(f.name.len() as u32).to_le_bytes());
            out.extend_from_slice(f.name.as_bytes());
        }
        out.extend_from_slice(&(self.files.len() as u32).to_le_bytes());
        for f in &self.files {
            out.extend_from_slice(&(f.len() as u32).to_le_bytes());
            out.extend_from_slice(f.as_bytes());
        }
        out.extend_from_slice(&(self.sites.len() as u32).to_le_bytes());
        for s in &self.sites {
            out.push(s.kind as u8);
            out.push(s.atomic as u8 | (s.library as u8) << 1);
            out.extend_from_slice(&s.size.to_le_bytes());
            out.extend_from_slice(&s.offset.to_le_bytes());
            out.extend_from_slice(&s.func.to_le_bytes());
            out.extend_from_slice(&s.code_offset.to_le_bytes());
            out.extend_from_slice(&s.file.to_le_bytes());
            out.extend_from_slice(&s.line.to_le_bytes());
            out.extend_from_slice(&s.column.to_le_bytes());
        }
        out.extend_from_slice(&(self.markers.len() as u32).to_le_bytes());
        for m in &self.markers {
            out.extend_from_slice(&(m.len() as u32).to_le_bytes());
            out.extend_from_slice(m.as_bytes());
        }
        out.extend_from_slice(&(self.bookkeeping.len() as u32).to_le_bytes());
        for &(addr, len) in &self.bookkeeping {
            out.extend_from_slice(&addr.to_le_bytes());
            out.extend_from_slice(&len.to_le_bytes());
        }
        out
    }

    /// Parses what [`SiteTable::encode`] wrote.
    pub fn decode(bytes: &[u8]) -> Result<SiteTable, DecodeError> {
        let mut r = Reader { bytes, pos: 0 };
        if r.take(4)? != MAGIC {
            return Err(DecodeError("bad magic or version"));
        }
        let granularity = match r.u8()? {
            0 => Granularity::All,
            1 => Granularity::AtomicsOnly,
            _ => return Err(DecodeError("unknown granularity")),
        };
        let nfuncs = r.u32()? as usize;
        let mut funcs = Vec::with_capacity(nfuncs.min(1 << 16));
        for _ in 0..nfuncs {
            let index = r.u32()?;
            let len = r.u32()? as usize;
            let name = core::str::from_utf8(r.take(len)?)
                .map_err(|_| DecodeError("function name is not UTF-8"))?
                .to_string();
            funcs.push(FuncInfo { index, name });
        }
        let nfiles = r.u32()? as usize;
        let mut files = Vec::with_capacity(nfiles.min(1 << 16));
        for _ in 0..nfiles {
            let len = r.u32()? as usize;
            let name = core::str::from_utf8(r.take(len)?)
                .map_err(|_| DecodeError("file name is not UTF-8"))?;
            files.push(name.to_string());
        }
        let nsites = r.u32()? as usize;
        let mut sites = Vec::with_capacity(nsites.min(1 << 20));
        for _ in 0..nsites {
            let kind = AccessKind::from_code(r.u8()?).ok_or(DecodeError("unknown access kind"))?;
            let flags = r.u8()?;
            let (atomic, library) = (flags & 1 != 0, flags & 2 != 0);
            let size = r.u32()?;
            let offset = r.u64()?;
            let func = r.u32()?;
            if func as usize >= funcs.len() {
                return Err(DecodeError("site names a function out of range"));
            }
            let code_offset = r.u32()?;
            let (file, line, column) = (r.u32()?, r.u32()?, r.u32()?);
            if file != NO_FILE && file as usize >= files.len() {
                return Err(DecodeError("site names a file out of range"));
            }
            sites.push(Site {
                kind,
                size,
                atomic,
                offset,
                func,
                code_offset,
                file,
                line,
                column,
                library,
            });
        }
        let nmarkers = r.u32()? as usize;
        let mut markers = Vec::with_capacity(nmarkers.min(1 << 16));
        for _ in 0..nmarkers {
            let len = r.u32()? as usize;
            let name = core::str::from_utf8(r.take(len)?)
                .map_err(|_| DecodeError("marker name is not UTF-8"))?;
            markers.push(name.to_string());
        }
        let nbook = r.u32()? as usize;
        let mut bookkeeping = Vec::with_capacity(nbook.min(64));
        for _ in 0..nbook {
            bookkeeping.push((r.u32()?, r.u32()?));
        }
        if r.pos != bytes.len() {
            return Err(DecodeError("trailing bytes"));
        }
        Ok(SiteTable {
            granularity,
            funcs,
            files,
            sites,
            markers,
            bookkeeping,
        })
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or(DecodeError("truncated"))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_table_round_trips() {
        let t = SiteTable {
            granularity: Granularity::AtomicsOnly,
            funcs: vec![FuncInfo {
                index: 7,
                name: "main".into(),
            }],
            sites: vec![Site {
                kind: AccessKind::CompareExchange,
                size: 4,
                atomic: true,
                offset: 1 << 33,
                func: 0,
                code_offset: 99,
                file: 0,
                line: 12,
                column: 5,
                library: true,
            }],
            files: vec!["src/main.rs".into()],
            markers: vec!["read_balance".into()],
            bookkeeping: vec![(0x1000, 4), (0x2000, 32)],
        };
        assert_eq!(SiteTable::decode(&t.encode()).unwrap(), t);
        assert!(SiteTable::decode(&t.encode()[..10]).is_err());
    }
}
