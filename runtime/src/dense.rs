//! Dense layers for `f32`, `f16`, int8 and int4 weights: `act(W x + b)`, run by the kernels of
//! `kernel.rs` (and `simd/`), whose arithmetic [`crate::reference`] states one row at a
//! time.

use crate::payload::{Activation, Layer, Weights};
use crate::{Error, kernel};

/// Applies `act` in place.
pub fn activate(act: Activation, y: &mut [f32]) {
    match act {
        Activation::Identity => {}
        Activation::Relu => {
            for v in y.iter_mut() {
                *v = if *v > 0.0 { *v } else { 0.0 };
            }
        }
        Activation::Sigmoid => {
            for v in y.iter_mut() {
                *v = 1.0 / (1.0 + libm::expf(-*v));
            }
        }
    }
}

impl Layer<'_> {
    /// `y = act(W x + b)`, checking the lengths of `x`, `y` and `quant` (which int8 and int4
    /// layers need, at least `2 * in_dim + 24` long; other layers accept `&mut []`). The layer's own arrays are
    /// trusted: use layers of a validated [`crate::Model`] (or of a payload that
    /// [`crate::Model::from_payload`] accepted).
    pub fn forward(&self, x: &[f32], y: &mut [f32], quant: &mut [i8]) -> Result<(), Error> {
        let (inp, out) = (self.in_dim as usize, self.out_dim as usize);
        if x.len() != inp {
            return Err(Error::WrongInputLength {
                expected: inp,
                got: x.len(),
            });
        }
        if y.len() != out {
            return Err(Error::WrongOutputLength {
                expected: out,
                got: y.len(),
            });
        }
        let needed = kernel::quant_len(inp);
        if self.takes_bytes() && quant.len() < needed {
            return Err(Error::QuantScratchTooSmall {
                needed,
                got: quant.len(),
            });
        }
        self.apply(x, y, quant);
        Ok(())
    }

    /// [`Layer::forward`] without the length checks: the caller guarantees
    /// `x.len() == in_dim`, `y.len() == out_dim` and, for int8, that `quant` holds the
    /// scratch [`Layer::forward`] asks for.
    /// Wrong lengths cannot panic; they leave part of `y` unwritten.
    pub(crate) fn apply(&self, x: &[f32], y: &mut [f32], quant: &mut [i8]) {
        let inp = self.in_dim as usize;
        match self.weights {
            Weights::F32(w) => kernel::layer_f32(w, inp, x, self.bias, y),
            Weights::F16(w) => kernel::layer_f16(w, inp, x, self.bias, y),
            Weights::I8 { q, scales } => kernel::layer_i8(q, inp, scales, self.bias, x, quant, y),
            Weights::I4 { q, scales } => kernel::layer_i4(q, inp, scales, self.bias, x, quant, y),
        }
        activate(self.activation, y);
    }
}

impl Layer<'_> {
    /// [`Layer::apply`] of an int8 or int4 layer to an image given as bytes (values
    /// `byte as f32 / 255.0`), quantised straight from the bytes: the same outputs as
    /// converting the image to `f32` first, without the `f32` copy. Only for those layers
    /// (see [`Layer::takes_bytes`]); any other layer leaves `y` unchanged.
    pub(crate) fn apply_bytes(&self, x: &[u8], y: &mut [f32], quant: &mut [i8]) {
        let inp = self.in_dim as usize;
        match self.weights {
            Weights::I8 { q, scales } => kernel::layer_i8(q, inp, scales, self.bias, x, quant, y),
            Weights::I4 { q, scales } => kernel::layer_i4(q, inp, scales, self.bias, x, quant, y),
            Weights::F32(_) | Weights::F16(_) => return,
        }
        activate(self.activation, y);
    }

    /// Whether the layer quantises its input (int8 and int4 weights): it then needs int8
    /// scratch, and [`Layer::apply_bytes`] applies to it.
    pub(crate) const fn takes_bytes(&self) -> bool {
        matches!(self.weights, Weights::I8 { .. } | Weights::I4 { .. })
    }
}

/// Which buffer holds the current activation in [`run_chain`].
#[derive(Clone, Copy)]
enum Cur {
    Input,
    A,
    B,
}

/// Runs `layers` on `input`, ping-ponging between `a` and `b` (each at least as long as the
/// widest layer output), and returns the last output (`input` itself for no layers).
pub(crate) fn run_chain<'x>(
    layers: &[Layer<'_>],
    input: &'x [f32],
    a: &'x mut [f32],
    b: &'x mut [f32],
    quant: &mut [i8],
) -> &'x [f32] {
    chain(layers, Cur::Input, input.len(), input, a, b, quant)
}

/// [`run_chain`] for an input already in `a` (its first `len` values).
pub(crate) fn run_chain_from_a<'x>(
    layers: &[Layer<'_>],
    len: usize,
    a: &'x mut [f32],
    b: &'x mut [f32],
    quant: &mut [i8],
) -> &'x [f32] {
    chain(layers, Cur::A, len, &[], a, b, quant)
}

