//! The JMVAE baseline (paper eq. 5, the JMVAE-kl of Suzuki et al.): a joint encoder
//! `q(z|x,l)` feeds both decoders, is pulled towards the prior, and with weight α towards the
//! image encoder `q(z|x)` and the label encoder `q(z|l)` that annotation and generation use:
//!
//! `loss = BCE(x, Dec(z)) + γ·CE(l, LabDec(z))
//!       + β·[KL(q(z|x,l) ‖ N(0, I)) + α·(KL(q(z|x,l) ‖ q(z|x)) + KL(q(z|x,l) ‖ q(z|l)))]`,
//! `z ~ q(z|x,l)`. The paper gives no α; [`ALPHA`] = 1 weighs the three KL terms alike.

use crate::nn::loss::{KlGrads, kl_diag};
use crate::nn::model::Net;
use crate::objectives::batch::Batch;
use crate::objectives::multimodal::Multimodal;
use crate::objectives::pse::{Terms, Weights};
use crate::objectives::vae::{Gaussians, decode_bce, decode_ce};
use ndarray::Array2;

/// α, the weight of the two KL terms that tie the unimodal encoders to the joint one.
pub const ALPHA: f32 = 1.0;

/// Adds `scale·∇ KL(q ‖ r)` into `dq` and `dr`; returns the KL summed over the batch.
pub(crate) fn kl_between(
    q: &Gaussians,
    r: &Gaussians,
    dq: &mut Gaussians,
    dr: &mut Gaussians,
    scale: f32,
) -> f64 {
    let mut t = [(); 4].map(|_| Array2::zeros(q.mu.dim()));
    let [a, b, c, d] = &mut t;
    let kl = kl_diag(
        q.mu.view(),
        q.lv.view(),
        r.mu.view(),
        r.lv.view(),
        Some(KlGrads {
            mu_q: a.view_mut(),
            lv_q: b.view_mut(),
            mu_p: c.view_mut(),
            lv_p: d.view_mut(),
        }),
        scale,
    );
    let [a, b, c, d] = t;
    dq.mu += &a;
    dq.lv += &b;
    dr.mu += &c;
    dr.lv += &d;
    kl
}

/// Forward and backward pass on one batch (arguments as in [`crate::objectives::pse::loss_and_grad`]);
/// gradients are added into `g`, the terms are per-example means.
pub fn loss_and_grad(net: &Net, p: &[f32], g: &mut [f32], b: &Batch, w: Weights) -> Terms {
    let (x, y, eps) = (b.x, b.y, b.eps);
    let inv_n = 1.0 / x.nrows() as f32;
    let mm = Multimodal::of(net);
    let mut post = mm.forward(p, b);
    let (qj, qx, ql) = (&post.joint, &post.image, &post.label);

    let z = qj.sample(eps);
    let mut dz = Array2::zeros(z.dim());
    let bce = decode_bce(&net.dec, p, g, z.view(), x, inv_n, dz.view_mut());
    let ce = decode_ce(mm.lab_dec, p, g, z.view(), y, inv_n * w.ce, dz.view_mut());

    let (mut dqj, mut dqx, mut dql) = (qj.zeros_like(), qx.zeros_like(), ql.zeros_like());
    let s = inv_n * w.kl;
    let kl = qj.kl_prior(&mut dqj, s)
        + ALPHA as f64 * kl_between(qj, qx, &mut dqj, &mut dqx, s * ALPHA)
        + ALPHA as f64 * kl_between(qj, ql, &mut dqj, &mut dql, s * ALPHA);
    qj.sample_backward(dz.view(), eps, &mut dqj);
    mm.backward(p, g, b, &mut post, [&dqj, &dqx, &dql]);

    Terms::means(bce, kl, ce, x.nrows())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::model::Kind;
    use crate::objectives::objective::tests::{check_objective, zero_net_but};

    #[test]
    fn gradient_matches_finite_differences() {
        check_objective(Kind::Jmvae);
    }

    #[test]
    fn loss_by_hand_on_a_zero_network() {
        // All parameters 0 but the joint mean's bias (1): q(z|x,l) = N(1, 1) while q(z|x),
        // q(z|l) and the prior are N(0, 1), so each of the three KL terms is d · ½ = 1
        // (d = 2); every pixel's logit is 0 (BCE = 6 · ln 2) and every class's too
        // (CE = ln 3).
        let (tn, t, g) = zero_net_but(Kind::Jmvae, |net| net.joint.as_ref().unwrap().mu.b);
        let net = &tn.net;
        assert!((t.bce - 6.0 * std::f64::consts::LN_2).abs() < 1e-6, "{t:?}");
        assert!((t.ce - 3f64.ln()).abs() < 1e-6, "{t:?}");
        assert!((t.kl - (1.0 + 2.0 * ALPHA as f64)).abs() < 1e-6, "{t:?}");
        // The image encoder is pulled towards the joint mean: ∂/∂b = −α per dimension.
        let bx = net.enc_mu.b;
        assert!((g[bx] + ALPHA).abs() < 1e-6, "{}", g[bx]);
    }
}
