//! Generation: pick a latent point from a label Gaussian (its mean, or a seeded sample) and
//! decode it; interpolate between labels; turn a word vector into a label Gaussian through
//! the label encoder.
//!
//! A seeded sample is `z_i = mu_i + expf(0.5 * logvar_i) * n_i` with `n_0, n_1, …` the
//! successive [`Rng::normal`] draws of `Rng::new(seed)`, so a seed gives the same image on
//! every target.

use crate::labels::LabelGaussian;
use crate::model::Scratch;
use crate::rng::Rng;
use crate::{Error, MAX_LATENT, Model};

/// Which point of a label Gaussian to decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sample {
    /// The mean.
    Mean,
    /// A random draw with this seed.
    Seed(u64),
}

/// Writes a point of `N(mu, diag exp(logvar))` into `z` (all three the same length; extra
/// elements of longer slices are ignored).
pub fn sample_latent(mu: &[f32], logvar: &[f32], sample: Sample, z: &mut [f32]) {
    match sample {
        Sample::Mean => {
            for (zi, m) in z.iter_mut().zip(mu) {
                *zi = *m;
            }
        }
        Sample::Seed(seed) => {
            let mut rng = Rng::new(seed);
            for ((zi, m), lv) in z.iter_mut().zip(mu).zip(logvar) {
                *zi = *m + libm::expf(0.5 * *lv) * rng.normal();
            }
        }
    }
}

/// `out_i = (1 - t) * a_i + t * b_i`.
pub fn lerp(a: &[f32], b: &[f32], t: f32, out: &mut [f32]) {
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        *o = (1.0 - t) * *x + t * *y;
    }
}

