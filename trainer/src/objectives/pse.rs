//! The PSE and PSE* objectives (paper eq. 2 and 3): loss terms and gradients for a batch.
//!
//! `loss = BCE(x, Dec(z)) + β·KL(q(z|x) ‖ q(z|l)) [+ γ·CE(l, Cla(Dec(z)))]`, averaged over
//! the batch, with `z = mu + exp(lv/2)·ε` (one sample per image). `β = γ = 1` is the paper.

use crate::nn::loss::{KlGrads, bce_with_logits, kl_diag, softmax_ce};
use crate::nn::mlp::MlpCache;
use crate::nn::model::Net;
use ndarray::{Array2, ArrayView2};

/// The loss terms of a batch, each a mean per example (nats).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Terms {
    /// Reconstruction: summed pixel BCE.
    pub bce: f64,
    /// KL(q(z|x) ‖ q(z|l)).
    pub kl: f64,
    /// PSE* classifier cross-entropy (0 for PSE).
    pub ce: f64,
}

impl Terms {
    /// Per-example means of the batch sums of the three terms over `n` examples.
    pub fn means(bce: f64, kl: f64, ce: f64, n: usize) -> Terms {
        let inv_n = 1.0 / n as f64;
        Terms {
            bce: bce * inv_n,
            kl: kl * inv_n,
            ce: ce * inv_n,
        }
    }

    /// The weighted total that is minimised.
    pub fn total(&self, w: Weights) -> f64 {
        self.bce + w.kl as f64 * self.kl + w.ce as f64 * self.ce
    }
}

/// Weights on the KL and classifier terms (`1, 1` in the paper; a KL warm-up ramps `kl`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    /// β on the KL term.
    pub kl: f32,
    /// γ on the classifier term.
    pub ce: f32,
}

/// Every buffer one step needs, reused across steps.
#[derive(Debug, Default)]
pub struct Workspace {
    enc: MlpCache,
    dec: MlpCache,
    cla: MlpCache,
    mu: Array2<f32>,
    lv: Array2<f32>,
    table_mu: Array2<f32>,
    table_lv: Array2<f32>,
    mu_l: Array2<f32>,
    lv_l: Array2<f32>,
    z: Array2<f32>,
    xhat: Array2<f32>,
    dlogits: Array2<f32>,
    dcla: Array2<f32>,
    dxhat: Array2<f32>,
    dz: Array2<f32>,
    dmu: Array2<f32>,
    dlv: Array2<f32>,
    dmu_l: Array2<f32>,
    dlv_l: Array2<f32>,
    dtable_mu: Array2<f32>,
    dtable_lv: Array2<f32>,
    dh: Array2<f32>,
    dh2: Array2<f32>,
}

fn sized(a: &mut Array2<f32>, r: usize, c: usize) {
    if a.dim() != (r, c) {
        *a = Array2::zeros((r, c));
    }
}

/// Forward and backward pass of the objective on one batch.
///
/// `labels` is the label table (`classes × label_dim`: one-hot rows or word vectors),
/// `y` the class of each image, `eps` the standard-normal noise (`n × d`). Gradients are
/// **added** into `g`; the returned terms are per-example means.
#[allow(clippy::too_many_arguments)]
pub fn loss_and_grad(
    net: &Net,
    p: &[f32],
    g: &mut [f32],
    labels: ArrayView2<f32>,
    x: ArrayView2<f32>,
    y: &[u8],
    eps: ArrayView2<f32>,
    w: Weights,
    ws: &mut Workspace,
) -> Terms {
    loss_and_grad_to(net, p, g, labels, x, x, y, eps, w, ws)
}

