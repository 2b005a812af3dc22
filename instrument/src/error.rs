/// Why a module could not be instrumented.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input does not start with the wasm magic number.
    #[error("not a WebAssembly module (no \\0asm header); pass a .wasm file built for wasm32-wasip1-threads")]
    NotWasm,
    /// walrus could not parse the module.
    #[error("malformed WebAssembly module: {0}")]
    Parse(String),
    /// No shared memory: not a threaded module.
    #[error("the module has no shared memory, so it is not a threaded module; build it with --target wasm32-wasip1-threads")]
    NoSharedMemory,
    /// More than one shared memory.
    #[error("the module has {0} shared memories; interlace-wasm supports exactly one")]
    MultipleSharedMemories(usize),
    /// A `// interlace: name` comment gates no code that the line table knows.
    #[error("cannot place marker `{name}` at {file}:{line}: the line it gates has no shared-memory access, atomic or call (put it after such a statement or on the line before one, and build the guest with debug line info)")]
    MarkerNotPlaced {
        /// Source file.
        file: String,
        /// Line of the comment.
        line: u32,
        /// Marker name.
        name: String,
    },
    /// The module already carries an interlace site table.
    #[error("the module is already instrumented by interlace-wasm; pass the original module")]
    AlreadyInstrumented,
}
