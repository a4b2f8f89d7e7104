//! The compute behind [`crate::dense`]: whole dense layers (`W x + b`, before the activation)
//! for each weight encoding, and the int8 activation quantiser — safe, portable Rust written
//! so that LLVM vectorises it (SSE2 on any x86-64, NEON on AArch64).
//!
//! [`crate::simd`] replaces parts of it where a measurement asked for it (AVX2 on x86-64 with
//! the `std` feature; the Cortex-M4 DSP instructions on `thumbv7em`). A replacement computes
//! the same bits as the code here, and the tests compare them on random inputs.
//!
//! - **Float layers** compute each row in the fixed 8-lane order of [`crate::reference::dot_f32`]
//!   (the order is part of the blob's contract: host and device give the same bits). Several
//!   rows are computed at once, each with its own accumulators, which gives the CPU
//!   independent work without changing any row's order. f16 weights are widened exactly
//!   ([`f16_to_f32`], branch-free so it vectorises) and then summed like f32.
//! - **Int8 layers** quantise the input once per layer ([`code`]: the same value as
//!   [`crate::quant::quantize_value`], without `libm::roundf`, so it vectorises) and sum
//!   exact `i32` products, where any order gives the same result. The codes are stored
//!   split by sign, `x = x⁺ − x⁻` with `x⁺, x⁻ ∈ 0..=127` (so the x86 kernels can multiply
//!   unsigned bytes by signed weights); the `x⁻` pass is skipped when no code is negative
//!   (after a ReLU, and for images, none is). On 32-bit Arm the codes stay signed (the
//!   Cortex-M4 kernel widens them to `i16` pairs; layers it does not take use a plain loop).
//!   A first layer can read an image's bytes directly ([`Input`]).

use crate::reference::sum_lanes;

/// Lanes of the float dot products (see [`crate::dense`]).
pub(crate) const LANES: usize = 8;

/// Whether the float kernels compute four rows at once (independent accumulators for the
/// CPU to overlap; the order within each row is unchanged). Not on 32-bit Arm: the FPU has
/// 32 registers, exactly the lanes of four rows, and one row keeps the firmware small.
pub(crate) const FLOAT_FOUR_ROWS: bool = cfg!(not(target_arch = "arm"));

/// Bytes of int8 scratch beyond two per input: alignment and padding room for the
/// Cortex-M kernel ([`crate::simd`]), asked for on every target so that
/// [`crate::Model::scratch_len`] does not depend on the target.
pub(crate) const QUANT_SLACK: usize = 24;

/// Int8 scratch (`i8` elements) for a layer with `inp` inputs: two per input (the codes
/// split by sign, or the Cortex-M kernel's `i16` pairs) plus [`QUANT_SLACK`].
pub(crate) const fn quant_len(inp: usize) -> usize {
    if inp == 0 {
        0
    } else {
        inp.saturating_mul(2).saturating_add(QUANT_SLACK)
    }
}

// ---------------------------------------------------------------------------------------
// Float layers

/// Splits `group` into its first four rows of `row_bytes` each (empty when too short),
/// without a division (`chunks_exact` would divide once per group).
#[inline(always)]
pub(crate) fn four_rows(group: &[u8], row_bytes: usize) -> [&[u8]; 4] {
    let (r0, rest) = group.split_at_checked(row_bytes).unwrap_or_default();
    let (r1, rest) = rest.split_at_checked(row_bytes).unwrap_or_default();
    let (r2, r3) = rest.split_at_checked(row_bytes).unwrap_or_default();
    [r0, r1, r2, r3.get(..row_bytes).unwrap_or_default()]
}

/// A float weight encoding: the bytes of one lane block (eight weights, `B` bytes) widened
/// to `f32`, and of a single weight.
pub(crate) trait FloatWeights<const B: usize> {
    /// Bytes per weight.
    const WIDTH: usize;
    /// Eight weights.
    fn block(b: &[u8; B]) -> [f32; LANES];
    /// One weight (`WIDTH` bytes; 0 if shorter).
    fn one(b: &[u8]) -> f32;
}

/// Little-endian `f32` weights.
pub(crate) struct F32s;

impl FloatWeights<{ 4 * LANES }> for F32s {
    const WIDTH: usize = 4;

    #[inline(always)]
    fn block(b: &[u8; 4 * LANES]) -> [f32; LANES] {
        let mut out = [0.0f32; LANES];
        for (o, c) in out.iter_mut().zip(b.as_chunks::<4>().0) {
            *o = f32::from_le_bytes(*c);
        }
        out
    }

    #[inline(always)]
    fn one(b: &[u8]) -> f32 {
        b.first_chunk::<4>().map_or(0.0, |c| f32::from_le_bytes(*c))
    }
}

/// Little-endian IEEE binary16 weights, widened exactly ([`f16_to_f32`]).
pub(crate) struct F16s;

impl FloatWeights<{ 2 * LANES }> for F16s {
    const WIDTH: usize = 2;

    #[inline(always)]
    fn block(b: &[u8; 2 * LANES]) -> [f32; LANES] {
        let mut out = [0.0f32; LANES];
        for (o, c) in out.iter_mut().zip(b.as_chunks::<2>().0) {
            *o = f16_to_f32(u16::from_le_bytes(*c));
        }
        out
    }

