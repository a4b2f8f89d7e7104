//! Weight encoders (what the trainer's exporter calls) and the per-vector activation
//! quantiser of int8 layers (what inference calls).
//!
//! Int8 is symmetric, zero point 0:
//! - weights, per output channel (row): `scale = max|w_row| / 127`,
//!   `q = clamp(round_half_away_from_zero(w / scale), -127, 127)`; an all-zero row has
//!   scale 0 and all `q = 0`;
//! - activations, per vector, the same rule over the whole input vector.
//!
//! Int4 weights are symmetric per row too, codes `-7..=7` packed two per byte, but with 15
//! levels rounding dominates less than the largest weight: the scale is
//! `f · max|w_row| / 7` for the clipping fraction `f` of [`I4_CLIP_FRACTIONS`] with the least
//! squared error over the row (the first on ties), `q = clamp(round(w / scale), -7, 7)`.
//! Activations stay int8.
//!
//! All arithmetic is `f32` with `libm::roundf`, so every target produces the same bytes.

use crate::Error;
use crate::payload::Encoding;

/// `max |v|` over `values`, ignoring NaN (0 for an empty slice).
pub fn max_abs(values: &[f32]) -> f32 {
    values.iter().fold(0.0f32, |m, &v| {
        let a = libm::fabsf(v);
        if a > m { a } else { m }
    })
}

/// The symmetric int8 scale of `values`: `max|v| / 127`.
pub fn scale_of(values: &[f32]) -> f32 {
    max_abs(values) / 127.0
}

/// Quantises one value with `scale`: `clamp(roundf(v / scale), -127, 127)`, and 0 when
/// `scale` is 0 (or NaN).
pub fn quantize_value(v: f32, scale: f32) -> i8 {
    if scale > 0.0 {
        // NaN casts to 0; the value is otherwise an integer in [-127, 127].
        libm::roundf(v / scale).clamp(-127.0, 127.0) as i8
    } else {
        0
    }
}

/// Quantises the activation vector `x` into `q` (as many values as both hold) and returns
/// its scale. An all-zero vector gives scale 0 and `q = 0` (a layer then outputs its bias).
pub fn quantize_vector(x: &[f32], q: &mut [i8]) -> f32 {
    let scale = scale_of(x);
    for (qi, &xi) in q.iter_mut().zip(x) {
        *qi = quantize_value(xi, scale);
    }
    if scale > 0.0 { scale } else { 0.0 }
}

/// Writes `src` as little-endian `f32` into `out` (`out.len() == 4 * src.len()`).
pub fn encode_f32(src: &[f32], out: &mut [u8]) -> Result<(), Error> {
    check_out(out.len(), src.len(), 4)?;
    for (o, v) in out.as_chunks_mut::<4>().0.iter_mut().zip(src) {
        *o = v.to_le_bytes();
    }
    Ok(())
}

/// Writes `src` as little-endian IEEE binary16 (round to nearest even) into `out`
/// (`out.len() == 2 * src.len()`); [`Error::NonFinite`] if a value is not finite before or
/// after conversion (|v| ≥ 65520 overflows).
pub fn encode_f16(src: &[f32], out: &mut [u8]) -> Result<(), Error> {
    check_out(out.len(), src.len(), 2)?;
    for (o, &v) in out.as_chunks_mut::<2>().0.iter_mut().zip(src) {
        let h = half::f16::from_f32(v);
        if !v.is_finite() || !h.is_finite() {
            return Err(Error::NonFinite);
        }
        *o = h.to_le_bytes();
    }
    Ok(())
}

/// Quantises the row-major `[rows][cols]` matrix `w` per row into `q_out` (`w.len()`
/// bytes, each an `i8`) and `scales_out` (`rows` little-endian `f32`);
/// [`Error::NonFinite`] if a weight is not finite.
pub fn quantize_i8(
    w: &[f32],
    cols: usize,
    q_out: &mut [u8],
    scales_out: &mut [u8],
) -> Result<(), Error> {
    let rows = checked_rows(w, cols)?;
    check_out(q_out.len(), w.len(), 1)?;
    check_out(scales_out.len(), rows, 4)?;
    let scales = scales_out.as_chunks_mut::<4>().0;
    for ((row, q_row), s) in w
        .chunks_exact(cols)
        .zip(q_out.chunks_exact_mut(cols))
        .zip(scales)
    {
        let scale = scale_of(row);
        for (q, &v) in q_row.iter_mut().zip(row) {
            *q = quantize_value(v, scale) as u8;
        }
        *s = scale.to_le_bytes();
    }
    Ok(())
}

/// The clipping fractions [`quantize_i4`] tries for each row, largest first: `1 − k/40`
/// for `k = 0..=16` (down to 0.6 of the largest weight).
pub const I4_CLIP_FRACTIONS: usize = 17;

