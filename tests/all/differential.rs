//! Differential test of the instrumenter, as wasmtime fuzzes its compiler:
//! wasm-smith modules (one shared memory, atomics, bulk memory; no
//! imports), run uninstrumented in plain wasmtime and instrumented in
//! interlace-wasm (both granularities; the main thread alone, where the
//! guest skips the host, and with a second thread, where every access goes
//! to the host), must agree on the result, the memory and whether and how
//! they trap. Each instrumented guest runs twice, the second time on the
//! first run's memory recycled.
//!
//! `cargo test` runs [`CASES`] seeds; `INTERLACE_FUZZ_CASES=N` (and
//! `INTERLACE_FUZZ_FROM=K`) run more, for a longer search.

use arbitrary::Unstructured;
use interlace_instrument::{instrument, Config, Granularity};
use interlace_wasm::{FailureKind, Program, RunConfig};
use rand::{RngCore, SeedableRng};
use std::sync::{Arc, Mutex};
use walrus::ir::{BinaryOp, UnaryOp};
use walrus::{FunctionBuilder, ValType};

/// Seeds per `cargo test`.
const CASES: u64 = 100;
/// Fuel of wasm-smith's termination checks (function entries, loop heads).
const FUEL: u32 = 1000;

/// Odd seeds ask wasm-smith for code that does not trap (it masks
/// addresses and guards divisions), so that most of their runs reach the
/// end; even ones trap as they come.
fn smith_config(seed: u64) -> wasm_smith::Config {
    wasm_smith::Config {
        disallow_traps: seed % 2 == 1,
        min_types: 1,
        min_memories: 1,
        max_memories: 1,
        memory64_enabled: false,
        memory_max_size_required: true,
        max_memory32_bytes: 4 * 65536,
        max_imports: 0,
        min_funcs: 1,
        max_funcs: 8,
        max_instructions: 200,
        export_everything: true,
        allow_start_export: false,
        canonicalize_nans: true,
        threads_enabled: true,
        bulk_memory_enabled: true,
        simd_enabled: false,
        relaxed_simd_enabled: false,
        reference_types_enabled: false,
        exceptions_enabled: false,
        gc_enabled: false,
        tail_call_enabled: false,
        custom_page_sizes_enabled: false,
        extended_const_enabled: false,
        wide_arithmetic_enabled: false,
        max_tables: 1,
        allowed_instructions: wasm_smith::InstructionKinds::new(&[
            wasm_smith::InstructionKind::Numeric,
            wasm_smith::InstructionKind::Parametric,
            wasm_smith::InstructionKind::Variable,
            wasm_smith::InstructionKind::Memory,
            wasm_smith::InstructionKind::Control,
        ]),
        ..wasm_smith::Config::default()
    }
}

/// How a run ended, in terms both engines share.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// What `_start` wrote: a hash of the function's results and of memory.
    Output(Vec<u8>),
    /// A trap, by category.
    Trap(&'static str),
}

fn trap_category(message: &str) -> &'static str {
    let m = message.to_lowercase();
    [
        ("out of bounds", "out of bounds"),
        ("unreachable", "unreachable"),
        ("divide by zero", "divide by zero"),
        ("integer overflow", "integer overflow"),
        ("invalid conversion", "bad conversion"),
        ("unaligned", "unaligned atomic"),
        ("uninitialized element", "call_indirect"),
        ("indirect call type mismatch", "call_indirect"),
        ("undefined element", "call_indirect"),
        ("call stack exhausted", "stack overflow"),
    ]
    .into_iter()
    .find(|(k, _)| m.contains(k))
    .map_or("other", |(_, c)| c)
}

