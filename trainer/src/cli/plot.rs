//! `pse-trainer plot`: a run's pictures.

use crate::cli::common::{DataArg, load_run};
use clap::Args;
use std::path::PathBuf;

/// `pse-trainer plot`'s arguments.
#[derive(Args)]
pub struct PlotArgs {
    /// Run folder (from `pse-trainer train`).
    run: PathBuf,
    /// Folder for the PNGs [default: RUN/plots].
    #[arg(long, short)]
    out: Option<PathBuf>,
    #[command(flatten)]
    data: DataArg,
}

/// Runs `pse-trainer plot`.
pub fn run_plot(a: PlotArgs) -> Result<(), Box<dyn std::error::Error>> {
    let ck = load_run(&a.run)?;
    let dir = a.out.unwrap_or_else(|| a.run.join("plots"));
    for p in crate::report::plot::plot(&ck, &a.data.data, &dir)? {
        println!("{}", p.display());
    }
    Ok(())
}