/// The int4 code of `v` at `scale` (> 0): `clamp(roundf(v / scale), -7, 7)`.
fn i4_code(v: f32, scale: f32) -> i8 {
    libm::roundf(v / scale).clamp(-7.0, 7.0) as i8
}

/// The int4 scale of one row: the clipping fraction of least squared error (see the module
/// docs); 0 for an all-zero row.
fn i4_scale(row: &[f32]) -> f32 {
    let max = max_abs(row);
    let mut best = (f64::INFINITY, 0.0f32);
    for k in 0..I4_CLIP_FRACTIONS {
        let scale = (1.0 - k as f32 / 40.0) * max / 7.0;
        if scale <= 0.0 {
            return 0.0;
        }
        let err: f64 = row
            .iter()
            .map(|&v| {
                let e = f64::from(v) - f64::from(i4_code(v, scale)) * f64::from(scale);
                e * e
            })
            .sum();
        if err < best.0 {
            best = (err, scale);
        }
    }
    best.1
}

/// Quantises the row-major `[rows][cols]` matrix `w` per row to int4 into `q_out`
/// (`rows * cols.div_ceil(2)` bytes: weight `i` of a row in the low nibble of byte `i / 2`
/// for even `i`, the high nibble for odd `i`, an odd row's last high nibble 0) and
/// `scales_out` (`rows` little-endian `f32`); [`Error::NonFinite`] if a weight is not finite.
pub fn quantize_i4(
    w: &[f32],
    cols: usize,
    q_out: &mut [u8],
    scales_out: &mut [u8],
) -> Result<(), Error> {
    let rows = checked_rows(w, cols)?;
    let row_bytes = cols.div_ceil(2);
    check_out(q_out.len(), rows, row_bytes)?;
    check_out(scales_out.len(), rows, 4)?;
    let scales = scales_out.as_chunks_mut::<4>().0;
    for ((row, q_row), s) in w
        .chunks_exact(cols)
        .zip(q_out.chunks_exact_mut(row_bytes))
        .zip(scales)
    {
        let scale = i4_scale(row);
        for (byte, pair) in q_row.iter_mut().zip(row.chunks(2)) {
            let code = |v: Option<&f32>| match v {
                Some(&v) if scale > 0.0 => (i4_code(v, scale) as u8) & 0x0f,
                _ => 0,
            };
            *byte = code(pair.first()) | (code(pair.get(1)) << 4);
        }
        *s = scale.to_le_bytes();
    }
    Ok(())
}

/// Encodes the row-major `[rows][cols]` matrix `w` as `enc` into `weights_out`
/// ([`Encoding::weight_bytes`] long) and, for int8 and int4, `scales_out`
/// ([`Encoding::scale_bytes`] long; pass `&mut []` otherwise). Pair the results with
/// [`crate::payload::Weights::from_parts`].
pub fn encode_weights(
    enc: Encoding,
    w: &[f32],
    rows: usize,
    cols: usize,
    weights_out: &mut [u8],
    scales_out: &mut [u8],
) -> Result<(), Error> {
    let n = rows.checked_mul(cols).ok_or(Error::Encode)?;
    if w.len() != n {
        return Err(Error::WrongInputLength {
            expected: n,
            got: w.len(),
        });
    }
    match enc {
        Encoding::F32 => encode_f32(w, weights_out),
        Encoding::F16 => encode_f16(w, weights_out),
        Encoding::I8 => quantize_i8(w, cols, weights_out, scales_out),
        Encoding::I4 => quantize_i4(w, cols, weights_out, scales_out),
    }
}

/// The rows of a `[rows][cols]` matrix `w`, checking its length and that every weight is
/// finite.
fn checked_rows(w: &[f32], cols: usize) -> Result<usize, Error> {
    if cols == 0 || !w.len().is_multiple_of(cols) {
        return Err(Error::WrongInputLength {
            expected: w.len().next_multiple_of(cols.max(1)),
            got: w.len(),
        });
    }
    if w.iter().any(|v| !v.is_finite()) {
        return Err(Error::NonFinite);
    }
    Ok(w.len().checked_div(cols).unwrap_or(0))
}

