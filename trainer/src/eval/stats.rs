//! Small statistics for result tables: mean and sample standard deviation, and Welch's
//! two-sample t-test (the paper tests its Table 3 differences for significance); Student's t
//! distribution comes from `statrs`.

use statrs::distribution::{ContinuousCDF, StudentsT};

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

/// `P(|T| ≥ |t|)` for Student's t with `df` degrees of freedom (the distribution from
/// `statrs`; NaN for `df` not positive).
pub fn student_t_two_sided(t: f64, df: f64) -> f64 {
    match StudentsT::new(0.0, 1.0, df) {
        Ok(d) => (2.0 * d.cdf(-t.abs())).min(1.0),
        Err(_) => f64::NAN,
    }
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
