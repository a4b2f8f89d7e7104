//! `pse-trainer ood`: the out-of-distribution suite.

use crate::cli::common::test_dataset;
use crate::export::host::BlobFile;
use clap::Args;
use std::error::Error;
use std::path::PathBuf;

/// `pse-trainer ood`.
#[derive(Debug, Args)]
pub struct OodArgs {
    /// The blob.
    #[arg(long)]
    pub model: PathBuf,
    /// Images per out-of-distribution set.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub count: u32,
    /// Print the report as JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Folder with the datasets (filled by scripts/fetch-data.sh).
    #[arg(long, default_value = "data", env = "PSE_DATA")]
    pub data: PathBuf,
}

/// `pse-trainer ood`: the out-of-distribution suite ([`crate::export::ood`]).
pub fn run_ood(a: OodArgs) -> Result<(), Box<dyn Error>> {
    let blob = BlobFile::read(&a.model)?;
    let model = blob.model()?;
    let dataset = test_dataset(&model, &a.model, None)?;
    let report = crate::export::ood::measure(&model, &a.data, dataset, a.count as usize)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{}: its own {dataset} test set and {} out-of-distribution sets\n",
            a.model.display(),
            report.rows.len() - 1
        );
        print!("{}", crate::export::ood::table(&report));
    }
    Ok(())
}
