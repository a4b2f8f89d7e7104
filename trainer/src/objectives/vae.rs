//! The variational pieces the baseline objectives are assembled from: Gaussian encoders
//! with their backward pass, the reparameterised sample, the KL to the `N(0, I)` prior, a
//! Bernoulli image decoder and a softmax label decoder. Every backward function **adds**
//! into the gradients it is given.

use crate::nn::dense::Dense;
use crate::nn::loss::{bce_with_logits, softmax_ce};
use crate::nn::mlp::{Mlp, MlpCache};
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis, CowArray, Ix2, concatenate, s};

/// `[a, b]`, row by row (an image with its label vector, a latent code with its label).
pub fn concat(a: ArrayView2<f32>, b: ArrayView2<f32>) -> Array2<f32> {
    concatenate(Axis(1), &[a, b]).expect("same number of rows")
}

/// `[x, l]` when label vectors `l` are given (the CVAE's inputs), else `x` itself.
pub fn with_labels<'a>(
    x: ArrayView2<'a, f32>,
    l: Option<ArrayView2<f32>>,
) -> CowArray<'a, f32, Ix2> {
    match l {
        Some(l) => concat(x, l).into(),
        None => x.into(),
    }
}

/// The label-table rows of the classes `y`.
pub fn gather(table: ArrayView2<f32>, y: &[u8]) -> Array2<f32> {
    Array2::from_shape_fn((y.len(), table.ncols()), |(i, j)| table[[y[i] as usize, j]])
}

/// Adds the rows of `d` (one per example) into the rows of `dtable` of their classes `y`:
/// the backward pass of [`gather`].
pub fn scatter_add(mut dtable: ArrayViewMut2<f32>, d: ArrayView2<f32>, y: &[u8]) {
    for (row, &c) in d.rows().into_iter().zip(y) {
        let mut t = dtable.row_mut(c as usize);
        t += &row;
    }
}

/// A Gaussian `N(mu, e^lv)` per row.
#[derive(Debug, Clone)]
pub struct Gaussians {
    /// Means, `n × d`.
    pub mu: Array2<f32>,
    /// Log-variances, `n × d`.
    pub lv: Array2<f32>,
}

impl Gaussians {
    /// Zeros shaped like `self`, for gradients.
    pub fn zeros_like(&self) -> Gaussians {
        Gaussians {
            mu: Array2::zeros(self.mu.dim()),
            lv: Array2::zeros(self.lv.dim()),
        }
    }

    /// The reparameterised sample `z = mu + e^(lv/2)·ε`.
    pub fn sample(&self, eps: ArrayView2<f32>) -> Array2<f32> {
        let mut z = eps.to_owned();
        for ((zi, &m), &l) in z.iter_mut().zip(&self.mu).zip(&self.lv) {
            *zi = m + (0.5 * l).exp() * *zi;
        }
        z
    }

    /// Backward pass of [`Gaussians::sample`]: adds `dz` and `dz·ε·e^(lv/2)/2` into `grad`.
    pub fn sample_backward(&self, dz: ArrayView2<f32>, eps: ArrayView2<f32>, grad: &mut Gaussians) {
        for ((((dm, dl), &d), &l), &e) in grad
            .mu
            .iter_mut()
            .zip(grad.lv.iter_mut())
            .zip(dz)
            .zip(&self.lv)
            .zip(eps)
        {
            *dm += d;
            *dl += d * e * 0.5 * (0.5 * l).exp();
        }
    }

    /// `Σ KL(N(mu, e^lv) ‖ N(0, I))` over rows and dimensions; adds `scale` times its
    /// gradient into `grad`.
    pub fn kl_prior(&self, grad: &mut Gaussians, scale: f32) -> f64 {
        let mut total = 0.0f64;
        for (((&m, &l), dm), dl) in self
            .mu
            .iter()
            .zip(&self.lv)
            .zip(grad.mu.iter_mut())
            .zip(grad.lv.iter_mut())
        {
            let v = l.exp();
            total += 0.5 * (v + m * m - 1.0 - l) as f64;
            *dm += scale * m;
            *dl += scale * 0.5 * (v - 1.0);
        }
        total
    }

