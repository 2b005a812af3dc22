//! `interlace-wasm instrument in.wasm -o out.wasm`

use super::{emit, read_module, GranularityArg};
use anyhow::{Context, Result};
use clap::Args;
use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct InstrumentCmd {
    /// The module to rewrite.
    input: PathBuf,
    /// Where to write the instrumented module.
    #[arg(short, long)]
    output: PathBuf,
    /// Which instructions are scheduling points.
    #[arg(long, value_enum, default_value_t = GranularityArg::All)]
    granularity: GranularityArg,
}

impl InstrumentCmd {
    pub fn execute(self) -> Result<ExitCode> {
        let bytes = read_module(&self.input)?;
        let config = interlace_instrument::Config {
            granularity: self.granularity.into(),
        };
        let out = interlace_instrument::instrument(&bytes, &config)
            .with_context(|| format!("cannot instrument {}", self.input.display()))?;
        std::fs::write(&self.output, &out.wasm)
            .with_context(|| format!("cannot write {}", self.output.display()))?;
        let mut text = format!(
            "instrumented {} -> {} ({} functions rewritten, {} skipped, {} sites)\n",
            self.input.display(),
            self.output.display(),
            out.functions_instrumented,
            out.functions_skipped,
            out.sites.sites.len()
        );
        for (kind, n) in out.counts() {
            let _ = writeln!(text, "  {:<8} {n}", kind.name());
        }
        emit(&text);
        Ok(ExitCode::SUCCESS)
    }
}