impl Model<'_> {
    /// Decodes a point of model label `label`'s Gaussian into `out` (`width * height`).
    pub fn generate(
        &self,
        label: usize,
        sample: Sample,
        scratch: &mut Scratch<'_>,
        out: &mut [f32],
    ) -> Result<(), Error> {
        let g = self.label(label)?;
        self.generate_from_gaussian(&g, sample, scratch, out)
    }

    /// Decodes a point of any label Gaussian of dimension `d` (an enrolled label, or one
    /// from [`Model::gaussian_from_vector`]).
    pub fn generate_from_gaussian(
        &self,
        label: &LabelGaussian,
        sample: Sample,
        scratch: &mut Scratch<'_>,
        out: &mut [f32],
    ) -> Result<(), Error> {
        let d = self.latent_dim();
        if label.dim() != d {
            return Err(Error::LatentMismatch {
                expected: d,
                found: label.dim(),
            });
        }
        let mut z = [0.0f32; MAX_LATENT];
        let z = z.get_mut(..d).unwrap_or_default();
        sample_latent(label.mu(), label.logvar(), sample, z);
        self.decode(z, scratch, out)
    }

    /// Decodes `(1 - t) * mu_a + t * mu_b` for model labels `a` and `b`.
    pub fn interpolate(
        &self,
        a: usize,
        b: usize,
        t: f32,
        scratch: &mut Scratch<'_>,
        out: &mut [f32],
    ) -> Result<(), Error> {
        let (ga, gb) = (self.label(a)?, self.label(b)?);
        self.interpolate_gaussians(&ga, &gb, t, scratch, out)
    }

    /// Decodes `(1 - t) * a.mu + t * b.mu` for any two label Gaussians of dimension `d`.
    pub fn interpolate_gaussians(
        &self,
        a: &LabelGaussian,
        b: &LabelGaussian,
        t: f32,
        scratch: &mut Scratch<'_>,
        out: &mut [f32],
    ) -> Result<(), Error> {
        let d = self.latent_dim();
        if let Some(g) = [a, b].into_iter().find(|g| g.dim() != d) {
            return Err(Error::LatentMismatch {
                expected: d,
                found: g.dim(),
            });
        }
        let mut z = [0.0f32; MAX_LATENT];
        let z = z.get_mut(..d).unwrap_or_default();
        lerp(a.mu(), b.mu(), t, z);
        self.decode(z, scratch, out)
    }

    /// `q(z|l)` for a label vector (word embedding) of length [`Model::word_dim`], through
    /// the label encoder. The result can be decoded ([`Model::generate_from_gaussian`]) or
    /// used as an extra label in [`Model::annotate`] (zero-shot labels).
    pub fn gaussian_from_vector(
        &self,
        word: &[f32],
        scratch: &mut Scratch<'_>,
    ) -> Result<LabelGaussian, Error> {
        let Some(enc) = &self.payload().label_encoder else {
            return Err(Error::NoLabelEncoder);
        };
        let k = enc.mu.in_dim as usize;
        if word.len() != k {
            return Err(Error::WrongInputLength {
                expected: k,
                got: word.len(),
            });
        }
        self.check_scratch(scratch)?;
        let d = self.latent_dim();
        let mut mu = [0.0f32; MAX_LATENT];
        let mut logvar = [0.0f32; MAX_LATENT];
        let mu = mu.get_mut(..d).unwrap_or_default();
        let logvar = logvar.get_mut(..d).unwrap_or_default();
        enc.mu.apply(word, mu, scratch.quant);
        enc.logvar.apply(word, logvar, scratch.quant);
        LabelGaussian::new(mu, logvar)
    }

    /// Decodes a point of the Gaussian the label encoder gives for `word`.
    pub fn generate_from_vector(
        &self,
        word: &[f32],
        sample: Sample,
        scratch: &mut Scratch<'_>,
        out: &mut [f32],
    ) -> Result<(), Error> {
        let g = self.gaussian_from_vector(word, scratch)?;
        self.generate_from_gaussian(&g, sample, scratch, out)
    }
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
    use crate::testutil::{OwnedModel, Spec, identity_model, scratch_bufs};
    use std::vec;

    #[test]
    fn deterministic_per_seed() {
        for enc in [Encoding::F32, Encoding::F16, Encoding::I8] {
            let m = OwnedModel::random(&Spec::tiny(enc), 8);
            let blob = m.blob();
            let model = Model::from_bytes(&blob).unwrap();
            let (mut a, mut q) = scratch_bufs(&model);
            let mut s = Scratch::new(&mut a, &mut q);
            let (mut x, mut y, mut z) = (vec![0f32; 16], vec![0f32; 16], vec![0f32; 16]);
            model.generate(1, Sample::Seed(7), &mut s, &mut x).unwrap();
            model.generate(1, Sample::Seed(7), &mut s, &mut y).unwrap();
            model.generate(1, Sample::Seed(8), &mut s, &mut z).unwrap();
            let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<std::vec::Vec<_>>();
            assert_eq!(bits(&x), bits(&y));
            assert_ne!(bits(&x), bits(&z));
            assert!(x.iter().all(|p| (0.0..=1.0).contains(p)));
            // The mean is decode(mu).
            model.generate(1, Sample::Mean, &mut s, &mut x).unwrap();
            let g = model.label(1).unwrap();
            model.decode(g.mu(), &mut s, &mut y).unwrap();
            assert_eq!(bits(&x), bits(&y));
        }
    }

    #[test]
    fn seeded_sample_follows_the_documented_formula() {
        let mu = [0.5f32, -1.0, 2.0];
        let lv = [0.0f32, -2.0, 1.0];
        let mut z = [0f32; 3];
        sample_latent(&mu, &lv, Sample::Seed(3), &mut z);
        let mut rng = Rng::new(3);
        for i in 0..3 {
            let e = mu[i] + libm::expf(0.5 * lv[i]) * rng.normal();
            assert_eq!(z[i].to_bits(), e.to_bits());
        }
    }

    #[test]
    fn interpolation_ends_at_the_labels() {
        let m = identity_model(Encoding::F32);
        let blob = m.blob();
        let model = Model::from_bytes(&blob).unwrap();
        let (mut a, mut q) = scratch_bufs(&model);
        let mut s = Scratch::new(&mut a, &mut q);
        let (mut x, mut y) = ([0f32; 4], [0f32; 4]);
        model.interpolate(0, 3, 0.0, &mut s, &mut x).unwrap();
        model.generate(0, Sample::Mean, &mut s, &mut y).unwrap();
        assert_eq!(x, y);
        model.interpolate(0, 3, 1.0, &mut s, &mut x).unwrap();
        model.generate(3, Sample::Mean, &mut s, &mut y).unwrap();
        assert_eq!(x, y);
        // Halfway: z = (0.5, 0, 0, 0.5), decoder = sigmoid(z).
        model.interpolate(0, 3, 0.5, &mut s, &mut x).unwrap();
        let s5 = 1.0 / (1.0 + libm::expf(-0.5));
        assert_eq!(x, [s5, 0.5, 0.5, s5]);
        assert_eq!(
            model.interpolate(0, 4, 0.5, &mut s, &mut x),
            Err(Error::UnknownLabel { index: 4, count: 4 })
        );
    }

    #[test]
    fn word_vectors_go_through_the_label_encoder() {
        // The identity model's label encoder maps a word vector w to N(w, I).
        let m = identity_model(Encoding::F32);
        let blob = m.blob();
        let model = Model::from_bytes(&blob).unwrap();
        let (mut a, mut q) = scratch_bufs(&model);
        let mut s = Scratch::new(&mut a, &mut q);
        let w = [0.0f32, 2.0, 0.0, -1.0];
        let g = model.gaussian_from_vector(&w, &mut s).unwrap();
        assert_eq!(g.mu(), &w);
        assert_eq!(g.logvar(), &[0.0; 4]);
        let (mut x, mut y) = ([0f32; 4], [0f32; 4]);
        model
            .generate_from_vector(&w, Sample::Seed(5), &mut s, &mut x)
            .unwrap();
        let mut z = [0f32; 4];
        sample_latent(&w, &[0.0; 4], Sample::Seed(5), &mut z);
        model.decode(&z, &mut s, &mut y).unwrap();
        assert_eq!(x, y);
    }
}
