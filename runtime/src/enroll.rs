//! Enrollment: a new label Gaussian from a few encoded images, on the device, without
//! retraining, kept in a caller-owned fixed-capacity [`LabelTable`].
//!
//! The variance estimate moment-matches the mixture of the images' own Gaussians
//! `(1/n) Σ N(mu_i, diag var_i)`: per dimension,
//!
//! ```text
//! mean = (1/n) Σ mu_i
//! var  = max(floor, (1/n) Σ exp(logvar_i)  +  (1/n) Σ (mu_i − mean)²)
//!        (images' own variance)          (spread of their means, population form)
//! logvar = logf(var)
//! ```
//!
//! The mean and spread are accumulated with Welford's update in the order the images come,
//! so host and device agree bit for bit. With one image the label is that image's posterior.
//! The floor (default [`DEFAULT_VAR_FLOOR`]) keeps a label enrolled from near-identical
//! images from becoming a spike that no other image of the class can reach.
//!
//! From a handful of images that variance is a poor estimate (one image gives only its own
//! posterior variance, far narrower than a class). [`Enroller::finish_with_prior`] shrinks
//! it toward a prior variance `p` (typically [`Model::mean_label_variance`], what the
//! model's own classes look like) as if `w` more images had that variance:
//!
//! ```text
//! var = max(floor, (n v + w p) / (n + w))        v = the estimate above
//! ```

use crate::image::Image;
use crate::labels::LabelGaussian;
use crate::model::Scratch;
use crate::{Error, MAX_LATENT, Model};

/// Default variance floor for [`Enroller::finish`]: `1e-3` (the latent prior is `N(0, 1)`).
pub const DEFAULT_VAR_FLOOR: f32 = 1e-3;

/// Accumulates encoded images (their `mu` and `logvar`) into a label Gaussian.
#[derive(Clone, Debug)]
pub struct Enroller {
    dim: usize,
    n: u32,
    mean: [f32; MAX_LATENT],
    m2: [f32; MAX_LATENT],
    var_sum: [f32; MAX_LATENT],
}

impl Enroller {
    /// An empty accumulator for dimension `dim` (`1..=`[`MAX_LATENT`]).
    pub fn new(dim: usize) -> Result<Self, Error> {
        if dim == 0 || dim > MAX_LATENT {
            return Err(Error::DimensionOutOfRange {
                dim: crate::error::Dim::Latent,
                found: dim,
                max: MAX_LATENT,
            });
        }
        Ok(Enroller {
            dim,
            n: 0,
            mean: [0.0; MAX_LATENT],
            m2: [0.0; MAX_LATENT],
            var_sum: [0.0; MAX_LATENT],
        })
    }

    /// Adds one encoded image.
    pub fn add(&mut self, mu: &[f32], logvar: &[f32]) -> Result<(), Error> {
        for len in [mu.len(), logvar.len()] {
            if len != self.dim {
                return Err(Error::WrongInputLength {
                    expected: self.dim,
                    got: len,
                });
            }
        }
        self.n = self.n.saturating_add(1);
        let k = self.n as f32;
        for ((((mean, m2), vs), &x), &lv) in self
            .mean
            .iter_mut()
            .zip(self.m2.iter_mut())
            .zip(self.var_sum.iter_mut())
            .zip(mu)
            .zip(logvar)
        {
            let delta = x - *mean;
            *mean += delta / k;
            *m2 += delta * (x - *mean);
            *vs += libm::expf(lv);
        }
        Ok(())
    }

    /// Number of images added.
    pub const fn count(&self) -> usize {
        self.n as usize
    }

    /// The label Gaussian (see the module docs); `var_floor` must be positive and finite.
    pub fn finish(&self, var_floor: f32) -> Result<LabelGaussian, Error> {
        self.finish_impl(var_floor, None)
    }

    /// The label Gaussian with its variance shrunk toward `prior_var` (length `d`, positive
    /// and finite) with the weight of `prior_weight` images (finite, `>= 0`; 0 gives
    /// [`Enroller::finish`]); see the module docs.
    pub fn finish_with_prior(
        &self,
        var_floor: f32,
        prior_var: &[f32],
        prior_weight: f32,
    ) -> Result<LabelGaussian, Error> {
        if prior_var.len() != self.dim {
            return Err(Error::WrongInputLength {
                expected: self.dim,
                got: prior_var.len(),
            });
        }
        let usable = |p: &f32| *p > 0.0 && p.is_finite();
        if !(prior_weight >= 0.0 && prior_weight.is_finite() && prior_var.iter().all(usable)) {
            return Err(Error::InvalidPrior);
        }
        self.finish_impl(var_floor, Some((prior_var, prior_weight)))
    }

