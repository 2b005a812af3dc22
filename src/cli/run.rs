//! `interlace-wasm run app.wasm -- args`

use super::report::failure_report;
use super::{emit, ModuleArgs};
use anyhow::Result;
use clap::Args;
use std::io::Write;
use std::process::ExitCode;

#[derive(Args)]
pub struct RunCmd {
    #[command(flatten)]
    module: ModuleArgs,
    /// Print the interleaving (to stderr) even when the run succeeds.
    #[arg(long)]
    trace: bool,
}

impl RunCmd {
    pub fn execute(self) -> Result<ExitCode> {
        let program = self.module.load()?;
        let mut cfg = self.module.run_config()?;
        cfg.trace = true;
        let execution = interlace_wasm::run(&program, &cfg)?;
        if execution.failure.is_none() {
            let _ = std::io::stdout().write_all(&execution.stdout);
            let _ = std::io::stderr().write_all(&execution.stderr);
            if let (true, Some(trace)) = (self.trace, &execution.trace) {
                eprint!(
                    "{}",
                    interlace_wasm::format_trace_with(
                        trace,
                        program.sites(),
                        usize::MAX,
                        usize::MAX
                    )
                );
            }
            return Ok(ExitCode::SUCCESS);
        }
        emit(&failure_report(&program, &execution));
        Ok(ExitCode::from(1))
    }
}