    #[inline(always)]
    fn one(b: &[u8]) -> f32 {
        b.first_chunk::<2>()
            .map_or(0.0, |c| f16_to_f32(u16::from_le_bytes(*c)))
    }
}

/// `acc[i] += w[i] * x[i]` for the eight lanes.
#[inline(always)]
fn lanes_add(acc: &mut [f32; LANES], w: [f32; LANES], x: &[f32; LANES]) {
    for ((a, w), xi) in acc.iter_mut().zip(w).zip(x) {
        *a += w * *xi;
    }
}

/// The sequential sum of the elements after `blocks` full lane blocks.
#[inline(always)]
fn float_tail<const B: usize, E: FloatWeights<B>>(row: &[u8], x: &[f32], blocks: usize) -> f32 {
    let start = blocks.saturating_mul(LANES);
    let row = row
        .get(start.saturating_mul(E::WIDTH)..)
        .unwrap_or_default();
    let x = x.get(start..).unwrap_or_default();
    let mut tail = 0.0f32;
    for (w, xi) in row.chunks_exact(E::WIDTH).zip(x) {
        tail += E::one(w) * *xi;
    }
    tail
}

/// Dot product of one float row with `x` in the order of [`crate::reference::dot_f32`] (the row
/// as long as `x`).
#[inline(always)]
pub(crate) fn dot1_float<const B: usize, E: FloatWeights<B>>(row: &[u8], x: &[f32]) -> f32 {
    let (xb, _) = x.as_chunks::<LANES>();
    let (rb, _) = row.as_chunks::<B>();
    let mut acc = [0.0f32; LANES];
    for (xs, w) in xb.iter().zip(rb) {
        lanes_add(&mut acc, E::block(w), xs);
    }
    let blocks = xb.len().min(rb.len());
    sum_lanes(acc, float_tail::<B, E>(row, x, blocks))
}

/// [`dot1_float`] for four rows at once (each row's order unchanged).
#[inline(always)]
pub(crate) fn dot4_float<const B: usize, E: FloatWeights<B>>(
    rows: [&[u8]; 4],
    x: &[f32],
) -> [f32; 4] {
    let (xb, _) = x.as_chunks::<LANES>();
    let [r0, r1, r2, r3] = rows;
    let (b0, b1, b2, b3) = (
        r0.as_chunks::<B>().0,
        r1.as_chunks::<B>().0,
        r2.as_chunks::<B>().0,
        r3.as_chunks::<B>().0,
    );
    let mut acc = [[0.0f32; LANES]; 4];
    for ((((xs, w0), w1), w2), w3) in xb.iter().zip(b0).zip(b1).zip(b2).zip(b3) {
        let [a0, a1, a2, a3] = &mut acc;
        lanes_add(a0, E::block(w0), xs);
        lanes_add(a1, E::block(w1), xs);
        lanes_add(a2, E::block(w2), xs);
        lanes_add(a3, E::block(w3), xs);
    }
    let blocks = [b0.len(), b1.len(), b2.len(), b3.len()]
        .iter()
        .fold(xb.len(), |n, &b| n.min(b));
    let mut tails = [0.0f32; 4];
    for (t, r) in tails.iter_mut().zip(rows) {
        *t = float_tail::<B, E>(r, x, blocks);
    }
    sum_rows4(&acc, tails)
}

/// [`sum_lanes`] of four rows' lanes. Not inlined: inlined, the four isomorphic sums lead
/// LLVM to vectorise the whole kernel across the rows (one vector per lane, with shuffles)
/// instead of along the lanes.
#[inline(never)]
fn sum_rows4(acc: &[[f32; LANES]; 4], tails: [f32; 4]) -> [f32; 4] {
    let mut out = [0.0f32; 4];
    for ((o, a), t) in out.iter_mut().zip(acc).zip(tails) {
        *o = sum_lanes(*a, t);
    }
    out
}

/// `y = W x + b` for float weights `[out][inp]` in encoding `E` (`out = y.len()`), four rows
/// at a time when [`FLOAT_FOUR_ROWS`].
#[inline(always)]
pub(crate) fn matvec_float<const B: usize, E: FloatWeights<B>>(
    w: &[u8],
    inp: usize,
    x: &[f32],
    bias: &[u8],
    y: &mut [f32],
) {
    let row_bytes = inp.saturating_mul(E::WIDTH);
    let mut w = w;
    let mut y = y;
    let mut bias = bias;
    if FLOAT_FOUR_ROWS {
        let groups = w.chunks_exact(row_bytes.saturating_mul(4).max(1));
        let rest = groups.remainder();
        let mut ys = y.chunks_exact_mut(4);
        let mut bs = bias.chunks_exact(16);
        for ((group, yg), bg) in groups.zip(&mut ys).zip(&mut bs) {
            let dots = dot4_float::<B, E>(four_rows(group, row_bytes), x);
            for ((yv, d), b) in yg.iter_mut().zip(dots).zip(bg.as_chunks::<4>().0) {
                *yv = d + f32::from_le_bytes(*b);
            }
        }
        w = rest;
        y = ys.into_remainder();
        bias = bs.remainder();
    }
    let rows = w.chunks_exact(row_bytes.max(1));
    for ((row, yv), b) in rows.zip(y.iter_mut()).zip(bias.as_chunks::<4>().0) {
        *yv = dot1_float::<B, E>(row, x) + f32::from_le_bytes(*b);
    }
}