fn chain<'x>(
    layers: &[Layer<'_>],
    mut cur: Cur,
    mut len: usize,
    input: &'x [f32],
    a: &'x mut [f32],
    b: &'x mut [f32],
    quant: &mut [i8],
) -> &'x [f32] {
    for layer in layers {
        let n = layer.out_dim as usize;
        cur = match cur {
            Cur::Input => {
                layer.apply(input, a.get_mut(..n).unwrap_or_default(), quant);
                Cur::A
            }
            Cur::A => {
                let x = a.get(..len).unwrap_or_default();
                layer.apply(x, b.get_mut(..n).unwrap_or_default(), quant);
                Cur::B
            }
            Cur::B => {
                let x = b.get(..len).unwrap_or_default();
                layer.apply(x, a.get_mut(..n).unwrap_or_default(), quant);
                Cur::A
            }
        };
        len = n;
    }
    match cur {
        Cur::Input => input,
        Cur::A => {
            let a: &'x [f32] = a;
            a.get(..len).unwrap_or_default()
        }
        Cur::B => {
            let b: &'x [f32] = b;
            b.get(..len).unwrap_or_default()
        }
    }
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
    use crate::payload::Encoding;
    use crate::quant::encode_weights;
    use crate::reference::{dot_f32, f16_bits_to_f32};
    use crate::rng::Rng;
    use std::vec;
    use std::vec::Vec;

    /// A random `out × inp` layer with weights in [-1, 1) and its `f64` reference output.
    fn case(rng: &mut Rng, out: usize, inp: usize) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let w: Vec<f32> = (0..out * inp).map(|_| rng.uniform() * 2.0 - 1.0).collect();
        let b: Vec<f32> = (0..out).map(|_| rng.uniform() - 0.5).collect();
        let x: Vec<f32> = (0..inp).map(|_| rng.uniform()).collect();
        (w, b, x)
    }

    fn reference(w: &[f32], b: &[f32], x: &[f32]) -> Vec<f64> {
        let inp = x.len();
        b.iter()
            .enumerate()
            .map(|(o, &bo)| {
                let row = &w[o * inp..(o + 1) * inp];
                row.iter()
                    .zip(x)
                    .map(|(&wi, &xi)| wi as f64 * xi as f64)
                    .sum::<f64>()
                    + bo as f64
            })
            .collect()
    }

    fn run(enc: Encoding, w: &[f32], b: &[f32], x: &[f32]) -> Vec<f32> {
        let (out, inp) = (b.len(), x.len());
        let mut wb = vec![0u8; enc.weight_bytes(out, inp).unwrap()];
        let mut sb = vec![0u8; enc.scale_bytes(out).unwrap()];
        encode_weights(enc, w, out, inp, &mut wb, &mut sb).unwrap();
        let mut bias = vec![0u8; 4 * out];
        crate::quant::encode_f32(b, &mut bias).unwrap();
        let layer = Layer {
            in_dim: inp as u32,
            out_dim: out as u32,
            activation: Activation::Identity,
            weights: crate::payload::Weights::from_parts(enc, &wb, &sb),
            bias: &bias,
        };
        let mut y = vec![0f32; out];
        let mut q = vec![0i8; 2 * inp + 24];
        layer.forward(x, &mut y, &mut q).unwrap();
        y
    }

    #[test]
    fn f32_matches_f64_reference() {
        let mut rng = Rng::new(1);
        for &(out, inp) in &[(1, 1), (3, 7), (5, 8), (16, 61), (64, 784), (10, 512)] {
            let (w, b, x) = case(&mut rng, out, inp);
            let y = run(Encoding::F32, &w, &b, &x);
            let r = reference(&w, &b, &x);
            for (a, e) in y.iter().zip(&r) {
                // |terms| ≤ 1: the f32 rounding error of a sum of n such terms is far below 1e-5
                // for these sizes except 784, where values reach ~±20 and relative error counts.
                let tol = 1e-5f64.max(e.abs() * 2e-6);
                assert!((*a as f64 - e).abs() <= tol, "{out}x{inp}: {a} vs {e}");
            }
        }
    }

    #[test]
    fn f16_within_half_precision() {
        let mut rng = Rng::new(2);
        for &(out, inp) in &[(3, 7), (16, 61), (64, 512)] {
            let (w, b, x) = case(&mut rng, out, inp);
            let y = run(Encoding::F16, &w, &b, &x);
            let r = reference(&w, &b, &x);
            // Each weight's relative error is ≤ 2^-11; Σ|w x| bounds the dot product's error.
            for (o, (a, e)) in y.iter().zip(&r).enumerate() {
                let l1: f64 = (0..inp).map(|i| (w[o * inp + i] * x[i]).abs() as f64).sum();
                let tol = l1 * 2f64.powi(-11) + 1e-5;
                assert!((*a as f64 - e).abs() <= tol, "{a} vs {e} (tol {tol})");
            }
        }
    }

    #[test]
    fn i8_within_quantisation_error() {
        let mut rng = Rng::new(3);
        for &(out, inp) in &[(3, 7), (16, 61), (64, 512), (8, 784)] {
            let (w, b, x) = case(&mut rng, out, inp);
            let y = run(Encoding::I8, &w, &b, &x);
            let r = reference(&w, &b, &x);
            let xs = crate::quant::scale_of(&x) as f64;
            for (o, (a, e)) in y.iter().zip(&r).enumerate() {
                let row = &w[o * inp..(o + 1) * inp];
                let ws = crate::quant::scale_of(row) as f64;
                // w = ŵ + δw with |δw| ≤ ws/2, x = x̂ + δx with |δx| ≤ xs/2:
                // |Σ w x − Σ ŵ x̂| ≤ Σ (|x| ws/2 + |ŵ| xs/2).
                let bound: f64 = row
                    .iter()
                    .zip(&x)
                    .map(|(&wi, &xi)| {
                        xi.abs() as f64 * ws / 2.0 + (wi.abs() as f64 + ws / 2.0) * xs / 2.0
                    })
                    .sum();
                assert!(
                    (*a as f64 - e).abs() <= bound + 1e-4,
                    "{a} vs {e} (bound {bound})"
                );
            }
        }
    }

    #[test]
    fn i4_within_quantisation_error() {
        let mut rng = Rng::new(5);
        for &(out, inp) in &[(3, 7), (16, 61), (64, 512), (8, 784)] {
            let (w, b, x) = case(&mut rng, out, inp);
            let y = run(Encoding::I4, &w, &b, &x);
            let mut wb = vec![0u8; Encoding::I4.weight_bytes(out, inp).unwrap()];
            let mut sb = vec![0u8; 4 * out];
            encode_weights(Encoding::I4, &w, out, inp, &mut wb, &mut sb).unwrap();
            let xs = crate::quant::scale_of(&x) as f64;
            for (o, a) in y.iter().enumerate() {
                // The decoded weights ŵ are exact; only the input's rounding remains:
                // |Σ ŵ x − Σ ŵ x̂| ≤ Σ |ŵ| xs/2.
                let ws = f32::from_le_bytes(sb[4 * o..4 * o + 4].try_into().unwrap()) as f64;
                let row = &wb[o * inp.div_ceil(2)..];
                let decoded: Vec<f32> = (0..inp)
                    .map(|i| (crate::reference::i4_at(row, i) as f64 * ws) as f32)
                    .collect();
                let e = reference(&decoded, &b[o..o + 1], &x)[0];
                let bound: f64 = decoded.iter().map(|&v| v.abs() as f64 * xs / 2.0).sum();
                assert!(
                    (*a as f64 - e).abs() <= bound + 1e-4,
                    "{a} vs {e} (bound {bound})"
                );
            }
        }
    }

    #[test]
    fn f16_widening_is_exact_for_every_value() {
        for bits in 0..=u16::MAX {
            let ours = f16_bits_to_f32(bits);
            let theirs = half::f16::from_bits(bits).to_f32();
            if theirs.is_nan() {
                assert!(ours.is_nan(), "{bits:#06x}");
            } else {
                assert_eq!(ours.to_bits(), theirs.to_bits(), "{bits:#06x}");
            }
        }
    }

    #[test]
    fn i8_zero_input_gives_bias() {
        let y = run(
            Encoding::I8,
            &[1.0, 2.0, 3.0, 4.0],
            &[0.25, -0.5],
            &[0.0, 0.0],
        );
        assert_eq!(y, [0.25, -0.5]);
    }

    #[test]
    fn lane_order_is_the_documented_one() {
        // 19 elements: two blocks of eight, then a tail of three.
        let mut rng = Rng::new(4);
        let w: Vec<f32> = (0..19).map(|_| rng.normal()).collect();
        let x: Vec<f32> = (0..19).map(|_| rng.normal()).collect();
        let mut wb = vec![0u8; 76];
        crate::quant::encode_f32(&w, &mut wb).unwrap();
        let mut l = [0f32; 8];
        for i in 0..16 {
            l[i % 8] += w[i] * x[i];
        }
        let mut tail = 0f32;
        for i in 16..19 {
            tail += w[i] * x[i];
        }
        let expect = ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7])) + tail;
        assert_eq!(dot_f32(&wb, &x).to_bits(), expect.to_bits());
    }

    #[test]
    fn forward_checks_lengths() {
        let w = [0u8; 8];
        let bias = [0u8; 8];
        let layer = Layer {
            in_dim: 1,
            out_dim: 2,
            activation: Activation::Relu,
            weights: Weights::I8 {
                q: &w[..2],
                scales: &w,
            },
            bias: &bias,
        };
        let mut y = [0f32; 2];
        assert_eq!(
            layer.forward(&[1.0, 2.0], &mut y, &mut [0]),
            Err(Error::WrongInputLength {
                expected: 1,
                got: 2
            })
        );
        assert_eq!(
            layer.forward(&[1.0], &mut y[..1], &mut [0]),
            Err(Error::WrongOutputLength {
                expected: 2,
                got: 1
            })
        );
        assert_eq!(
            layer.forward(&[1.0], &mut y, &mut [0; 25]),
            Err(Error::QuantScratchTooSmall {
                needed: 26,
                got: 25
            })
        );
        assert_eq!(layer.forward(&[1.0], &mut y, &mut [0; 26]), Ok(()));
    }
}
