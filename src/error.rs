//! The library's typed errors: the tool's own failures and bad input. A bug
//! found in the guest is never an error; it is a [`crate::Failure`].

use std::fmt;

/// What went wrong.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input is not a usable module (not wasm, not threaded, missing export...).
    BadModule,
    /// The module imports something interlace-wasm does not provide.
    UnsupportedImport,
    /// A schedule file is malformed or was recorded for another module.
    BadSchedule,
    /// A replayed schedule did not match the execution.
    Divergence,
    /// wasmtime failed (compilation, instantiation, resources).
    Engine,
    /// Reading or writing a file failed.
    Io,
    /// The program needs more than a limit of the tool allows (threads):
    /// not a verdict on the program; the message names the option to raise.
    ToolLimit,
}

/// A typed error with a message that says what is wrong and what to do.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
        }
    }

    /// The category.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Result with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
