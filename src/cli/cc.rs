//! `interlace-wasm cc`: a C compiler driver for wasm32-wasip1-threads
//! (usable as `CC`), and the compile step of `explore app.c`.
//!
//! It finds clang and a sysroot: `$WASI_SDK_PATH` (wasi-sdk's layout:
//! `bin/clang`, `share/wasi-sysroot`), or a `clang-NN` on PATH with the
//! wasm32 builtins, whose sysroot it assembles in the cache directory from
//! wasi-libc's headers (Debian's `wasi-libc`, `/usr/include/wasm32-wasi`)
//! and the threaded `libc.a` and `crt1-command.o` that Rust's
//! `wasm32-wasip1-threads` target ships. It adds the target, `-pthread`,
//! `-g`, `-O1` (a later `-O` wins) and, when linking, the memory flags.

use anyhow::{bail, Context, Result};
use clap::Args;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const TARGET: &str = "wasm32-wasip1-threads";
/// Debian's wasi-libc headers (the threaded build's are the same).
const DEBIAN_HEADERS: &str = "/usr/include/wasm32-wasi";
/// Libraries that live in wasi-libc's `libc.a`; `-lpthread` and the like
/// need an archive to find.
const EMPTY_ARCHIVES: &[&str] = &["pthread", "m", "dl", "rt", "util"];
/// What wasi-threads needs of the memory: imported, exported, 64 MiB at most.
const MEMORY_FLAGS: &str = "-Wl,--import-memory,--export-memory,--max-memory=67108864";

/// Compile C for wasm32-wasip1-threads: clang with the target, sysroot,
/// `-pthread`, `-g`, `-O1` and the memory flags (use as `CC` in make or CMake).
#[derive(Args)]
#[command(disable_help_flag = true)]
pub struct CcCmd {
    /// Arguments for clang, as given.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<OsString>,
}

impl CcCmd {
    pub fn execute(self) -> Result<ExitCode> {
        let tc = Toolchain::find(super::cache_dir().as_deref())?;
        let status = tc
            .command(&tc.clang, &self.args)
            .status()
            .with_context(|| format!("cannot run {}", tc.clang.display()))?;
        // The compiler's own status, as make expects of CC.
        Ok(ExitCode::from(
            status.code().unwrap_or(2).clamp(0, 255) as u8
        ))
    }
}

/// A clang that targets wasm32-wasip1-threads, and its sysroot.
pub struct Toolchain {
    pub clang: PathBuf,
    pub sysroot: PathBuf,
}

impl Toolchain {
    /// `$WASI_SDK_PATH`, else a `clang-NN` (or `clang`) on PATH with the
    /// wasm32 builtins and a sysroot assembled under `cache`.
    pub fn find(cache: Option<&Path>) -> Result<Toolchain> {
        if let Some(sdk) = std::env::var_os("WASI_SDK_PATH").filter(|v| !v.is_empty()) {
            let sdk = PathBuf::from(sdk);
            let clang = sdk.join("bin/clang");
            let sysroot = sdk.join("share/wasi-sysroot");
            if !clang.is_file() {
                bail!(
                    "WASI_SDK_PATH is {} but it has no bin/clang: point it at a wasi-sdk install",
                    sdk.display()
                );
            }
            if !sysroot.join("lib").join(TARGET).join("libc.a").is_file() {
                bail!(
                    "{} has no {TARGET} libc.a: use a wasi-sdk of version 20 or later (threads support)",
                    sysroot.display()
                );
            }
            return Ok(Toolchain { clang, sysroot });
        }
        let clang = find_clang()?;
        let cache = cache
            .context("no cache directory for the C sysroot: set INTERLACE_CACHE_DIR (or HOME)")?;
        let sysroot = assemble_sysroot(&cache.join("wasi-sysroot"))?;
        Ok(Toolchain { clang, sysroot })
    }

    /// `compiler` (this clang, or its clang++) with the tool's flags, then
    /// `args` (so later flags win).
    pub fn command(&self, compiler: &Path, args: &[OsString]) -> Command {
        let mut cmd = Command::new(compiler);
        cmd.arg(format!("--target={TARGET}"))
            .arg(format!("--sysroot={}", self.sysroot.display()))
            .args(["-pthread", "-g", "-O1"]);
        let compile_only = args.iter().any(|a| a == "-c" || a == "-S" || a == "-E");
        if !compile_only {
            cmd.arg(MEMORY_FLAGS);
        }
        cmd.args(args);
        cmd
    }
}

