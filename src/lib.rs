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
//!     run: RunConfig::default(),
//! };
//! let report = explore(&program, &cfg).unwrap();
//! assert_eq!(report.executions, 3);
//! assert!(report.failure.is_none());
//! ```
#![deny(missing_docs)]

mod error;
mod explore;
mod op;
mod outcome;
mod program;
pub mod runtime;
mod schedule;
pub mod scheduler;
mod trace;

pub use error::{Error, ErrorKind, Result};
pub use explore::{
    explore, replay, run, run_steps, ExploreConfig, ExploreReport, FoundFailure, StepSchedule,
    Strategy, DEFAULT_ITERATIONS,
};
pub use interlace_guest_sdk::abi::SiteTable;
pub use op::{Op, OpKind, ThreadId};
pub use outcome::{Execution, Failure, FailureKind};
pub use program::Program;
pub use runtime::{execute, RunConfig};
pub use schedule::{decode_decisions, encode_decisions, ScheduleFile, FORMAT};
pub use scheduler::{Choice, Coverage, Finish, FinishKind, Scheduler};
pub use trace::{format_trace, format_trace_with, site_function, site_location, Step};
