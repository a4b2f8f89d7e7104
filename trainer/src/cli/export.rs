//! `pse-trainer export`: checkpoint to blob and model card.

use crate::cli::common::{load_run, pct};
use crate::export::calibrate::DEFAULT_PERCENTILE;
use crate::export::precision::{BlobPart, WeightEncoding};
use crate::export::{self, ExportOptions};
use clap::Args;
use std::error::Error;
use std::path::PathBuf;

/// `pse-trainer export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Run folder (from `pse-trainer train`; `metrics.json` from `eval` goes into the card).
    pub run: PathBuf,
    /// Encoding of the encoder trunk and decoder weights (the latent heads and the label
    /// table are f32 in every encoding). i4 packs two weights a byte (blob format 3).
    #[arg(long, value_enum)]
    pub weights: WeightEncoding,
    /// The parts of the model the blob holds: `annotate` leaves the decoder out (about half
    /// the bytes; no generation, and "unknown" from the latent threshold alone); `generate`
    /// leaves the image encoder out (about half the bytes; no annotation or enrollment).
    #[arg(long, value_enum, default_value_t = BlobPart::All)]
    pub part: BlobPart,
    /// Blob file to write (atomically); the model card goes beside it as FILE with
    /// extension `.json`.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Keep these layers in f32 whatever --weights says: `enc.I` or `dec.I` (0-based;
    /// comma-separated or repeated), e.g. `--keep-f32 enc.0,dec.2`.
    #[arg(long, value_delimiter = ',', value_name = "LAYER")]
    pub keep_f32: Vec<String>,
    /// Choose the encoding of single layers, overriding --weights (and --keep-f32):
    /// `enc.I=ENC` or `dec.I=ENC` with ENC one of f32, f16, i8, i4 (comma-separated or
    /// repeated), e.g. `--weights i4 --layer enc.0=i8,dec.2=i8` for int4 weights with the
    /// two 784-wide layers in int8.
    #[arg(long = "layer", value_delimiter = ',', value_name = "LAYER=ENC")]
    pub layers: Vec<String>,
    /// Leave these labels (names or indices; comma-separated or repeated) out of the blob's
    /// label table, e.g. to demonstrate enrolling them on the device. The threshold is then
    /// calibrated on the held-out images of the other labels.
    #[arg(long, value_delimiter = ',', value_name = "LABEL")]
    pub without_label: Vec<String>,
    /// Percentile of the held-out images' best label log-likelihoods used as the
    /// "unknown" threshold (see `crate::export::calibrate`).
    #[arg(long, default_value_t = DEFAULT_PERCENTILE)]
    pub percentile: f64,
    /// Also write the float ONNX references (encoder, label scores, decoder) into DIR.
    #[cfg(feature = "onnx")]
    #[arg(long, value_name = "DIR")]
    pub onnx: Option<PathBuf>,
    /// Folder with the datasets (filled by scripts/fetch-data.sh).
    #[arg(long, default_value = "data", env = "PSE_DATA")]
    pub data: PathBuf,
}

/// `pse-trainer export`: writes the blob and its card, prints what was written.
pub fn run_export(a: ExportArgs) -> Result<(), Box<dyn Error>> {
    let ck = load_run(&a.run)?;
    if let Some(dir) = a.out.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.is_dir()
    {
        return Err(format!(
            "cannot write {}: its directory does not exist",
            a.out.display()
        )
        .into());
    }
    let opts = ExportOptions {
        run: a.run.clone(),
        data_dir: a.data.clone(),
        weights: a.weights,
        part: a.part,
        keep_f32: a.keep_f32.clone(),
        layers: a.layers.clone(),
        without_labels: a.without_label.clone(),
        percentile: a.percentile,
        out: a.out.clone(),
    };
    let t0 = std::time::Instant::now();
    let r = export::export_run(&ck, &opts)?;
    let c = &r.card;
    println!(
        "{}  {} bytes  sha256 {}",
        r.blob.display(),
        c.bytes,
        c.sha256
    );
    let what = format!(
        "{} {}D on {}, {} weights",
        c.model,
        c.latent,
        c.dataset,
        c.encoding.name()
    );
    match &c.runtime_test {
        Some(t) => println!(
            "  {what}; test set through pse-runtime: annotation accuracy {}, unknown {}, \
             verdict accuracy {}",
            pct(t.annotation_accuracy),
            pct(t.unknown_rate),
            pct(t.verdict_accuracy)
        ),
        None => println!(
            "  {what}; for generation only (no image encoder: no annotation, enrollment or \
             verdict on this blob)"
        ),
    }
    let le = &c.layer_encodings;
    let nominal = c.encoding.name();
    if le.encoder.iter().chain(&le.decoder).any(|e| e != nominal) {
        let list = |v: &[String]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        println!(
            "  layer encodings: encoder {}; decoder {}",
            list(&le.encoder),
            list(&le.decoder)
        );
    }
    let float_acc = c
        .float_metrics
        .as_ref()
        .and_then(|m| m.0.get("annotation_accuracy"))
        .and_then(|v| v.as_f64());
    if let (Some(acc), Some(t)) = (float_acc, &c.runtime_test) {
        println!(
            "  float model (metrics.json): annotation accuracy {}; blob - float = {:+.2} points",
            pct(acc),
            100.0 * (t.annotation_accuracy - acc)
        );
    }
    if let Some(u) = &c.unknown_threshold {
        println!(
            "  unknown threshold {:.3} = {}th percentile of {} held-out images ({} below; \
             median {:.3})",
            u.threshold, u.percentile, u.held_out_images, u.held_out_below, u.held_out_median
        );
    }
    println!("{}", r.card_path.display());
    #[cfg(feature = "onnx")]
    if let Some(dir) = &a.onnx {
        let labels = crate::train::label_table(&ck.config, &a.data)?;
        for p in crate::export::onnx::write_references(&ck, labels.view(), dir)? {
            println!("{}", p.display());
        }
    }
    eprintln!("exported in {:.1} s", t0.elapsed().as_secs_f64());
    Ok(())
}