    fn finish_impl(
        &self,
        var_floor: f32,
        prior: Option<(&[f32], f32)>,
    ) -> Result<LabelGaussian, Error> {
        if !(var_floor > 0.0 && var_floor.is_finite()) {
            return Err(Error::InvalidVarianceFloor);
        }
        if self.n == 0 {
            return Err(Error::NoSamples);
        }
        let n = self.n as f32;
        let mut logvar = [0.0f32; MAX_LATENT];
        for (i, ((lv, m2), vs)) in logvar
            .iter_mut()
            .zip(&self.m2)
            .zip(&self.var_sum)
            .enumerate()
        {
            let mut var = *vs / n + *m2 / n;
            // Weight 0 leaves `var` untouched (bit for bit what `finish` gives).
            if let Some((p, w)) = prior.filter(|&(_, w)| w > 0.0) {
                let pv = p.get(i).copied().unwrap_or(var);
                var = (n * var + w * pv) / (n + w);
            }
            *lv = libm::logf(if var > var_floor { var } else { var_floor });
        }
        let d = self.dim;
        LabelGaussian::new(
            self.mean.get(..d).unwrap_or_default(),
            logvar.get(..d).unwrap_or_default(),
        )
    }
}

/// Enrolls a label from encoded images `(mu, logvar)` of dimension `dim`, with the
/// variance floor `var_floor`.
pub fn enroll<'x, I>(dim: usize, samples: I, var_floor: f32) -> Result<LabelGaussian, Error>
where
    I: IntoIterator<Item = (&'x [f32], &'x [f32])>,
{
    let mut e = Enroller::new(dim)?;
    for (mu, logvar) in samples {
        e.add(mu, logvar)?;
    }
    e.finish(var_floor)
}

/// A caller-owned table of up to `N` extra labels (enrolled, or from word vectors) that
/// [`Model::annotate`] scores after the model's own labels.
#[derive(Clone, Debug)]
pub struct LabelTable<const N: usize> {
    items: [LabelGaussian; N],
    len: usize,
}

impl<const N: usize> Default for LabelTable<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> LabelTable<N> {
    /// An empty table.
    pub const fn new() -> Self {
        LabelTable {
            items: [LabelGaussian::EMPTY; N],
            len: 0,
        }
    }

    /// Appends `label` and returns its index within the table
    /// ([`Error::TableFull`] when `N` labels are held).
    pub fn push(&mut self, label: LabelGaussian) -> Result<usize, Error> {
        let index = self.len;
        let slot = self
            .items
            .get_mut(index)
            .ok_or(Error::TableFull { capacity: N })?;
        *slot = label;
        self.len = index.saturating_add(1);
        Ok(index)
    }

    /// The labels held.
    pub fn as_slice(&self) -> &[LabelGaussian] {
        self.items.get(..self.len).unwrap_or_default()
    }

    /// Label `index` of the table.
    pub fn get(&self, index: usize) -> Option<&LabelGaussian> {
        self.as_slice().get(index)
    }

    /// Number of labels held.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether the table is empty.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Capacity `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Removes every label.
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

impl Model<'_> {
    /// An [`Enroller`] for this model's latent size.
    pub fn enroller(&self) -> Enroller {
        // The latent size of a validated model is in range, so `new` succeeds; the fallback
        // is never taken.
        Enroller::new(self.latent_dim()).unwrap_or(Enroller {
            dim: 0,
            n: 0,
            mean: [0.0; MAX_LATENT],
            m2: [0.0; MAX_LATENT],
            var_sum: [0.0; MAX_LATENT],
        })
    }

