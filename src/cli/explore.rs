//! `interlace-wasm explore app.wasm`

use super::report::failure_report;
use super::ModuleArgs;
use anyhow::Result;
use clap::{Args, ValueEnum};
use interlace_wasm::{explore, ExploreConfig, Strategy, DEFAULT_ITERATIONS};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, ValueEnum)]
enum StrategyArg {
    /// Random walk that preempts at visible operations: atomics, thread events,
    /// and memory more than one thread touched (the default).
    Random,
    /// Uniform random choice at every scheduling point (a baseline).
    Uniform,
}

#[derive(Args)]
pub struct ExploreCmd {
    #[command(flatten)]
    module: ModuleArgs,
    /// Exploration strategy.
    #[arg(long, value_enum, default_value_t = StrategyArg::Random)]
    strategy: StrategyArg,
    /// Seed of the strategy: the same seed explores the same executions.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Executions to run at most.
    #[arg(long, default_value_t = DEFAULT_ITERATIONS)]
    iterations: u64,
    /// Where to save a failing schedule [default: <module-stem>.failure.json].
    #[arg(long)]
    save: Option<PathBuf>,
}

impl ExploreCmd {
    pub fn execute(self) -> Result<ExitCode> {
        let program = self.module.load()?;
        let strategy = match self.strategy {
            StrategyArg::Random => Strategy::Random { seed: self.seed },
            StrategyArg::Uniform => Strategy::Uniform { seed: self.seed },
        };
        let cfg = ExploreConfig {
            strategy,
            iterations: self.iterations,
            run: self.module.run_config()?,
        };
        let report = explore(&program, &cfg)?;
        let Some(found) = report.failure else {
            println!(
                "no failing interleaving in {} executions (strategy {}, seed {})",
                report.executions, report.strategy, report.seed
            );
            return Ok(ExitCode::SUCCESS);
        };
        let path = self.save.unwrap_or_else(|| {
            let stem = self
                .module
                .module
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            PathBuf::from(format!("{stem}.failure.json"))
        });
        // The schedule reaches the disk before anything is printed.
        found.schedule.save(&path)?;
        println!(
            "found a failing interleaving in execution {} of {} (strategy {}, seed {})",
            found.index + 1,
            report.executions,
            report.strategy,
            report.seed
        );
        println!("schedule saved to {}", path.display());
        println!(
            "replay it with: interlace-wasm replay {} {}",
            self.module.module.display(),
            path.display()
        );
        print!("{}", failure_report(&program, &found.execution));
        Ok(ExitCode::from(1))
    }
}