/// Widens IEEE binary16 bits to `f32` exactly; the same bits as
/// [`crate::reference::f16_bits_to_f32`] for every input (checked for all 65 536), written with
/// masks instead of branches so that a block of them vectorises. Normal numbers get the
/// exponent rebiased (+112), infinities and NaN (exponent 31) twice that (an all-ones
/// exponent; a NaN keeps its payload). Subnormals are `(2^-14 + m·2^-24) − 2^-14`: both
/// operands and the result are normal `f32`s and the subtraction is exact, so no
/// flush-to-zero mode can change it.
#[inline(always)]
pub(crate) fn f16_to_f32(h: u16) -> f32 {
    let h = u32::from(h);
    let sign = (h & 0x8000) << 16;
    let o = (h & 0x7fff) << 13;
    let exp = o & 0x0f80_0000;
    let special = u32::from(exp == 0x0f80_0000);
    let normal = o.wrapping_add(special.wrapping_add(1).wrapping_mul(112 << 23));
    let sub = (f32::from_bits(o.wrapping_add(113 << 23)) - f32::from_bits(113 << 23)).to_bits();
    let is_sub = u32::from(exp == 0).wrapping_neg();
    f32::from_bits(sign | (sub & is_sub) | (normal & !is_sub))
}

/// The float layer kernels' entry points: the AVX2 build of the same code where the CPU has
/// it (x86-64 with `std`), the portable build otherwise.
pub(crate) fn layer_f32(w: &[u8], inp: usize, x: &[f32], bias: &[u8], y: &mut [f32]) {
    #[cfg(all(target_arch = "x86_64", feature = "std"))]
    if crate::simd::x86::matvec_f32(w, inp, x, bias, y) {
        return;
    }
    matvec_float::<{ 4 * LANES }, F32s>(w, inp, x, bias, y);
}

/// See [`layer_f32`].
pub(crate) fn layer_f16(w: &[u8], inp: usize, x: &[f32], bias: &[u8], y: &mut [f32]) {
    #[cfg(all(target_arch = "x86_64", feature = "std"))]
    if crate::simd::x86::matvec_f16(w, inp, x, bias, y) {
        return;
    }
    matvec_float::<{ 2 * LANES }, F16s>(w, inp, x, bias, y);
}

// ---------------------------------------------------------------------------------------
// Int8 layers

/// An int8 layer's input element: an activation (`f32`) or, for a first layer, an image
/// byte, whose value is `byte as f32 / 255.0` — exactly what [`crate::Model::encode`]
/// converts bytes to, so quantising the bytes directly gives the codes of the converted
/// image (and needs no `f32` copy of it).
pub(crate) trait Input: Copy {
    /// Whether `max|x| / 127` is always a normal `f32` (or 0) for these inputs.
    #[cfg_attr(not(pse_arm_dsp), allow(dead_code))]
    const NORMAL_SCALE: bool;
    /// The value.
    fn value(self) -> f32;
    /// `max |value|` over `x`, ignoring NaN: the value of [`crate::quant::max_abs`] of the
    /// values (a maximum does not depend on the order).
    fn max_abs(x: &[Self]) -> f32;
}

impl Input for f32 {
    const NORMAL_SCALE: bool = false;

    /// In eight lanes, so that it vectorises.
    #[inline(always)]
    fn max_abs(x: &[f32]) -> f32 {
        let (blocks, tail) = x.as_chunks::<LANES>();
        let mut m = [0.0f32; LANES];
        for b in blocks {
            for (mi, &v) in m.iter_mut().zip(b) {
                let a = libm::fabsf(v);
                *mi = if a > *mi { a } else { *mi };
            }
        }
        let m = m.iter().fold(0.0f32, |r, &a| if a > r { a } else { r });
        tail.iter().fold(m, |r, &v| {
            let a = libm::fabsf(v);
            if a > r { a } else { r }
        })
    }

    #[inline(always)]
    fn value(self) -> f32 {
        self
    }
}

impl Input for u8 {
    // A non-zero byte gives at least 1/255, and 1/255/127 is normal.
    const NORMAL_SCALE: bool = true;

    /// The largest byte, converted: `b / 255` rounds monotonically, so the largest value
    /// is the value of the largest byte (and values are never negative or NaN).
    #[inline(always)]
    fn max_abs(x: &[u8]) -> f32 {
        x.iter().copied().max().unwrap_or(0).value()
    }

    #[inline(always)]
    fn value(self) -> f32 {
        self as f32 / 255.0
    }
}

/// The activation scale of an int8 layer's input: `max|x| / 127`, or 0 when that is not
/// positive (an all-zero input; the layer then outputs its bias).
#[inline(always)]
pub(crate) fn input_scale<T: Input>(x: &[T]) -> f32 {
    let s = T::max_abs(x) / 127.0;
    if s > 0.0 { s } else { 0.0 }
}

