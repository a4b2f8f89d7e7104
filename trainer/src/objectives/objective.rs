//! Every model's objective behind one call, so training runs every kind through one loop.

use crate::nn::model::{Kind, Net};
use crate::objectives::batch::Batch;
use crate::objectives::pse::{self, Terms, Weights, Workspace};
use crate::objectives::{cvae, jmvae, scan, trelbo};
use ndarray::ArrayView2;

/// Forward and backward pass of `net`'s objective on one batch.
///
/// `labels` is the label table, `y` the class of each image, and `eps` standard-normal
/// noise: [`Kind::noise_draws`] blocks of `n × d` rows, one per sampled posterior. Gradients
/// are **added** into `g`; the returned terms are per-example means, and
/// [`Terms::total`] is the minimised loss. With `target`, PSE and PSE* reconstruct it
/// instead of `x` ([`pse::loss_and_grad_to`]); the baselines take no target.
#[allow(clippy::too_many_arguments)]
pub fn loss_and_grad(
    net: &Net,
    p: &[f32],
    g: &mut [f32],
    labels: ArrayView2<f32>,
    x: ArrayView2<f32>,
    target: Option<ArrayView2<f32>>,
    y: &[u8],
    eps: ArrayView2<f32>,
    w: Weights,
    ws: &mut Workspace,
) -> Terms {
    let b = Batch { labels, x, y, eps };
    let kind = net.arch.kind;
    assert!(
        target.is_none() || !kind.is_baseline(),
        "{} reconstructs its own input",
        kind.paper_name()
    );
    match kind {
        Kind::Pse | Kind::PseStar => {
            let t = target.unwrap_or(x);
            pse::loss_and_grad_to(net, p, g, labels, x, t, y, eps, w, ws)
        }
        Kind::Cvae => cvae::loss_and_grad(net, p, g, &b, w),
        Kind::Jmvae => jmvae::loss_and_grad(net, p, g, &b, w),
        Kind::Trelbo => trelbo::loss_and_grad(net, p, g, &b, w),
        Kind::Scan => scan::loss_and_grad(net, p, g, &b, w),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::nn::gradcheck::check;
    use crate::nn::model::Arch;
    use crate::nn::rng::{Rng, Stream};
    use crate::objectives::pse::one_hot_table;
    use ndarray::Array2;

    /// A tiny network of `kind` (latent 2, 3 one-hot classes, 6 pixels), its perturbed
    /// initial parameters, label table, batch of 4 and noise.
    pub(crate) struct Tiny {
        pub net: Net,
        pub p: Vec<f32>,
        pub labels: Array2<f32>,
        pub x: Array2<f32>,
        pub y: [u8; 4],
        pub eps: Array2<f32>,
    }

    impl Tiny {
        pub fn batch(&self) -> Batch<'_> {
            Batch {
                labels: self.labels.view(),
                x: self.x.view(),
                y: &self.y,
                eps: self.eps.view(),
            }
        }
    }

    /// [`Tiny`] for `kind`.
    pub(crate) fn tiny(kind: Kind) -> Tiny {
        let net = Net::new(Arch {
            kind,
            latent: 2,
            label_dim: 3,
            classes: 3,
            pixels: 6,
            hidden: [5, 4],
        });
        let p: Vec<f32> = net
            .layout
            .init(3)
            .iter()
            .enumerate()
            // Off zero everywhere: a bias left at exactly 0 can sit on a ReLU's kink.
            .map(|(i, v)| v + 0.02 * ((i % 5) as f32 - 1.5))
            .collect();
        let x = Array2::from_shape_fn((4, 6), |(i, j)| ((i * 6 + j) % 5) as f32 / 4.0);
        let mut eps = Array2::zeros((4 * kind.noise_draws(), 2));
        Rng::new(1, Stream::Noise, 0).fill_normal(eps.as_slice_mut().unwrap());
        Tiny {
            net,
            p,
            labels: one_hot_table(3),
            x,
            y: [0, 2, 1, 2],
            eps,
        }
    }

    /// The terms and gradient of `kind`'s objective with every parameter 0 but the first
    /// two of `offset(net)` (a bias of a 2-D latent head), which are 1; paper weights.
    pub(crate) fn zero_net_but(
        kind: Kind,
        offset: impl Fn(&Net) -> usize,
    ) -> (Tiny, Terms, Vec<f32>) {
        let tn = tiny(kind);
        let mut p = vec![0.0; tn.net.n_params()];
        let b = offset(&tn.net);
        p[b..b + 2].fill(1.0);
        let mut g = vec![0.0; p.len()];
        let w = Weights { kl: 1.0, ce: 1.0 };
        let t = loss_and_grad(
            &tn.net,
            &p,
            &mut g,
            tn.labels.view(),
            tn.x.view(),
            None,
            &tn.y,
            tn.eps.view(),
            w,
            &mut Workspace::default(),
        );
        (tn, t, g)
    }

    /// Checks the objective's gradient against central differences of [`Terms::total`].
    pub(crate) fn check_objective(kind: Kind) {
        let t = tiny(kind);
        let (net, p, b) = (&t.net, &t.p, t.batch());
        let w = Weights { kl: 0.7, ce: 1.3 };
        let mut g = vec![0.0; p.len()];
        let run = |p: &[f32], g: &mut [f32]| {
            let mut ws = Workspace::default();
            loss_and_grad(net, p, g, b.labels, b.x, None, b.y, b.eps, w, &mut ws)
        };
        run(p, &mut g);
        let mut scratch = vec![0.0; p.len()];
        check(kind.paper_name(), &g, &mut p.clone(), |p| {
            run(p, &mut scratch).total(w) as f32
        });
    }

    #[test]
    fn pse_gradients_match_through_the_dispatch() {
        check_objective(Kind::Pse);
        check_objective(Kind::PseStar);
    }
}
