//! Dense (fully connected) layer: `y = x · W + b`, with `W` stored `[in, out]`.

use crate::nn::matmul::matmul;
use crate::nn::params::Layout;
use ndarray::{ArrayView1, ArrayView2, ArrayViewMut2};

/// A dense layer's place in the parameter buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dense {
    /// Offset of `W` (`n_in × n_out`, row-major).
    pub w: usize,
    /// Offset of `b` (`n_out`).
    pub b: usize,
    /// Inputs.
    pub n_in: usize,
    /// Outputs.
    pub n_out: usize,
}

impl Dense {
    /// Reserves a layer named `name` (slots `name.w`, `name.b`).
    pub fn new(layout: &mut Layout, name: &str, n_in: usize, n_out: usize) -> Dense {
        let w = layout.add(&format!("{name}.w"), n_in, n_out);
        let b = layout.add(&format!("{name}.b"), 1, n_out);
        Dense {
            w: layout.slots[w].offset,
            b: layout.slots[b].offset,
            n_in,
            n_out,
        }
    }

    /// The weight matrix as a view into `p`.
    pub fn weight<'a>(&self, p: &'a [f32]) -> ArrayView2<'a, f32> {
        ArrayView2::from_shape(
            (self.n_in, self.n_out),
            &p[self.w..self.w + self.n_in * self.n_out],
        )
        .expect("slot shape")
    }

    /// The bias as a view into `p`.
    pub fn bias<'a>(&self, p: &'a [f32]) -> ArrayView1<'a, f32> {
        ArrayView1::from(&p[self.b..self.b + self.n_out])
    }

    /// `y = x · W + b` for a batch `x` (`n × n_in`) into `y` (`n × n_out`).
    pub fn forward(&self, p: &[f32], x: ArrayView2<f32>, mut y: ArrayViewMut2<f32>) {
        let b = self.bias(p);
        for mut row in y.rows_mut() {
            row.assign(&b);
        }
        matmul(y, x, self.weight(p), true);
    }

    /// Accumulates `dW += xᵀ · dy`, `db += Σ dy` into `g`; writes `dx = dy · Wᵀ` when asked.
    pub fn backward(
        &self,
        p: &[f32],
        g: &mut [f32],
        x: ArrayView2<f32>,
        dy: ArrayView2<f32>,
        dx: Option<ArrayViewMut2<f32>>,
    ) {
        let (gw, gb) = split_wb(g, self);
        let gw = ArrayViewMut2::from_shape((self.n_in, self.n_out), gw).expect("slot shape");
        matmul(gw, x.t(), dy, true);
        for row in dy.rows() {
            for (b, d) in gb.iter_mut().zip(row) {
                *b += d;
            }
        }
        if let Some(dx) = dx {
            matmul(dx, dy, self.weight(p).t(), false);
        }
    }
}

/// Disjoint mutable views of a layer's weight and bias gradients.
fn split_wb<'a>(g: &'a mut [f32], l: &Dense) -> (&'a mut [f32], &'a mut [f32]) {
    let wl = l.n_in * l.n_out;
    if l.w < l.b {
        let (a, b) = g.split_at_mut(l.b);
        (&mut a[l.w..l.w + wl], &mut b[..l.n_out])
    } else {
        let (a, b) = g.split_at_mut(l.w);
        (&mut b[..wl], &mut a[l.b..l.b + l.n_out])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::gradcheck::check;
    use ndarray::Array2;

    #[test]
    fn gradient_matches_finite_differences() {
        let mut layout = Layout::default();
        let l = Dense::new(&mut layout, "d", 4, 3);
        let mut p = layout.init(5);
        for (i, v) in p.iter_mut().enumerate() {
            *v += 0.05 * i as f32 % 0.3; // non-zero biases too
        }
        let x = Array2::from_shape_fn((5, 4), |(i, j)| ((i * 7 + j * 3) % 11) as f32 / 11.0 - 0.4);
        // loss = Σ y ⊙ c for a fixed c, so dy = c.
        let c = Array2::from_shape_fn((5, 3), |(i, j)| ((i + 2 * j) % 5) as f32 - 2.0);
        let loss = |p: &[f32], x: &Array2<f32>| {
            let mut y = Array2::zeros((5, 3));
            l.forward(p, x.view(), y.view_mut());
            (&y * &c).sum()
        };
        let mut g = vec![0.0; p.len()];
        let mut dx = Array2::zeros((5, 4));
        l.backward(&p, &mut g, x.view(), c.view(), Some(dx.view_mut()));
        check("dense params", &g, &mut p.clone(), |p| loss(p, &x));
        let mut xv = x.clone().into_raw_vec_and_offset().0;
        check("dense input", dx.as_slice().unwrap(), &mut xv, |xs| {
            loss(&p, &Array2::from_shape_vec((5, 4), xs.to_vec()).unwrap())
        });
    }
}
