//! Adam (Kingma & Ba) over a flat parameter buffer, with bias correction, fused with the sum
//! of the shards' gradients and the weights' moving average into one pass over memory.
//!
//! Written here rather than taken from a crate: the update must be the same bytes on every
//! CPU and thread count (no fused multiply-adds, a fixed summation order), and no optimiser
//! crate fuses the shard sum and the average into its pass.

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
        self.update_sum(params, &[(grad, 1.0)], lr, None, 1);
    }

    /// One update of `params` with the gradient `Σ weight · grad` over `grads` (summed per
    /// parameter in the order given), at learning rate `lr`; then, with `average =
    /// Some((avg, decay))`, `avg ← decay · avg + (1 − decay) · params`. The parameter range
    /// is split over up to `threads` threads; the result does not depend on their number.
    ///
    /// Reports whether the summed gradient and the updated parameters are all finite.
    pub fn update_sum(
        &mut self,
        params: &mut [f32],
        grads: &[(&[f32], f32)],
        lr: f32,
        average: Option<(&mut [f32], f32)>,
        threads: usize,
    ) -> UpdateCheck {
        let n = params.len();
        assert!(
            self.m.len() == n && grads.iter().all(|(g, _)| g.len() == n),
            "Adam: parameter and gradient lengths differ"
        );
        self.t += 1;
        let bc1 = 1.0 - (BETA1 as f64).powi(self.t as i32);
        let bc2 = 1.0 - (BETA2 as f64).powi(self.t as i32);
        let k = Coefficients {
            step: (lr as f64 / bc1) as f32,
            inv_bc2: (1.0 / bc2) as f32,
        };
        let (avg, decay) = match average {
            Some((a, d)) => {
                assert_eq!(a.len(), n, "Adam: average length differs");
                (Some(a), d)
            }
            None => (None, 0.0),
        };
        // Whole blocks per thread, and enough of them to pay for a thread.
        let per = n.div_ceil(threads.max(1)).div_ceil(BLOCK) * BLOCK;
        let per = per.max(MIN_PER_THREAD);
        let mut parts = Vec::new();
        let (mut p, mut m, mut v, mut a) = (params, &mut self.m[..], &mut self.v[..], avg);
        let mut off = 0;
        while !p.is_empty() {
            let len = per.min(p.len());
            let (p0, p1) = std::mem::take(&mut p).split_at_mut(len);
            let (m0, m1) = std::mem::take(&mut m).split_at_mut(len);
            let (v0, v1) = std::mem::take(&mut v).split_at_mut(len);
            let (a0, a1) = match a.take() {
                Some(a) => {
                    let (a0, a1) = a.split_at_mut(len);
                    (Some(a0), Some(a1))
                }
                None => (None, None),
            };
            parts.push(Part {
                p: p0,
                m: m0,
                v: v0,
                avg: a0,
                off,
            });
            (p, m, v, a) = (p1, m1, v1, a1);
            off += len;
        }
        let run = |part: Part| {
            pulp::Arch::new().dispatch(
                #[inline(always)]
                || part.update(grads, k, decay),
            )
        };
        let mut checks = Vec::with_capacity(parts.len());
        if parts.len() <= 1 {
            checks.extend(parts.into_iter().map(run));
        } else {
            std::thread::scope(|scope| {
                let mut it = parts.into_iter();
                let first = it.next();
                let handles: Vec<_> = it.map(|part| scope.spawn(move || run(part))).collect();
                checks.extend(first.map(run));
                checks.extend(handles.into_iter().map(|h| h.join().expect("Adam thread")));
            });
        }
        checks.into_iter().fold(
            UpdateCheck {
                grad_finite: true,
                params_finite: true,
            },
            |a, b| UpdateCheck {
                grad_finite: a.grad_finite && b.grad_finite,
                params_finite: a.params_finite && b.params_finite,
            },
        )
    }
}

/// Whether an update's summed gradient and new parameters are all finite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpdateCheck {
    /// Every gradient element was finite.
    pub grad_finite: bool,
    /// Every updated parameter is finite.
    pub params_finite: bool,
}

/// Whether `Σ weight · grad` over `grads` (summed as [`Adam::update_sum`] sums it) is finite
/// everywhere, without updating anything.
pub fn gradient_is_finite(grads: &[(&[f32], f32)]) -> bool {
    let n = grads.first().map_or(0, |(g, _)| g.len());
    (0..n).all(|i| {
        grads
            .iter()
            .fold(0.0f32, |s, (g, w)| s + w * g[i])
            .is_finite()
    })
}