    /// The rows of the classes `y` (a label table's Gaussians, picked per example).
    pub fn gather(&self, y: &[u8]) -> Gaussians {
        Gaussians {
            mu: gather(self.mu.view(), y),
            lv: gather(self.lv.view(), y),
        }
    }
}

/// A Gaussian encoder: an optional ReLU trunk, then a mean and a log-variance head.
#[derive(Debug, Clone, Copy)]
pub struct Encoder<'n> {
    /// Trunk (`None`: the heads read the input directly, as the label encoder does).
    pub trunk: Option<&'n Mlp>,
    /// Mean head.
    pub mu: &'n Dense,
    /// Log-variance head.
    pub lv: &'n Dense,
}

impl Encoder<'_> {
    /// `q(z|input)` for every row; the trunk's activations stay in `cache`.
    pub fn forward(&self, p: &[f32], input: ArrayView2<f32>, cache: &mut MlpCache) -> Gaussians {
        let h = match self.trunk {
            Some(t) => t.forward(p, input, cache),
            None => input,
        };
        let mut out = Gaussians {
            mu: Array2::zeros((h.nrows(), self.mu.n_out)),
            lv: Array2::zeros((h.nrows(), self.lv.n_out)),
        };
        self.mu.forward(p, h, out.mu.view_mut());
        self.lv.forward(p, h, out.lv.view_mut());
        out
    }

    /// Backward pass of the last [`Encoder::forward`] on `input`, from the gradient with
    /// respect to its Gaussians.
    pub fn backward(
        &self,
        p: &[f32],
        g: &mut [f32],
        input: ArrayView2<f32>,
        cache: &mut MlpCache,
        grad: &Gaussians,
    ) {
        let Some(trunk) = self.trunk else {
            self.mu.backward(p, g, input, grad.mu.view(), None);
            self.lv.backward(p, g, input, grad.lv.view(), None);
            return;
        };
        let h = cache.output();
        let mut dh = Array2::zeros(h.dim());
        let mut dh2 = Array2::zeros(h.dim());
        self.mu
            .backward(p, g, h, grad.mu.view(), Some(dh.view_mut()));
        self.lv
            .backward(p, g, h, grad.lv.view(), Some(dh2.view_mut()));
        dh += &dh2;
        trunk.backward(p, g, input, cache, dh.view(), None);
    }
}

/// `Σ BCE(x, σ(dec(z)))` of a Bernoulli decoder, adding `scale` times its gradient with
/// respect to `z` into `dz` (and into the parameters).
pub fn decode_bce(
    dec: &Mlp,
    p: &[f32],
    g: &mut [f32],
    z: ArrayView2<f32>,
    x: ArrayView2<f32>,
    scale: f32,
    mut dz: ArrayViewMut2<f32>,
) -> f64 {
    let mut cache = MlpCache::default();
    let logits = dec.forward(p, z, &mut cache);
    let mut dlogits = Array2::zeros(logits.dim());
    let bce = bce_with_logits(logits, x, Some(dlogits.view_mut()), scale, None);
    let mut dzi = Array2::zeros(z.dim());
    dec.backward(p, g, z, &mut cache, dlogits.view(), Some(dzi.view_mut()));
    dz += &dzi;
    bce
}

/// `Σ −log softmax(dec(z))[y]` of a one-layer label decoder, adding `scale` times its
/// gradient with respect to `z` into `dz` (and into the parameters).
pub fn decode_ce(
    dec: &Dense,
    p: &[f32],
    g: &mut [f32],
    z: ArrayView2<f32>,
    y: &[u8],
    scale: f32,
    mut dz: ArrayViewMut2<f32>,
) -> f64 {
    let mut logits = Array2::zeros((z.nrows(), dec.n_out));
    dec.forward(p, z, logits.view_mut());
    let mut dlogits = Array2::zeros(logits.dim());
    let ce = softmax_ce(logits.view(), y, Some(dlogits.view_mut()), scale);
    let mut dzi = Array2::zeros(z.dim());
    dec.backward(p, g, z, dlogits.view(), Some(dzi.view_mut()));
    dz += &dzi;
    ce
}

