//! `pse-trainer score`: a blob on a test set, through the runtime.

use crate::cli::common::{dataset_of, pct, test_dataset};
use crate::data::{self, Dataset, Split};
use crate::export::host::{self, BlobFile, Scratchpad};
use clap::Args;
use std::error::Error;
use std::path::PathBuf;

/// `pse-trainer score`.
#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// The blob.
    #[arg(long)]
    pub model: PathBuf,
    /// Test set to annotate [default: the dataset whose label names the blob carries].
    /// Another dataset measures how often out-of-distribution images are called unknown.
    #[arg(long, value_enum)]
    pub dataset: Option<Dataset>,
    /// Print the score as one JSON object (as the model card's `runtime_test`) instead of the
    /// text.
    #[arg(long)]
    pub json: bool,
    /// Folder with the datasets (filled by scripts/fetch-data.sh).
    #[arg(long, default_value = "data", env = "PSE_DATA")]
    pub data: PathBuf,
}

/// `pse-trainer score`: the blob's annotation accuracy and unknown rate on a test set.
pub fn run_score(a: ScoreArgs) -> Result<(), Box<dyn Error>> {
    let blob = BlobFile::read(&a.model)?;
    let model = blob.model()?;
    let own = dataset_of(&model);
    let dataset = test_dataset(&model, &a.model, a.dataset)?;
    let test = data::load(&a.data, dataset, Split::Test)?;
    let mut pad = Scratchpad::for_model(&model);
    let t0 = std::time::Instant::now();
    let s = host::score(
        &model,
        &mut pad,
        test.x.view(),
        &test.y,
        &dataset.label_names(),
    )?;
    if a.json {
        println!("{}", serde_json::to_string(&s)?);
        return Ok(());
    }
    println!(
        "{}: {} test images of {dataset}, threshold {:.3}",
        a.model.display(),
        s.images,
        model.unknown_threshold()
    );
    if own == Some(dataset) {
        println!("  annotation accuracy  {}", pct(s.annotation_accuracy));
        println!("  verdict accuracy     {}", pct(s.verdict_accuracy));
        if model.label_count() < dataset.label_names().len() {
            println!(
                "  (the blob lacks some of the dataset's labels: their images count as wrong)"
            );
        }
    } else {
        println!("  (not the model's own dataset: only the unknown rate is meaningful)");
    }
    println!("  unknown              {}", pct(s.unknown_rate));
    println!(
        "  {:.1} µs per annotation",
        1e6 * t0.elapsed().as_secs_f64() / s.images.max(1) as f64
    );
    Ok(())
}
