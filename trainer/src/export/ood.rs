//! The out-of-distribution suite (`pse-trainer ood`): how well a blob's verdict tells its own
//! test images from images that are no digit (or no garment) at all, measured with the
//! runtime exactly as a device would run it.
//!
//! Sets, each `count` images, fixed seeds (`Stream::Eval`, indices `0x00D0_0000 + set`):
//! uniform noise `U(0, 1)` per pixel; Gaussian noise `N(0.5, 0.25²)` clamped to `[0, 1]`;
//! blank (all 0); saturated (all 1); the model's own test digits inverted (`1 − x`, dark on
//! light); and the other dataset's test images (Fashion-MNIST for an MNIST model, MNIST for a
//! Fashion-MNIST one). For each set: the share the verdict calls "unknown" — with the latent
//! threshold alone (what a format-1 blob does) and with the whole verdict — and the AUROC of
//! each score against the model's own test set (1 = every own image scores above every
//! out-of-distribution one).

use crate::data::{self, Dataset, Split};
use crate::export::host::Scratchpad;
use crate::nn::rng::{Rng, Stream};
use ndarray::{Array2, ArrayView2};
use pse_runtime::{AnnotateOut, Model, Verdict};
use serde::Serialize;
use std::path::Path;

/// One image's scores and verdicts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    /// The best label's latent log-likelihood.
    pub latent: f32,
    /// `R`: log-likelihood under its reconstruction.
    pub reconstruction: f32,
    /// `R − G`.
    pub ratio: f32,
    /// Unknown by the latent threshold alone.
    pub unknown_latent: bool,
    /// Unknown by the blob's whole verdict.
    pub unknown: bool,
}

/// Scores every row of `x` with `model` through the runtime.
pub fn score_rows(
    model: &Model<'_>,
    x: ArrayView2<f32>,
) -> Result<Vec<Scored>, pse_runtime::Error> {
    let mut pad = Scratchpad::for_model(model);
    let mut recon = vec![0.0f32; model.pixels()];
    let mut out = AnnotateOut::new();
    x.rows()
        .into_iter()
        .map(|r| {
            let row = r.to_vec();
            let v = model.annotate(row.as_slice(), &[], &mut pad.scratch(), &mut out)?;
            let latent = out
                .best()
                .and_then(|i| out.log_likelihoods().get(i).copied())
                .unwrap_or(f32::NAN);
            let s = match out.image_scores() {
                Some(s) => s,
                None => model.image_scores(row.as_slice(), &mut pad.scratch(), &mut recon)?,
            };
            Ok(Scored {
                latent,
                reconstruction: s.reconstruction,
                ratio: s.ratio(),
                // NaN (no label) counts as unknown.
                unknown_latent: latent.is_nan() || latent < model.unknown_threshold(),
                unknown: matches!(v, Verdict::Unknown { .. }),
            })
        })
        .collect()
}

/// The area under the ROC curve of `score` separating `inside` (should score high) from
/// `outside`: the probability that a random inside image scores above a random outside one,
/// ties counting half. NaN scores count as the lowest.
pub fn auroc(inside: &[f32], outside: &[f32]) -> f64 {
    if inside.is_empty() || outside.is_empty() {
        return f64::NAN;
    }
    let key = |v: f32| if v.is_nan() { f32::NEG_INFINITY } else { v };
    let mut out: Vec<f32> = outside.iter().map(|&v| key(v)).collect();
    out.sort_by(f32::total_cmp);
    let mut wins = 0.0f64;
    for &v in inside {
        let v = key(v);
        let below = out.partition_point(|&o| o < v);
        let equal = out[below..].partition_point(|&o| o == v);
        wins += below as f64 + 0.5 * equal as f64;
    }
    wins / (inside.len() as f64 * out.len() as f64)
}

/// One set of the suite, measured.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The set.
    pub set: String,
    /// Images in it.
    pub images: usize,
    /// Share called "unknown" by the latent threshold alone.
    pub unknown_latent_only: f64,
    /// Share called "unknown" by the blob's verdict.
    pub unknown: f64,
    /// AUROC of the latent log-likelihood against the own test set.
    pub auroc_latent: f64,
    /// AUROC of the reconstruction log-likelihood `R`.
    pub auroc_reconstruction: f64,
    /// AUROC of the likelihood ratio `R − G`.
    pub auroc_ratio: f64,
}

/// The suite's report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The dataset the blob's labels belong to.
    pub dataset: Dataset,
    /// Whether the blob carries open-world bounds (format 2 and later); without them the verdict is
    /// the latent threshold alone.
    pub open_world: bool,
    /// The own test set first, then every out-of-distribution set.
    pub rows: Vec<Row>,
}

/// A named set of images, one per row.
pub type NamedSet = (String, Array2<f32>);

