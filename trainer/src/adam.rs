//! Adam (Kingma & Ba) over a flat parameter buffer, with bias correction.

use serde::{Deserialize, Serialize};

/// Adam's moment estimates and step count: everything a resumed run needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adam {
    /// First-moment estimates.
    pub m: Vec<f32>,
    /// Second-moment estimates.
    pub v: Vec<f32>,
    /// Updates applied so far.
    pub t: u64,
}

/// `β1`.
pub const BETA1: f32 = 0.9;
/// `β2`.
pub const BETA2: f32 = 0.999;
/// `ε` (PyTorch's default).
pub const EPS: f32 = 1e-8;

impl Adam {
    /// Zeroed state for `n` parameters.
    pub fn new(n: usize) -> Adam {
        Adam {
            m: vec![0.0; n],
            v: vec![0.0; n],
            t: 0,
        }
    }

    /// One update of `params` with gradient `grad` at learning rate `lr`.
    pub fn update(&mut self, params: &mut [f32], grad: &[f32], lr: f32) {
        self.t += 1;
        let bc1 = 1.0 - (BETA1 as f64).powi(self.t as i32);
        let bc2 = 1.0 - (BETA2 as f64).powi(self.t as i32);
        let step = (lr as f64 / bc1) as f32;
        let inv_bc2 = (1.0 / bc2) as f32;
        for (((p, g), m), v) in params
            .iter_mut()
            .zip(grad)
            .zip(&mut self.m)
            .zip(&mut self.v)
        {
            *m = BETA1 * *m + (1.0 - BETA1) * g;
            *v = BETA2 * *v + (1.0 - BETA2) * g * g;
            *p -= step * *m / ((*v * inv_bc2).sqrt() + EPS);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_moves_by_lr_against_the_gradient_sign() {
        let mut a = Adam::new(3);
        let mut p = [1.0f32, 1.0, 1.0];
        a.update(&mut p, &[0.5, -2.0, 0.0], 0.1);
        assert!((p[0] - 0.9).abs() < 1e-5 && (p[1] - 1.1).abs() < 1e-5 && p[2] == 1.0);
    }

    #[test]
    fn minimises_a_quadratic() {
        let mut a = Adam::new(2);
        let mut p = [3.0f32, -4.0];
        for _ in 0..2000 {
            let g = [2.0 * (p[0] - 1.0), 2.0 * (p[1] + 2.0)];
            a.update(&mut p, &g, 0.05);
        }
        assert!(
            (p[0] - 1.0).abs() < 1e-2 && (p[1] + 2.0).abs() < 1e-2,
            "{p:?}"
        );
    }
}