/// `clamp(roundf(v / scale), -127, 127)` for `scale > 0`: the code
/// [`crate::quant::quantize_value`] gives, for every `v` (NaN → 0), computed in fixed point
/// instead of with `libm::roundf`, so that it vectorises (x86) or costs a few instructions
/// (Cortex-M4). With `t = v / scale` (the same division), `T = t · 2^16` is exact (a power
/// of two), and `trunc(T)`, clamped to `±127 · 2^16`, rounds to the code as
/// `(i + (i >> 31) + 2^15) >> 16` — the fraction bits `trunc` drops cannot change the
/// result. Both variants below are checked against the reference for all 2^32 `f32` values
/// of `t` (`code_equals_reference_exhaustive`, `--ignored`) and on a sample in every run.
#[inline(always)]
pub(crate) fn code(v: f32, scale: f32) -> i32 {
    #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
    {
        code_no_cvt(v, scale)
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "x86")))]
    {
        code_cvt(v, scale)
    }
}

/// [`code`] through `as i32` (one saturating conversion instruction on Arm).
#[cfg_attr(any(target_arch = "x86_64", target_arch = "x86"), allow(dead_code))]
#[inline(always)]
pub(crate) fn code_cvt(v: f32, scale: f32) -> i32 {
    let i = ((v / scale) * 65536.0) as i32;
    let i = i.clamp(-127 << 16, 127 << 16);
    i.wrapping_add(i >> 31).wrapping_add(0x8000) >> 16
}

#[cfg_attr(
    not(any(target_arch = "x86_64", target_arch = "x86")),
    allow(dead_code)
)]
/// [`code`] without a float-to-int conversion, which x86 cannot vectorise with Rust's
/// saturating `as`: on `a = min(|T|, 127 · 2^16)` (NaN → 0), `a + 2^23` rounds `a` to an
/// integer in the low mantissa bits (exact: `a < 2^23`), one is subtracted when that rounded
/// up (giving `trunc(a)`), the code of `|t|` follows as above, and the sign of `t` is put
/// back (rounding half away from zero is symmetric).
#[inline(always)]
pub(crate) fn code_no_cvt(v: f32, scale: f32) -> i32 {
    const LIM: f32 = 8_323_072.0; // 127 · 2^16
    const TWO23: f32 = 8_388_608.0;
    let t = (v / scale) * 65536.0;
    let a = libm::fabsf(t);
    let a = if a.is_nan() { 0.0 } else { a.min(LIM) };
    let m = a + TWO23;
    let rounded = m.to_bits().wrapping_sub(TWO23.to_bits()) as i32;
    let trunc = rounded.wrapping_sub(i32::from(m - TWO23 > a));
    let magnitude = trunc.wrapping_add(0x8000) >> 16;
    let sign = (t.to_bits() as i32) >> 31;
    (magnitude ^ sign).wrapping_sub(sign)
}

#[cfg_attr(target_arch = "arm", allow(dead_code))]
/// Quantises `x` with `scale` (> 0) into `pos = max(code, 0)` and `neg = max(-code, 0)`
/// (as many values as all three hold); returns `(Σ pos, Σ neg)`.
#[inline(always)]
pub(crate) fn quantize_split<T: Input>(
    x: &[T],
    scale: f32,
    pos: &mut [i8],
    neg: &mut [i8],
) -> (i32, i32) {
    // Plain element loops: the loop vectoriser handles them (chunked code was not).
    for ((&v, p), n) in x.iter().zip(pos.iter_mut()).zip(neg.iter_mut()) {
        let c = code(v.value(), scale);
        *p = c.max(0) as i8;
        *n = c.wrapping_neg().max(0) as i8;
    }
    let sum = |s: &[i8]| s.iter().fold(0i32, |a, &b| a.wrapping_add(i32::from(b)));
    let n = x.len();
    (
        sum(pos.get(..n).unwrap_or(pos)),
        sum(neg.get(..n).unwrap_or(neg)),
    )
}

#[cfg_attr(target_arch = "arm", allow(dead_code))]
/// `Σ w·x` of int8 weight codes (bytes) and non-negative activation codes `x` (`0..=127`,
/// as `i8`) whose sum is `sum_x`: computed as `Σ (w + 128)·x − 128·Σx`, with `w + 128`
/// the byte `w ^ 0x80` read unsigned. Zero-extended bytes vectorise well on SSE2
/// (`punpcklbw` with zero, `pmaddwd`); the result is exact (wrapping `i32` arithmetic whose
/// true result fits in `i32`).
#[inline(always)]
pub(crate) fn dot_split(row: &[u8], x: &[i8], sum_x: i32) -> i32 {
    const C: usize = 16;
    let (rb, rt) = row.as_chunks::<C>();
    let (xb, xt) = x.as_chunks::<C>();
    let mut acc = [0i32; C];
    for (r, xs) in rb.iter().zip(xb) {
        for ((a, &w), &v) in acc.iter_mut().zip(r).zip(xs) {
            *a = a.wrapping_add(i32::from(w ^ 0x80).wrapping_mul(i32::from(v as u8)));
        }
    }
    let tail = rt.iter().zip(xt).fold(0i32, |a, (&w, &v)| {
        a.wrapping_add(i32::from(w ^ 0x80).wrapping_mul(i32::from(v as u8)))
    });
    acc.iter()
        .fold(tail, |a, &b| a.wrapping_add(b))
        .wrapping_sub(sum_x.wrapping_mul(128))
}

