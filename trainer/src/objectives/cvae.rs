//! The CVAE baseline (paper eq. 4, appendix A): encoder `q(z|x,l)` on the image
//! concatenated with its label vector, decoder `p(x|z,l)` on `z` concatenated with it,
//! prior `N(0, I)`:
//!
//! `loss = BCE(x, Dec([z, l])) + β·KL(q(z|x,l) ‖ N(0, I))`, `z ~ q(z|x,l)`.

use crate::nn::mlp::MlpCache;
use crate::nn::model::Net;
use crate::objectives::batch::Batch;
use crate::objectives::pse::{Terms, Weights};
use crate::objectives::vae::{Encoder, concat, decode_bce, gather, latent_part};
use ndarray::Array2;

/// Forward and backward pass on one batch (arguments as in [`crate::objectives::pse::loss_and_grad`]);
/// gradients are added into `g`, the terms are per-example means.
pub fn loss_and_grad(net: &Net, p: &[f32], g: &mut [f32], b: &Batch, w: Weights) -> Terms {
    let (labels, x, y, eps) = (b.labels, b.x, b.y, b.eps);
    let n = x.nrows();
    let inv_n = 1.0 / n as f32;
    let l = gather(labels, y);
    let xl = concat(x, l.view());
    let enc = Encoder {
        trunk: Some(&net.enc),
        mu: &net.enc_mu,
        lv: &net.enc_lv,
    };
    let mut cache = MlpCache::default();
    let q = enc.forward(p, xl.view(), &mut cache);
    let z = q.sample(eps);
    let zl = concat(z.view(), l.view());
    let mut dzl = Array2::zeros(zl.dim());
    let bce = decode_bce(&net.dec, p, g, zl.view(), x, inv_n, dzl.view_mut());
    let mut dq = q.zeros_like();
    let kl = q.kl_prior(&mut dq, inv_n * w.kl);
    q.sample_backward(latent_part(&dzl, net.arch.latent), eps, &mut dq);
    enc.backward(p, g, xl.view(), &mut cache, &dq);
    Terms::means(bce, kl, 0.0, n)
}

#[cfg(test)]
mod tests {
    use crate::nn::model::Kind;
    use crate::objectives::objective::tests::{check_objective, zero_net_but};

    #[test]
    fn gradient_matches_finite_differences() {
        check_objective(Kind::Cvae);
    }

    #[test]
    fn loss_by_hand_on_a_zero_network() {
        // All parameters 0 but the mean's bias (1): q(z|x,l) = N(1, 1), so the KL is
        // d · ½ = 1 (d = 2) whatever z is, and every pixel's logit is 0: BCE = 6 · ln 2.
        let (tn, t, g) = zero_net_but(Kind::Cvae, |net| net.enc_mu.b);
        let net = &tn.net;
        assert!((t.bce - 6.0 * std::f64::consts::LN_2).abs() < 1e-6, "{t:?}");
        assert!((t.kl - 1.0).abs() < 1e-6, "{t:?}");
        assert_eq!(t.ce, 0.0);
        // The mean's bias feels the prior alone (the decoder is 0): ∂KL/∂μ = μ = 1.
        assert!((g[net.enc_mu.b] - 1.0).abs() < 1e-6, "{}", g[net.enc_mu.b]);
    }
}