/// Whether a module uses `memory.atomic.wait*`: with one thread a wait
/// that matches blocks plain wasmtime forever, and interlace-wasm reports
/// a deadlock; not a difference of the instrumenter's.
fn waits(wasm: &[u8]) -> bool {
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let Ok(wasmparser::Payload::CodeSectionEntry(body)) = payload {
            let Ok(mut ops) = body.get_operators_reader() else {
                return true;
            };
            while !ops.eof() {
                match ops.read() {
                    Ok(
                        wasmparser::Operator::MemoryAtomicWait32 { .. }
                        | wasmparser::Operator::MemoryAtomicWait64 { .. },
                    ) => return true,
                    Ok(_) => {}
                    Err(_) => return true,
                }
            }
        }
    }
    false
}

/// The wasm-smith module of `seed`, made a guest: its memory shared and
/// imported as `env.memory`, and a `_start` that (with `spawn`, after
/// starting a thread that does nothing) calls the first exported function
/// with zero arguments, hashes its results and all of memory, and writes
/// the 8-byte hash to stdout. Err: why the seed gives no usable module.
fn guest(seed: u64, spawn: bool) -> Result<Vec<u8>, &'static str> {
    let mut bytes = vec![0u8; 8192];
    rand_chacha::ChaCha8Rng::seed_from_u64(seed).fill_bytes(&mut bytes);
    let mut u = Unstructured::new(&bytes);
    let mut m =
        wasm_smith::Module::new(smith_config(seed), &mut u).map_err(|_| "wasm-smith gave up")?;
    m.ensure_termination(FUEL)
        .map_err(|_| "no termination fuel")?;
    let wasm = m.to_bytes();
    if waits(&wasm) {
        return Err("uses memory.atomic.wait");
    }
    let mut module = walrus::ModuleConfig::new()
        .parse(&wasm)
        .map_err(|_| "walrus cannot parse it")?;
    let mem = module.memories.iter().next().ok_or("no memory")?.id();
    {
        let memory = module.memories.get_mut(mem);
        memory.shared = true;
        memory.initial = memory.initial.max(1);
        memory.maximum = Some(memory.maximum.unwrap_or(4).max(memory.initial));
    }
    let import = module
        .imports
        .add("env", "memory", walrus::ImportKind::Memory(mem));
    module.memories.get_mut(mem).import = Some(import);
    // Every thread is an instance: a start function or an active data
    // segment would run again for each, and the reference runs no second
    // instance. So no start function, and the segments become passive,
    // applied once by `_start` (what LLVM does for threaded modules).
    module.start = None;
    let mut segments = vec![];
    let ids: Vec<walrus::DataId> = module.data.iter().map(|d| d.id()).collect();
    for id in ids {
        let data = module.data.get_mut(id);
        if let walrus::DataKind::Active { offset, .. } = &data.kind {
            let &walrus::ConstExpr::Value(walrus::ir::Value::I32(at)) = offset else {
                return Err("a data segment at a computed offset");
            };
            segments.push((id, at, data.value.len() as i32));
            data.kind = walrus::DataKind::Passive;
        }
    }
    module.memories.get_mut(mem).data_segments.clear();
    // The first two functions it defines (more would trap more often).
    let targets: Vec<walrus::FunctionId> = module
        .funcs
        .iter_local()
        .map(|(id, _)| id)
        .take(2)
        .collect();
    if targets.is_empty() {
        return Err("no function");
    }
    // The allocator's names, for the instrumenter's wrapping of them (every
    // return leaves a block whose value the host is told of): a function of
    // malloc's type and one of realloc's, called ones first.
    let local: Vec<walrus::FunctionId> = module.funcs.iter_local().map(|(id, _)| id).collect();
    for (name, params) in [
        ("malloc", &[ValType::I32][..]),
        ("realloc", &[ValType::I32; 2][..]),
    ] {
        let found = targets.iter().chain(&local).copied().find(|&id| {
            let f = module.funcs.get(id);
            let ty = module.types.get(f.ty());
            f.name.is_none() && ty.params() == params && ty.results() == [ValType::I32]
        });
        if let Some(id) = found {
            module.funcs.get_mut(id).name = Some(name.to_string());
        }
    }
    // A stack pointer, for the own-stack filter (a plain access to
    // [__stack_pointer, top) asks no host; a store of a value in that range
    // elsewhere turns it off): the first mutable i32 global with a constant
    // value, in odd seeds' guests, whatever the code then does with it.
    if seed % 2 == 1 {
        let sp = module
            .globals
            .iter()
            .find(|g| {
                g.mutable
                    && g.ty == ValType::I32
                    && g.name.is_none()
                    && matches!(
                        g.kind,
                        walrus::GlobalKind::Local(walrus::ConstExpr::Value(_))
                    )
            })
            .map(|g| g.id());
        if let Some(id) = sp {
            module.globals.get_mut(id).name = Some("__stack_pointer".to_string());
        }
    }
    use ValType::{F32, F64, I32, I64};
    let fd_write_ty = module.types.add(&[I32, I32, I32, I32], &[I32]);
    let (fd_write, _) = module.add_import_func("wasi_snapshot_preview1", "fd_write", fd_write_ty);
    let spawn_ty = module.types.add(&[I32], &[I32]);
    let (thread_spawn, _) = module.add_import_func("wasi", "thread-spawn", spawn_ty);

    let mut child = FunctionBuilder::new(&mut module.types, &[I32, I32], &[]);
    child.func_body();
    let (a, b) = (module.locals.add(I32), module.locals.add(I32));
    let child = child.finish(vec![a, b], &mut module.funcs);
    module.exports.add("wasi_thread_start", child);

    let hash = module.locals.add(I64);
    let at = module.locals.add(I32);
    let load64 = walrus::ir::LoadKind::I64 { atomic: false };
    let store64 = walrus::ir::StoreKind::I64 { atomic: false };
    let arg = walrus::ir::MemArg {
        align: 8,
        offset: 0,
    };
    let mut start = FunctionBuilder::new(&mut module.types, &[], &[]);
    let mut body = start.func_body();
    for (data, at, len) in segments {
        body.i32_const(at)
            .i32_const(0)
            .i32_const(len)
            .memory_init(mem, data)
            .data_drop(data);
    }
    if spawn {
        body.i32_const(0).call(thread_spawn).drop();
    }
    // Memory full of distinct values, so that every load and copy shows.
    each_word(&mut body, at, mem, |l| {
        l.local_get(at)
            .local_get(at)
            .load(mem, load64, arg)
            .local_get(at)
            .unop(UnaryOp::I64ExtendUI32)
            .i64_const(0x9e37_79b9_7f4a_7c15u64 as i64)
            .binop(BinaryOp::I64Mul)
            .binop(BinaryOp::I64Add)
            .store(mem, store64, arg);
    });
    let mix = |body: &mut walrus::InstrSeqBuilder| {
        body.local_get(hash)
            .i64_const(31)
            .binop(BinaryOp::I64Mul)
            .binop(BinaryOp::I64Add)
            .local_set(hash);
    };
    // The chosen functions in turn, their results mixed into the hash.
    for target in targets {
        let ty = module.types.get(module.funcs.get(target).ty()).clone();
        let results: Vec<_> = ty
            .results()
            .iter()
            .map(|&t| (t, module.locals.add(t)))
            .collect();
        for &p in ty.params() {
            match p {
                I32 => body.i32_const(0),
                I64 => body.i64_const(0),
                F32 => body.f32_const(0.0),
                F64 => body.f64_const(0.0),
                _ => return Err("a parameter of a reference or vector type"),
            };
        }
        body.call(target);
        for &(_, l) in results.iter().rev() {
            body.local_set(l);
        }
        for &(t, l) in &results {
            body.local_get(l);
            match t {
                I32 => body.unop(UnaryOp::I64ExtendUI32),
                I64 => &mut body,
                F32 => body
                    .unop(UnaryOp::I32ReinterpretF32)
                    .unop(UnaryOp::I64ExtendUI32),
                F64 => body.unop(UnaryOp::I64ReinterpretF64),
                _ => return Err("a result of a reference or vector type"),
            };
            mix(&mut body);
        }
    }
    // Then memory's i64 words.
    each_word(&mut body, at, mem, |l| {
        l.local_get(at).load(mem, load64, arg);
        mix(l);
    });
    // The hash at 0, an iovec {0, 8} at 8, written to stdout.
    let store32 = walrus::ir::StoreKind::I32 { atomic: false };
    let arg4 = walrus::ir::MemArg {
        align: 4,
        offset: 0,
    };
    body.i32_const(0).local_get(hash).store(mem, store64, arg);
    body.i32_const(8).i32_const(0).store(mem, store32, arg4);
    body.i32_const(12).i32_const(8).store(mem, store32, arg4);
    body.i32_const(1)
        .i32_const(8)
        .i32_const(1)
        .i32_const(16)
        .call(fd_write)
        .drop();
    let start = start.finish(vec![], &mut module.funcs);
    module.exports.add("_start", start);
    Ok(module.emit_wasm())
}

