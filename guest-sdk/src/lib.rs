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
pub mod task;
pub mod thread;

pub use marker::{marker, set_thread_name};

/// Exports a test function for `interlace-wasm test`: the export is named
/// `interlace_test_<name>`, and the tool explores each one like a program.
///
/// ```
/// interlace_guest_sdk::interlace_test! {
///     fn counter_is_two() {
///         assert_eq!(1 + 1, 2);
///     }
/// }
/// counter_is_two();
/// ```
#[macro_export]
macro_rules! interlace_test {
    ($(#[$meta:meta])* fn $name:ident() $body:block) => {
        $(#[$meta])*
        #[export_name = concat!("interlace_test_", stringify!($name))]
        pub extern "C" fn $name() $body
    };
}
