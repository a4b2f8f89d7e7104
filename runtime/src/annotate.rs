//! Annotation: encode the image, take `mu_x`, score every label Gaussian with
//! `log N(mu_x; mu_l, diag var_l)`, pick the best, and answer "unknown" when even the best
//! score is below the model's threshold — or, when the blob carries open-world bounds, when
//! the image is unlikely under its own reconstruction ([`crate::openworld`]).
//!
//! Labels are numbered model labels first (`0..model.label_count()`), then the caller's
//! extra labels (e.g. [`crate::enroll::LabelTable::as_slice`]) in order.

use crate::image::Image;
use crate::labels::LabelGaussian;
use crate::model::Scratch;
use crate::openworld::{ImageScores, UnknownReason};
use crate::{Error, MAX_LABELS, MAX_LATENT, Model, gaussian};

/// The outcome of an annotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The label with the highest log-likelihood (first on ties).
    Label(usize),
    /// The best log-likelihood is below the model's unknown threshold; `nearest` is the label
    /// that scored best (`None` when there are no labels or every score is NaN).
    Unknown {
        /// The best-scoring label.
        nearest: Option<usize>,
    },
}

/// Everything an annotation computes, in fixed-size storage the caller owns.
#[derive(Clone, Debug)]
pub struct AnnotateOut {
    verdict: Verdict,
    len: usize,
    dim: usize,
    log_likelihoods: [f32; MAX_LABELS],
    posteriors: [f32; MAX_LABELS],
    mu: [f32; MAX_LATENT],
    reason: Option<UnknownReason>,
    scores: Option<ImageScores>,
}

impl Default for AnnotateOut {
    fn default() -> Self {
        Self::new()
    }
}

impl AnnotateOut {
    /// An empty result, to be filled by [`Model::annotate`].
    pub const fn new() -> Self {
        AnnotateOut {
            verdict: Verdict::Unknown { nearest: None },
            len: 0,
            dim: 0,
            log_likelihoods: [0.0; MAX_LABELS],
            posteriors: [0.0; MAX_LABELS],
            mu: [0.0; MAX_LATENT],
            reason: None,
            scores: None,
        }
    }

    /// The verdict.
    pub const fn verdict(&self) -> Verdict {
        self.verdict
    }

    /// The best label, unknown or not.
    pub const fn best(&self) -> Option<usize> {
        match self.verdict {
            Verdict::Label(i) => Some(i),
            Verdict::Unknown { nearest } => nearest,
        }
    }

    /// `log N(mu_x; mu_l, diag var_l)` for every label.
    pub fn log_likelihoods(&self) -> &[f32] {
        self.log_likelihoods.get(..self.len).unwrap_or_default()
    }

    /// Posterior probabilities under a uniform label prior
    /// ([`gaussian::posterior_in_place`] of the log-likelihoods).
    pub fn posteriors(&self) -> &[f32] {
        self.posteriors.get(..self.len).unwrap_or_default()
    }

    /// Why the verdict is "unknown" (`None` for a label, and for an "unknown" with no label
    /// to compare, when the model and `extra` hold none).
    pub const fn unknown_reason(&self) -> Option<UnknownReason> {
        self.reason
    }

    /// The image's open-world scores, computed when the blob has an open-world section.
    pub const fn image_scores(&self) -> Option<ImageScores> {
        self.scores
    }

    /// The image's encoded mean `mu_x`.
    pub fn mu(&self) -> &[f32] {
        self.mu.get(..self.dim).unwrap_or_default()
    }
}

