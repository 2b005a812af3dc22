//! `interlace-wasm replay app.wasm failure.json`

use super::report::failure_report;
use super::ModuleArgs;
use anyhow::Result;
use clap::Args;
use interlace_wasm::{replay, ScheduleFile};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ReplayCmd {
    #[command(flatten)]
    module: ModuleArgs,
    /// Schedule file written by `explore`.
    schedule: PathBuf,
}

impl ReplayCmd {
    pub fn execute(self) -> Result<ExitCode> {
        let schedule = ScheduleFile::load(&self.schedule)?;
        let program = self.module.load()?;
        let execution = replay(&program, &schedule, &self.module.run_config()?)?;
        if execution.failure.is_none() {
            println!("replayed {} scheduling points: no failure", execution.steps);
            return Ok(ExitCode::SUCCESS);
        }
        print!("{}", failure_report(&program, &execution));
        Ok(ExitCode::from(1))
    }
}
