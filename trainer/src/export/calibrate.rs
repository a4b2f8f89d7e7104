//! Calibrating a blob's "unknown" threshold on held-out images.
//!
//! The runtime answers "unknown" when an image's best label log-likelihood
//! `max_l log N(mu_x; mu_l, var_l)` is below the threshold stored in the blob. We set it to
//! a low percentile `p` of that score over the run's held-out training images (never seen
//! in training), computed with the exported model itself — quantised weights and all — so
//! the threshold matches what the device computes. Rule (nearest rank, lower side): sort
//! the `n` scores ascending and take the one at 0-based index `floor(p / 100 * n)`; then
//! exactly that many held-out images (barring ties) score below it and would be called
//! unknown. The default `p = 0.5` trades 0.5 % of in-distribution images for rejecting
//! inputs that look like no label at all. With no held-out images the threshold is `-inf`
//! (never unknown).

use crate::data::{self, Dataset, Split};
use crate::export::host::{self, Scratchpad};
use ndarray::{Array2, ArrayView2};
use pse_runtime::Model;
use pse_runtime::payload::OpenWorld;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The default percentile of held-out best log-likelihoods used as the threshold.
pub const DEFAULT_PERCENTILE: f64 = 0.5;

/// A calibrated threshold and how it was obtained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// The threshold stored in the blob (`-inf` when there was nothing to calibrate on;
    /// JSON writes that as `null`).
    pub threshold: f32,
    /// The percentile `p` used.
    pub percentile: f64,
    /// Held-out images scored.
    pub held_out_images: usize,
    /// Held-out images whose best log-likelihood is below the threshold.
    pub held_out_below: usize,
    /// The median held-out best log-likelihood, for scale.
    pub held_out_median: f32,
    /// The rule, in words (copied into the model card).
    pub rule: String,
}

/// The threshold at percentile `p` of `scores` (rule in the module docs); `-inf` for no
/// scores. NaN scores are ignored.
pub fn percentile_threshold(scores: &[f32], p: f64) -> f32 {
    let mut s: Vec<f32> = scores.iter().copied().filter(|v| !v.is_nan()).collect();
    if s.is_empty() {
        return f32::NEG_INFINITY;
    }
    s.sort_by(f32::total_cmp);
    let k = ((p / 100.0) * s.len() as f64).floor() as usize;
    s[k.min(s.len() - 1)]
}

/// Scores every held-out row of `x` with `model` and calibrates at percentile `p`
/// (`0 <= p < 100`).
pub fn calibrate(
    model: &Model<'_>,
    x: ArrayView2<f32>,
    p: f64,
) -> Result<Calibration, Box<dyn std::error::Error>> {
    if !(0.0..100.0).contains(&p) {
        return Err(format!("percentile {p} is outside 0..100").into());
    }
    let mut pad = Scratchpad::for_model(model);
    let scores: Vec<f32> = host::annotate_rows(model, &mut pad, x)?
        .iter()
        .map(|a| a.log_likelihood)
        .collect();
    let threshold = percentile_threshold(&scores, p);
    Ok(Calibration {
        threshold,
        percentile: p,
        held_out_images: scores.len(),
        held_out_below: scores.iter().filter(|&&s| s < threshold).count(),
        held_out_median: percentile_threshold(&scores, 50.0),
        rule: format!(
            "unknown when the best label log-likelihood is below the {p}th percentile \
             (nearest rank, lower side) of the best label log-likelihoods of the run's \
             held-out training images, computed with this blob through pse-runtime"
        ),
    })
}

/// The held-out images to calibrate on: the last `holdout` images of `dataset`'s training
/// file (as the recipes hold them out), of the classes `known[class]` marks.
pub fn held_out_images(
    data_dir: &Path,
    dataset: Dataset,
    holdout: usize,
    known: &[bool],
) -> Result<Array2<f32>, data::DataError> {
    let held = data::load(data_dir, dataset, Split::Train)?
        .split_tail(holdout)
        .1;
    let rows: Vec<usize> = (0..held.len())
        .filter(|&i| known.get(held.y[i] as usize).copied().unwrap_or(false))
        .collect();
    Ok(held.x.select(ndarray::Axis(0), &rows))
}

