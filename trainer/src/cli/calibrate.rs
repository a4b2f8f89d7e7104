//! `pse-trainer calibrate`: a blob's unknown threshold and open-world bounds.

use crate::atomic::write_atomic;
use crate::cli::common::{pct, test_dataset};
use crate::data::{self, Split};
use crate::export::calibrate::{self};
use crate::export::card::{self};
use crate::export::host::{self, BlobFile, Scratchpad};
use clap::Args;
use std::error::Error;
use std::path::PathBuf;

/// `pse-trainer calibrate`.
#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// The blob (any format version).
    #[arg(long)]
    pub model: PathBuf,
    /// The blob to write (the current format, with the open-world bounds); its model card, when one
    /// lies beside --model, is written beside it with the new figures.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Share (%) of held-out images the whole verdict may call unknown, shared by its three
    /// tests (latent likelihood, reconstruction, likelihood ratio).
    #[arg(long, default_value_t = calibrate::DEFAULT_PERCENTILE)]
    pub percentile: f64,
    /// Held-out images: the last N of the dataset's training file (as the recipes hold
    /// them out; 5000 in both).
    #[arg(long, default_value_t = 5000)]
    pub holdout: usize,
    /// Folder with the datasets (filled by scripts/fetch-data.sh).
    #[arg(long, default_value = "data", env = "PSE_DATA")]
    pub data: PathBuf,
}

/// `pse-trainer calibrate`: a blob's unknown threshold and open-world bounds, calibrated on
/// held-out images with the blob itself, written in the current format (and card).
pub fn run_calibrate(a: CalibrateArgs) -> Result<(), Box<dyn Error>> {
    let blob = BlobFile::read(&a.model)?;
    let model = blob.model()?;
    let dataset = test_dataset(&model, &a.model, None)?;
    let names = dataset.label_names();
    let known: Vec<bool> = names
        .iter()
        .map(|n| model.label_index(n).is_some())
        .collect();
    if a.holdout == 0 {
        return Err("--holdout must be at least 1".into());
    }
    let x = calibrate::held_out_images(&a.data, dataset, a.holdout, &known)?;
    let (threshold, bounds) = calibrate::calibrate_verdict(&model, x.view(), a.percentile)?;
    if x.nrows() == 0 {
        return Err("no held-out images of the blob's labels".into());
    }
    // A blob without a decoder has no open-world bounds: the threshold alone.
    let mut q = *model.payload();
    q.unknown_threshold = threshold.threshold;
    q.open_world = bounds.as_ref().map(|b| b.bounds);
    let bytes = host::encode_blob(&q)?;
    let written = pse_runtime::Model::from_bytes(&bytes)?;
    let test = data::load(&a.data, dataset, Split::Test)?;
    let mut pad = Scratchpad::for_model(&written);
    let score = host::score(&written, &mut pad, test.x.view(), &test.y, &names)?;
    write_atomic(&a.out, &bytes).map_err(|e| format!("{}: {e}", a.out.display()))?;
    match &bounds {
        Some(b) => println!(
            "{}: format {}, threshold {:.3}, reconstruction ≥ {:.1}, likelihood ratio ≥ {:.1} \
             (each at the {:.3}th percentile of {} held-out images)",
            a.out.display(),
            pse_runtime::blob::FORMAT_VERSION,
            threshold.threshold,
            b.bounds.reconstruction_low,
            b.bounds.ratio_low,
            b.percentile,
            x.nrows()
        ),
        None => println!(
            "{}: format {}, threshold {:.3} (the {:.3}th percentile of {} held-out images; no \
             decoder, so no open-world bounds)",
            a.out.display(),
            pse_runtime::blob::FORMAT_VERSION,
            threshold.threshold,
            threshold.percentile,
            x.nrows()
        ),
    }
    println!(
        "  {dataset} test: annotation {}, unknown {}",
        pct(score.annotation_accuracy),
        pct(score.unknown_rate)
    );
    let card_in = card::card_path(&a.model);
    if let Ok(json) = std::fs::read(&card_in) {
        let mut c: card::ModelCard = serde_json::from_slice(&json)
            .map_err(|e| format!("{}: not a model card: {e}", card_in.display()))?;
        c.file = a
            .out
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        c.bytes = bytes.len();
        c.sha256 = card::sha256_hex(&bytes);
        c.format_version = pse_runtime::blob::FORMAT_VERSION;
        c.runtime_test = Some(score);
        c.unknown_threshold = Some(threshold);
        c.open_world = bounds;
        let card_out = card::card_path(&a.out);
        write_atomic(&card_out, &serde_json::to_vec_pretty(&c)?)
            .map_err(|e| format!("{}: {e}", card_out.display()))?;
        println!("{}", card_out.display());
    }
    Ok(())
}
