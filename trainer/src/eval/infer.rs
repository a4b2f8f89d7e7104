//! Batched float inference with a trained network: encode, decode, label Gaussians.

use crate::nn::loss::sigmoid;
use crate::nn::mlp::MlpCache;
use crate::nn::model::Net;
use ndarray::{Array2, ArrayView2, s};

/// Rows per chunk when running large sets.
pub const CHUNK: usize = 1000;

/// Posterior means and log-variances `q(z|x)` of every row of `x`.
pub fn encode(net: &Net, p: &[f32], x: ArrayView2<f32>) -> (Array2<f32>, Array2<f32>) {
    let d = net.arch.latent;
    let mut mu = Array2::zeros((x.nrows(), d));
    let mut lv = Array2::zeros((x.nrows(), d));
    let mut cache = MlpCache::default();
    for start in (0..x.nrows()).step_by(CHUNK) {
        let end = (start + CHUNK).min(x.nrows());
        let h = net.enc.forward(p, x.slice(s![start..end, ..]), &mut cache);
        net.enc_mu.forward(p, h, mu.slice_mut(s![start..end, ..]));
        net.enc_lv.forward(p, h, lv.slice_mut(s![start..end, ..]));
    }
    (mu, lv)
}

/// Decoder pixel probabilities `σ(Dec(z))` for every row of `z`.
pub fn decode(net: &Net, p: &[f32], z: ArrayView2<f32>, cache: &mut MlpCache) -> Array2<f32> {
    let mut out = Array2::zeros((z.nrows(), net.arch.pixels));
    for start in (0..z.nrows()).step_by(CHUNK) {
        let end = (start + CHUNK).min(z.nrows());
        let logits = net.dec.forward(p, z.slice(s![start..end, ..]), cache);
        out.slice_mut(s![start..end, ..])
            .zip_mut_with(&logits, |o, &l| *o = sigmoid(l));
    }
    out
}

/// Decoder logits for every row of `z` (for losses computed stably from logits).
pub fn decode_logits(
    net: &Net,
    p: &[f32],
    z: ArrayView2<f32>,
    cache: &mut MlpCache,
) -> Array2<f32> {
    net.dec.forward(p, z, cache).to_owned()
}

/// The label Gaussians `q(z|l)` (means, log-variances) of the rows of a label table.
///
/// # Panics
/// For a network without a label encoder (the CVAE): callers check
/// [`crate::nn::model::Kind::has_label_encoder`] first.
pub fn label_gaussians(
    net: &Net,
    p: &[f32],
    labels: ArrayView2<f32>,
) -> (Array2<f32>, Array2<f32>) {
    let d = net.arch.latent;
    let mut mu = Array2::zeros((labels.nrows(), d));
    let mut lv = Array2::zeros((labels.nrows(), d));
    let lab = net
        .lab
        .as_ref()
        .expect("a label encoder (checked by the caller)");
    lab.mu.forward(p, labels, mu.view_mut());
    lab.lv.forward(p, labels, lv.view_mut());
    (mu, lv)
}
