//! Label Gaussians: one owned diagonal Gaussian in latent space (a model label, an enrolled
//! label, or one computed from a word vector), and the exporter's helper that writes the
//! label table's precomputed constants.

use crate::le;
use crate::{Error, MAX_LATENT, gaussian};

/// A diagonal Gaussian `N(mu, diag(exp(logvar)))` of dimension `1..=`[`MAX_LATENT`], with
/// its precomputed `1/var` and log-normaliser ([`gaussian::label_constants`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LabelGaussian {
    dim: usize,
    mu: [f32; MAX_LATENT],
    logvar: [f32; MAX_LATENT],
    inv_var: [f32; MAX_LATENT],
    log_norm: f32,
}

impl LabelGaussian {
    /// A zero-dimensional placeholder (fills unused table slots).
    pub const EMPTY: LabelGaussian = LabelGaussian {
        dim: 0,
        mu: [0.0; MAX_LATENT],
        logvar: [0.0; MAX_LATENT],
        inv_var: [0.0; MAX_LATENT],
        log_norm: 0.0,
    };

    /// The Gaussian with mean `mu` and log-variance `logvar` (equal lengths,
    /// `1..=`[`MAX_LATENT`]); computes the constants with [`gaussian::label_constants`].
    pub fn new(mu: &[f32], logvar: &[f32]) -> Result<Self, Error> {
        let dim = mu.len();
        if dim == 0 || dim > MAX_LATENT {
            return Err(Error::DimensionOutOfRange {
                dim: crate::error::Dim::Latent,
                found: dim,
                max: MAX_LATENT,
            });
        }
        if logvar.len() != dim {
            return Err(Error::WrongInputLength {
                expected: dim,
                got: logvar.len(),
            });
        }
        let mut g = LabelGaussian::EMPTY;
        g.dim = dim;
        copy(mu, &mut g.mu);
        copy(logvar, &mut g.logvar);
        g.log_norm = gaussian::label_constants(logvar, &mut g.inv_var);
        Ok(g)
    }

    /// Row `index` of a validated label table of dimension `d`, constants read as stored.
    pub(crate) fn from_table(
        labels: &crate::payload::Labels<'_>,
        d: usize,
        index: usize,
    ) -> Option<Self> {
        let mut g = LabelGaussian::EMPTY;
        g.dim = d;
        le::read_f32s(le::row(labels.mu, d, index)?, &mut g.mu);
        le::read_f32s(le::row(labels.logvar, d, index)?, &mut g.logvar);
        le::read_f32s(le::row(labels.inv_var, d, index)?, &mut g.inv_var);
        g.log_norm = le::f32_at(labels.log_norm, index)?;
        Some(g)
    }

    /// The dimension.
    pub const fn dim(&self) -> usize {
        self.dim
    }

    /// The mean.
    pub fn mu(&self) -> &[f32] {
        self.mu.get(..self.dim).unwrap_or_default()
    }

    /// The log-variance.
    pub fn logvar(&self) -> &[f32] {
        self.logvar.get(..self.dim).unwrap_or_default()
    }

    /// `exp(-logvar)`.
    pub fn inv_var(&self) -> &[f32] {
        self.inv_var.get(..self.dim).unwrap_or_default()
    }

    /// `-0.5 (d ln 2π + Σ logvar)`.
    pub const fn log_norm(&self) -> f32 {
        self.log_norm
    }

    /// `log N(x; mu, diag var)` ([`gaussian::log_likelihood`]).
    pub fn log_likelihood(&self, x: &[f32]) -> f32 {
        gaussian::log_likelihood(x, self.mu(), self.inv_var(), self.log_norm)
    }
}

fn copy(src: &[f32], dst: &mut [f32]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

/// Writes the label table's constants for `count` labels of dimension `d` from their
/// row-major log-variances: `inv_var_out` (`count * d` little-endian `f32`) and
/// `log_norm_out` (`count` little-endian `f32`), exactly as validation recomputes them.
pub fn write_label_constants(
    logvar: &[f32],
    d: usize,
    inv_var_out: &mut [u8],
    log_norm_out: &mut [u8],
) -> Result<(), Error> {
    if d == 0 || d > MAX_LATENT {
        return Err(Error::DimensionOutOfRange {
            dim: crate::error::Dim::Latent,
            found: d,
            max: MAX_LATENT,
        });
    }
    if !logvar.len().is_multiple_of(d) {
        return Err(Error::WrongInputLength {
            expected: logvar.len().next_multiple_of(d),
            got: logvar.len(),
        });
    }
    let count = logvar.len().checked_div(d).unwrap_or(0);
    let need_iv = logvar.len().saturating_mul(4);
    if inv_var_out.len() != need_iv {
        return Err(Error::WrongOutputLength {
            expected: need_iv,
            got: inv_var_out.len(),
        });
    }
    let need_ln = count.saturating_mul(4);
    if log_norm_out.len() != need_ln {
        return Err(Error::WrongOutputLength {
            expected: need_ln,
            got: log_norm_out.len(),
        });
    }
    let mut iv = [0.0f32; MAX_LATENT];
    let iv = iv.get_mut(..d).unwrap_or_default();
    for ((lv, iv_row), ln) in logvar
        .chunks_exact(d)
        .zip(inv_var_out.chunks_exact_mut(d.saturating_mul(4)))
        .zip(log_norm_out.as_chunks_mut::<4>().0)
    {
        let norm = gaussian::label_constants(lv, iv);
        crate::quant::encode_f32(iv, iv_row)?;
        *ln = norm.to_le_bytes();
    }
    Ok(())
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::*;

    #[test]
    fn new_checks_and_computes_constants() {
        let g = LabelGaussian::new(&[1.0, 2.0], &[0.0, 0.0]).unwrap();
        assert_eq!(g.inv_var(), &[1.0, 1.0]);
        assert_eq!(g.log_norm(), -crate::gaussian::LN_2PI);
        assert_eq!(g.log_likelihood(&[1.0, 2.0]), g.log_norm());
        assert!(matches!(
            LabelGaussian::new(&[], &[]),
            Err(Error::DimensionOutOfRange { .. })
        ));
        assert_eq!(
            LabelGaussian::new(&[0.0; 2], &[0.0]),
            Err(Error::WrongInputLength {
                expected: 2,
                got: 1
            })
        );
    }
}
