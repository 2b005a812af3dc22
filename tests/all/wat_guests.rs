//! Tiny hand-written threaded guests, for exact tests of the runtime.

use interlace_wasm::Program;

/// A module with the wasi-threads shape around `body` (functions and data
/// that may use `$spawn`, `$exit`, `$clock`, memory 1 page, shared).
pub fn module(body: &str) -> Vec<u8> {
    let text = format!(
        r#"(module
            (import "env" "memory" (memory 1 1 shared))
            (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
            (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
            (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
            {body})"#
    );
    wat::parse_str(&text).expect("valid wat")
}

/// [`module`] for a guest that never spawns (it still exports the thread entry).
pub fn single(body: &str) -> Vec<u8> {
    module(&format!(
        r#"(func (export "wasi_thread_start") (param i32 i32)) {body}"#
    ))
}

/// Instruments and loads a module.
pub fn program(wasm: &[u8]) -> Program {
    let out = interlace_instrument::instrument(wasm, &Default::default()).expect("instruments");
    Program::new(&out.wasm, "guest.wasm").expect("loads")
}

/// Main spawns one thread; the thread runs `thread_body`, then sets the done
/// flag at 4 and notifies; main runs `main_body`, waits for the flag, then
/// exits with the i32 at address 0 (so the outcome is the exit code).
pub fn spawn_join(thread_body: &str, main_body: &str) -> Vec<u8> {
    module(&format!(
        r#"(func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
              {thread_body}
              (i32.atomic.store (i32.const 4) (i32.const 1))
              (drop (memory.atomic.notify (i32.const 4) (i32.const 1))))
           (func (export "_start")
              (drop (call $spawn (i32.const 0)))
              {main_body}
              (block $done (loop $l
                 (br_if $done (i32.atomic.load (i32.const 4)))
                 (drop (memory.atomic.wait32 (i32.const 4) (i32.const 0) (i64.const -1)))
                 (br $l)))
              (call $exit (i32.load (i32.const 0))))"#
    ))
}

#[test]
fn without_debug_info_steps_show_function_and_offset_and_a_hint_once() {
    use crate::guests::{cli, code, scratch, stdout};
    // The thread traps after touching the shared flag: a failure with a trace.
    let wasm = spawn_join("(i32.store (i32.const 0) (i32.const 7)) (unreachable)", "");
    let dir = scratch("no-debug-info");
    std::fs::write(dir.join("guest.wasm"), wasm).unwrap();
    let out = cli(&dir, &["explore", "guest.wasm", "--no-minimise"]);
    let text = stdout(&out);
    assert_eq!(code(&out), 1, "{text}");
    assert_eq!(
        text.matches("debug = \"line-tables-only\"").count(),
        1,
        "{text}"
    );
    assert!(text.contains("?+0x"), "function+offset expected:\n{text}");
}