/// The out-of-distribution sets for a model of `dataset`, `count` images each; `own` is
/// that dataset's test images (the inverted set is made from them).
pub fn suite(
    data_dir: &Path,
    dataset: Dataset,
    own: ArrayView2<f32>,
    count: usize,
) -> Result<Vec<NamedSet>, Box<dyn std::error::Error>> {
    let pixels = data::PIXELS;
    let noise = |set: u64, f: &dyn Fn(&mut Rng) -> f32| {
        let mut rng = Rng::new(0, Stream::Eval, 0x00D0_0000 + set);
        Array2::from_shape_simple_fn((count, pixels), || f(&mut rng))
    };
    let n = count.min(own.nrows());
    let inverted = own.slice(ndarray::s![..n, ..]).mapv(|v| 1.0 - v);
    let other = match dataset {
        Dataset::Mnist => Dataset::Fashion,
        Dataset::Fashion => Dataset::Mnist,
    };
    let other_x = data::load(data_dir, other, Split::Test)?.x;
    let m = count.min(other_x.nrows());
    Ok(vec![
        ("uniform noise".into(), noise(0, &|r| r.uniform() as f32)),
        (
            "Gaussian noise".into(),
            noise(1, &|r| {
                let mut z = [0.0f32; 2];
                r.fill_normal(&mut z);
                (0.5 + 0.25 * z[0]).clamp(0.0, 1.0)
            }),
        ),
        ("blank".into(), Array2::zeros((count, pixels))),
        ("saturated".into(), Array2::ones((count, pixels))),
        (format!("{dataset} test, inverted"), inverted),
        (
            format!("{other} test"),
            other_x.slice(ndarray::s![..m, ..]).to_owned(),
        ),
    ])
}

/// Measures `model` (labels of `dataset`) on its own test set and on [`suite`].
pub fn measure(
    model: &Model<'_>,
    data_dir: &Path,
    dataset: Dataset,
    count: usize,
) -> Result<Report, Box<dyn std::error::Error>> {
    let own = data::load(data_dir, dataset, Split::Test)?;
    let inside = score_rows(model, own.x.view())?;
    let col = |s: &[Scored], f: fn(&Scored) -> f32| s.iter().map(f).collect::<Vec<f32>>();
    let share = |s: &[Scored], f: fn(&Scored) -> bool| {
        s.iter().filter(|x| f(x)).count() as f64 / s.len().max(1) as f64
    };
    let row = |name: String, s: &[Scored]| Row {
        set: name,
        images: s.len(),
        unknown_latent_only: share(s, |x| x.unknown_latent),
        unknown: share(s, |x| x.unknown),
        auroc_latent: auroc(&col(&inside, |x| x.latent), &col(s, |x| x.latent)),
        auroc_reconstruction: auroc(
            &col(&inside, |x| x.reconstruction),
            &col(s, |x| x.reconstruction),
        ),
        auroc_ratio: auroc(&col(&inside, |x| x.ratio), &col(s, |x| x.ratio)),
    };
    let mut rows = vec![Row {
        auroc_latent: f64::NAN,
        auroc_reconstruction: f64::NAN,
        auroc_ratio: f64::NAN,
        ..row(format!("{dataset} test (own)"), &inside)
    }];
    for (name, x) in suite(data_dir, dataset, own.x.view(), count)? {
        rows.push(row(name, &score_rows(model, x.view())?));
    }
    Ok(Report {
        dataset,
        open_world: model.open_world().is_some(),
        rows,
    })
}

/// The report as a Markdown table.
pub fn table(r: &Report) -> String {
    let pct = |v: f64| format!("{:.1}", 100.0 * v);
    let auc = |v: f64| {
        if v.is_nan() {
            "—".to_string()
        } else {
            format!("{v:.3}")
        }
    };
    let mut t = format!(
        "| set | images | unknown, latent threshold only (%) | unknown, {} (%) | AUROC latent | AUROC R | AUROC R − G |\n|---|---|---|---|---|---|---|\n",
        if r.open_world {
            "whole verdict"
        } else {
            "verdict (no open-world bounds: latent only)"
        }
    );
    for row in &r.rows {
        t += &format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            row.set,
            row.images,
            pct(row.unknown_latent_only),
            pct(row.unknown),
            auc(row.auroc_latent),
            auc(row.auroc_reconstruction),
            auc(row.auroc_ratio)
        );
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auroc_counts_pairs() {
        assert_eq!(auroc(&[3.0, 4.0], &[1.0, 2.0]), 1.0);
        assert_eq!(auroc(&[1.0, 2.0], &[3.0, 4.0]), 0.0);
        assert_eq!(auroc(&[1.0], &[1.0]), 0.5);
        // 2 beats 1, ties 2 (half), loses to 3: (1 + 0.5) / 3.
        assert!((auroc(&[2.0], &[1.0, 2.0, 3.0]) - 0.5).abs() < 1e-12);
        assert_eq!(auroc(&[0.0], &[f32::NAN]), 1.0);
        assert!(auroc(&[], &[1.0]).is_nan());
    }
}
