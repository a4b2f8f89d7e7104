//! The TrELBO baseline (paper eq. 6, Vedantam et al.): three ELBOs share the image and
//! label decoders, one each for the joint encoder `q(z|x,l)`, the image encoder `q(z|x)`
//! and the label encoder `q(z|l)`, each posterior pulled towards `N(0, I)`:
//!
//! `loss = BCE(x, Dec(z_xl)) + λ₁·γ·CE(l, LabDec(z_xl)) + BCE(x, Dec(z_x))
//!       + λ₂·γ·CE(l, LabDec(z_l)) + β·Σ KL(q ‖ N(0, I))`,
//! one sample from each posterior. No inference-network freeze (the paper trains every
//! model without tricks). [`LAMBDA_1`] = [`LAMBDA_2`] = 1, as in the paper's Table 1.

use crate::nn::model::Net;
use crate::objectives::batch::Batch;
use crate::objectives::multimodal::Multimodal;
use crate::objectives::pse::{Terms, Weights};
use crate::objectives::vae::{decode_bce, decode_ce};
use ndarray::{Array2, s};

/// λ₁, the weight of the joint ELBO's label likelihood.
pub const LAMBDA_1: f32 = 1.0;
/// λ₂, the weight of the label-only ELBO's label likelihood.
pub const LAMBDA_2: f32 = 1.0;

/// Forward and backward pass on one batch (arguments as in [`crate::objectives::pse::loss_and_grad`];
/// `eps` holds three `n × d` blocks: joint, image, label posterior); gradients are added
/// into `g`, the terms are per-example means.
pub fn loss_and_grad(net: &Net, p: &[f32], g: &mut [f32], b: &Batch, w: Weights) -> Terms {
    let (x, y, eps) = (b.x, b.y, b.eps);
    let n = x.nrows();
    let inv_n = 1.0 / n as f32;
    let (ej, ex, el) = (
        eps.slice(s![..n, ..]),
        eps.slice(s![n..2 * n, ..]),
        eps.slice(s![2 * n..3 * n, ..]),
    );
    let mm = Multimodal::of(net);
    let mut post = mm.forward(p, b);
    let (qj, qx, ql) = (&post.joint, &post.image, &post.label);
    let lab_dec = mm.lab_dec;

    // Joint ELBO: both likelihoods.
    let zj = qj.sample(ej);
    let mut dzj = Array2::zeros(zj.dim());
    let mut bce = decode_bce(&net.dec, p, g, zj.view(), x, inv_n, dzj.view_mut());
    let mut ce = LAMBDA_1 as f64
        * decode_ce(
            lab_dec,
            p,
            g,
            zj.view(),
            y,
            inv_n * w.ce * LAMBDA_1,
            dzj.view_mut(),
        );
    // Image ELBO: the image likelihood.
    let zx = qx.sample(ex);
    let mut dzx = Array2::zeros(zx.dim());
    bce += decode_bce(&net.dec, p, g, zx.view(), x, inv_n, dzx.view_mut());
    // Label ELBO: the label likelihood.
    let zl = ql.sample(el);
    let mut dzl = Array2::zeros(zl.dim());
    ce += LAMBDA_2 as f64
        * decode_ce(
            lab_dec,
            p,
            g,
            zl.view(),
            y,
            inv_n * w.ce * LAMBDA_2,
            dzl.view_mut(),
        );

    let (mut dqj, mut dqx, mut dql) = (qj.zeros_like(), qx.zeros_like(), ql.zeros_like());
    let s = inv_n * w.kl;
    let kl = qj.kl_prior(&mut dqj, s) + qx.kl_prior(&mut dqx, s) + ql.kl_prior(&mut dql, s);
    qj.sample_backward(dzj.view(), ej, &mut dqj);
    qx.sample_backward(dzx.view(), ex, &mut dqx);
    ql.sample_backward(dzl.view(), el, &mut dql);

    mm.backward(p, g, b, &mut post, [&dqj, &dqx, &dql]);

    Terms::means(bce, kl, ce, n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::model::Kind;
    use crate::objectives::objective::tests::{check_objective, zero_net_but};

    #[test]
    fn gradient_matches_finite_differences() {
        check_objective(Kind::Trelbo);
    }

    #[test]
    fn loss_by_hand_on_a_zero_network() {
        // All parameters 0 but the joint mean's bias (1): only q(z|x,l) = N(1, 1) is off
        // the prior (KL = d · ½ = 1, d = 2). Two image likelihoods of 6 · ln 2 and two label
        // likelihoods of ln 3, all logits being 0.
        let (tn, t, g) = zero_net_but(Kind::Trelbo, |net| net.joint.as_ref().unwrap().mu.b);
        let net = &tn.net;
        let ln2 = std::f64::consts::LN_2;
        assert!((t.bce - 12.0 * ln2).abs() < 1e-6, "{t:?}");
        assert!(
            (t.ce - (LAMBDA_1 + LAMBDA_2) as f64 * 3f64.ln()).abs() < 1e-6,
            "{t:?}"
        );
        assert!((t.kl - 1.0).abs() < 1e-6, "{t:?}");
        // Unlike the JMVAE, nothing ties q(z|x) to the joint posterior.
        assert_eq!(g[net.enc_mu.b], 0.0);
    }
}