fn check_out(got: usize, items: usize, bytes_each: usize) -> Result<(), Error> {
    let expected = items.checked_mul(bytes_each).ok_or(Error::Encode)?;
    if got == expected {
        Ok(())
    } else {
        Err(Error::WrongOutputLength { expected, got })
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

    #[test]
    fn rounds_half_away_from_zero_and_clamps() {
        assert_eq!(quantize_value(2.5, 1.0), 3);
        assert_eq!(quantize_value(-2.5, 1.0), -3);
        assert_eq!(quantize_value(1.49, 1.0), 1);
        assert_eq!(quantize_value(500.0, 1.0), 127);
        assert_eq!(quantize_value(-500.0, 1.0), -127);
        assert_eq!(quantize_value(f32::NAN, 1.0), 0);
        assert_eq!(quantize_value(3.0, 0.0), 0);
    }

    #[test]
    fn vector_extremes_map_to_127() {
        let x = [0.5f32, -2.0, 1.0, 0.0];
        let mut q = [0i8; 4];
        let s = quantize_vector(&x, &mut q);
        assert_eq!(s, 2.0 / 127.0);
        assert_eq!(q, [32, -127, 64, 0]);
        let mut z = [5i8; 3];
        assert_eq!(quantize_vector(&[0.0; 3], &mut z), 0.0);
        assert_eq!(z, [0; 3]);
    }

    #[test]
    fn i8_rows_round_trip_within_half_a_step() {
        let w = [0.1f32, -0.4, 0.25, 0.0, 0.0, 0.0, 1.0, 2.0, -3.0];
        let mut q = [0u8; 9];
        let mut s = [0u8; 12];
        quantize_i8(&w, 3, &mut q, &mut s).unwrap();
        for r in 0..3 {
            let scale = f32::from_le_bytes(s[4 * r..4 * r + 4].try_into().unwrap());
            for c in 0..3 {
                let back = q[3 * r + c] as i8 as f32 * scale;
                assert!((back - w[3 * r + c]).abs() <= 0.5 * scale + 1e-7);
            }
        }
        // The zero row has scale 0 and zero codes.
        assert_eq!(&s[4..8], &[0; 4]);
        assert_eq!(&q[3..6], &[0; 3]);
        assert_eq!(
            quantize_i8(&w, 3, &mut q, &mut [0u8; 8]),
            Err(Error::WrongOutputLength {
                expected: 12,
                got: 8
            })
        );
        assert_eq!(
            quantize_i8(&[f32::NAN], 1, &mut [0], &mut [0; 4]),
            Err(Error::NonFinite)
        );
    }

    #[test]
    fn i4_rows_pack_two_codes_a_byte_and_pick_the_least_error_clip() {
        // Row 0: seven weights halfway between codes and one outlier: clipping the outlier a
        // little moves the seven off their worst case, a smaller total error. Row 1: zeros.
        // Row 2: no outlier, no clipping.
        let mut w = [0.2143f32; 24];
        w[7] = 1.0;
        w[8..16].fill(0.0);
        w[16..24].copy_from_slice(&[0.7, -0.35, 0.1, 0.0, 0.5, -0.7, 0.2, 0.3]);
        let mut q = [0u8; 12];
        let mut s = [0u8; 12];
        quantize_i4(&w, 8, &mut q, &mut s).unwrap();
        let scale = |r: usize| f32::from_le_bytes(s[4 * r..4 * r + 4].try_into().unwrap());
        assert!(scale(0) < 1.0 / 7.0, "{}", scale(0));
        assert_eq!(scale(1), 0.0);
        assert!(scale(2) > 0.06 && scale(2) <= 0.1, "{}", scale(2));
        assert_eq!(&q[4..8], &[0; 4]);
        for r in [0, 2] {
            for c in 0..8 {
                let code = crate::reference::i4_at(&q[4 * r..4 * r + 4], c);
                assert!((-7..=7).contains(&code));
                let err = (f32::from(code) * scale(r) - w[8 * r + c]).abs();
                let clipped = w[8 * r + c].abs() > 7.0 * scale(r);
                assert!(clipped || err <= 0.5 * scale(r) + 1e-7, "{r} {c}");
            }
        }
        // Packing: weight 0 in the low nibble, weight 1 in the high one, an odd row's last
        // high nibble 0 (scale 0.1: no clip fraction beats the exact codes 7, -3, 7).
        let mut odd = [0u8; 2];
        quantize_i4(&[0.7, -0.3, 0.7], 3, &mut odd, &mut [0u8; 4]).unwrap();
        assert_eq!(odd, [0x07 | (0x0d << 4), 0x07]);
        assert_eq!(
            quantize_i4(&w, 8, &mut [0u8; 11], &mut s),
            Err(Error::WrongOutputLength {
                expected: 12,
                got: 11
            })
        );
        assert_eq!(
            quantize_i4(&[f32::INFINITY], 1, &mut [0], &mut [0; 4]),
            Err(Error::NonFinite)
        );
    }

    #[test]
    fn f16_refuses_overflow() {
        let mut out = [0u8; 4];
        encode_f16(&[1.0, -0.5], &mut out).unwrap();
        assert_eq!(out, [0x00, 0x3c, 0x00, 0xb8]);
        assert_eq!(encode_f16(&[1.0, 70000.0], &mut out), Err(Error::NonFinite));
    }
}
