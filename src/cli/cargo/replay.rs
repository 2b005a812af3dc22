//! `cargo interlace replay FILE`: the schedule file names its module and
//! test, so nothing else is needed.

use crate::cli::replay::ReplayCmd;
use crate::cli::{GranularityArg, ModuleArgs, RunArgs};
use anyhow::{bail, Result};
use clap::Args;
use interlace_wasm::ScheduleFile;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct CargoReplayCmd {
    /// Schedule file written by `cargo interlace test` or `explore`.
    schedule: PathBuf,
    /// Print the report as JSON (schema `interlace-wasm-report/1`).
    #[arg(long)]
    json: bool,
    /// Write the interleaving as a self-contained HTML page.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    #[command(flatten)]
    run: RunArgs,
}

impl CargoReplayCmd {
    pub fn execute(self) -> Result<ExitCode> {
        let schedule = ScheduleFile::load(&self.schedule)?;
        let Some(module) = schedule.module.clone() else {
            bail!(
                "{} does not name its module (it was written by an older interlace-wasm); use `interlace-wasm replay MODULE {}`",
                self.schedule.display(),
                self.schedule.display()
            );
        };
        if !module.exists() {
            bail!(
                "{} was recorded on {}, which no longer exists; rebuild it (`cargo interlace test` builds it again) or pass the module: `interlace-wasm replay MODULE {}`",
                self.schedule.display(),
                module.display(),
                self.schedule.display()
            );
        }
        if let Some(test) = &schedule.test {
            if !self.json {
                eprintln!("replaying test {test} of {}", module.display());
            }
        }
        let mut run = self.run;
        run.granularity = match schedule.granularity.as_str() {
            "atomics" => GranularityArg::Atomics,
            _ => GranularityArg::All,
        };
        ReplayCmd {
            module: ModuleArgs {
                module,
                run,
                guest_args: vec![],
            },
            schedule: self.schedule,
            json: self.json,
            html: self.html,
        }
        .execute()
    }
}
