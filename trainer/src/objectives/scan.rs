//! The SCAN baseline (Higgins et al.; paper section 3): a β-VAE with β = [`BETA`] learns the
//! image posteriors, and the label encoder learns each label's Gaussian by fitting them
//! without moving them:
//!
//! `loss = BCE(x, Dec(z)) + β_sched·[BETA·KL(q(z|x) ‖ N(0, I)) + KL(⌊q(z|x)⌋ ‖ q(z|l))]`,
//! `z ~ q(z|x)`, where `⌊·⌋` stops the gradient. SCAN trains its β-VAE first; here both
//! parts train in one run, which is the same thing for the β-VAE (nothing flows back into
//! it) and lets the one-layer label encoder track the posteriors as they settle.

use crate::nn::mlp::MlpCache;
use crate::nn::model::Net;
use crate::objectives::batch::Batch;
use crate::objectives::jmvae::kl_between;
use crate::objectives::pse::{Terms, Weights};
use crate::objectives::vae::{Encoder, Gaussians, decode_bce, scatter_add};
use ndarray::{Array2, ArrayView2};

/// β of the β-VAE (the paper's appendix A: 10).
pub const BETA: f32 = 10.0;

/// Forward and backward pass on one batch (arguments as in [`crate::objectives::pse::loss_and_grad`]);
/// gradients are added into `g`, the terms are per-example means.
pub fn loss_and_grad(net: &Net, p: &[f32], g: &mut [f32], b: &Batch, w: Weights) -> Terms {
    let (labels, x, y, eps) = (b.labels, b.x, b.y, b.eps);
    let inv_n = 1.0 / x.nrows() as f32;
    let (bce, prior, qx) = beta_vae(net, p, g, x, eps, inv_n, inv_n * w.kl);
    let concept = concept(net, p, g, labels, y, &qx, inv_n * w.kl);
    Terms::means(bce, BETA as f64 * prior + concept, 0.0, x.nrows())
}

/// The β-VAE part: summed BCE and KL to the prior, and the posteriors `q(z|x)`.
fn beta_vae(
    net: &Net,
    p: &[f32],
    g: &mut [f32],
    x: ArrayView2<f32>,
    eps: ArrayView2<f32>,
    scale: f32,
    kl_scale: f32,
) -> (f64, f64, Gaussians) {
    let enc = Encoder {
        trunk: Some(&net.enc),
        mu: &net.enc_mu,
        lv: &net.enc_lv,
    };
    let mut cache = MlpCache::default();
    let q = enc.forward(p, x, &mut cache);
    let z = q.sample(eps);
    let mut dz = Array2::zeros(z.dim());
    let bce = decode_bce(&net.dec, p, g, z.view(), x, scale, dz.view_mut());
    let mut dq = q.zeros_like();
    let prior = q.kl_prior(&mut dq, kl_scale * BETA);
    q.sample_backward(dz.view(), eps, &mut dq);
    enc.backward(p, g, x, &mut cache, &dq);
    (bce, prior, q)
}

/// The concept part: summed `KL(q(z|x) ‖ q(z|l))` with gradients into the label encoder
/// only.
fn concept(
    net: &Net,
    p: &[f32],
    g: &mut [f32],
    labels: ArrayView2<f32>,
    y: &[u8],
    qx: &Gaussians,
    scale: f32,
) -> f64 {
    let lab = net.lab.as_ref().expect("SCAN has a label encoder");
    let enc_l = Encoder {
        trunk: None,
        mu: &lab.mu,
        lv: &lab.lv,
    };
    let table = enc_l.forward(p, labels, &mut MlpCache::default());
    let ql = table.gather(y);
    let (mut held, mut dql) = (qx.zeros_like(), ql.zeros_like());
    let kl = kl_between(qx, &ql, &mut held, &mut dql, scale);
    let mut dtable = table.zeros_like();
    scatter_add(dtable.mu.view_mut(), dql.mu.view(), y);
    scatter_add(dtable.lv.view_mut(), dql.lv.view(), y);
    enc_l.backward(p, g, labels, &mut MlpCache::default(), &dtable);
    kl
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::gradcheck::check;
    use crate::nn::model::Kind;
    use crate::objectives::objective::tests::{tiny, zero_net_but};

    #[test]
    fn gradient_matches_finite_differences_with_the_posteriors_held() {
        let tn = tiny(Kind::Scan);
        let (net, p, b) = (&tn.net, &tn.p, tn.batch());
        let (labels, x, eps) = (b.labels, b.x, b.eps);
        let y = tn.y;
        let w = Weights { kl: 0.7, ce: 1.3 };
        let mut g = vec![0.0; p.len()];
        loss_and_grad(net, p, &mut g, &tn.batch(), w);
        // The concept term sees the posteriors of the unperturbed parameters: that is what
        // stopping its gradient means.
        let mut scratch = vec![0.0; p.len()];
        let (_, _, held) = beta_vae(net, p, &mut scratch, x.view(), eps.view(), 0.25, 0.0);
        check("SCAN", &g, &mut p.clone(), |p| {
            let (bce, prior, _) = beta_vae(net, p, &mut scratch, x.view(), eps.view(), 0.25, 0.0);
            let c = concept(net, p, &mut scratch, labels.view(), &y, &held, 0.0);
            ((bce + w.kl as f64 * (BETA as f64 * prior + c)) / 4.0) as f32
        });
    }

    #[test]
    fn loss_by_hand_and_the_stopped_gradient() {
        // All parameters 0 but the image mean's bias (1): q(z|x) = N(1, 1), q(z|l) and the
        // prior N(0, 1). Each KL is d · ½ = 1 (d = 2): kl = β·1 + 1. The bias's gradient
        // comes from the prior term alone (β per dimension, the decoder being 0); the
        // concept term moves the label mean's bias by −1 per dimension instead.
        let (tn, t, g) = zero_net_but(Kind::Scan, |net| net.enc_mu.b);
        let net = &tn.net;
        assert!((t.bce - 6.0 * std::f64::consts::LN_2).abs() < 1e-6, "{t:?}");
        assert!((t.kl - (BETA as f64 + 1.0)).abs() < 1e-5, "{t:?}");
        let b = net.enc_mu.b;
        assert!((g[b] - BETA).abs() < 1e-5, "{}", g[b]);
        let lab = net.lab.as_ref().unwrap();
        // The label mean's bias gathers −1/n from each of the n examples.
        assert!((g[lab.mu.b] + 1.0).abs() < 1e-6, "{}", g[lab.mu.b]);
    }
}