#[cfg_attr(target_arch = "arm", allow(dead_code))]
/// An int8 layer's input, quantised and split by sign ([`quantize_split`]).
#[derive(Clone, Copy)]
pub(crate) struct SplitCodes<'q> {
    /// `max(code, 0)`.
    pub pos: &'q [i8],
    /// `max(-code, 0)`, or `None` when every code is non-negative.
    pub neg: Option<&'q [i8]>,
    /// `Σ pos`.
    pub sum_pos: i32,
    /// `Σ neg`.
    pub sum_neg: i32,
}

/// `acc as f32 * (w_scale * x_scale) + b`: an int8 row's output, as documented in
/// [`crate::dense`].
#[inline(always)]
pub(crate) fn finish_i8(acc: i32, w_scale: &[u8; 4], x_scale: f32, bias: &[u8; 4]) -> f32 {
    acc as f32 * (f32::from_le_bytes(*w_scale) * x_scale) + f32::from_le_bytes(*bias)
}

#[cfg_attr(target_arch = "arm", allow(dead_code))]
/// `y = W x + b` for int8 weights `[out][inp]` with per-row `scales`, given the input's
/// [`SplitCodes`] and scale, four rows at a time with `dot4` (exact `Σ w·x` of four rows with
/// non-negative codes `x` whose sum is given) and the remaining rows with `dot1`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn matvec_split(
    q: &[u8],
    inp: usize,
    scales: &[u8],
    bias: &[u8],
    x_scale: f32,
    codes: SplitCodes<'_>,
    y: &mut [f32],
    dot4: impl Fn([&[u8]; 4], &[i8], i32) -> [i32; 4],
    dot1: impl Fn(&[u8], &[i8], i32) -> i32,
) {
    let groups = q.chunks_exact(inp.saturating_mul(4).max(1));
    let rest = groups.remainder();
    let mut ys = y.chunks_exact_mut(4);
    let mut bs = bias.chunks_exact(16);
    let mut ss = scales.chunks_exact(16);
    for (((group, yg), bg), sg) in groups.zip(&mut ys).zip(&mut bs).zip(&mut ss) {
        let rows = four_rows(group, inp);
        let mut acc = dot4(rows, codes.pos, codes.sum_pos);
        if let Some(neg) = codes.neg {
            let minus = dot4(rows, neg, codes.sum_neg);
            for (a, m) in acc.iter_mut().zip(minus) {
                *a = a.wrapping_sub(m);
            }
        }
        let bg = bg.as_chunks::<4>().0;
        let sg = sg.as_chunks::<4>().0;
        for (((yv, a), b), s) in yg.iter_mut().zip(acc).zip(bg).zip(sg) {
            *yv = finish_i8(a, s, x_scale, b);
        }
    }
    let rows = rest.chunks_exact(inp.max(1));
    let bias_rest = bs.remainder().as_chunks::<4>().0;
    let scale_rest = ss.remainder().as_chunks::<4>().0;
    for (((row, yv), b), s) in rows.zip(ys.into_remainder()).zip(bias_rest).zip(scale_rest) {
        let mut acc = dot1(row, codes.pos, codes.sum_pos);
        if let Some(neg) = codes.neg {
            acc = acc.wrapping_sub(dot1(row, neg, codes.sum_neg));
        }
        *yv = finish_i8(acc, s, x_scale, b);
    }
}

#[cfg_attr(target_arch = "arm", allow(dead_code))]
/// Quantises `x` into `quant` (at least [`quant_len`]`(x.len())` long) split by sign.
#[inline(always)]
pub(crate) fn split_codes<'q, T: Input>(
    x: &[T],
    x_scale: f32,
    quant: &'q mut [i8],
) -> SplitCodes<'q> {
    let inp = x.len();
    let (pos, rest) = quant.split_at_mut_checked(inp).unwrap_or_default();
    let neg = rest.get_mut(..inp).unwrap_or_default();
    let (sum_pos, sum_neg) = quantize_split(x, x_scale, pos, neg);
    let (pos, neg): (&[i8], &[i8]) = (pos, neg);
    SplitCodes {
        pos,
        neg: (sum_neg != 0).then_some(neg),
        sum_pos,
        sum_neg,
    }
}

