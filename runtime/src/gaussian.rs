//! Diagonal-Gaussian label scores: the one place the annotation math is written.
//!
//! A label `l` is the Gaussian `N(mu_l, diag(exp(logvar_l)))` in latent space. An image is
//! annotated with the label that maximises `log N(mu_x; mu_l, diag var_l)`. The per-label
//! constants (`1/var` and the log-normaliser) are computed once, with `libm`, so that every
//! target produces the same bits.

/// `ln(2π)`, as an `f32`.
pub const LN_2PI: f32 = 1.837_877_1;

/// Fills `inv_var` with `exp(-logvar)` and returns the log-normaliser
/// `-0.5 * (d ln 2π + Σ logvar)`; `inv_var` and `logvar` must have the same length
/// (extra elements of the longer one are ignored).
pub fn label_constants(logvar: &[f32], inv_var: &mut [f32]) -> f32 {
    let mut sum_logvar = 0.0f32;
    let mut d = 0u32;
    for (lv, iv) in logvar.iter().zip(inv_var.iter_mut()) {
        *iv = libm::expf(-*lv);
        sum_logvar += *lv;
        d = d.wrapping_add(1);
    }
    -0.5 * (d as f32 * LN_2PI + sum_logvar)
}

/// `log N(x; mu, diag(1/inv_var))` given the precomputed `inv_var` and `log_norm`
/// (see [`label_constants`]). Sums in index order.
pub fn log_likelihood(x: &[f32], mu: &[f32], inv_var: &[f32], log_norm: f32) -> f32 {
    let mut q = 0.0f32;
    for ((xi, mi), iv) in x.iter().zip(mu).zip(inv_var) {
        let d = *xi - *mi;
        q += d * d * *iv;
    }
    log_norm - 0.5 * q
}

/// Index of the largest score (the first one on ties), skipping NaN; `None` for an empty
/// slice or one holding only NaN.
pub fn argmax(scores: &[f32]) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (i, &s) in scores.iter().enumerate() {
        if s.is_nan() {
            continue;
        }
        match best {
            Some((_, b)) if s <= b => {}
            _ => best = Some((i, s)),
        }
    }
    best.map(|(i, _)| i)
}

/// Overwrites `scores` (log-likelihoods) with posterior probabilities under a uniform
/// label prior: a numerically stable softmax.
pub fn posterior_in_place(scores: &mut [f32]) {
    let Some(i) = argmax(scores) else { return };
    let max = scores.get(i).copied().unwrap_or(0.0);
    let mut total = 0.0f32;
    for s in scores.iter_mut() {
        *s = libm::expf(*s - max);
        total += *s;
    }
    for s in scores.iter_mut() {
        *s /= total;
    }
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::*;

    #[test]
    fn standard_normal_at_mean() {
        let lv = [0.0f32; 3];
        let mut iv = [0.0f32; 3];
        let ln = label_constants(&lv, &mut iv);
        assert_eq!(iv, [1.0; 3]);
        let ll = log_likelihood(&[0.0; 3], &[0.0; 3], &iv, ln);
        assert!((ll - (-1.5 * LN_2PI)).abs() < 1e-6);
    }

    #[test]
    fn matches_f64_reference() {
        let mu = [0.5f32, -1.0];
        let lv = [0.3f32, -0.7];
        let x = [1.25f32, 0.5];
        let mut iv = [0.0f32; 2];
        let ln = label_constants(&lv, &mut iv);
        let mut r = 0.0f64;
        for i in 0..2 {
            let var = (lv[i] as f64).exp();
            let d = (x[i] - mu[i]) as f64;
            r += -0.5 * ((2.0 * core::f64::consts::PI * var).ln() + d * d / var);
        }
        assert!((log_likelihood(&x, &mu, &iv, ln) as f64 - r).abs() < 1e-5);
    }

    #[test]
    fn argmax_takes_first_of_ties_and_skips_nan() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0]), Some(1));
        assert_eq!(argmax(&[]), None);
        assert_eq!(argmax(&[f32::NAN, 2.0]), Some(1));
        assert_eq!(argmax(&[1.0, f32::NAN, 0.5]), Some(0));
        assert_eq!(argmax(&[f32::NAN]), None);
    }

    #[test]
    fn posterior_sums_to_one() {
        let mut s = [-1000.0f32, -1001.0, -1003.0];
        posterior_in_place(&mut s);
        assert!((s.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(s[0] > s[1] && s[1] > s[2]);
    }
}