/// The newest `clang-NN` on PATH (then `clang`) whose wasm32 builtins and
/// `wasm-ld` are installed.
fn find_clang() -> Result<PathBuf> {
    let names = (15..=30)
        .rev()
        .map(|v| format!("clang-{v}"))
        .chain(["clang".to_string()]);
    let mut lacking = None;
    for name in names {
        let Some(path) = on_path(&name) else {
            continue;
        };
        let ask = |flag: &str| -> Option<PathBuf> {
            let out = Command::new(&path)
                .arg(format!("--target={TARGET}"))
                .arg(flag)
                .output()
                .ok()?;
            let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            p.is_file().then_some(p)
        };
        let version = name.strip_prefix("clang-").unwrap_or("NN").to_string();
        if ask("-print-libgcc-file-name").is_none() {
            lacking.get_or_insert(format!(
                "{name} is on PATH but has no wasm32 builtins: install libclang-rt-{version}-dev-wasm32 (Debian), or set WASI_SDK_PATH to a wasi-sdk"
            ));
            continue;
        }
        if ask("-print-prog-name=wasm-ld").is_none() && on_path("wasm-ld").is_none() {
            lacking.get_or_insert(format!(
                "{name} is on PATH but there is no wasm-ld: install lld-{version} (Debian), or set WASI_SDK_PATH to a wasi-sdk"
            ));
            continue;
        }
        return Ok(path);
    }
    bail!(lacking.unwrap_or_else(|| {
        "no clang found: install clang-22, lld-22 and libclang-rt-22-dev-wasm32 (Debian; scripts/install-c-toolchain.sh does it), or set WASI_SDK_PATH to a wasi-sdk".to_string()
    }))
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// `dir` as a sysroot: the headers, the Rust target's self-contained
/// `libc.a` and `crt1-command.o`, and empty archives. Rebuilt when a piece
/// is missing; the pieces are checked first, so a failure names what to
/// install.
fn assemble_sysroot(dir: &Path) -> Result<PathBuf> {
    let headers = Path::new(DEBIAN_HEADERS);
    if !headers.join("pthread.h").is_file() {
        bail!(
            "no wasi-libc headers at {DEBIAN_HEADERS}: apt-get install -t bookworm-backports wasi-libc (Debian), or set WASI_SDK_PATH to a wasi-sdk"
        );
    }
    let include = dir.join("include").join(TARGET);
    let lib = dir.join("lib").join(TARGET);
    if lib.join("libc.a").is_file() && include.join("pthread.h").is_file() {
        return Ok(dir.to_path_buf());
    }
    let libs = rust_self_contained()?;
    std::fs::create_dir_all(&lib).with_context(|| format!("cannot create {}", lib.display()))?;
    std::fs::create_dir_all(dir.join("include"))?;
    if !include.exists() {
        std::os::unix::fs::symlink(headers, &include)
            .with_context(|| format!("cannot link {}", include.display()))?;
    }
    for f in ["crt1-command.o", "libc.a"] {
        // libc.a last: its presence says the sysroot is whole.
        std::fs::copy(libs.join(f), lib.join(f))
            .with_context(|| format!("cannot copy {}", libs.join(f).display()))?;
    }
    for name in EMPTY_ARCHIVES {
        std::fs::write(lib.join(format!("lib{name}.a")), b"!<arch>\n")?;
    }
    Ok(dir.to_path_buf())
}

/// Where the Rust toolchain keeps the target's threaded wasi-libc.
fn rust_self_contained() -> Result<PathBuf> {
    let out = Command::new("rustc").args(["--print", "sysroot"]).output();
    let sysroot = match out {
        Ok(o) if o.status.success() => PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()),
        _ => bail!(
            "no rustc to take the threaded libc.a from: install Rust and `rustup target add {TARGET}`, or set WASI_SDK_PATH to a wasi-sdk"
        ),
    };
    let dir = sysroot
        .join("lib/rustlib")
        .join(TARGET)
        .join("lib/self-contained");
    if !dir.join("libc.a").is_file() || !dir.join("crt1-command.o").is_file() {
        bail!(
            "{} has no libc.a: `rustup target add {TARGET}` (it ships the threaded wasi-libc), or set WASI_SDK_PATH to a wasi-sdk",
            dir.display()
        );
    }
    Ok(dir)
}

/// Whether `path` is a C or C++ source the tool compiles first.
pub fn is_source(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e, "c" | "cc" | "cpp" | "cxx"))
}

/// Compiles `source` into the cache (keyed by its content, the compiler and
/// the tool's version; see `interlace_wasm::cache`), returning the module's
/// bytes. A compile error is the compiler's output, as it printed it.
pub fn compile(source: &Path) -> Result<Vec<u8>> {
    let text =
        std::fs::read(source).with_context(|| format!("cannot read {}", source.display()))?;
    let cache = super::cache_dir();
    let tc = Toolchain::find(cache.as_deref())?;
    let compiler = if source.extension().is_some_and(|e| e == "c") {
        tc.clang.clone()
    } else {
        let name = tc
            .clang
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("clang");
        let pp = tc
            .clang
            .with_file_name(name.replacen("clang", "clang++", 1));
        if !pp.is_file() {
            bail!(
                "{} is C++ but there is no {}",
                source.display(),
                pp.display()
            );
        }
        pp
    };
    let mut key = text;
    key.extend_from_slice(compiler.to_string_lossy().as_bytes());
    key.extend_from_slice(env!("CARGO_PKG_VERSION").as_bytes());
    let entry = cache.map(|c| {
        c.join("c")
            .join(format!("{}.wasm", interlace_wasm::cache::sha256_hex(&key)))
    });
    if let Some(bytes) = entry
        .as_deref()
        .and_then(interlace_wasm::cache::read_checked)
    {
        return Ok(bytes);
    }
    let tmp = std::env::temp_dir().join(format!("interlace-wasm-cc-{}.wasm", std::process::id()));
    let result = tc
        .command(&compiler, &[source.into(), "-o".into(), tmp.clone().into()])
        .output()
        .with_context(|| format!("cannot run {}", compiler.display()))?;
    if !result.status.success() {
        // The compiler's messages as it printed them, then why we stop.
        eprint!("{}", String::from_utf8_lossy(&result.stderr));
        let _ = std::fs::remove_file(&tmp);
        bail!(
            "compiling {} failed ({} exited with status {}); fix the errors above",
            source.display(),
            compiler.display(),
            result.status.code().unwrap_or(-1)
        );
    }
    let bytes = std::fs::read(&tmp).with_context(|| format!("cannot read {}", tmp.display()))?;
    let _ = std::fs::remove_file(&tmp);
    if let Some(entry) = &entry {
        interlace_wasm::cache::write_checked(entry, &bytes);
    }
    Ok(bytes)
}
