//! Loss terms with their gradients: Bernoulli reconstruction (BCE on logits), KL between
//! diagonal Gaussians, softmax cross-entropy. Each returns the batch **sum** and writes
//! gradients already multiplied by `scale` (e.g. `1 / batch`).

use ndarray::{ArrayView2, ArrayViewMut2};

/// Logistic sigmoid.
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// `Σ BCE(x, σ(logits))` in nats, computed stably as `max(l,0) − x·l + ln(1 + e^−|l|)`;
/// `dlogits = scale · (σ(l) − x)` when given, and `σ(l)` itself into `sigma` when given.
///
/// The training step's hottest element-wise pass, so written to vectorise: one exponential
/// per pixel ([`exp_neg`]) serves the loss, its gradient and `σ`, with [`ln_1p_unit`] for the
/// logarithm (both plain `f32` arithmetic, no library calls, the same bits on every CPU); the
/// sum is kept in eight f64 lanes (a fixed order, so the result is the same on every run).
pub fn bce_with_logits(
    logits: ArrayView2<f32>,
    x: ArrayView2<f32>,
    mut dlogits: Option<ArrayViewMut2<f32>>,
    scale: f32,
    mut sigma: Option<ArrayViewMut2<f32>>,
) -> f64 {
    const LANES: usize = 8;
    let l = logits.as_slice().expect("contiguous");
    let t = x.as_slice().expect("contiguous");
    assert_eq!(l.len(), t.len(), "bce: shapes differ");
    let n = l.len();
    // An output not asked for is an empty slice (the loops below then skip it).
    let d: &mut [f32] = match dlogits.as_mut() {
        Some(d) => d.as_slice_mut().expect("contiguous"),
        None => &mut [],
    };
    let sg: &mut [f32] = match sigma.as_mut() {
        Some(s) => s.as_slice_mut().expect("contiguous"),
        None => &mut [],
    };
    assert!(d.is_empty() || d.len() == n, "bce: gradient shape");
    assert!(sg.is_empty() || sg.len() == n, "bce: sigma shape");
    let (want_d, want_s) = (!d.is_empty(), !sg.is_empty());
    let mut lanes = [0.0f64; LANES];
    // Blocks of LANES pixels (the last one zero-padded and cut): fixed-length bodies
    // without a branch the compiler cannot turn into a select, so they vectorise.
    for start in (0..n).step_by(LANES) {
        let len = LANES.min(n - start);
        let (mut lb, mut tb) = ([0.0f32; LANES], [0.0f32; LANES]);
        lb[..len].copy_from_slice(&l[start..start + len]);
        tb[..len].copy_from_slice(&t[start..start + len]);
        let mut loss = [0.0f32; LANES];
        let mut sig = [0.0f32; LANES];
        for k in 0..LANES {
            let (li, ti) = (lb[k], tb[k]);
            let e = exp_neg(li.abs());
            loss[k] = li.max(0.0) - ti * li + ln_1p_unit(e);
            let r = 1.0 / (1.0 + e);
            sig[k] = if li >= 0.0 { r } else { e * r };
        }
        for k in 0..len {
            lanes[k] += loss[k] as f64;
        }
        if want_d {
            for (dk, (sk, tk)) in d[start..start + len].iter_mut().zip(sig.iter().zip(&tb)) {
                *dk = scale * (sk - tk);
            }
        }
        if want_s {
            sg[start..start + len].copy_from_slice(&sig[..len]);
        }
    }
    lanes.iter().sum()
}

/// `e^−a` for `a ≥ 0` (0 below `e^−87`), to within 2 units in the last place: `2^−n · e^−r`
/// with `n = round(a / ln 2)` and a degree-6 polynomial for `e^−r`, `|r| ≤ ln 2 / 2`
/// (Cephes' `expf`), in plain `f32` operations.
#[inline(always)]
pub fn exp_neg(a: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Rounding by the float magic number 1.5 · 2^23 keeps the whole loop in vector registers.
    const ROUND: f32 = 12_582_912.0;
    let a = a.min(87.0);
    let x = -a;
    let nf = (x * LOG2E + ROUND) - ROUND;
    let r = (x - nf * LN2_HI) - nf * LN2_LO;
    let r2 = r * r;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5;
    let er = p * r2 + r + 1.0;
    // 2^nf for nf in [−126, 0]: the exponent bits of a normal float.
    let scale = f32::from_bits(((nf as i32 + 127) as u32) << 23);
    er * scale
}

/// `ln(1 + e)` for `e` in `[0, 1]`, to within a few units in the last place: `2·atanh(s)` with
/// `s = e / (2 + e) ≤ 1/3`, its odd series to `s^13` (error below `(1/9)^7 / 15`, 1.4e-8
/// relative), in plain `f32` operations.
#[inline(always)]
pub fn ln_1p_unit(e: f32) -> f32 {
    let s = e / (2.0 + e);
    let s2 = s * s;
    let q = (((((s2 * (1.0 / 13.0) + 1.0 / 11.0) * s2 + 1.0 / 9.0) * s2 + 1.0 / 7.0) * s2
        + 1.0 / 5.0)
        * s2
        + 1.0 / 3.0)
        * s2;
    2.0 * (s + s * q)
}

