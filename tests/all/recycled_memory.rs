//! Executions of one program reuse one memory (zeroed, the pages past the
//! initial size closed again): an execution must not tell it from a fresh
//! memory, however the last one grew and what it wrote.

use interlace_instrument::{Config, Granularity};
use interlace_wasm::runtime::costs::reset_time;
use interlace_wasm::{Program, RunConfig};

/// Entry points that grow the memory, look at it, and reach past its size.
const GUEST: &str = r#"(module
    (import "env" "memory" (memory 1 4 shared))
    (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
    (func (export "wasi_thread_start") (param i32 i32))
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
            let resets = reset_time();
            assert_eq!(
                outcome(&p, entry),
                fresh,
                "{entry} recycled ({granularity:?})"
            );
            assert!(reset_time() > resets, "the memory was recycled");
            assert_eq!(outcome(&p, "grow"), "exit Some(0)", "grow after {entry}");
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
