//! The model card: a JSON file beside every exported blob (`FILE.pse` → `FILE.json`) that
//! says what the blob is, how it was trained, how well it does, and how to check it is the
//! file the card describes (size and SHA-256).

use crate::data::Dataset;
use crate::export::calibrate::{Calibration, OpenWorldCalibration};
use crate::export::host::Score;
use crate::export::precision::{BlobPart, Precision, WeightEncoding, image_size};
use crate::train::checkpoint::{Checkpoint, LabelKind};
use crate::train::recipe::Recipe;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The card's path for a blob path: the same name with extension `.json`.
pub fn card_path(blob: &Path) -> PathBuf {
    blob.with_extension("json")
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The float model's metrics from the run's `metrics.json` (`pse-trainer eval`), kept as
/// the JSON object it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FloatMetrics(pub serde_json::Value);

impl FloatMetrics {
    /// Reads `path` if it exists (`None` when it does not; an error when it is not JSON).
    pub fn read(path: &Path) -> Result<Option<FloatMetrics>, String> {
        match std::fs::read(path) {
            Ok(b) => serde_json::from_slice(&b)
                .map(|v| Some(FloatMetrics(v)))
                .map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }
}

/// How the blob's model was trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Training {
    /// The run folder exported from (as given on the command line).
    pub run: String,
    /// The recipe.
    pub recipe: Recipe,
    /// The training seed.
    pub seed: u64,
    /// Steps trained.
    pub steps: u64,
    /// Label encoding the label encoder saw.
    pub labels: LabelKind,
    /// Classes kept out of training (`train --leave-out`): the model never saw them.
    #[serde(default)]
    pub left_out: Vec<String>,
}

/// The encoding of every layer that has weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerEncodings {
    /// Encoder trunk layers, input first.
    pub encoder: Vec<String>,
    /// The two image heads.
    pub heads: String,
    /// Decoder layers, latent first.
    pub decoder: Vec<String>,
    /// The label table.
    pub label_table: String,
    /// The label encoder's two layers, for models trained on word vectors (absent
    /// otherwise, and in cards written before word vectors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_encoder: Option<String>,
}

/// The model card written beside a blob.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// The blob's file name.
    pub file: String,
    /// Its size in bytes.
    pub bytes: usize,
    /// Lower-case hex SHA-256 of the blob.
    pub sha256: String,
    /// The blob format version (`runtime/FORMAT.md`).
    pub format_version: u16,
    /// Dataset trained on.
    pub dataset: Dataset,
    /// "PSE" or "PSE*".
    pub model: String,
    /// Latent size `d`.
    pub latent: usize,
    /// `[width, height]` of the images.
    pub image_size: [usize; 2],
    /// Label names, index = label id (without the labels `--without-label` left out).
    pub labels: Vec<String>,
    /// The nominal weight encoding (`f32`, `f16`, `i8` or `i4`).
    pub encoding: WeightEncoding,
    /// The parts of the model the blob holds (`all`, or `annotate`: no decoder; absent in
    /// cards written before `--part`, which mean `all`).
    #[serde(default)]
    pub part: BlobPart,
    /// Every layer's encoding (differs from `encoding` where `--keep-f32` or `--layer` chose).
    pub layer_encodings: LayerEncodings,
    /// How it was trained.
    pub training: Training,
    /// The float model's metrics (`RUN/metrics.json`), when the run was evaluated.
    pub float_metrics: Option<FloatMetrics>,
    /// This blob on the test set, run through `pse-runtime` (`None` for a blob without an
    /// image encoder, which cannot annotate).
    pub runtime_test: Option<Score>,
    /// The unknown threshold and its calibration (`None` without an image encoder).
    pub unknown_threshold: Option<Calibration>,
    /// The open-world bounds and their calibration (absent in cards of format-1 blobs).
    #[serde(default)]
    pub open_world: Option<OpenWorldCalibration>,
    /// The program that wrote the blob.
    pub exported_by: String,
}

impl ModelCard {
    /// The card for the blob `bytes` written to `blob_path` from `ck`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        ck: &Checkpoint,
        run: &Path,
        blob_path: &Path,
        bytes: &[u8],
        labels: &[&str],
        encoding: WeightEncoding,
        part: BlobPart,
        precision: &Precision,
        float_metrics: Option<FloatMetrics>,
        runtime_test: Option<Score>,
        unknown_threshold: Option<Calibration>,
        open_world: Option<OpenWorldCalibration>,
    ) -> ModelCard {
        let cfg = &ck.config;
        let (w, h) = image_size(cfg.arch.pixels);
        ModelCard {
            file: blob_path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            bytes: bytes.len(),
            sha256: sha256_hex(bytes),
            format_version: pse_runtime::blob::FORMAT_VERSION,
            dataset: cfg.dataset,
            model: cfg.arch.kind.paper_name().into(),
            latent: cfg.arch.latent,
            image_size: [w, h],
            labels: labels.iter().map(|s| s.to_string()).collect(),
            encoding,
            part,
            layer_encodings: LayerEncodings {
                encoder: precision
                    .trunk
                    .iter()
                    .copied()
                    .map(|e| e.name().to_string())
                    .collect(),
                heads: "f32".into(),
                decoder: precision
                    .decoder
                    .iter()
                    .copied()
                    .map(|e| e.name().to_string())
                    .collect(),
                label_table: "f32".into(),
                label_encoder: (cfg.labels == LabelKind::Glove).then(|| "f32".into()),
            },
            training: Training {
                run: run.display().to_string(),
                recipe: cfg.recipe.clone(),
                seed: cfg.seed,
                steps: ck.step,
                labels: cfg.labels,
                left_out: cfg.left_out_names().into_iter().map(String::from).collect(),
            },
            float_metrics,
            runtime_test,
            unknown_threshold,
            open_world,
            exported_by: format!("pse-trainer {}", env!("CARGO_PKG_VERSION")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_abc() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            card_path(Path::new("models/m-i8.pse")),
            Path::new("models/m-i8.json")
        );
    }
}