impl Model<'_> {
    /// Annotates `image` against the model's labels followed by `extra` (pass `&[]` for
    /// none; each must have dimension `d`; at most [`MAX_LABELS`] labels in all).
    pub fn annotate<'x>(
        &self,
        image: impl Into<Image<'x>>,
        extra: &[LabelGaussian],
        scratch: &mut Scratch<'_>,
        out: &mut AnnotateOut,
    ) -> Result<Verdict, Error> {
        self.annotate_impl(image.into(), extra, scratch, out)
    }

    /// [`Model::annotate`] without the generic argument (one copy of the code).
    fn annotate_impl(
        &self,
        image: Image<'_>,
        extra: &[LabelGaussian],
        scratch: &mut Scratch<'_>,
        out: &mut AnnotateOut,
    ) -> Result<Verdict, Error> {
        let d = self.latent_dim();
        let total = self.label_count().saturating_add(extra.len());
        if total > MAX_LABELS {
            return Err(Error::TooManyLabels {
                found: total,
                max: MAX_LABELS,
            });
        }
        if let Some(g) = extra.iter().find(|g| g.dim() != d) {
            return Err(Error::LatentMismatch {
                expected: d,
                found: g.dim(),
            });
        }
        if self.open_world().is_some() && scratch.act.len() < self.scratch_len().f32s {
            return Err(Error::ScratchTooSmall {
                needed: self.scratch_len().f32s,
                got: scratch.act.len(),
            });
        }
        let mu = out.mu.get_mut(..d).unwrap_or_default();
        self.encode_impl(image, scratch, mu, None)?;
        out.dim = d;
        out.len = total;
        let mu = out.mu.get(..d).unwrap_or_default();
        let scores = out.log_likelihoods.get_mut(..total).unwrap_or_default();
        let (own, more) = scores
            .split_at_mut_checked(self.label_count())
            .unwrap_or_default();
        let table = &self.payload().labels;
        for (i, s) in own.iter_mut().enumerate() {
            // Straight from the table (no `LabelGaussian` copied out per label); the rows
            // exist for i < label_count on a validated model.
            *s = table_log_likelihood(table, d, i, mu).unwrap_or(f32::NAN);
        }
        for (g, s) in extra.iter().zip(more.iter_mut()) {
            *s = g.log_likelihood(mu);
        }
        let scores = out.log_likelihoods.get(..total).unwrap_or_default();
        let best = gaussian::argmax(scores);
        let best_score = best.and_then(|i| scores.get(i).copied());
        // `s` is not NaN (argmax skips NaN) and the threshold is not NaN (validated).
        let latent_ok = best_score.is_some_and(|s| s >= self.unknown_threshold());
        out.scores = None;
        out.reason = match best {
            None => None,
            Some(_) if !latent_ok => Some(UnknownReason::LatentLikelihood),
            Some(_) => None,
        };
        if let Some(ow) = self.open_world() {
            // The reconstruction buffer sits after what the encoder and decoder use.
            let (base, recon) = scratch
                .act
                .split_at_mut_checked(self.base_f32s())
                .unwrap_or_default();
            let recon = recon.get_mut(..self.pixels()).unwrap_or_default();
            let mut sub = Scratch::new(base, scratch.quant);
            let mu = out.mu.get(..d).unwrap_or_default();
            let s = self.scores_of(image, mu, &mut sub, recon)?;
            out.scores = Some(s);
            if out.reason.is_none() && best.is_some() {
                // A NaN score (from NaN pixels) is below every bound.
                let below = |v: f32, low: f32| v.is_nan() || v < low;
                out.reason = if below(s.reconstruction, ow.reconstruction_low) {
                    Some(UnknownReason::Reconstruction)
                } else if below(s.ratio(), ow.ratio_low) {
                    Some(UnknownReason::LikelihoodRatio)
                } else {
                    None
                };
            }
        }
        out.verdict = match best {
            Some(i) if out.reason.is_none() => Verdict::Label(i),
            _ => Verdict::Unknown { nearest: best },
        };
        let post = out.posteriors.get_mut(..total).unwrap_or_default();
        for (p, s) in post.iter_mut().zip(scores) {
            *p = *s;
        }
        gaussian::posterior_in_place(post);
        Ok(out.verdict)
    }
}