/// A loop over memory's i64 words, `word` run with the word's address in
/// `at` (0 to start with, and again after).
fn each_word(
    body: &mut walrus::InstrSeqBuilder,
    at: walrus::LocalId,
    mem: walrus::MemoryId,
    word: impl Fn(&mut walrus::InstrSeqBuilder),
) {
    body.loop_(None, |l| {
        let again = l.id();
        word(l);
        l.local_get(at)
            .i32_const(8)
            .binop(BinaryOp::I32Add)
            .local_tee(at)
            .memory_size(mem)
            .i32_const(16)
            .binop(BinaryOp::I32Shl)
            .binop(BinaryOp::I32LtU)
            .br_if(again);
    });
    body.i32_const(0).local_set(at);
}

/// Runs `wasm` uninstrumented in plain wasmtime.
fn reference(wasm: &[u8]) -> Option<Outcome> {
    use wasmtime::{Caller, Engine, Linker, Module, SharedMemory, Store};
    let mut config = wasmtime::Config::new();
    config
        .wasm_threads(true)
        .shared_memory(true)
        .cranelift_nan_canonicalization(true);
    let engine = Engine::new(&config).ok()?;
    let module = Module::new(&engine, wasm).ok()?;
    let ty = module.imports().find_map(|i| i.ty().memory().cloned())?;
    let memory = SharedMemory::new(&engine, ty).ok()?;
    let out = Arc::new(Mutex::new(Vec::new()));
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker
        .define(&store, "env", "memory", memory.clone())
        .ok()?;
    linker
        .func_wrap("wasi", "thread-spawn", |_: i32| -> i32 { 1 })
        .ok()?;
    let (mem, sink) = (memory.clone(), out.clone());
    linker
        .func_wrap(
            "wasi_snapshot_preview1",
            "fd_write",
            move |_: Caller<'_, ()>, _fd: i32, iov: i32, _n: i32, _written: i32| -> i32 {
                let data = mem.data();
                let read = |a: usize| -> u32 {
                    u32::from_le_bytes(std::array::from_fn(|i| unsafe { *data[a + i].get() }))
                };
                let (ptr, len) = (read(iov as usize) as usize, read(iov as usize + 4) as usize);
                let bytes: Vec<u8> = data[ptr..ptr + len]
                    .iter()
                    .map(|c| unsafe { *c.get() })
                    .collect();
                sink.lock().unwrap().extend(bytes);
                0
            },
        )
        .ok()?;
    let instance = linker.instantiate(&mut store, &module);
    let run = instance.and_then(|i| {
        i.get_typed_func::<(), ()>(&mut store, "_start")?
            .call(&mut store, ())
    });
    Some(match run {
        Ok(()) => Outcome::Output(out.lock().unwrap().clone()),
        Err(e) => match e.downcast_ref::<wasmtime::Trap>() {
            Some(t) => Outcome::Trap(trap_category(&t.to_string())),
            // Instantiation itself failed (a data segment out of bounds):
            // not a run to compare.
            None => return None,
        },
    })
}