    /// The mean over the model's labels of each dimension's variance `expf(logvar)`: a
    /// prior for [`Enroller::finish_with_prior`]. Writes `d` values into `out`
    /// ([`Error::NoSamples`] when the model has no labels).
    pub fn mean_label_variance(&self, out: &mut [f32]) -> Result<(), Error> {
        let d = self.latent_dim();
        if out.len() != d {
            return Err(Error::WrongOutputLength {
                expected: d,
                got: out.len(),
            });
        }
        let n = self.label_count();
        if n == 0 {
            return Err(Error::NoSamples);
        }
        out.fill(0.0);
        for i in 0..n {
            let g = self.label(i)?;
            for (o, lv) in out.iter_mut().zip(g.logvar()) {
                *o += libm::expf(*lv);
            }
        }
        for o in out.iter_mut() {
            *o /= n as f32;
        }
        Ok(())
    }

    /// Encodes `image` and adds it to `enroller`.
    pub fn enroll_image<'x>(
        &self,
        enroller: &mut Enroller,
        image: impl Into<Image<'x>>,
        scratch: &mut Scratch<'_>,
    ) -> Result<(), Error> {
        let d = self.latent_dim();
        let mut mu = [0.0f32; MAX_LATENT];
        let mut logvar = [0.0f32; MAX_LATENT];
        let mu = mu.get_mut(..d).unwrap_or_default();
        let logvar = logvar.get_mut(..d).unwrap_or_default();
        self.encode(image, scratch, mu, logvar)?;
        enroller.add(mu, logvar)
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
    use crate::annotate::{AnnotateOut, Verdict};
    use crate::generate::Sample;
    use crate::payload::Encoding;
    use crate::testutil::{identity_model, scratch_bufs};

    #[test]
    fn variance_is_own_variance_plus_spread() {
        let a = ([0.0f32, 0.0], [0.0f32, 0.0]);
        let b = ([2.0f32, 0.0], [libm::logf(3.0), 0.0]);
        let g = enroll(2, [(&a.0[..], &a.1[..]), (&b.0[..], &b.1[..])], 1e-3).unwrap();
        assert_eq!(g.mu(), &[1.0, 0.0]);
        // dim 0: (1 + 3)/2 + ((0-1)² + (2-1)²)/2 = 3; dim 1: 1 + 0 = 1.
        assert!((libm::expf(g.logvar()[0]) - 3.0).abs() < 1e-5);
        assert_eq!(g.logvar()[1], 0.0);
        assert_eq!(g, LabelGaussian::new(g.mu(), g.logvar()).unwrap());
    }

    #[test]
    fn floor_and_errors() {
        let tight = ([1.0f32], [-30.0f32]);
        let g = enroll(1, [(&tight.0[..], &tight.1[..]); 3], 0.01).unwrap();
        assert_eq!(g.logvar()[0], libm::logf(0.01));
        assert_eq!(enroll(1, [], 0.01), Err(Error::NoSamples));
        assert_eq!(
            enroll(1, [(&tight.0[..], &tight.1[..])], 0.0),
            Err(Error::InvalidVarianceFloor)
        );
        assert_eq!(
            enroll(1, [(&tight.0[..], &tight.1[..])], f32::NAN),
            Err(Error::InvalidVarianceFloor)
        );
        assert_eq!(
            enroll(2, [(&tight.0[..], &tight.1[..])], 0.01),
            Err(Error::WrongInputLength {
                expected: 2,
                got: 1
            })
        );
        assert!(matches!(
            Enroller::new(65),
            Err(Error::DimensionOutOfRange { .. })
        ));
    }

    #[test]
    fn prior_shrinks_the_variance() {
        let a = ([0.0f32, 0.0], [libm::logf(0.5), 0.0]);
        let e = {
            let mut e = Enroller::new(2).unwrap();
            e.add(&a.0, &a.1).unwrap();
            e
        };
        // One image of variance (0.5, 1) and a prior (2, 1) worth three images:
        // (1·0.5 + 3·2) / 4 = 1.625 and (1 + 3) / 4 = 1.
        let g = e.finish_with_prior(1e-3, &[2.0, 1.0], 3.0).unwrap();
        assert!((libm::expf(g.logvar()[0]) - 1.625).abs() < 1e-6);
        assert_eq!(g.logvar()[1], 0.0);
        assert_eq!(g.mu(), &[0.0, 0.0]);
        let plain = e.finish(1e-3).unwrap();
        let zero = e.finish_with_prior(1e-3, &[2.0, 1.0], 0.0).unwrap();
        assert_eq!(zero.logvar(), plain.logvar());
        // Also where (n·v)/n would round differently from v (n = 3, v = 0.1 + spread).
        let mut e3 = Enroller::new(2).unwrap();
        for x in [0.1f32, 0.2, 0.7] {
            e3.add(&[x, -x], &[libm::logf(0.1), libm::logf(0.3)])
                .unwrap();
        }
        let zero3 = e3.finish_with_prior(1e-3, &[2.0, 1.0], 0.0).unwrap();
        assert_eq!(zero3, e3.finish(1e-3).unwrap());
        for (prior, w) in [
            (&[2.0f32, 1.0][..], -1.0),
            (&[2.0, 1.0], f32::INFINITY),
            (&[0.0, 1.0], 1.0),
            (&[f32::NAN, 1.0], 1.0),
        ] {
            assert_eq!(
                e.finish_with_prior(1e-3, prior, w),
                Err(Error::InvalidPrior)
            );
        }
        assert_eq!(
            e.finish_with_prior(1e-3, &[1.0], 1.0),
            Err(Error::WrongInputLength {
                expected: 2,
                got: 1
            })
        );
    }

    #[test]
    fn mean_label_variance_of_the_identity_model() {
        let m = identity_model(Encoding::F32);
        let blob = m.blob();
        let model = Model::from_bytes(&blob).unwrap();
        let d = model.latent_dim();
        let mut want = [0.0f32; MAX_LATENT];
        for i in 0..model.label_count() {
            for (w, lv) in want.iter_mut().zip(model.label(i).unwrap().logvar()) {
                *w += libm::expf(*lv) / model.label_count() as f32;
            }
        }
        let mut got = [0.0f32; MAX_LATENT];
        model.mean_label_variance(&mut got[..d]).unwrap();
        for (g, w) in got[..d].iter().zip(&want[..d]) {
            assert!((g - w).abs() <= 1e-6 * w.abs(), "{g} vs {w}");
        }
        assert!(matches!(
            model.mean_label_variance(&mut got[..d + 1]),
            Err(Error::WrongOutputLength { .. })
        ));
    }

    #[test]
    fn table_capacity() {
        let mut t = LabelTable::<2>::new();
        let g = LabelGaussian::new(&[0.0], &[0.0]).unwrap();
        assert_eq!(t.push(g), Ok(0));
        assert_eq!(t.push(g), Ok(1));
        assert_eq!(t.push(g), Err(Error::TableFull { capacity: 2 }));
        assert_eq!(t.len(), 2);
        assert_eq!(t.get(1), Some(&g));
        t.clear();
        assert!(t.is_empty());
    }

    /// A class the model never saw (bright top row) is enrolled from three images on the
    /// "device", then annotation recognises new images of it and generation draws it.
    #[test]
    fn enrolled_label_is_recognised() {
        let m = identity_model(Encoding::I8);
        let blob = m.blob();
        let model = Model::from_bytes(&blob).unwrap();
        let (mut a, mut q) = scratch_bufs(&model);
        let mut s = Scratch::new(&mut a, &mut q);
        let mut e = model.enroller();
        for img in [
            [0.8f32, 0.7, 0.0, 0.1],
            [0.7, 0.8, 0.1, 0.0],
            [0.75, 0.75, 0.05, 0.05],
        ] {
            model.enroll_image(&mut e, &img, &mut s).unwrap();
        }
        assert_eq!(e.count(), 3);
        let mut table = LabelTable::<4>::new();
        let idx = table.push(e.finish(DEFAULT_VAR_FLOOR).unwrap()).unwrap();
        assert_eq!(idx, 0);
        let mut out = AnnotateOut::new();
        let v = model
            .annotate(
                &[0.78f32, 0.72, 0.02, 0.03],
                table.as_slice(),
                &mut s,
                &mut out,
            )
            .unwrap();
        assert_eq!(v, Verdict::Label(model.label_count() + idx));
        // The model's own labels still win on their own images.
        let v = model
            .annotate(
                &[0.0f32, 0.0, 0.95, 0.0],
                table.as_slice(),
                &mut s,
                &mut out,
            )
            .unwrap();
        assert_eq!(v, Verdict::Label(2));
        let mut pix = [0f32; 4];
        model
            .generate_from_gaussian(&table.as_slice()[0], Sample::Mean, &mut s, &mut pix)
            .unwrap();
        assert!(pix[0] > pix[2] && pix[1] > pix[3]);
    }
}