/// Parameters per block: the shards' gradient sum is formed a block at a time, in cache.
const BLOCK: usize = 256;
/// The fewest parameters worth a thread of their own.
const MIN_PER_THREAD: usize = 1 << 14;

#[derive(Clone, Copy)]
struct Coefficients {
    step: f32,
    inv_bc2: f32,
}

/// A contiguous range of the parameters (from `off`) and its optimiser state.
struct Part<'a> {
    p: &'a mut [f32],
    m: &'a mut [f32],
    v: &'a mut [f32],
    avg: Option<&'a mut [f32]>,
    off: usize,
}

impl Part<'_> {
    #[inline(always)]
    fn update(self, grads: &[(&[f32], f32)], k: Coefficients, decay: f32) -> UpdateCheck {
        let mut g = [0.0f32; BLOCK];
        let (mut g_bad, mut p_bad) = (false, false);
        let n = self.p.len();
        let mut avg = self.avg;
        for start in (0..n).step_by(BLOCK) {
            let len = BLOCK.min(n - start);
            let g = &mut g[..len];
            g.fill(0.0);
            for (gs, w) in grads {
                let gs = &gs[self.off + start..self.off + start + len];
                for (a, b) in g.iter_mut().zip(gs) {
                    *a += w * b;
                }
            }
            let p = &mut self.p[start..start + len];
            let m = &mut self.m[start..start + len];
            let v = &mut self.v[start..start + len];
            for (((p, &g), m), v) in p.iter_mut().zip(g.iter()).zip(m).zip(v) {
                g_bad |= !g.is_finite();
                *m = BETA1 * *m + (1.0 - BETA1) * g;
                *v = BETA2 * *v + (1.0 - BETA2) * g * g;
                *p -= k.step * *m / ((*v * k.inv_bc2).sqrt() + EPS);
                p_bad |= !p.is_finite();
            }
            if let Some(a) = avg.as_deref_mut() {
                for (a, p) in a[start..start + len].iter_mut().zip(p.iter()) {
                    *a = decay * *a + (1.0 - decay) * p;
                }
            }
        }
        UpdateCheck {
            grad_finite: !g_bad,
            params_finite: !p_bad,
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

    /// The fused, threaded update is the plain update of the summed gradient, bit for bit,
    /// whatever the thread count; the average follows its formula.
    #[test]
    fn threads_and_shards_change_no_bit() {
        let n = 3 * MIN_PER_THREAD + 77;
        let wave = |i: usize, f: f32| (i as f32 * f).sin() * 0.1;
        let g1: Vec<f32> = (0..n).map(|i| wave(i, 0.37)).collect();
        let g2: Vec<f32> = (0..n).map(|i| wave(i, 0.11)).collect();
        let sum: Vec<f32> = g1
            .iter()
            .zip(&g2)
            .map(|(a, b)| 0.0 + 0.25 * a + 0.75 * b)
            .collect();
        let p0: Vec<f32> = (0..n).map(|i| wave(i, 0.05)).collect();
        let mut reference = (Adam::new(n), p0.clone());
        for _ in 0..3 {
            reference.0.update(&mut reference.1, &sum, 1e-2);
        }
        for threads in [1, 2, 5] {
            let (mut a, mut p, mut avg) = (Adam::new(n), p0.clone(), p0.clone());
            for _ in 0..3 {
                let c = a.update_sum(
                    &mut p,
                    &[(&g1, 0.25), (&g2, 0.75)],
                    1e-2,
                    Some((&mut avg, 0.5)),
                    threads,
                );
                assert!(c.grad_finite && c.params_finite);
            }
            assert_eq!((&a, &p), (&reference.0, &reference.1), "{threads} threads");
            assert!(avg.iter().zip(&p).any(|(a, p)| a != p));
        }
        let mut bad = g1.clone();
        bad[n - 1] = f32::NAN;
        let c = Adam::new(n).update_sum(&mut p0.clone(), &[(&bad, 1.0)], 1e-2, None, 2);
        assert!(!c.grad_finite && !c.params_finite);
        assert!(!gradient_is_finite(&[(&g1, 1.0), (&bad, 1.0)]));
        assert!(gradient_is_finite(&[(&g1, 1.0), (&g2, 1.0)]));
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
