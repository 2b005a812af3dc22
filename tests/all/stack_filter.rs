//! The own-stack filter (instrument/src/stack_filter.rs): a thread's plain
//! accesses to its live stack frames ask no host, until a pointer into the
//! stack is stored elsewhere; the step bound still counts them; races on a
//! stack shared by pointer are found.

use crate::c_guests::c_guest;
use crate::guests::{cli, code, guest, scratch, stdout};
use crate::wat_guests::{module, program};
use interlace_wasm::{FailureKind, RunConfig, ThreadId};

/// Main spawns a thread that does nothing, takes a 64-byte frame below the
/// stack top (32768), writes `(frame + 8)` four times, `body` in between,
/// then writes address 0 once and exits.
fn stack_guest(body: &str) -> Vec<u8> {
    module(&format!(
        r#"(global $__stack_pointer (mut i32) (i32.const 32768))
           (func (export "wasi_thread_start") (param i32 i32))
           (func $frame_writes
             (i32.store offset=8 (global.get $__stack_pointer) (i32.const 1))
             (i32.store offset=8 (global.get $__stack_pointer) (i32.const 2)))
           (func (export "_start")
             (drop (call $spawn (i32.const 0)))
             (global.set $__stack_pointer (i32.sub (global.get $__stack_pointer) (i32.const 64)))
             (call $frame_writes)
             {body}
             (call $frame_writes)
             (i32.store (i32.const 0) (i32.const 0))
             (call $exit (i32.const 0)))"#
    ))
}

/// The addresses main wrote at scheduling points, in order.
fn main_writes(wasm: &[u8]) -> Vec<u64> {
    let e = crate::runtime::traced(&program(wasm));
    assert_eq!(e.exit_code, Some(0), "{:?}", e.failure);
    e.trace
        .unwrap()
        .iter()
        .filter(|s| s.thread == ThreadId::MAIN && s.op.kind.name() == "write")
        .map(|s| s.op.addr)
        .collect()
}

#[test]
fn writes_to_the_own_live_frame_are_no_scheduling_points() {
    // Only the write of address 0; the frame (32704 + 8) is private.
    assert_eq!(main_writes(&stack_guest("")), [0]);
}

#[test]
fn a_stack_pointer_stored_elsewhere_makes_the_stack_shared_from_then_on() {
    // The frame's address written to address 100: the stack escaped, so the
    // later frame writes are points again (and the escaping store itself).
    let escape =
        "(i32.store (i32.const 100) (i32.add (global.get $__stack_pointer) (i32.const 8)))";
    assert_eq!(main_writes(&stack_guest(escape)), [100, 32712, 32712, 0]);
    // The same through an atomic exchange, an i64 store and a memory.copy
    // out of the frame.
    for publish in [
        "(drop (i32.atomic.rmw.xchg (i32.const 100) (global.get $__stack_pointer)))",
        "(i64.store (i32.const 96) (i64.shl (i64.extend_i32_u (global.get $__stack_pointer)) (i64.const 32)))",
        "(i32.store offset=16 (global.get $__stack_pointer) (global.get $__stack_pointer))
         (memory.copy (i32.const 96) (i32.add (global.get $__stack_pointer) (i32.const 14)) (i32.const 8))",
    ] {
        let writes = main_writes(&stack_guest(publish));
        assert_eq!(
            writes.iter().filter(|&&a| a == 32712).count(),
            2,
            "{publish}: {writes:?}"
        );
    }
    // Handed to a new thread as the spawn's argument, with no store.
    let spawned = module(
        r#"(global $__stack_pointer (mut i32) (i32.const 32768))
           (func (export "wasi_thread_start") (param i32 i32))
           (func (export "_start")
             (global.set $__stack_pointer (i32.sub (global.get $__stack_pointer) (i32.const 64)))
             (i32.store offset=8 (global.get $__stack_pointer) (i32.const 1))
             (drop (call $spawn (i32.add (global.get $__stack_pointer) (i32.const 8))))
             (i32.store offset=8 (global.get $__stack_pointer) (i32.const 2))
             (call $exit (i32.const 0)))"#,
    );
    assert_eq!(main_writes(&spawned), [32712]);
    // A value that is no stack address leaves the filter on.
    let other = "(i32.store (i32.const 100) (i32.const 40000))";
    assert_eq!(main_writes(&stack_guest(other)), [100, 0]);
}

#[test]
fn a_loop_on_its_own_stack_is_stopped_by_the_step_bound() {
    let p = program(&module(
        r#"(global $__stack_pointer (mut i32) (i32.const 32768))
           (func (export "wasi_thread_start") (param i32 i32))
           (func (export "_start")
             (global.set $__stack_pointer (i32.sub (global.get $__stack_pointer) (i32.const 16)))
             (loop $l
               (i32.store (global.get $__stack_pointer) (i32.const 1))
               (br $l)))"#,
    ));
    let e = interlace_wasm::run(
        &p,
        &RunConfig {
            max_steps: 100_000,
            ..RunConfig::default()
        },
    )
    .unwrap();
    let f = e.failure.expect("cut");
    assert_eq!(f.kind, FailureKind::StepBound, "{}", f.message);
}

#[test]
fn a_lost_update_on_a_stack_shared_with_another_thread_is_found() {
    for extra in [&[][..], &["--strategy", "dpor"]] {
        // std::thread::scope: the counter is in main's frame.
        let dir = scratch(&format!("stack-lost-update-{}", extra.len()));
        let module = guest("stack_lost_update");
        let mut args = vec!["explore", module.to_str().unwrap()];
        args.extend_from_slice(extra);
        let out = cli(&dir, &args);
        let text = stdout(&out);
        assert_eq!(code(&out), 1, "{text}");
        assert!(text.contains("lost update: two increments"), "{text}");
        // C: a pointer to main's local handed to pthread_create.
        let module = c_guest("stack_lost_update");
        let mut args = vec!["explore", module.to_str().unwrap()];
        args.extend_from_slice(extra);
        let out = cli(&dir, &args);
        let text = stdout(&out);
        assert_eq!(code(&out), 1, "{text}");
        assert!(text.contains("assertion failed: total == 2"), "{text}");
    }
}

#[test]
fn threads_summing_on_their_own_stacks_pass_and_dpor_proves_it() {
    let dir = scratch("stack-private-sum");
    let module = guest("stack_private_sum");
    let out = cli(&dir, &["explore", module.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let out = cli(
        &dir,
        &["explore", module.to_str().unwrap(), "--strategy", "dpor"],
    );
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}");
    assert!(text.contains("every interleaving was covered"), "{text}");
}