/// [`loss_and_grad`] with the encoder reading `x` and the reconstruction term scoring the
/// decoder against `target` (augmented training: a transformed image in, the original out,
/// so the encoder learns to place both alike and the decoder keeps drawing clean digits).
#[allow(clippy::too_many_arguments)]
pub fn loss_and_grad_to(
    net: &Net,
    p: &[f32],
    g: &mut [f32],
    labels: ArrayView2<f32>,
    x: ArrayView2<f32>,
    target: ArrayView2<f32>,
    y: &[u8],
    eps: ArrayView2<f32>,
    w: Weights,
    ws: &mut Workspace,
) -> Terms {
    assert_eq!(x.dim(), target.dim(), "input and target shapes");
    let (n, d) = (x.nrows(), net.arch.latent);
    let c = labels.nrows();
    let pixels = net.arch.pixels;
    let inv_n = 1.0 / n as f32;
    for (a, r, k) in [
        (&mut ws.mu, n, d),
        (&mut ws.lv, n, d),
        (&mut ws.mu_l, n, d),
        (&mut ws.lv_l, n, d),
        (&mut ws.z, n, d),
        (&mut ws.dz, n, d),
        (&mut ws.dmu, n, d),
        (&mut ws.dlv, n, d),
        (&mut ws.dmu_l, n, d),
        (&mut ws.dlv_l, n, d),
        (&mut ws.table_mu, c, d),
        (&mut ws.table_lv, c, d),
        (&mut ws.dtable_mu, c, d),
        (&mut ws.dtable_lv, c, d),
        (&mut ws.dlogits, n, pixels),
        (&mut ws.xhat, n, pixels),
        (&mut ws.dxhat, n, pixels),
        (&mut ws.dh, n, net.enc.n_out()),
        (&mut ws.dh2, n, net.enc.n_out()),
    ] {
        sized(a, r, k);
    }

    // Encoders.
    let h = net.enc.forward(p, x, &mut ws.enc);
    net.enc_mu.forward(p, h, ws.mu.view_mut());
    net.enc_lv.forward(p, h, ws.lv.view_mut());
    let lab = net.lab.as_ref().expect("PSE and PSE* have a label encoder");
    lab.mu.forward(p, labels, ws.table_mu.view_mut());
    lab.lv.forward(p, labels, ws.table_lv.view_mut());
    for (i, &yi) in y.iter().enumerate() {
        ws.mu_l.row_mut(i).assign(&ws.table_mu.row(yi as usize));
        ws.lv_l.row_mut(i).assign(&ws.table_lv.row(yi as usize));
    }

    // Reparameterised sample and decoder.
    for (((zi, &m), &l), &e) in ws.z.iter_mut().zip(&ws.mu).zip(&ws.lv).zip(eps) {
        *zi = m + (0.5 * l).exp() * e;
    }
    let logits = net.dec.forward(p, ws.z.view(), &mut ws.dec);
    // PSE* also needs the reconstruction σ(logits): the same pass writes it.
    let bce = bce_with_logits(
        logits,
        target,
        Some(ws.dlogits.view_mut()),
        inv_n,
        net.cla.is_some().then(|| ws.xhat.view_mut()),
    );

    // PSE*: classify the reconstruction; its gradient flows back into the decoder.
    let mut ce = 0.0;
    if let Some(cla) = &net.cla {
        let out = cla.forward(p, ws.xhat.view(), &mut ws.cla);
        sized(&mut ws.dcla, n, out.ncols());
        ce = softmax_ce(out, y, Some(ws.dcla.view_mut()), inv_n * w.ce);
        cla.backward(
            p,
            g,
            ws.xhat.view(),
            &mut ws.cla,
            ws.dcla.view(),
            Some(ws.dxhat.view_mut()),
        );
        for ((dl, &dx), &xh) in ws.dlogits.iter_mut().zip(&ws.dxhat).zip(&ws.xhat) {
            *dl += dx * xh * (1.0 - xh);
        }
    }
    net.dec.backward(
        p,
        g,
        ws.z.view(),
        &mut ws.dec,
        ws.dlogits.view(),
        Some(ws.dz.view_mut()),
    );

    // KL(q(z|x) ‖ q(z|l)).
    let kl = kl_diag(
        ws.mu.view(),
        ws.lv.view(),
        ws.mu_l.view(),
        ws.lv_l.view(),
        Some(KlGrads {
            mu_q: ws.dmu.view_mut(),
            lv_q: ws.dlv.view_mut(),
            mu_p: ws.dmu_l.view_mut(),
            lv_p: ws.dlv_l.view_mut(),
        }),
        inv_n * w.kl,
    );
    // Through the reparameterisation: dz/dmu = 1, dz/dlv = ε·exp(lv/2)/2.
    for ((((dm, dl), &dz), &l), &e) in ws
        .dmu
        .iter_mut()
        .zip(ws.dlv.iter_mut())
        .zip(&ws.dz)
        .zip(&ws.lv)
        .zip(eps)
    {
        *dm += dz;
        *dl += dz * e * 0.5 * (0.5 * l).exp();
    }

    // Image encoder.
    let h = ws.enc.output();
    net.enc_mu
        .backward(p, g, h, ws.dmu.view(), Some(ws.dh.view_mut()));
    net.enc_lv
        .backward(p, g, h, ws.dlv.view(), Some(ws.dh2.view_mut()));
    ws.dh += &ws.dh2;
    net.enc.backward(p, g, x, &mut ws.enc, ws.dh.view(), None);

    // Label encoder: gather's backward is a scatter-add into the table rows.
    ws.dtable_mu.fill(0.0);
    ws.dtable_lv.fill(0.0);
    for (i, &yi) in y.iter().enumerate() {
        let mut r = ws.dtable_mu.row_mut(yi as usize);
        r += &ws.dmu_l.row(i);
        let mut r = ws.dtable_lv.row_mut(yi as usize);
        r += &ws.dlv_l.row(i);
    }
    lab.mu.backward(p, g, labels, ws.dtable_mu.view(), None);
    lab.lv.backward(p, g, labels, ws.dtable_lv.view(), None);

    let inv_n = inv_n as f64;
    Terms {
        bce: bce * inv_n,
        kl: kl * inv_n,
        ce: ce * inv_n,
    }
}