/// `y = W x + b` for an int8 layer: quantises `x` (its scale `max|x| / 127`; an all-zero
/// input gives `y = b`) into `quant` (the int8 scratch, [`quant_len`]`(inp)` long) and sums.
pub(crate) fn layer_i8<T: Input>(
    q: &[u8],
    inp: usize,
    scales: &[u8],
    bias: &[u8],
    x: &[T],
    quant: &mut [i8],
    y: &mut [f32],
) {
    #[cfg(all(target_arch = "x86_64", feature = "std"))]
    if crate::simd::x86::layer_i8(q, inp, scales, bias, x, quant, y) {
        return;
    }
    let x_scale = input_scale(x);
    if x_scale == 0.0 {
        bias_only(bias, y);
        return;
    }
    #[cfg(pse_arm_dsp)]
    if crate::simd::arm::matvec_i8(q, inp, scales, bias, x, x_scale, quant, y) {
        return;
    }
    #[cfg(pse_arm_mve)]
    if crate::simd::mve::matvec_i8(q, inp, scales, bias, x, x_scale, quant, y) {
        return;
    }
    #[cfg(target_arch = "arm")]
    {
        // 32-bit Arm: no vector unit to feed, so the plain loop (`ldrsb, ldrsb, smlabb`),
        // which is also the smallest code (the DSP kernel takes every large layer).
        let codes = int8_codes(x, x_scale, quant.get_mut(..inp).unwrap_or_default());
        let rows = q.chunks_exact(inp.max(1));
        let scales = scales.as_chunks::<4>().0;
        let bias = bias.as_chunks::<4>().0;
        for (((row, yv), s), b) in rows.zip(y.iter_mut()).zip(scales).zip(bias) {
            *yv = finish_i8(crate::reference::dot_i8(row, codes), s, x_scale, b);
        }
    }
    #[cfg(not(target_arch = "arm"))]
    {
        let codes = split_codes(x, x_scale, quant);
        matvec_split(
            q, inp, scales, bias, x_scale, codes, y, dot4_split, dot_split,
        );
    }
}

/// `y = W x + b` for an int4 layer (rows of `inp.div_ceil(2)` packed bytes, see
/// [`crate::reference::dot_i4`]): quantises `x` to int8 codes like [`layer_i8`] (into the
/// first `inp` bytes of `quant`) and sums exact `i32` products, one byte (two weights) at a
/// time (on the Cortex-M4 and M7, eight at a time with the DSP instructions:
/// [`crate::simd`]).
pub(crate) fn layer_i4<T: Input>(
    q: &[u8],
    inp: usize,
    scales: &[u8],
    bias: &[u8],
    x: &[T],
    quant: &mut [i8],
    y: &mut [f32],
) {
    let x_scale = input_scale(x);
    if x_scale == 0.0 {
        bias_only(bias, y);
        return;
    }
    #[cfg(pse_arm_dsp)]
    if crate::simd::arm::matvec_i4(q, inp, scales, bias, x, x_scale, quant, y) {
        return;
    }
    #[cfg(pse_arm_mve)]
    if crate::simd::mve::matvec_i4(q, inp, scales, bias, x, x_scale, quant, y) {
        return;
    }
    let codes = int8_codes(x, x_scale, quant.get_mut(..inp).unwrap_or_default());
    let (pairs, last) = codes.as_chunks::<2>();
    let rows = q.chunks_exact(inp.div_ceil(2).max(1));
    let scales = scales.as_chunks::<4>().0;
    let bias = bias.as_chunks::<4>().0;
    for (((row, yv), s), b) in rows.zip(y.iter_mut()).zip(scales).zip(bias) {
        let mut acc = 0i32;
        for (&byte, &[x0, x1]) in row.iter().zip(pairs) {
            let w0 = i32::from(((byte << 4) as i8) >> 4);
            let w1 = i32::from((byte as i8) >> 4);
            acc = acc
                .wrapping_add(w0.wrapping_mul(i32::from(x0)))
                .wrapping_add(w1.wrapping_mul(i32::from(x1)));
        }
        if let (Some(&x0), Some(&byte)) = (last.first(), row.get(pairs.len())) {
            let w0 = i32::from(((byte << 4) as i8) >> 4);
            acc = acc.wrapping_add(w0.wrapping_mul(i32::from(x0)));
        }
        *yv = finish_i8(acc, s, x_scale, b);
    }
}

/// Quantises `x` with `scale` (> 0) into `codes` (as many as both hold), each [`code`]
/// as `i8`, and returns them.
#[inline(always)]
pub(crate) fn int8_codes<'q, T: Input>(x: &[T], scale: f32, codes: &'q mut [i8]) -> &'q [i8] {
    for (c, &v) in codes.iter_mut().zip(x) {
        *c = code(v.value(), scale) as i8;
    }
    codes
}

/// `y = b` (an int8 layer's output for an all-zero input).
#[inline(always)]
pub(crate) fn bias_only(bias: &[u8], y: &mut [f32]) {
    for (yv, b) in y.iter_mut().zip(bias.as_chunks::<4>().0) {
        *yv = f32::from_le_bytes(*b);
    }
}

