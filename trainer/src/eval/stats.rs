//! Small statistics for result tables: mean and sample standard deviation, and Welch's
//! two-sample t-test (the paper tests its Table 3 differences for significance).

/// Mean and sample standard deviation (`n − 1` in the denominator; 0 for fewer than two
/// values).
pub fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n.max(1.0);
    if v.len() < 2 {
        return (mean, 0.0);
    }
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// Result of [`welch`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TTest {
    /// `(mean(a) − mean(b)) / sqrt(s_a²/n_a + s_b²/n_b)`.
    pub t: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// Two-sided p-value.
    pub p: f64,
}

/// Welch's unequal-variance t-test of `mean(a) = mean(b)`; `None` with fewer than two values
/// on a side or no variance at all.
pub fn welch(a: &[f64], b: &[f64]) -> Option<TTest> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let ((ma, sa), (mb, sb)) = (mean_std(a), mean_std(b));
    let (va, vb) = (sa * sa / a.len() as f64, sb * sb / b.len() as f64);
    let se2 = va + vb;
    if se2 <= 0.0 {
        return None;
    }
    let t = (ma - mb) / se2.sqrt();
    let df = se2 * se2 / (va * va / (a.len() as f64 - 1.0) + vb * vb / (b.len() as f64 - 1.0));
    Some(TTest {
        t,
        df,
        p: student_t_two_sided(t, df),
    })
}

/// `P(|T| ≥ |t|)` for Student's t with `df` degrees of freedom: `I_{df/(df+t²)}(df/2, 1/2)`.
pub fn student_t_two_sided(t: f64, df: f64) -> f64 {
    incomplete_beta(df / (df + t * t), df / 2.0, 0.5)
}

/// `ln Γ(x)` for `x > 0` (Lanczos, g = 7, 9 terms; relative error below 1e-13).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The regularised incomplete beta function `I_x(a, b)`, by its continued fraction
/// (modified Lentz), using the symmetry `I_x(a, b) = 1 − I_{1−x}(b, a)` where it converges
/// faster.
fn incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x > (a + 1.0) / (a + b + 2.0) {
        return 1.0 - front * beta_fraction(1.0 - x, b, a) / b;
    }
    front * beta_fraction(x, a, b) / a
}

fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..300 {
        let m = m as f64;
        for num in [
            m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0)),
        ] {
            d = 1.0 + num * d;
            if d.abs() < TINY {
                d = TINY;
            }
            c = 1.0 + num / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            h *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_std() {
        let (m, s) = mean_std(&[1.0, 2.0, 3.0]);
        assert!((m - 2.0).abs() < 1e-12 && (s - 1.0).abs() < 1e-12);
        assert_eq!(mean_std(&[5.0]), (5.0, 0.0));
    }

    #[test]
    fn ln_gamma_matches_factorials() {
        for (x, want) in [
            (1.0, 1.0f64),
            (5.0, 24.0),
            (0.5, std::f64::consts::PI.sqrt()),
        ] {
            assert!((ln_gamma(x) - want.ln()).abs() < 1e-12, "{x}");
        }
    }

    /// Two-sided p-values of Student's t from standard tables.
    #[test]
    fn student_t_tail_matches_tables() {
        for (t, df, p) in [
            (2.0, 5.0, 0.101_939),
            (2.776_445, 4.0, 0.05),
            (1.0, 1.0, 0.5),
            (0.0, 3.0, 1.0),
            (12.706_205, 1.0, 0.05),
            (1.959_964, 1e6, 0.05),
        ] {
            let got = student_t_two_sided(t, df);
            assert!((got - p).abs() < 1e-5, "t {t} df {df}: {got} vs {p}");
        }
    }

    #[test]
    fn welch_by_hand() {
        // Means 2 and 5, sample variances 1 and 4, n = 3 each: se² = 1/3 + 4/3 = 5/3,
        // t = −3 / sqrt(5/3), df = (5/3)² / ((1/3)²/2 + (4/3)²/2) = 50/17.
        let r = welch(&[1.0, 2.0, 3.0], &[3.0, 5.0, 7.0]).unwrap();
        assert!((r.t + 3.0 / (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!((r.df - 50.0 / 17.0).abs() < 1e-12);
        assert!((r.p - student_t_two_sided(r.t, r.df)).abs() < 1e-15);
        // Numerical integration of the t density gives 0.104478886684714.
        assert!((r.p - 0.104_478_886_684_714).abs() < 1e-9, "{}", r.p);
        assert_eq!(welch(&[1.0], &[2.0, 3.0]), None);
        assert_eq!(welch(&[1.0, 1.0], &[2.0, 2.0]), None);
    }
}