/// Runs `wasm` instrumented with `granularity` in interlace-wasm.
fn instrumented(wasm: &[u8], granularity: Granularity) -> Result<Outcome, String> {
    let rewritten = instrument(wasm, &Config { granularity })
        .map_err(|e| format!("instrumenting failed: {e}"))?;
    let p = Program::new(&rewritten.wasm, "fuzz").map_err(|e| format!("loading failed: {e}"))?;
    // Twice: the second run gets the first one's memory back, zeroed (see
    // the runtime's recycling), and must not tell the difference.
    let mut outcomes = vec![];
    for _ in 0..2 {
        let e = interlace_wasm::run(&p, &RunConfig::default()).map_err(|e| format!("{e}"))?;
        outcomes.push(match e.failure {
            None => Outcome::Output(e.stdout),
            Some(f) if f.kind == FailureKind::Trap => Outcome::Trap(trap_category(&f.message)),
            Some(f) => return Err(format!("{:?}: {}", f.kind, f.message)),
        });
    }
    if outcomes[0] != outcomes[1] {
        return Err(format!(
            "a fresh memory gave {:?}, the recycled one {:?}",
            outcomes[0], outcomes[1]
        ));
    }
    Ok(outcomes.remove(0))
}

/// What the compared runs did, for the report.
#[derive(Default, Debug)]
struct Seen {
    compared: u64,
    skipped: std::collections::BTreeMap<&'static str, u64>,
    outputs: u64,
    traps: std::collections::BTreeMap<&'static str, u64>,
    /// Guests with a function named `malloc` or `realloc` (wrapped).
    allocators: u64,
    /// Guests with a `__stack_pointer` (the own-stack filter runs).
    stack_pointers: u64,
}