/// One-hot label table: row `c` is the indicator of class `c`.
pub fn one_hot_table(classes: usize) -> Array2<f32> {
    Array2::from_shape_fn((classes, classes), |(i, j)| if i == j { 1.0 } else { 0.0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::gradcheck::check;
    use crate::nn::model::{Arch, Kind};
    use crate::nn::rng::{Rng, Stream};

    #[test]
    fn whole_objective_gradient_matches_finite_differences() {
        for kind in [Kind::Pse, Kind::PseStar] {
            let arch = Arch {
                kind,
                latent: 2,
                label_dim: 3,
                classes: 3,
                pixels: 6,
                hidden: [5, 4],
            };
            let net = Net::new(arch);
            let p: Vec<f32> = net
                .layout
                .init(3)
                .iter()
                .enumerate()
                .map(|(i, v)| v + 0.02 * ((i % 5) as f32 - 2.0))
                .collect();
            let labels = one_hot_table(3);
            let x = Array2::from_shape_fn((4, 6), |(i, j)| ((i * 6 + j) % 5) as f32 / 4.0);
            let y = [0u8, 2, 1, 2];
            let mut eps = Array2::zeros((4, 2));
            Rng::new(1, Stream::Noise, 0).fill_normal(eps.as_slice_mut().unwrap());
            let w = Weights { kl: 0.7, ce: 1.3 };
            // The plain objective (target = input), and augmented training's (another
            // target: the gradient reaches the encoder through its input only).
            let other = Array2::from_shape_fn((4, 6), |(i, j)| ((i * 7 + 3 * j) % 4) as f32 / 3.0);
            for target in [x.view(), other.view()] {
                let mut ws = Workspace::default();
                let mut g = vec![0.0; p.len()];
                loss_and_grad_to(
                    &net,
                    &p,
                    &mut g,
                    labels.view(),
                    x.view(),
                    target,
                    &y,
                    eps.view(),
                    w,
                    &mut ws,
                );
                let mut scratch = vec![0.0; p.len()];
                check(kind.paper_name(), &g, &mut p.clone(), |p| {
                    let mut ws = Workspace::default();
                    loss_and_grad_to(
                        &net,
                        p,
                        &mut scratch,
                        labels.view(),
                        x.view(),
                        target,
                        &y,
                        eps.view(),
                        w,
                        &mut ws,
                    )
                    .total(w) as f32
                });
            }
        }
    }
}