#[cfg_attr(target_arch = "arm", allow(dead_code))]
/// [`dot_split`] for four rows.
#[inline(always)]
pub(crate) fn dot4_split(rows: [&[u8]; 4], x: &[i8], sum_x: i32) -> [i32; 4] {
    let [r0, r1, r2, r3] = rows;
    [
        dot_split(r0, x, sum_x),
        dot_split(r1, x, sum_x),
        dot_split(r2, x, sum_x),
        dot_split(r3, x, sum_x),
    ]
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    clippy::arithmetic_side_effects
)]
mod tests {
    //! The kernels against the plain reference code they replace (`reference::dot_f32`,
    //! `reference::dot_f16`, `reference::dot_i8`, `reference::dot_i4`, `quant::quantize_value`, `quant::max_abs`), bit
    //! for bit.
    use super::*;
    use crate::quant::quantize_value;
    use crate::reference::{dot_f16, dot_f32, dot_i4, dot_i8, f16_bits_to_f32};
    use crate::rng::Rng;
    use std::vec;
    use std::vec::Vec;

    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|f| f.to_bits()).collect()
    }

    #[test]
    fn f16_widening_equals_reference_for_every_value() {
        for h in 0..=u16::MAX {
            assert_eq!(
                f16_to_f32(h).to_bits(),
                f16_bits_to_f32(h).to_bits(),
                "{h:#06x}"
            );
        }
    }

    /// Checks the three code functions against `quantize_value` at `t = f32::from_bits(b)`
    /// (scale 1, so `v / scale = t` exactly; the division is the same in all of them).
    fn check_code_at(b: u32) {
        let t = f32::from_bits(b);
        let want = i32::from(quantize_value(t, 1.0));
        assert_eq!(code_cvt(t, 1.0), want, "cvt {b:#010x}");
        assert_eq!(code_no_cvt(t, 1.0), want, "no-cvt {b:#010x}");
        assert_eq!(code(t, 1.0), want, "code {b:#010x}");
    }

    #[test]
    fn code_equals_reference_on_a_sample() {
        // Every value with |t| ≤ 256 at a stride, every 4099th bit pattern overall, and the
        // values around each rounding boundary k + 0.5.
        let mut b = 0u32;
        while b < 0x4380_0000 {
            check_code_at(b);
            check_code_at(b | 0x8000_0000);
            b += 61;
        }
        for b in (0..=u32::MAX).step_by(4099) {
            check_code_at(b);
        }
        for k in -130i32..130 {
            let mid = k as f32 + 0.5;
            for d in -8i32..=8 {
                check_code_at(mid.to_bits().wrapping_add_signed(d));
            }
        }
        for t in [
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            0.0,
            -0.0,
            f32::MIN_POSITIVE,
        ] {
            check_code_at(t.to_bits());
        }
    }

    /// All 2^32 values (~20 s in release): `cargo test --release -p pse-runtime --
    /// --ignored code_equals_reference_exhaustive`.
    #[test]
    #[ignore]
    fn code_equals_reference_exhaustive() {
        for b in 0..=u32::MAX {
            check_code_at(b);
        }
    }

    #[test]
    fn max_abs_equals_reference() {
        let mut rng = Rng::new(11);
        for n in [0, 1, 7, 8, 9, 63, 784] {
            let mut x: Vec<f32> = (0..n).map(|_| rng.normal() * 10.0).collect();
            if n > 3 {
                x[2] = f32::NAN;
            }
            assert_eq!(
                <f32 as Input>::max_abs(&x).to_bits(),
                crate::quant::max_abs(&x).to_bits()
            );
            let bytes: Vec<u8> = (0..n).map(|_| (rng.next_u64() >> 56) as u8).collect();
            let values: Vec<f32> = bytes.iter().map(|b| b.value()).collect();
            assert_eq!(
                <u8 as Input>::max_abs(&bytes).to_bits(),
                crate::quant::max_abs(&values).to_bits()
            );
        }
    }

    fn random_bytes(rng: &mut Rng, n: usize) -> Vec<u8> {
        (0..n).map(|_| (rng.next_u64() >> 56) as u8).collect()
    }

    const SHAPES: &[(usize, usize)] = &[
        (1, 1),
        (3, 7),
        (4, 8),
        (5, 9),
        (6, 16),
        (9, 17),
        (8, 33),
        (13, 100),
        (64, 512),
        (10, 784),
    ];

    #[test]
    fn float_layers_equal_the_row_by_row_reference() {
        let mut rng = Rng::new(12);
        for &(out, inp) in SHAPES {
            let x: Vec<f32> = (0..inp).map(|_| rng.normal()).collect();
            let bias: Vec<u8> = (0..out).flat_map(|_| rng.normal().to_le_bytes()).collect();
            let w32: Vec<u8> = (0..out * inp)
                .flat_map(|_| rng.normal().to_le_bytes())
                .collect();
            let w16: Vec<u8> = (0..out * inp)
                .flat_map(|_| half::f16::from_f32(rng.normal()).to_le_bytes())
                .collect();
            let b = |o: usize| f32::from_le_bytes(bias[4 * o..4 * o + 4].try_into().unwrap());
            let want32: Vec<f32> = (0..out)
                .map(|o| dot_f32(&w32[4 * inp * o..4 * inp * (o + 1)], &x) + b(o))
                .collect();
            let want16: Vec<f32> = (0..out)
                .map(|o| dot_f16(&w16[2 * inp * o..2 * inp * (o + 1)], &x) + b(o))
                .collect();
            let mut y = vec![0f32; out];
            matvec_float::<{ 4 * LANES }, F32s>(&w32, inp, &x, &bias, &mut y);
            assert_eq!(bits(&y), bits(&want32), "f32 {out}x{inp}");
            layer_f32(&w32, inp, &x, &bias, &mut y);
            assert_eq!(bits(&y), bits(&want32), "f32 dispatch {out}x{inp}");
            matvec_float::<{ 2 * LANES }, F16s>(&w16, inp, &x, &bias, &mut y);
            assert_eq!(bits(&y), bits(&want16), "f16 {out}x{inp}");
            layer_f16(&w16, inp, &x, &bias, &mut y);
            assert_eq!(bits(&y), bits(&want16), "f16 dispatch {out}x{inp}");
        }
    }

    /// An integer layer as documented: `quantize_value` codes, `dot` over each row of
    /// `row_bytes` bytes, the int8 output formula.
    fn reference_int(
        q: &[u8],
        row_bytes: usize,
        scales: &[u8],
        bias: &[u8],
        x: &[f32],
        dot: fn(&[u8], &[i8]) -> i32,
    ) -> Vec<f32> {
        let xs = crate::quant::scale_of(x);
        let xs = if xs > 0.0 { xs } else { 0.0 };
        let codes: Vec<i8> = x.iter().map(|&v| quantize_value(v, xs)).collect();
        (0..bias.len() / 4)
            .map(|o| {
                let b = f32::from_le_bytes(bias[4 * o..4 * o + 4].try_into().unwrap());
                let s = f32::from_le_bytes(scales[4 * o..4 * o + 4].try_into().unwrap());
                if xs == 0.0 {
                    b
                } else {
                    dot(&q[row_bytes * o..row_bytes * (o + 1)], &codes) as f32 * (s * xs) + b
                }
            })
            .collect()
    }

    /// The int8 layer as first written.
    fn reference_i8(q: &[u8], scales: &[u8], bias: &[u8], x: &[f32]) -> Vec<f32> {
        reference_int(q, x.len(), scales, bias, x, dot_i8)
    }

    #[test]
    fn int8_layers_equal_the_reference() {
        let mut rng = Rng::new(13);
        for &(out, inp) in SHAPES {
            let q = random_bytes(&mut rng, out * inp);
            let bias: Vec<u8> = (0..out).flat_map(|_| rng.normal().to_le_bytes()).collect();
            let scales: Vec<u8> = (0..out)
                .flat_map(|_| (rng.uniform() * 0.05).to_le_bytes())
                .collect();
            let mut quant = vec![0i8; quant_len(inp)];
            let mut y = vec![0f32; out];
            for kind in 0..4 {
                let x: Vec<f32> = (0..inp)
                    .map(|i| match kind {
                        0 => rng.normal(),           // signed
                        1 => rng.normal().abs(),     // after a ReLU
                        2 => 0.0,                    // all zero: y = b
                        _ => (i % 3) as f32 * 1e-40, // subnormal scale
                    })
                    .collect();
                layer_i8(&q, inp, &scales, &bias, &x, &mut quant, &mut y);
                assert_eq!(
                    bits(&y),
                    bits(&reference_i8(&q, &scales, &bias, &x)),
                    "{out}x{inp} kind {kind}"
                );
            }
            // Bytes: the same as their `f32` values.
            let bytes = random_bytes(&mut rng, inp);
            let values: Vec<f32> = bytes.iter().map(|b| b.value()).collect();
            layer_i8(&q, inp, &scales, &bias, &bytes, &mut quant, &mut y);
            assert_eq!(bits(&y), bits(&reference_i8(&q, &scales, &bias, &values)));
        }
    }

    /// The int4 layer as documented.
    fn reference_i4(q: &[u8], scales: &[u8], bias: &[u8], x: &[f32]) -> Vec<f32> {
        reference_int(q, x.len().div_ceil(2), scales, bias, x, dot_i4)
    }

    #[test]
    fn int4_layers_equal_the_reference() {
        let mut rng = Rng::new(14);
        for &(out, inp) in SHAPES.iter().chain(&[(3, 1), (5, 7), (4, 33)]) {
            // Random nibbles, -8 included (the exporter never writes it; a blob may).
            let q = random_bytes(&mut rng, out * inp.div_ceil(2));
            let bias: Vec<u8> = (0..out).flat_map(|_| rng.normal().to_le_bytes()).collect();
            let scales: Vec<u8> = (0..out)
                .flat_map(|_| (rng.uniform() * 0.05).to_le_bytes())
                .collect();
            let mut quant = vec![0i8; quant_len(inp)];
            let mut y = vec![0f32; out];
            for kind in 0..3 {
                let x: Vec<f32> = (0..inp)
                    .map(|_| match kind {
                        0 => rng.normal(),
                        1 => rng.normal().abs(),
                        _ => 0.0,
                    })
                    .collect();
                layer_i4(&q, inp, &scales, &bias, &x, &mut quant, &mut y);
                assert_eq!(
                    bits(&y),
                    bits(&reference_i4(&q, &scales, &bias, &x)),
                    "{out}x{inp} kind {kind}"
                );
            }
            let bytes = random_bytes(&mut rng, inp);
            let values: Vec<f32> = bytes.iter().map(|b| b.value()).collect();
            layer_i4(&q, inp, &scales, &bias, &bytes, &mut quant, &mut y);
            assert_eq!(bits(&y), bits(&reference_i4(&q, &scales, &bias, &values)));
        }
    }
}