/// Compares seeds `from..from + n`; returns what was seen, and mismatches.
fn compare(from: u64, n: u64) -> (Seen, Vec<String>) {
    let mut seen = Seen::default();
    let mut bad = vec![];
    for seed in from..from + n {
        for spawn in [false, true] {
            let wasm = match guest(seed, spawn) {
                Ok(wasm) => wasm,
                Err(why) => {
                    *seen.skipped.entry(why).or_default() += 1;
                    continue;
                }
            };
            let Some(want) = reference(&wasm) else {
                *seen.skipped.entry("does not instantiate").or_default() += 1;
                continue;
            };
            if wasm.windows(6).any(|w| w == b"malloc" || w == b"ealloc") {
                seen.allocators += 1;
            }
            if wasm.windows(15).any(|w| w == b"__stack_pointer") {
                seen.stack_pointers += 1;
            }
            match &want {
                Outcome::Output(_) => seen.outputs += 1,
                Outcome::Trap(t) => *seen.traps.entry(t).or_default() += 1,
            }
            for g in [Granularity::All, Granularity::AtomicsOnly] {
                seen.compared += 1;
                match instrumented(&wasm, g) {
                    Ok(got) if got == want => {}
                    got => bad.push(format!(
                        "seed {seed} (second thread: {spawn}, {g:?}): plain wasmtime {want:?}, instrumented {got:?}"
                    )),
                }
            }
        }
    }
    (seen, bad)
}

#[test]
fn instrumented_modules_agree_with_plain_wasmtime() {
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u64>().ok());
    let n = env("INTERLACE_FUZZ_CASES").unwrap_or(CASES);
    let from = env("INTERLACE_FUZZ_FROM").unwrap_or(0);
    let (seen, bad) = compare(from, n);
    eprintln!("differential: {seen:?}");
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    // Half the seeds name a stack pointer; most modules have a global to name.
    assert!(
        seen.stack_pointers >= n / 2,
        "only {} guests ran the own-stack filter",
        seen.stack_pointers
    );
    // The generator must give real cases, a fair share running to the end
    // (2,000 seeds: a quarter; the rest trap, as wasm-smith's code does).
    assert!(
        seen.compared >= n,
        "only {} runs compared of {n} seeds",
        seen.compared
    );
    let runs = seen.outputs + seen.traps.values().sum::<u64>();
    assert!(
        seen.outputs * 5 >= runs,
        "too few runs end normally: {seen:?}"
    );
}
