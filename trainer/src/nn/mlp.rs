//! A stack of dense layers with ReLU between them, and the buffers its backward pass needs.

use crate::nn::dense::Dense;
use crate::nn::params::Layout;
use ndarray::{Array2, ArrayView2, ArrayViewMut2};

/// Dense layers `dims[0] → dims[1] → …`, ReLU after every layer but the last
/// (and after the last too when `relu_last`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mlp {
    /// The layers, input first.
    pub layers: Vec<Dense>,
    /// Whether the last layer's output goes through ReLU.
    pub relu_last: bool,
}

/// Activations kept from the forward pass and gradient buffers for the backward pass.
#[derive(Debug, Default, Clone)]
pub struct MlpCache {
    outs: Vec<Array2<f32>>,
    grads: Vec<Array2<f32>>,
}

impl MlpCache {
    /// The output of the last forward pass (empty before the first).
    pub fn output(&self) -> ArrayView2<'_, f32> {
        self.outs.last().map_or_else(
            || ArrayView2::from_shape((0, 0), &[]).expect("empty"),
            |a| a.view(),
        )
    }
}

impl Mlp {
    /// Reserves layers `name.0`, `name.1`, … for the given widths.
    pub fn new(layout: &mut Layout, name: &str, dims: &[usize], relu_last: bool) -> Mlp {
        let layers = dims
            .windows(2)
            .enumerate()
            .map(|(i, w)| Dense::new(layout, &format!("{name}.{i}"), w[0], w[1]))
            .collect();
        Mlp { layers, relu_last }
    }

    /// Output width.
    pub fn n_out(&self) -> usize {
        self.layers.last().map_or(0, |l| l.n_out)
    }

    fn relu_after(&self, i: usize) -> bool {
        i + 1 < self.layers.len() || self.relu_last
    }

    fn ensure(&self, cache: &mut MlpCache, n: usize) {
        if cache.outs.len() != self.layers.len()
            || cache.outs.first().is_some_and(|a| a.nrows() != n)
        {
            cache.outs = self
                .layers
                .iter()
                .map(|l| Array2::zeros((n, l.n_out)))
                .collect();
            cache.grads = cache.outs.clone();
        }
    }

    /// Runs the batch `x` through the stack; the output stays in `cache`.
    pub fn forward<'c>(
        &self,
        p: &[f32],
        x: ArrayView2<f32>,
        cache: &'c mut MlpCache,
    ) -> ArrayView2<'c, f32> {
        self.ensure(cache, x.nrows());
        for (i, l) in self.layers.iter().enumerate() {
            let (prev, rest) = cache.outs.split_at_mut(i);
            let input = if i == 0 { x } else { prev[i - 1].view() };
            let out = &mut rest[0];
            l.forward(p, input, out.view_mut());
            if self.relu_after(i) {
                relu_in_place(out.as_slice_mut().expect("contiguous"));
            }
        }
        cache.outs.last().expect("at least one layer").view()
    }

    /// Backpropagates `dout` (gradient w.r.t. the stack's output) from the last
    /// [`Mlp::forward`] on `x`: accumulates parameter gradients into `g` and writes the
    /// input gradient into `dx` when asked.
    pub fn backward(
        &self,
        p: &[f32],
        g: &mut [f32],
        x: ArrayView2<f32>,
        cache: &mut MlpCache,
        dout: ArrayView2<f32>,
        dx: Option<ArrayViewMut2<f32>>,
    ) {
        let last = self.layers.len() - 1;
        cache.grads[last].assign(&dout);
        if self.relu_last {
            relu_mask(&mut cache.grads[last], &cache.outs[last]);
        }
        let mut dx = dx;
        for i in (0..=last).rev() {
            let l = &self.layers[i];
            let (gprev, gcur) = cache.grads.split_at_mut(i);
            let dy = gcur[0].view();
            if i == 0 {
                l.backward(p, g, x, dy, dx.take());
            } else {
                l.backward(
                    p,
                    g,
                    cache.outs[i - 1].view(),
                    dy,
                    Some(gprev[i - 1].view_mut()),
                );
                relu_mask(&mut gprev[i - 1], &cache.outs[i - 1]);
            }
        }
    }
}

/// `v = max(v, 0)` elementwise.
pub fn relu_in_place(v: &mut [f32]) {
    for x in v {
        *x = x.max(0.0);
    }
}

/// Zeroes the gradient where the ReLU output was not positive.
fn relu_mask(grad: &mut Array2<f32>, out: &Array2<f32>) {
    let g = grad.as_slice_mut().expect("contiguous");
    let o = out.as_slice().expect("contiguous");
    // A select rather than a conditional store, so that the loop vectorises.
    for (gi, oi) in g.iter_mut().zip(o) {
        *gi = if *oi <= 0.0 { 0.0 } else { *gi };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::gradcheck::check;

    #[test]
    fn gradient_matches_finite_differences() {
        for relu_last in [false, true] {
            let mut layout = Layout::default();
            let m = Mlp::new(&mut layout, "m", &[5, 7, 6, 3], relu_last);
            let p: Vec<f32> = layout
                .init(11)
                .iter()
                .enumerate()
                .map(|(i, v)| v + 0.01 * (i % 3) as f32)
                .collect();
            let x =
                Array2::from_shape_fn((4, 5), |(i, j)| ((i * 5 + j * 3) % 7) as f32 / 7.0 - 0.3);
            let c = Array2::from_shape_fn((4, 3), |(i, j)| ((i + j) % 3) as f32 - 1.0);
            let loss = |p: &[f32], x: ArrayView2<f32>| {
                let mut cache = MlpCache::default();
                let y = m.forward(p, x, &mut cache);
                (&y * &c).sum()
            };
            let mut cache = MlpCache::default();
            m.forward(&p, x.view(), &mut cache);
            let mut g = vec![0.0; p.len()];
            let mut dx = Array2::zeros((4, 5));
            m.backward(
                &p,
                &mut g,
                x.view(),
                &mut cache,
                c.view(),
                Some(dx.view_mut()),
            );
            check("mlp params", &g, &mut p.clone(), |p| loss(p, x.view()));
            let mut xs = x.iter().copied().collect::<Vec<_>>();
            check("mlp input", dx.as_slice().unwrap(), &mut xs, |xs| {
                loss(&p, ArrayView2::from_shape((4, 5), xs).unwrap())
            });
        }
    }
}