/// [`gaussian::log_likelihood`] of label `index` of the blob's table, reading `mu` and
/// `inv_var` in place: the same operations in the same order as
/// `model.label(index)?.log_likelihood(x)`, so the same bits.
fn table_log_likelihood(
    labels: &crate::payload::Labels<'_>,
    d: usize,
    index: usize,
    x: &[f32],
) -> Option<f32> {
    let start = index.checked_mul(d)?.checked_mul(4)?;
    let end = start.checked_add(d.checked_mul(4)?)?;
    let mu = labels.mu.get(start..end)?.as_chunks::<4>().0;
    let inv_var = labels.inv_var.get(start..end)?.as_chunks::<4>().0;
    let log_norm = labels
        .log_norm
        .as_chunks::<4>()
        .0
        .get(index)
        .map(|b| f32::from_le_bytes(*b))?;
    let mut q = 0.0f32;
    for ((xi, mi), iv) in x.iter().zip(mu).zip(inv_var) {
        let diff = *xi - f32::from_le_bytes(*mi);
        q += diff * diff * f32::from_le_bytes(*iv);
    }
    Some(log_norm - 0.5 * q)
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::*;
    use crate::payload::Encoding;
    use crate::testutil::{identity_model, scratch_bufs};

    /// Scoring straight from the table gives the bits of `LabelGaussian::log_likelihood`.
    #[test]
    fn table_scores_equal_label_scores() {
        let m =
            crate::testutil::OwnedModel::random(&crate::testutil::Spec::mnist(10, Encoding::I8), 5);
        let blob = m.blob();
        let model = Model::from_bytes(&blob).unwrap();
        let mut rng = crate::rng::Rng::new(8);
        for _ in 0..20 {
            let x: std::vec::Vec<f32> = (0..10).map(|_| rng.normal() * 3.0).collect();
            for i in 0..model.label_count() {
                let direct = table_log_likelihood(&model.payload().labels, 10, i, &x).unwrap();
                let via = model.label(i).unwrap().log_likelihood(&x);
                assert_eq!(direct.to_bits(), via.to_bits());
            }
        }
    }

    /// With open-world bounds, annotation computes the image's scores (as
    /// `Model::image_scores` does, bit for bit), needs the larger scratch, and answers
    /// "unknown" with the failed test as the reason; without them it never computes them.
    #[test]
    fn open_world_bounds_decide_and_explain() {
        let mut m =
            crate::testutil::OwnedModel::random(&crate::testutil::Spec::mnist(10, Encoding::I8), 6);
        let image: std::vec::Vec<u8> = (0..784).map(|i| ((i * 37) % 256) as u8).collect();
        let plain_blob = m.blob();
        let plain = Model::from_bytes(&plain_blob).unwrap();
        let (mut a, mut q) = scratch_bufs(&plain);
        let mut recon = std::vec![0.0f32; 784];
        let scores = plain
            .image_scores(&image[..], &mut Scratch::new(&mut a, &mut q), &mut recon)
            .unwrap();
        let mut out = AnnotateOut::new();
        plain
            .annotate(&image[..], &[], &mut Scratch::new(&mut a, &mut q), &mut out)
            .unwrap();
        assert_eq!(out.image_scores(), None);
        let plain_best = out.best();
        for (bounds, reason) in [
            ((f32::NEG_INFINITY, f32::NEG_INFINITY), None),
            (
                (scores.reconstruction + 1.0, f32::NEG_INFINITY),
                Some(UnknownReason::Reconstruction),
            ),
            (
                (f32::NEG_INFINITY, scores.ratio() + 1.0),
                Some(UnknownReason::LikelihoodRatio),
            ),
        ] {
            m.open_world = Some(crate::payload::OpenWorld {
                reconstruction_low: bounds.0,
                ratio_low: bounds.1,
            });
            let blob = m.blob();
            let model = Model::from_bytes(&blob).unwrap();
            assert_eq!(
                model.scratch_len().f32s,
                plain.scratch_len().f32s + 784,
                "room for the reconstruction"
            );
            let (mut small_a, mut small_q) = scratch_bufs(&plain);
            assert!(matches!(
                model.annotate(
                    &image[..],
                    &[],
                    &mut Scratch::new(&mut small_a, &mut small_q),
                    &mut out
                ),
                Err(Error::ScratchTooSmall { .. })
            ));
            let (mut a, mut q) = scratch_bufs(&model);
            let v = model
                .annotate(&image[..], &[], &mut Scratch::new(&mut a, &mut q), &mut out)
                .unwrap();
            let got = out.image_scores().unwrap();
            assert_eq!(
                got.reconstruction.to_bits(),
                scores.reconstruction.to_bits()
            );
            assert_eq!(got.generic.to_bits(), scores.generic.to_bits());
            assert_eq!(out.unknown_reason(), reason);
            assert_eq!(out.best(), plain_best);
            match reason {
                None => assert!(matches!(v, Verdict::Label(_))),
                Some(_) => assert!(matches!(v, Verdict::Unknown { .. })),
            }
        }
        // Bounds that cannot be met are refused when the blob is read.
        m.open_world = Some(crate::payload::OpenWorld {
            reconstruction_low: f32::NAN,
            ratio_low: 0.0,
        });
        let bad = crate::testutil::to_blob_unchecked(&m.payload());
        assert_eq!(
            Model::from_bytes(&bad).unwrap_err(),
            Error::InvalidOpenWorld {
                which: "reconstruction_low"
            }
        );
    }

    /// In the identity model `mu_x = x` and the labels are one-hot means with unit variance,
    /// so the answer is the brightest pixel and every score is known in closed form.
    #[test]
    fn picks_the_known_label_in_every_encoding() {
        for enc in [Encoding::F32, Encoding::F16, Encoding::I8] {
            let m = identity_model(enc);
            let blob = m.blob();
            let model = Model::from_bytes(&blob).unwrap();
            let (mut a, mut q) = scratch_bufs(&model);
            let mut s = Scratch::new(&mut a, &mut q);
            let mut out = AnnotateOut::new();
            for k in 0..4 {
                let mut img = [0.1f32; 4];
                img[k] = 0.9;
                let v = model.annotate(&img, &[], &mut s, &mut out).unwrap();
                assert_eq!(v, Verdict::Label(k), "{enc:?}");
                assert_eq!(out.best(), Some(k));
                assert_eq!(out.log_likelihoods().len(), 4);
                let sum: f32 = out.posteriors().iter().sum();
                assert!((sum - 1.0).abs() < 1e-6);
                let p = out.posteriors();
                assert!((0..4).all(|j| j == k || p[j] < p[k]));
                // Closed form: log N(x; e_k, I) = -2 ln 2π - 0.5 |x - e_k|².
                let expect = -2.0 * gaussian::LN_2PI - 0.5 * (0.01 * 3.0 + 0.01);
                let tol = if enc == Encoding::I8 { 2e-2 } else { 1e-4 };
                assert!((out.log_likelihoods()[k] - expect).abs() < tol);
            }
            // Bytes work the same way: 230/255 is the brightest.
            let v = model
                .annotate(&[10u8, 20, 230, 0], &[], &mut s, &mut out)
                .unwrap();
            assert_eq!(v, Verdict::Label(2));
            assert_eq!(out.mu().len(), 4);
        }
    }

    #[test]
    fn answers_unknown_below_the_threshold() {
        let mut m = identity_model(Encoding::F32);
        // A one-hot image scores -2 ln 2π ≈ -3.676; the black image -2 ln 2π - 0.5 ≈ -4.176.
        m.threshold = -4.0;
        let blob = m.blob();
        let model = Model::from_bytes(&blob).unwrap();
        assert_eq!(model.unknown_threshold(), -4.0);
        let (mut a, mut q) = scratch_bufs(&model);
        let mut s = Scratch::new(&mut a, &mut q);
        let mut out = AnnotateOut::new();
        let v = model
            .annotate(&[0.0f32, 0.0, 1.0, 0.0], &[], &mut s, &mut out)
            .unwrap();
        assert_eq!(v, Verdict::Label(2));
        let v = model.annotate(&[0.0f32; 4], &[], &mut s, &mut out).unwrap();
        assert_eq!(v, Verdict::Unknown { nearest: Some(0) });
        assert_eq!(out.best(), Some(0));
        // The posteriors are still there for an unknown image.
        assert!((out.posteriors()[0] - 0.25).abs() < 1e-6);
    }

    #[test]
    fn extra_labels_follow_the_model_labels() {
        let m = identity_model(Encoding::F32);
        let blob = m.blob();
        let model = Model::from_bytes(&blob).unwrap();
        let (mut a, mut q) = scratch_bufs(&model);
        let mut s = Scratch::new(&mut a, &mut q);
        let mut out = AnnotateOut::new();
        let centre = LabelGaussian::new(&[0.5; 4], &[-3.0; 4]).unwrap();
        let v = model
            .annotate(&[0.5f32; 4], &[centre], &mut s, &mut out)
            .unwrap();
        assert_eq!(v, Verdict::Label(4));
        assert_eq!(out.log_likelihoods().len(), 5);
        assert_eq!(out.log_likelihoods()[4], centre.log_likelihood(&[0.5; 4]));
    }

    #[test]
    fn no_labels_means_unknown() {
        let mut m = identity_model(Encoding::F32);
        m.set_labels(&[], &[], &[]);
        let blob = m.blob();
        let model = Model::from_bytes(&blob).unwrap();
        assert_eq!(model.label_count(), 0);
        assert_eq!(model.label_name(0), None);
        let (mut a, mut q) = scratch_bufs(&model);
        let mut s = Scratch::new(&mut a, &mut q);
        let mut out = AnnotateOut::new();
        let v = model.annotate(&[0.5f32; 4], &[], &mut s, &mut out).unwrap();
        assert_eq!(v, Verdict::Unknown { nearest: None });
        assert!(out.posteriors().is_empty());
    }
}
