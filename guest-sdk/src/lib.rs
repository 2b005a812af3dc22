//! What guests link to talk to the interlace-wasm host (lightweight threads),
//! and the hook ABI that the instrumenter and the runtime share.
//!
//! ```
//! use interlace_guest_sdk::abi::{AccessKind, SiteTable};
//! // The host decodes the site table that the instrumenter wrote.
//! let table = SiteTable::default();
//! assert_eq!(SiteTable::decode(&table.encode()).unwrap(), table);
//! assert_eq!(AccessKind::from_code(2), Some(AccessKind::ReadModifyWrite));
//! ```
#![deny(missing_docs)]

pub mod abi;
mod marker;
pub mod thread;

pub use marker::{marker, set_thread_name};
