//! Executions of one program reuse one memory (zeroed; the pages an earlier
//! execution grew into stay open, and the module's own checks stop it at
//! its size): an execution must not tell it from a fresh memory, however
//! the last one grew and what it wrote.

use interlace_instrument::{Config, Granularity};
use interlace_wasm::runtime::costs::reuses;
use interlace_wasm::{Program, RunConfig};

/// Entry points that grow the memory, look at it, and reach past its size.
const GUEST: &str = r#"(module
    (import "env" "memory" (memory 1 4 shared))
    (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
    (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
    ;; A spawned thread (its own instance: its own cached size) fills 8
    ;; bytes in the page main grew (arg 1) or past the size (arg 2), then
    ;; sets the flag at 8.
    (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
      (if (i32.eq (local.get $arg) (i32.const 1))
        (then (memory.fill (i32.const 65536) (i32.const 1) (i32.const 8))))
      (if (i32.eq (local.get $arg) (i32.const 2))
        (then (memory.fill (i32.const 131072) (i32.const 1) (i32.const 8))))
      ;; A store in the page main grew, one past the size (args 3, 4).
      (if (i32.eq (local.get $arg) (i32.const 3))
        (then (i64.store (i32.const 65536) (i64.const 0x0101010101010101))))
      (if (i32.eq (local.get $arg) (i32.const 4))
        (then (i32.store (i32.const 131072) (i32.const 1))))
      (i32.atomic.store (i32.const 8) (i32.const 1))
      (drop (memory.atomic.notify (i32.const 8) (i32.const 1))))
    (func $grow_then_spawn (param $arg i32)
      (drop (memory.grow (i32.const 1)))
      (drop (call $spawn (local.get $arg)))
      (block $done (loop $l
        (br_if $done (i32.atomic.load (i32.const 8)))
        (drop (memory.atomic.wait32 (i32.const 8) (i32.const 0) (i64.const -1)))
        (br $l)))
      ;; 0 when the thread's fill landed.
      (call $exit (i32.ne (i32.load8_u (i32.const 65543)) (i32.const 1))))
    (func (export "thread_fill") (call $grow_then_spawn (i32.const 1)))
    (func (export "thread_fill_past") (call $grow_then_spawn (i32.const 2)))
    (func (export "thread_store") (call $grow_then_spawn (i32.const 3)))
    (func (export "thread_store_past") (call $grow_then_spawn (i32.const 4)))
    (func (export "_start"))
    ;; Two more pages, written in the first page and in both new ones.
    (func (export "grow")
      (if (i32.ne (memory.grow (i32.const 2)) (i32.const 1)) (then (call $exit (i32.const 10))))
      (i32.store (i32.const 100) (i32.const 7))
      (i32.store (i32.const 65536) (i32.const 8))
      (i32.store (i32.const 131072) (i32.const 9))
      (call $exit (i32.const 0)))
    ;; What a fresh memory shows: one page of zeros.
    (func (export "look")
      (if (i32.ne (memory.size) (i32.const 1)) (then (call $exit (i32.const 11))))
      (if (i32.load (i32.const 100)) (then (call $exit (i32.const 12))))
      (call $exit (i32.const 0)))
    (func (export "load_past") (drop (i32.load (i32.const 65536))))
    ;; Straddling the end: by the offset, by the access's width; atomics.
    (func (export "offset_past") (drop (i32.load offset=65534 (i32.const 0))))
    (func (export "v128_past") (drop (v128.load (i32.const 65530))))
    (func (export "lane_past") (v128.store32_lane 0 (i32.const 65534) (v128.const i64x2 0 0)))
    (func (export "lane_load_past")
      (drop (v128.load16_lane 0 (i32.const 65535) (v128.const i64x2 0 0))))
    (func (export "atomic_load_past") (drop (i64.atomic.load (i32.const 65536))))
    (func (export "rmw_past") (drop (i32.atomic.rmw.add (i32.const 65536) (i32.const 1))))
    ;; Misaligned and past the size: wasmtime says misaligned.
    (func (export "unaligned_past") (drop (i32.atomic.load (i32.const 65537))))
    (func (export "cmpxchg_past")
      (drop (i32.atomic.rmw.cmpxchg (i32.const 131072) (i32.const 0) (i32.const 1))))
    (func (export "store_past") (i32.store (i32.const 131072) (i32.const 1)))
    (func (export "fill_past") (memory.fill (i32.const 65532) (i32.const 1) (i32.const 8)))
    (func (export "copy_past") (memory.copy (i32.const 0) (i32.const 65530) (i32.const 8)))
    ;; Up to the end exactly, and nothing at the end: no trap.
    (func (export "to_the_end")
      (memory.fill (i32.const 65528) (i32.const 1) (i32.const 8))
      (memory.copy (i32.const 65528) (i32.const 0) (i32.const 8))
      (memory.fill (i32.const 65536) (i32.const 1) (i32.const 0))
      (call $exit (i32.const 0)))
    (func (export "nothing_past_the_end") (memory.fill (i32.const 65537) (i32.const 1) (i32.const 0)))
    ;; One page more: the second page is open and zero, the third closed.
    (func (export "grow_one")
      (if (i32.ne (memory.grow (i32.const 1)) (i32.const 1)) (then (call $exit (i32.const 13))))
      (if (i32.load (i32.const 65536)) (then (call $exit (i32.const 14))))
      (i32.store (i32.const 65536) (i32.const 5))
      (drop (i32.load (i32.const 131072))))
    ;; To the maximum, leaving the last page alone; writing it; reading it.
    (func (export "grow_all")
      (drop (memory.grow (i32.const 3)))
      (call $exit (i32.const 0)))
    (func (export "write_last")
      (drop (memory.grow (i32.const 3)))
      (i32.store (i32.const 196608) (i32.const 9))
      (call $exit (i32.const 0)))
    (func (export "read_last")
      (drop (memory.grow (i32.const 3)))
      (call $exit (i32.load (i32.const 196608))))
    ;; Past the maximum: -1, and the size stays.
    (func (export "grow_past_max")
      (if (i32.ne (memory.grow (i32.const 4)) (i32.const -1)) (then (call $exit (i32.const 15))))
      (if (i32.ne (memory.size) (i32.const 1)) (then (call $exit (i32.const 16))))
      (call $exit (i32.const 0)))
)"#;

fn program(granularity: Granularity) -> Program {
    let wasm = wat::parse_str(GUEST).unwrap();
    let out = interlace_instrument::instrument(&wasm, &Config { granularity }).unwrap();
    Program::new(&out.wasm, "guest.wasm").unwrap()
}

/// The module as written: wasmtime's own `memory.size`, `memory.grow` and
/// bounds, in a fresh memory.
fn plain() -> Program {
    Program::new(&wat::parse_str(GUEST).unwrap(), "guest.wasm").unwrap()
}

/// Exit code or trap message of one execution of `entry`.
fn outcome(p: &Program, entry: &str) -> String {
    let cfg = RunConfig {
        entry: entry.to_string(),
        ..RunConfig::default()
    };
    let e = interlace_wasm::run(p, &cfg).unwrap();
    match (e.failure, e.exit_code) {
        (Some(f), _) => format!("{:?}: {}", f.kind, f.message),
        (None, code) => format!("exit {code:?}"),
    }
}

#[test]
fn a_recycled_memory_looks_fresh_and_traps_past_its_size() {
    let expected = [
        ("look", "exit Some(0)"),
        ("grow_past_max", "exit Some(0)"),
        ("to_the_end", "exit Some(0)"),
        ("load_past", "out of bounds memory access"),
        ("offset_past", "out of bounds memory access"),
        ("v128_past", "out of bounds memory access"),
        ("lane_past", "out of bounds memory access"),
        ("lane_load_past", "out of bounds memory access"),
        ("atomic_load_past", "out of bounds memory access"),
        ("rmw_past", "out of bounds memory access"),
        ("cmpxchg_past", "out of bounds memory access"),
        ("unaligned_past", "unaligned atomic"),
        ("store_past", "out of bounds memory access"),
        ("fill_past", "out of bounds memory access"),
        ("copy_past", "out of bounds memory access"),
        ("nothing_past_the_end", "out of bounds memory access"),
        ("grow_one", "out of bounds memory access"),
    ];
    for granularity in [Granularity::All, Granularity::AtomicsOnly] {
        for (entry, want) in expected {
            // Uninstrumented, in a fresh memory: what wasm says.
            let fresh = outcome(&plain(), entry);
            assert!(fresh.contains(want), "{entry} fresh: {fresh}");
            // After executions that grew the memory and wrote everywhere,
            // on the memory they leave (this thread's recycled one).
            let p = program(granularity);
            for before in ["grow", "grow_one", "grow", entry, "grow"] {
                outcome(&p, before);
            }
            let reused = reuses();
            assert_eq!(
                outcome(&p, entry),
                fresh,
                "{entry} recycled ({granularity:?})"
            );
            assert_eq!(reuses(), reused + 1, "{entry} ran on a recycled memory");
            assert_eq!(outcome(&p, "grow"), "exit Some(0)", "grow after {entry}");
        }
    }
}

/// A page first written after the host last asked the kernel which pages
/// are resident (mapped by an earlier execution, never touched) is cleared
/// too: the host asks again after a page fault (see `recycle::reset`).
#[test]
fn a_page_first_touched_late_is_cleared_too() {
    for granularity in [Granularity::All, Granularity::AtomicsOnly] {
        let p = program(granularity);
        for before in ["grow_all", "grow_all", "look", "write_last"] {
            assert_eq!(outcome(&p, before), "exit Some(0)", "{before}");
        }
        let reused = reuses();
        assert_eq!(outcome(&p, "read_last"), "exit Some(0)", "{granularity:?}");
        assert_eq!(reuses(), reused + 1, "read_last ran on a recycled memory");
    }
}

/// A spawned thread is an instance of its own, with its own cached size:
/// its bulk operation or store in the page main grew works, one past the
/// size traps,
/// on a fresh memory and on a recycled one. (The reference is the
/// instrumented module in a fresh memory: uninstrumented, main's wait would
/// block the one OS thread every guest thread runs on.)
#[test]
fn a_spawned_threads_bulk_operations_see_the_size_main_grew_to() {
    for (entry, want) in [
        ("thread_fill", "exit Some(0)"),
        ("thread_fill_past", "out of bounds memory access"),
        ("thread_store", "exit Some(0)"),
        ("thread_store_past", "out of bounds memory access"),
    ] {
        for granularity in [Granularity::All, Granularity::AtomicsOnly] {
            let fresh = outcome(&program(granularity), entry);
            assert!(fresh.contains(want), "{entry} fresh: {fresh}");
            let p = program(granularity);
            for before in ["grow", "thread_fill", "grow"] {
                outcome(&p, before);
            }
            let reused = reuses();
            assert_eq!(outcome(&p, entry), fresh, "{entry} recycled");
            assert_eq!(reuses(), reused + 1, "{entry} ran on a recycled memory");
        }
    }
}

/// A module whose size is not the host's (here uninstrumented) grows the
/// memory itself: the host still reads what it writes past the initial size.
#[test]
fn without_a_virtual_size_the_host_follows_the_guests_growth() {
    let wasm = wat::parse_str(
        r#"(module
            (import "env" "memory" (memory 1 4 shared))
            (import "wasi_snapshot_preview1" "fd_write"
              (func $write (param i32 i32 i32 i32) (result i32)))
            (func (export "wasi_thread_start") (param i32 i32))
            (func (export "_start")
              (drop (memory.grow (i32.const 1)))
              ;; "hi\n" and its iovec in the new page.
              (i32.store (i32.const 65536) (i32.const 0x0a6968))
              (i32.store (i32.const 65540) (i32.const 65536))
              (i32.store (i32.const 65544) (i32.const 3))
              (drop (call $write (i32.const 1) (i32.const 65540) (i32.const 1) (i32.const 65548)))))"#,
    )
    .unwrap();
    let p = Program::new(&wasm, "guest.wasm").unwrap();
    for _ in 0..2 {
        let e = interlace_wasm::run(&p, &RunConfig::default()).unwrap();
        assert_eq!(String::from_utf8_lossy(&e.stdout), "hi\n");
    }
}