/// BCE of one pixel from its logit.
pub fn bce_one(l: f32, t: f32) -> f32 {
    l.max(0.0) - t * l + (-l.abs()).exp().ln_1p()
}

/// Gradients of [`kl_diag`], each `n × d`.
pub struct KlGrads<'a> {
    /// w.r.t. the posterior mean.
    pub mu_q: ArrayViewMut2<'a, f32>,
    /// w.r.t. the posterior log-variance.
    pub lv_q: ArrayViewMut2<'a, f32>,
    /// w.r.t. the prior mean.
    pub mu_p: ArrayViewMut2<'a, f32>,
    /// w.r.t. the prior log-variance.
    pub lv_p: ArrayViewMut2<'a, f32>,
}

/// `Σ KL(N(mu_q, e^lv_q) ‖ N(mu_p, e^lv_p))` over rows and dimensions; gradients (times
/// `scale`) are **written** into `grads` when given.
pub fn kl_diag(
    mu_q: ArrayView2<f32>,
    lv_q: ArrayView2<f32>,
    mu_p: ArrayView2<f32>,
    lv_p: ArrayView2<f32>,
    grads: Option<KlGrads>,
    scale: f32,
) -> f64 {
    let (mq, lq, mp, lp) = (slice(&mu_q), slice(&lv_q), slice(&mu_p), slice(&lv_p));
    let mut total = 0.0f64;
    match grads {
        Some(mut g) => {
            let gmq = g.mu_q.as_slice_mut().expect("contiguous");
            let glq = g.lv_q.as_slice_mut().expect("contiguous");
            let gmp = g.mu_p.as_slice_mut().expect("contiguous");
            let glp = g.lv_p.as_slice_mut().expect("contiguous");
            for i in 0..mq.len() {
                let inv_vp = (-lp[i]).exp();
                let vq = lq[i].exp();
                let diff = mq[i] - mp[i];
                total += 0.5 * (lp[i] - lq[i] + (vq + diff * diff) * inv_vp - 1.0) as f64;
                gmq[i] = scale * diff * inv_vp;
                gmp[i] = -gmq[i];
                glq[i] = scale * 0.5 * (vq * inv_vp - 1.0);
                glp[i] = scale * 0.5 * (1.0 - (vq + diff * diff) * inv_vp);
            }
        }
        None => {
            for i in 0..mq.len() {
                let diff = mq[i] - mp[i];
                total += 0.5
                    * (lp[i] - lq[i] + (lq[i].exp() + diff * diff) * (-lp[i]).exp() - 1.0) as f64;
            }
        }
    }
    total
}

fn slice<'a>(a: &'a ArrayView2<f32>) -> &'a [f32] {
    a.as_slice().expect("contiguous")
}

