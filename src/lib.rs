//! interlace-wasm: find, and replay exactly, the race conditions of
//! multithreaded WebAssembly programs (`wasm32-wasip1-threads`).
//!
//! This crate is the host side: it runs an instrumented module (see the
//! `interlace-instrument` crate) with every guest thread as a fiber on one OS
//! thread, and a [`Scheduler`] picks who runs at every scheduling point.
//!
//! ```
//! use interlace_wasm::{explore, ExploreConfig, Program, RunConfig, Strategy};
//! // A threaded module with no threads: any module importing a shared memory works.
//! let wasm = wat::parse_str(r#"
//!   (module
//!     (import "env" "memory" (memory 1 1 shared))
//!     (func (export "_start")))
//! "#).unwrap();
//! let program = Program::new(&wasm, "tiny").unwrap();
//! let cfg = ExploreConfig {
//!     strategy: Strategy::Random { seed: 1 },
//!     iterations: 3,
//!     markers_only: false,
//!     time: None,
//!     run: RunConfig::default(),
//! };
//! let report = explore(&program, &cfg).unwrap();
//! // One thread has one interleaving: the first execution is the only one.
//! assert_eq!(report.executions, 1);
//! assert!(report.single_thread);
//! assert!(report.failure.is_none());
//! ```
//!
//! The interlace seed's bank-account race, reproduced by a schedule of steps:
//! two threads each read the balance at marker `read_balance` and write it
//! plus 50 at marker `write_balance`; the program exits with the balance.
//!
//! ```
//! use interlace_wasm::{run_steps, Program, RunConfig, StepSchedule};
//! let guest = wat::parse_str(r#"
//!   (module
//!     (import "env" "memory" (memory 1 1 shared))
//!     (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
//!     (import "interlace" "marker" (func $marker (param i32 i32)))
//!     (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
//!     (data (i32.const 16) "read_balance")
//!     (data (i32.const 32) "write_balance")
//!     (func $transfer (local $current i32)
//!       (call $marker (i32.const 16) (i32.const 12))
//!       (local.set $current (i32.atomic.load (i32.const 0)))
//!       (call $marker (i32.const 32) (i32.const 13))
//!       (i32.atomic.store (i32.const 0) (i32.add (local.get $current) (i32.const 50))))
//!     (func (export "wasi_thread_start") (param i32 i32)
//!       (call $transfer)
//!       (drop (i32.atomic.rmw.add (i32.const 4) (i32.const 1)))
//!       (drop (memory.atomic.notify (i32.const 4) (i32.const 1))))
//!     (func (export "_start") (local $n i32)
//!       (i32.atomic.store (i32.const 0) (i32.const 100))
//!       (drop (call $spawn (i32.const 0)))
//!       (drop (call $spawn (i32.const 0)))
//!       (block $done (loop $wait
//!         (local.set $n (i32.atomic.load (i32.const 4)))
//!         (br_if $done (i32.eq (local.get $n) (i32.const 2)))
//!         (drop (memory.atomic.wait32 (i32.const 4) (local.get $n) (i64.const -1)))
//!         (br $wait)))
//!       (call $exit (i32.atomic.load (i32.const 0)))))
//! "#).unwrap();
//! let wasm = interlace_instrument::instrument(&guest, &Default::default()).unwrap().wasm;
//! let program = Program::new(&wasm, "bank.wasm").unwrap();
//! let step = |thread: &str, marker: &str| format!(r#"{{"thread": "{thread}", "marker": "{marker}"}}"#);
//! let schedule = |steps: [String; 4]| StepSchedule::parse(&format!(r#"{{"steps": [{}]}}"#, steps.join(","))).unwrap();
//!
//! // Both threads read before either writes: one update is lost.
//! let lost = schedule([step("t1", "read_balance"), step("t2", "read_balance"),
//!                      step("t1", "write_balance"), step("t2", "write_balance")]);
//! let (execution, unsatisfied) = run_steps(&program, &lost, &RunConfig::default()).unwrap();
//! assert_eq!(unsatisfied, None);
//! assert_eq!(execution.exit_code, Some(150));
//!
//! // One transfer after the other: no update is lost.
//! let serial = schedule([step("t1", "read_balance"), step("t1", "write_balance"),
//!                        step("t2", "read_balance"), step("t2", "write_balance")]);
//! let (execution, _) = run_steps(&program, &serial, &RunConfig::default()).unwrap();
//! assert_eq!(execution.exit_code, Some(200));
//! ```
#![deny(missing_docs)]

pub mod cache;
mod columns;
mod error;
mod explore;
mod html;
mod minimise;
mod op;
mod outcome;
mod program;
pub mod runtime;
mod schedule;
pub mod scheduler;
mod trace;

pub use columns::{format_columns, ColumnStyle};
pub use error::{Error, ErrorKind, Result};
pub use explore::{
    explore, explore_parallel, explore_sharded, explore_with_progress, replay, run, run_steps,
    run_without_preemption, ExploreConfig, ExploreReport, FoundFailure, Progress, Shard,
    StepSchedule, Strategy, DEFAULT_ITERATIONS,
};
pub use html::render_html;
pub use interlace_guest_sdk::abi::SiteTable;
pub use minimise::{minimise, same_failure, Minimised, MAX_MINIMISE_RUNS};
pub use op::{Op, OpKind, ThreadId};
pub use outcome::{Execution, Failure, FailureKind};
pub use program::Program;
pub use runtime::{execute, RunConfig};
pub use schedule::{decode_decisions, encode_decisions, ScheduleFile, FORMAT};
pub use scheduler::{Choice, Coverage, Finish, FinishKind, Scheduler};
pub use trace::{
    format_trace, format_trace_with, lacks_line_info, site_function, site_location, Step,
    LINE_INFO_HINT,
};
