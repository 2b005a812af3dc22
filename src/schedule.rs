//! Schedule files: the exact decisions of one execution, enough to replay it.
//!
//! Replay follows the decision list, not the seed, so a schedule stays valid
//! whatever strategy found it.

use crate::error::{Error, ErrorKind, Result};
use crate::op::ThreadId;
use crate::outcome::{Execution, Failure};
use crate::program::Program;
use crate::runtime::RunConfig;
use interlace_guest_sdk::abi::Granularity;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::path::Path;

/// Format tag written in every schedule file.
pub const FORMAT: &str = "interlace-wasm-schedule/1";

/// A saved interleaving.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// SHA-256 of the (instrumented) module it was recorded on.
    pub module_sha256: String,
    /// Instrumentation granularity the module was run with (`all` or `atomics`).
    pub granularity: String,
    /// Strategy that found it.
    pub strategy: String,
    /// The strategy's seed, where it has one.
    pub seed: Option<u64>,
    /// Index of the execution within the exploration.
    pub execution: Option<u64>,
    /// `--max-steps` in force.
    pub max_steps: u64,
    /// Seed of the guest's `random_get`.
    pub guest_seed: u64,
    /// The exported function main ran (`_start` unless a test's).
    #[serde(default = "default_entry")]
    pub entry: String,
    /// Guest arguments after `argv[0]`.
    pub args: Vec<String>,
    /// Guest environment.
    pub env: Vec<String>,
    /// Whether data races were failures (`--races`).
    #[serde(default)]
    pub races: bool,
    /// Whether plain library accesses were scheduling points (see
    /// [`RunConfig::library_points`]); a replay takes the same points.
    /// Absent in files written before it existed, which had them.
    #[serde(default = "yes")]
    pub library_points: bool,
    /// The module file explored (absolute, as the tool saw it), so that
    /// `cargo interlace replay FILE` needs nothing else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<std::path::PathBuf>,
    /// The libtest test it explored (`cargo interlace test`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<String>,
    /// What went wrong, as recorded.
    pub failure: Option<Failure>,
    /// Scheduling points of the execution.
    pub steps: u64,
    /// Chosen thread at every point with a choice, run-length encoded as
    /// `"0*12 1*3 0"` (thread 0 twelve times, thread 1 three times, thread 0 once).
    #[serde(serialize_with = "rle_out", deserialize_with = "rle_in")]
    pub decisions: Vec<ThreadId>,
}

fn yes() -> bool {
    true
}

fn default_entry() -> String {
    "_start".to_string()
}

fn rle_out<S: Serializer>(d: &[ThreadId], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&encode_decisions(d))
}

fn rle_in<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ThreadId>, D::Error> {
    let s = String::deserialize(d)?;
    decode_decisions(&s).map_err(serde::de::Error::custom)
}

/// `"0*12 1*3 0"` form of a decision list.
pub fn encode_decisions(d: &[ThreadId]) -> String {
    let mut out: Vec<String> = vec![];
    let mut i = 0;
    while i < d.len() {
        let mut j = i;
        while j < d.len() && d[j] == d[i] {
            j += 1;
        }
        out.push(if j - i == 1 {
            d[i].0.to_string()
        } else {
            format!("{}*{}", d[i].0, j - i)
        });
        i = j;
    }
    out.join(" ")
}

/// Parses [`encode_decisions`]' form.
pub fn decode_decisions(s: &str) -> Result<Vec<ThreadId>, String> {
    let mut out = vec![];
    for tok in s.split_whitespace() {
        let (t, n) = tok.split_once('*').unwrap_or((tok, "1"));
        let t: u32 = t
            .parse()
            .map_err(|_| format!("bad thread id `{t}` in decisions"))?;
        let n: usize = n
            .parse()
            .map_err(|_| format!("bad repeat count `{n}` in decisions"))?;
        if n > 100_000_000 {
            return Err(format!("repeat count {n} in decisions is too large"));
        }
        out.extend(std::iter::repeat_n(ThreadId(t), n));
    }
    Ok(out)
}

impl ScheduleFile {
    /// Records `execution` of `program` under `cfg`.
    pub fn record(
        program: &Program,
        cfg: &RunConfig,
        strategy: &str,
        seed: Option<u64>,
        index: Option<u64>,
        execution: &Execution,
    ) -> ScheduleFile {
        ScheduleFile {
            format: FORMAT.to_string(),
            module_sha256: program.sha256().to_string(),
            granularity: match program.sites().granularity {
                Granularity::All => "all",
                Granularity::AtomicsOnly => "atomics",
            }
            .to_string(),
            strategy: strategy.to_string(),
            seed,
            execution: index,
            max_steps: cfg.max_steps,
            guest_seed: cfg.guest_seed,
            entry: cfg.entry.clone(),
            args: cfg.args.clone(),
            env: cfg.env.clone(),
            races: cfg.races,
            library_points: cfg.library_points.unwrap_or(true),
            module: None,
            test: None,
            failure: execution.failure.clone(),
            steps: execution.steps,
            decisions: execution.decisions.clone(),
        }
    }

    /// Reads and checks a schedule file.
    pub fn load(path: &Path) -> Result<ScheduleFile> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("cannot read schedule file {}: {e}", path.display()),
            )
        })?;
        ScheduleFile::parse(&text)
            .map_err(|e| Error::new(ErrorKind::BadSchedule, format!("{}: {}", path.display(), e)))
    }

    /// Parses a schedule from JSON text.
    pub fn parse(text: &str) -> Result<ScheduleFile> {
        let s: ScheduleFile = serde_json::from_str(text).map_err(|e| {
            Error::new(ErrorKind::BadSchedule, format!("not a valid interlace-wasm schedule file ({e}); use a file written by `interlace-wasm explore`"))
        })?;
        if s.format != FORMAT {
            return Err(Error::new(
                ErrorKind::BadSchedule,
                format!(
                    "unknown schedule format `{}` (expected `{FORMAT}`)",
                    s.format
                ),
            ));
        }
        Ok(s)
    }

    /// Writes the schedule as pretty JSON.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).expect("schedule serialises");
        std::fs::write(path, text + "\n").map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("cannot write schedule file {}: {e}", path.display()),
            )
        })
    }

    /// Errors unless the schedule was recorded on `program`.
    pub fn check_module(&self, program: &Program) -> Result<()> {
        if self.module_sha256 != program.sha256() {
            return Err(Error::new(
                ErrorKind::BadSchedule,
                format!(
                    "the schedule was recorded on another module (sha256 {}…), not this one (sha256 {}…), or with another instrumentation granularity or interlace-wasm version; run `interlace-wasm explore` on this module to get a schedule for it",
                    &self.module_sha256.get(..12).unwrap_or(&self.module_sha256),
                    &program.sha256()[..12]
                ),
            ));
        }
        Ok(())
    }

    /// The run configuration the schedule was recorded with, tracing on.
    pub fn run_config(&self, base: &RunConfig) -> RunConfig {
        RunConfig {
            max_steps: self.max_steps,
            guest_seed: self.guest_seed,
            args: self.args.clone(),
            env: self.env.clone(),
            entry: self.entry.clone(),
            races: self.races || base.races,
            library_points: Some(self.library_points),
            trace: true,
            ..base.clone()
        }
    }
}