/// `Σ −log softmax(logits)[label]` over rows; `dlogits = scale · (softmax − onehot)`.
pub fn softmax_ce(
    logits: ArrayView2<f32>,
    labels: &[u8],
    dlogits: Option<ArrayViewMut2<f32>>,
    scale: f32,
) -> f64 {
    let mut total = 0.0f64;
    let mut d = dlogits;
    for (r, (row, &y)) in logits.rows().into_iter().zip(labels).enumerate() {
        let max = row.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let sum: f32 = row.iter().map(|&v| (v - max).exp()).sum();
        let lse = max + sum.ln();
        total += (lse - row[y as usize]) as f64;
        if let Some(d) = d.as_mut() {
            for (j, &v) in row.iter().enumerate() {
                let p = (v - lse).exp();
                d[[r, j]] = scale * (p - if j == y as usize { 1.0 } else { 0.0 });
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::gradcheck::check;
    use ndarray::Array2;

    #[test]
    fn exp_and_log_agree_with_the_library() {
        let mut worst = (0.0f64, 0.0f64);
        for i in 0..=200_000 {
            let a = i as f32 * 1e-3; // 0 .. 200
            let e = exp_neg(a);
            let want = (-(a as f64)).exp();
            if a <= 87.0 {
                worst.0 = worst.0.max((e as f64 - want).abs() / want);
            } else {
                assert!(e >= 0.0 && (e as f64) < 2e-38, "e^-{a} = {e}");
            }
            let u = (i as f32 / 200_000.0).min(1.0);
            let want = (u as f64).ln_1p();
            let got = ln_1p_unit(u) as f64;
            worst.1 = worst.1.max(if want == 0.0 {
                got.abs()
            } else {
                (got - want).abs() / want
            });
        }
        assert!(worst.0 < 3e-7, "exp: relative error {}", worst.0);
        assert!(worst.1 < 3e-7, "ln_1p: relative error {}", worst.1);
        assert_eq!(exp_neg(0.0), 1.0);
        assert_eq!(ln_1p_unit(0.0), 0.0);
    }

    #[test]
    fn bce_value_and_gradient() {
        // BCE(t, σ(l)) = −t ln σ(l) − (1−t) ln(1−σ(l))
        let (l, t) = (0.7f32, 0.2f32);
        let s = sigmoid(l) as f64;
        let r = -(t as f64) * s.ln() - (1.0 - t as f64) * (1.0 - s).ln();
        assert!((bce_one(l, t) as f64 - r).abs() < 1e-6);
        assert!(bce_one(-100.0, 0.0).is_finite() && bce_one(100.0, 1.0) < 1e-6);
        let x = Array2::from_shape_fn((3, 4), |(i, j)| ((i + j) % 3) as f32 / 2.0);
        let l0 = Array2::from_shape_fn((3, 4), |(i, j)| (i as f32 - j as f32) * 0.8);
        let (mut d, mut sg) = (Array2::zeros((3, 4)), Array2::zeros((3, 4)));
        bce_with_logits(
            l0.view(),
            x.view(),
            Some(d.view_mut()),
            0.5,
            Some(sg.view_mut()),
        );
        for (&s, &l) in sg.iter().zip(&l0) {
            assert!((s - sigmoid(l)).abs() < 1e-7, "σ({l}) = {s}");
        }
        let mut lv = l0.iter().copied().collect::<Vec<_>>();
        check("bce", d.as_slice().unwrap(), &mut lv, |l| {
            0.5 * bce_with_logits(
                ArrayView2::from_shape((3, 4), l).unwrap(),
                x.view(),
                None,
                1.0,
                None,
            ) as f32
        });
    }

    #[test]
    fn kl_value_and_gradients() {
        let f = |s: f32| {
            Array2::from_shape_fn((2, 3), move |(i, j)| ((i * 3 + j) as f32 * 0.37 + s).sin())
        };
        let (mq, lq, mp, lp) = (f(0.0), f(1.0), f(2.0), f(3.0));
        // closed form check on one element against f64
        let kl1 = {
            let (a, b, c, d) = (
                mq[[0, 0]] as f64,
                lq[[0, 0]] as f64,
                mp[[0, 0]] as f64,
                lp[[0, 0]] as f64,
            );
            0.5 * (d - b + (b.exp() + (a - c).powi(2)) / d.exp() - 1.0)
        };
        let one = |a: &Array2<f32>| a.slice(ndarray::s![0..1, 0..1]).to_owned();
        let v = kl_diag(
            one(&mq).view(),
            one(&lq).view(),
            one(&mp).view(),
            one(&lp).view(),
            None,
            1.0,
        );
        assert!((v - kl1).abs() < 1e-6);
        assert!(kl_diag(mq.view(), lq.view(), mq.view(), lq.view(), None, 1.0).abs() < 1e-6);
        let mut g = [
            Array2::zeros((2, 3)),
            Array2::zeros((2, 3)),
            Array2::zeros((2, 3)),
            Array2::zeros((2, 3)),
        ];
        {
            let [a, b, c, d] = &mut g;
            let grads = KlGrads {
                mu_q: a.view_mut(),
                lv_q: b.view_mut(),
                mu_p: c.view_mut(),
                lv_p: d.view_mut(),
            };
            kl_diag(mq.view(), lq.view(), mp.view(), lp.view(), Some(grads), 1.0);
        }
        let all = [&mq, &lq, &mp, &lp];
        for k in 0..4 {
            let mut v = all[k].iter().copied().collect::<Vec<_>>();
            check("kl", g[k].as_slice().unwrap(), &mut v, |v| {
                let a = ArrayView2::from_shape((2, 3), v).unwrap();
                let mut args = all.map(|x| x.view());
                args[k] = a;
                kl_diag(args[0], args[1], args[2], args[3], None, 1.0) as f32
            });
        }
    }

    #[test]
    fn softmax_ce_value_and_gradient() {
        let l0 = Array2::from_shape_fn((3, 4), |(i, j)| ((i * 4 + j) as f32 * 0.9).cos() * 3.0);
        let y = [0u8, 3, 2];
        let v = softmax_ce(l0.view(), &y, None, 1.0);
        let r: f64 = (0..3)
            .map(|i| {
                let row: Vec<f64> = (0..4).map(|j| l0[[i, j]] as f64).collect();
                let lse = row.iter().map(|v| v.exp()).sum::<f64>().ln();
                lse - row[y[i] as usize]
            })
            .sum();
        assert!((v - r).abs() < 1e-5);
        let mut d = Array2::zeros((3, 4));
        softmax_ce(l0.view(), &y, Some(d.view_mut()), 1.0);
        let mut lv = l0.iter().copied().collect::<Vec<_>>();
        check("ce", d.as_slice().unwrap(), &mut lv, |l| {
            softmax_ce(ArrayView2::from_shape((3, 4), l).unwrap(), &y, None, 1.0) as f32
        });
    }
}