/// The latent columns of a gradient with respect to `[z, l]`.
pub fn latent_part(dzl: &Array2<f32>, d: usize) -> ArrayView2<'_, f32> {
    dzl.slice(s![.., ..d])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::gradcheck::check;
    use crate::nn::loss::{KlGrads, kl_diag};

    #[test]
    fn kl_prior_is_kl_diag_against_the_standard_normal() {
        let q = Gaussians {
            mu: Array2::from_shape_vec((2, 2), vec![0.5, -1.0, 0.0, 2.0]).unwrap(),
            lv: Array2::from_shape_vec((2, 2), vec![0.0, 0.3, -0.7, 1.1]).unwrap(),
        };
        let zero = Array2::zeros((2, 2));
        let mut gd = [(); 4].map(|_| Array2::<f32>::zeros((2, 2)));
        let [a, b, c, d] = &mut gd;
        let want = kl_diag(
            q.mu.view(),
            q.lv.view(),
            zero.view(),
            zero.view(),
            Some(KlGrads {
                mu_q: a.view_mut(),
                lv_q: b.view_mut(),
                mu_p: c.view_mut(),
                lv_p: d.view_mut(),
            }),
            0.5,
        );
        let mut g = q.zeros_like();
        let got = q.kl_prior(&mut g, 0.5);
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        // By hand: row 0, dim 0 is 0.5·(1 + 0.25 − 1 − 0) = 0.125.
        let one = Gaussians {
            mu: q.mu.slice(s![..1, ..1]).to_owned(),
            lv: q.lv.slice(s![..1, ..1]).to_owned(),
        };
        assert!((one.kl_prior(&mut one.zeros_like(), 1.0) - 0.125).abs() < 1e-7);
        assert_eq!(g.mu, gd[0]);
        assert_eq!(g.lv, gd[1]);
    }

    #[test]
    fn sample_backward_matches_finite_differences() {
        let eps = Array2::from_shape_vec((1, 3), vec![0.3f32, -1.2, 0.8]).unwrap();
        let weights = [0.7f32, -0.4, 1.5];
        let f = |v: &[f32]| {
            let q = Gaussians {
                mu: Array2::from_shape_vec((1, 3), v[..3].to_vec()).unwrap(),
                lv: Array2::from_shape_vec((1, 3), v[3..].to_vec()).unwrap(),
            };
            let z = q.sample(eps.view());
            z.iter().zip(weights).map(|(a, w)| a * w).sum::<f32>()
        };
        let mut v = vec![0.1f32, -0.5, 0.9, 0.2, -0.3, 0.6];
        let q = Gaussians {
            mu: Array2::from_shape_vec((1, 3), v[..3].to_vec()).unwrap(),
            lv: Array2::from_shape_vec((1, 3), v[3..].to_vec()).unwrap(),
        };
        let mut g = q.zeros_like();
        let dz = Array2::from_shape_vec((1, 3), weights.to_vec()).unwrap();
        q.sample_backward(dz.view(), eps.view(), &mut g);
        let analytic: Vec<f32> = g.mu.iter().chain(&g.lv).copied().collect();
        check("sample", &analytic, &mut v, f);
    }

    #[test]
    fn gather_and_scatter_add_are_adjoint() {
        let table = Array2::from_shape_fn((3, 2), |(i, j)| (i * 2 + j) as f32);
        let y = [2u8, 0, 2];
        let rows = gather(table.view(), &y);
        assert_eq!(rows.row(0).to_vec(), vec![4.0, 5.0]);
        assert_eq!(rows.row(1).to_vec(), vec![0.0, 1.0]);
        let mut dt = Array2::zeros((3, 2));
        scatter_add(dt.view_mut(), Array2::ones((3, 2)).view(), &y);
        assert_eq!(dt.column(0).to_vec(), vec![1.0, 0.0, 2.0]);
        let zl = concat(rows.view(), table.slice(s![.., ..1]));
        assert_eq!(zl.row(2).to_vec(), vec![4.0, 5.0, 4.0]);
    }
}
