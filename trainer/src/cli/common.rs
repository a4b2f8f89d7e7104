//! Pieces every command shares: the data-folder and thread-count arguments, loading runs and blobs, the dataset a blob's labels name.

use crate::data::{self, Dataset};
use crate::export::precision::{self};
use crate::train::checkpoint::Checkpoint;
use crate::train::{self};
use clap::Args;
use clap::builder::TypedValueParser;
use std::error::Error;
use std::path::{Path, PathBuf};

/// The data folder, shared by every command that reads data.
#[derive(Args)]
pub struct DataArg {
    /// Folder with the datasets (filled by scripts/fetch-data.sh).
    #[arg(long, default_value = "data", global = true, env = "PSE_DATA")]
    pub data: PathBuf,
}

/// The thread count, shared by the commands that use every core.
#[derive(Args)]
pub struct ThreadsArg {
    /// Threads to use [default: every core of this machine]. Results are the same bytes
    /// for every count; only the time changes.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024).map(usize::from))]
    threads: Option<usize>,
}

impl ThreadsArg {
    pub fn get(&self) -> usize {
        self.threads
            .unwrap_or_else(crate::train::step::available_threads)
    }
}

/// The checkpoint of the run folder `run`, with an error that says how to make one.
pub(crate) fn load_run(run: &std::path::Path) -> Result<Checkpoint, Box<dyn std::error::Error>> {
    let p = run.join(train::files::CHECKPOINT);
    if !p.exists() {
        return Err(format!(
            "{}: no checkpoint here; train one with `pse-trainer train --out {}`",
            run.display(),
            run.display()
        )
        .into());
    }
    Ok(Checkpoint::load(&p)?)
}

/// `v` as a percentage with two decimals.
pub(crate) fn pct(v: f64) -> String {
    format!("{:.2} %", 100.0 * v)
}

/// The dataset whose label names are the blob's.
pub(crate) fn dataset_of(model: &pse_runtime::Model<'_>) -> Option<Dataset> {
    let names: Vec<&str> = (0..model.label_count())
        .filter_map(|i| model.label_name(i))
        .collect();
    [Dataset::Mnist, Dataset::Fashion]
        .into_iter()
        .find(|d| !names.is_empty() && names.iter().all(|n| d.label_names().contains(n)))
}

/// The dataset to measure the blob at `path` on: `given`, else the one whose label names it
/// carries; its images must be the dataset's size.
pub(crate) fn test_dataset(
    model: &pse_runtime::Model<'_>,
    path: &Path,
    given: Option<Dataset>,
) -> Result<Dataset, String> {
    let dataset = given.or(dataset_of(model)).ok_or_else(|| {
        format!(
            "{}: its labels are not a known dataset's; pass --dataset",
            path.display()
        )
    })?;
    if model.image_size() != precision::image_size(data::PIXELS) {
        return Err(format!(
            "{}: the model's images are {:?}, {dataset}'s are 28x28",
            path.display(),
            model.image_size()
        ));
    }
    Ok(dataset)
}

/// A closed stdout (`pse-trainer annotate … | head`) ends the command quietly.
pub(crate) fn quiet_broken_pipe(e: std::io::Error) -> Result<(), Box<dyn Error>> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(format!("writing the annotations: {e}").into())
    }
}