/// Calibrates the whole verdict on the held-out rows of `x` with `model` (its own threshold
/// and bounds set aside): `percentile` (`0 <= p < 100`) is shared by the verdict's three
/// tests (latent likelihood, reconstruction, likelihood ratio), a third each, so together
/// they flag at most that share of the held-out images. The open-world part is `None`
/// without held-out images.
pub fn calibrate_verdict(
    model: &Model<'_>,
    x: ArrayView2<f32>,
    percentile: f64,
) -> Result<(Calibration, Option<OpenWorldCalibration>), Box<dyn std::error::Error>> {
    if !(0.0..100.0).contains(&percentile) {
        return Err(format!("percentile {percentile} is outside 0..100").into());
    }
    if !model.has_encoder() {
        return Err(
            "the blob has no image encoder (exported with --part generate): it \
                    annotates nothing, so it has no threshold to calibrate"
                .into(),
        );
    }
    let mut payload = *model.payload();
    payload.unknown_threshold = f32::NEG_INFINITY;
    payload.open_world = None;
    let bare = Model::from_payload(payload)?;
    // Without a decoder (a blob for annotation only) there is no open-world verdict: the
    // latent threshold is the only test and takes the whole percentile.
    let (each, open_world) = if bare.has_decoder() {
        let each = percentile / 3.0;
        (each, calibrate_open_world(&bare, x, each)?)
    } else {
        (percentile, None)
    };
    Ok((calibrate(&bare, x, each)?, open_world))
}

/// The open-world bounds ([`pse_runtime::openworld`]) and how they were obtained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenWorldCalibration {
    /// The bounds stored in the blob.
    #[serde(with = "bounds")]
    pub bounds: OpenWorld,
    /// The percentile `p` used for each bound.
    pub percentile: f64,
    /// Held-out images scored.
    pub held_out_images: usize,
    /// Held-out images below the reconstruction bound.
    pub held_out_below_reconstruction: usize,
    /// Held-out images below the likelihood-ratio bound.
    pub held_out_below_ratio: usize,
    /// The median held-out reconstruction log-likelihood `R`, for scale.
    pub held_out_median_reconstruction: f32,
    /// The median held-out likelihood ratio `R − G`, for scale.
    pub held_out_median_ratio: f32,
    /// The rule, in words (copied into the model card).
    pub rule: String,
}

/// `OpenWorld` as two named numbers in JSON.
mod bounds {
    use pse_runtime::payload::OpenWorld;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Named {
        reconstruction_low: f32,
        ratio_low: f32,
    }

    pub fn serialize<S: Serializer>(b: &OpenWorld, s: S) -> Result<S::Ok, S::Error> {
        Named {
            reconstruction_low: b.reconstruction_low,
            ratio_low: b.ratio_low,
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OpenWorld, D::Error> {
        let n = Named::deserialize(d)?;
        Ok(OpenWorld {
            reconstruction_low: n.reconstruction_low,
            ratio_low: n.ratio_low,
        })
    }
}

/// Scores every held-out row of `x` with `model`'s open-world scores and puts each bound at
/// percentile `p` (the rule of [`percentile_threshold`]); `None` with no held-out images.
pub fn calibrate_open_world(
    model: &Model<'_>,
    x: ArrayView2<f32>,
    p: f64,
) -> Result<Option<OpenWorldCalibration>, Box<dyn std::error::Error>> {
    if !(0.0..100.0).contains(&p) {
        return Err(format!("percentile {p} is outside 0..100").into());
    }
    if x.nrows() == 0 {
        return Ok(None);
    }
    let mut pad = Scratchpad::for_model(model);
    let scores = host::image_scores_rows(model, &mut pad, x)?;
    let recon: Vec<f32> = scores.iter().map(|s| s.reconstruction).collect();
    let ratio: Vec<f32> = scores.iter().map(|s| s.ratio()).collect();
    let bounds = OpenWorld {
        reconstruction_low: percentile_threshold(&recon, p),
        ratio_low: percentile_threshold(&ratio, p),
    };
    Ok(Some(OpenWorldCalibration {
        bounds,
        percentile: p,
        held_out_images: scores.len(),
        held_out_below_reconstruction: recon
            .iter()
            .filter(|&&r| r < bounds.reconstruction_low)
            .count(),
        held_out_below_ratio: ratio.iter().filter(|&&r| r < bounds.ratio_low).count(),
        held_out_median_reconstruction: percentile_threshold(&recon, 50.0),
        held_out_median_ratio: percentile_threshold(&ratio, 50.0),
        rule: format!(
            "unknown also when the image's log-likelihood under its own reconstruction R, or \
             the likelihood ratio R - G against the generic neighbour model, is below the \
             {p}th percentile (nearest rank, lower side) of the same score over the run's \
             held-out training images, computed with this blob through pse-runtime"
        ),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_lower_side() {
        let s: Vec<f32> = (0..200).rev().map(|i| i as f32).collect();
        // 0.5 % of 200 = 1: one score (0.0) is below the threshold 1.0.
        assert_eq!(percentile_threshold(&s, 0.5), 1.0);
        assert_eq!(percentile_threshold(&s, 0.0), 0.0);
        assert_eq!(percentile_threshold(&s, 50.0), 100.0);
        assert_eq!(percentile_threshold(&s, 99.99), 199.0);
        assert_eq!(percentile_threshold(&[], 0.5), f32::NEG_INFINITY);
        assert_eq!(percentile_threshold(&[f32::NAN, 3.0], 0.5), 3.0);
    }
}
