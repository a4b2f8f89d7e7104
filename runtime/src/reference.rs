//! The reference arithmetic of a dense layer, one row at a time: the contract every kernel
//! (`kernel.rs`, `simd/`) meets bit for bit, on every target.
//!
//! Float dot products use eight independent accumulators in a fixed order, so the
//! compiler can vectorise them and every target adds the same numbers in the same order:
//! element `i` of each full block of eight goes to lane `i % 8`; the elements after the
//! last full block go, in order, to a separate tail sum; the result is
//! `((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)) + tail`. Rust never contracts
//! `a * b + c` into a fused multiply-add, so no target rounds differently.
//!
//! A layer's output is `act(dot(w_row, x) + bias)` for float weights, and for int8 and int4
//! weights `act(acc as f32 * (w_scale * x_scale) + bias)`, where `acc` is the exact `i32`
//! dot product of the weight codes with the input quantised to int8 by
//! [`crate::quant::quantize_vector`] (an all-zero input gives exactly `bias`).
//!
//! The functions here ([`dot_f32`], [`dot_f16`], [`dot_i8`], [`dot_i4`]) state that arithmetic one row
//! at a time; layers ([`crate::dense`]) run the faster kernels of `kernel.rs` (several rows at once, vectorised
//! quantisation) and `simd/` (AVX2, Cortex-M4 DSP), which compute the same bits and are
//! tested against these.

const LANES: usize = 8;

/// The fixed reduction of the eight lanes and the tail (see the module docs).
pub(crate) fn sum_lanes(acc: [f32; LANES], tail: f32) -> f32 {
    let [a0, a1, a2, a3, a4, a5, a6, a7] = acc;
    ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + tail
}

/// Dot product of a little-endian `f32` row with `x` (over `min(row.len() / 4, x.len())`
/// elements), in the fixed lane order described in the module docs.
pub fn dot_f32(row: &[u8], x: &[f32]) -> f32 {
    let (row_blocks, row_tail) = row.as_chunks::<{ 4 * LANES }>();
    let (x_blocks, x_tail) = x.as_chunks::<LANES>();
    let mut acc = [0.0f32; LANES];
    for (rb, xb) in row_blocks.iter().zip(x_blocks) {
        for ((a, w), xi) in acc.iter_mut().zip(rb.as_chunks::<4>().0).zip(xb) {
            *a += f32::from_le_bytes(*w) * *xi;
        }
    }
    let mut tail = 0.0f32;
    // Both tails start at element `blocks * 8` only when the row and `x` have equal length,
    // which every validated layer guarantees.
    for (w, xi) in row_tail.as_chunks::<4>().0.iter().zip(x_tail) {
        tail += f32::from_le_bytes(*w) * *xi;
    }
    sum_lanes(acc, tail)
}

/// Widens IEEE binary16 bits to `f32` exactly (as `half::f16::to_f32` does, except that a
/// NaN keeps its payload unquieted). Integer bit moves for normal numbers, infinities and
/// NaN; `mant * 2^-24` (exact, and a normal `f32`) for subnormals, so flush-to-zero modes
/// cannot change the result.
pub fn f16_bits_to_f32(h: u16) -> f32 {
    let h = u32::from(h);
    let sign = (h & 0x8000) << 16;
    let exp = (h >> 10) & 0x1f;
    let mant = h & 0x3ff;
    let magnitude = if exp == 0 {
        (mant as f32 * (1.0 / 16_777_216.0)).to_bits()
    } else if exp == 0x1f {
        0x7f80_0000 | (mant << 13)
    } else {
        (exp.wrapping_add(112) << 23) | (mant << 13)
    };
    f32::from_bits(sign | magnitude)
}

/// Dot product of a little-endian IEEE binary16 row with `x`, each weight widened exactly
/// to `f32` ([`f16_bits_to_f32`]), in the same lane order as [`dot_f32`].
pub fn dot_f16(row: &[u8], x: &[f32]) -> f32 {
    let (row_blocks, row_tail) = row.as_chunks::<{ 2 * LANES }>();
    let (x_blocks, x_tail) = x.as_chunks::<LANES>();
    let mut acc = [0.0f32; LANES];
    for (rb, xb) in row_blocks.iter().zip(x_blocks) {
        // Widen the block first, then multiply-add like `dot_f32`.
        let mut wf = [0.0f32; LANES];
        for (f, w) in wf.iter_mut().zip(rb.as_chunks::<2>().0) {
            *f = f16_bits_to_f32(u16::from_le_bytes(*w));
        }
        for ((a, w), xi) in acc.iter_mut().zip(wf).zip(xb) {
            *a += w * *xi;
        }
    }
    let mut tail = 0.0f32;
    for (w, xi) in row_tail.as_chunks::<2>().0.iter().zip(x_tail) {
        tail += f16_bits_to_f32(u16::from_le_bytes(*w)) * *xi;
    }
    sum_lanes(acc, tail)
}

/// Exact integer dot product of int8 weight codes (stored as bytes) with int8 activation
/// codes. Cannot overflow for rows up to [`crate::MAX_DIM`] long (128 · 127 · 2¹⁶ < 2³¹).
pub fn dot_i8(row: &[u8], xq: &[i8]) -> i32 {
    row.iter().zip(xq).fold(0i32, |acc, (&w, &x)| {
        acc.wrapping_add(i32::from(w as i8).wrapping_mul(i32::from(x)))
    })
}

/// The int4 code of weight `i` of a packed row: the low nibble of byte `i / 2` for even
/// `i`, the high nibble for odd `i`, as a two's-complement value in `-8..=7` (0 past the
/// row's end).
pub fn i4_at(row: &[u8], i: usize) -> i8 {
    let byte = row.get(i / 2).copied().unwrap_or(0);
    let nibble = if i.is_multiple_of(2) {
        byte << 4
    } else {
        byte & 0xf0
    };
    (nibble as i8) >> 4
}

/// Exact integer dot product of a packed int4 row (see [`i4_at`]) with int8 activation
/// codes (`xq.len()` elements). Cannot overflow for rows up to [`crate::MAX_DIM`] long.
pub fn dot_i4(row: &[u8], xq: &[i8]) -> i32 {
    xq.iter().enumerate().fold(0i32, |acc, (i, &x)| {
        acc.wrapping_add(i32::from(i4_at(row, i)).wrapping_mul(i32::from(x)))
    })
}
