//! AVX2 kernels, chosen at run time.

use core::arch::x86_64::{
    __m128i, __m256i, _mm_add_epi32, _mm_extract_epi32, _mm_loadu_si128, _mm_madd_epi16,
    _mm_maddubs_epi16, _mm_set1_epi16, _mm_setzero_si128, _mm256_add_epi32, _mm256_castsi256_si128,
    _mm256_cvtph_ps, _mm256_extracti128_si256, _mm256_hadd_epi32, _mm256_loadu_si256,
    _mm256_madd_epi16, _mm256_maddubs_epi16, _mm256_set1_epi16, _mm256_setzero_si256,
    _mm256_storeu_ps, _mm256_sub_epi32, _mm256_zextsi128_si256,
};

use crate::kernel;

/// Whether this CPU runs the AVX2 kernels (`std` caches the answer after the first call).
pub(crate) fn avx2() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
}

/// [`kernel::matvec_f32`] compiled for AVX2, when the CPU has it (`false`: not run).
pub(crate) fn matvec_f32(w: &[u8], inp: usize, x: &[f32], bias: &[u8], y: &mut [f32]) -> bool {
    if !avx2() {
        return false;
    }
    // SAFETY: the CPU supports AVX2 (checked just above), the only requirement of a
    // `#[target_feature(enable = "avx2")]` function.
    unsafe { f32_avx2(w, inp, x, bias, y) };
    true
}

/// The f16 layer with AVX2 and F16C (`vcvtph2ps` widens eight weights exactly in one
/// instruction), when the CPU has both (`false`: not run).
pub(crate) fn matvec_f16(w: &[u8], inp: usize, x: &[f32], bias: &[u8], y: &mut [f32]) -> bool {
    if !(avx2() && std::arch::is_x86_feature_detected!("f16c")) {
        return false;
    }
    // SAFETY: the CPU supports AVX2 and F16C (checked just above), the only requirement
    // of a `#[target_feature(enable = "avx2,f16c")]` function.
    unsafe { f16_f16c(w, inp, x, bias, y) };
    true
}

/// [`kernel::layer_i8`] with AVX2: quantisation, then four rows at a time (`false`: the
/// CPU lacks AVX2, nothing was run).
pub(crate) fn layer_i8<T: kernel::Input>(
    q: &[u8],
    inp: usize,
    scales: &[u8],
    bias: &[u8],
    x: &[T],
    quant: &mut [i8],
    y: &mut [f32],
) -> bool {
    if !avx2() {
        return false;
    }
    // SAFETY: as in `matvec_f32`.
    let x_scale = unsafe { scale_avx2(x) };
    if x_scale == 0.0 {
        kernel::bias_only(bias, y);
        return true;
    }
    // SAFETY: as in `matvec_f32`.
    let codes = unsafe { codes_avx2(x, x_scale, quant) };
    // SAFETY: as in `matvec_f32`.
    unsafe { matvec_avx2(q, inp, scales, bias, x_scale, codes, y) };
    true
}

#[target_feature(enable = "avx2")]
fn f32_avx2(w: &[u8], inp: usize, x: &[f32], bias: &[u8], y: &mut [f32]) {
    kernel::matvec_float::<32, kernel::F32s>(w, inp, x, bias, y);
}

#[target_feature(enable = "avx2,f16c")]
fn f16_f16c(w: &[u8], inp: usize, x: &[f32], bias: &[u8], y: &mut [f32]) {
    kernel::matvec_float::<16, F16c>(w, inp, x, bias, y);
}

/// Binary16 weights widened by F16C: `vcvtph2ps` is exact, like `kernel::f16_to_f32`
/// (it only quiets a signalling NaN, which the multiplication that follows quiets
/// anyway). Used only by `f16_f16c`.
struct F16c;

impl kernel::FloatWeights<16> for F16c {
    const WIDTH: usize = 2;

    #[inline(always)]
    fn block(b: &[u8; 16]) -> [f32; 8] {
        // SAFETY: this type is private to this module and used only by `f16_f16c`, whose
        // callers checked that the CPU has AVX2 and F16C; `b` is 16 readable bytes.
        unsafe { widen8(b) }
    }

    #[inline(always)]
    fn one(b: &[u8]) -> f32 {
        <kernel::F16s as kernel::FloatWeights<16>>::one(b)
    }
}

/// Eight binary16 values widened to `f32`.
#[target_feature(enable = "avx2,f16c")]
#[inline]
unsafe fn widen8(b: &[u8; 16]) -> [f32; 8] {
    let mut out = [0.0f32; 8];
    // SAFETY: `b` is 16 readable bytes and `out` 32 writable ones; `loadu`/`storeu` need
    // no alignment.
    unsafe {
        let v = _mm256_cvtph_ps(_mm_loadu_si128(b.as_ptr().cast()));
        _mm256_storeu_ps(out.as_mut_ptr(), v);
    }
    out
}

/// [`kernel::input_scale`] compiled for AVX2.
#[target_feature(enable = "avx2")]
fn scale_avx2<T: kernel::Input>(x: &[T]) -> f32 {
    kernel::input_scale(x)
}

/// [`kernel::split_codes`] compiled for AVX2.
#[target_feature(enable = "avx2")]
fn codes_avx2<'q, T: kernel::Input>(
    x: &[T],
    x_scale: f32,
    quant: &'q mut [i8],
) -> kernel::SplitCodes<'q> {
    kernel::split_codes(x, x_scale, quant)
}

/// 32 bytes as a vector.
#[target_feature(enable = "avx2")]
#[inline]
fn load(b: &[u8; 32]) -> __m256i {
    // SAFETY: `b` refers to 32 readable bytes, and `loadu` has no alignment requirement.
    // (Building the vector from safe `i64` reads compiled to four loads and three
    // shuffles instead of one load.)
    unsafe { _mm256_loadu_si256(b.as_ptr().cast()) }
}

/// 32 `i8` as a vector of their bytes.
#[target_feature(enable = "avx2")]
#[inline]
fn load_i8(b: &[i8; 32]) -> __m256i {
    // SAFETY: as in `load`.
    unsafe { _mm256_loadu_si256(b.as_ptr().cast()) }
}

/// 16 bytes as a vector.
#[target_feature(enable = "avx2")]
#[inline]
fn load16(b: &[u8; 16]) -> __m128i {
    // SAFETY: as in `load`, for 16 bytes.
    unsafe { _mm_loadu_si128(b.as_ptr().cast()) }
}

/// 16 `i8` as a vector of their bytes.
#[target_feature(enable = "avx2")]
#[inline]
fn load16_i8(b: &[i8; 16]) -> __m128i {
    // SAFETY: as in `load`, for 16 bytes.
    unsafe { _mm_loadu_si128(b.as_ptr().cast()) }
}

/// The sums of the eight `i32` lanes of each of four vectors (wrapping).
#[target_feature(enable = "avx2")]
#[inline]
fn hsum4(a: [__m256i; 4]) -> [i32; 4] {
    let [a0, a1, a2, a3] = a;
    let s = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3));
    let s = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256::<1>(s));
    [
        _mm_extract_epi32::<0>(s),
        _mm_extract_epi32::<1>(s),
        _mm_extract_epi32::<2>(s),
        _mm_extract_epi32::<3>(s),
    ]
}

/// `acc + Σ` of products of 32 unsigned code bytes `x` (`0..=127`) and 32 signed weight
/// bytes `w`, four per `i32` lane: `vpmaddubsw` adds pairs into `i16` — which cannot
/// saturate, `2 · 127 · 128 < 2^15` — and `vpmaddwd` by ones widens the pairs. (AVX-VNNI's
/// `vpdpbusd` does both in one instruction; measured here it was no faster.)
#[target_feature(enable = "avx2")]
#[inline]
fn madd(acc: __m256i, x: __m256i, w: __m256i) -> __m256i {
    _mm256_add_epi32(
        acc,
        _mm256_madd_epi16(_mm256_maddubs_epi16(x, w), _mm256_set1_epi16(1)),
    )
}

/// [`madd`] for 16 bytes.
#[target_feature(enable = "avx2")]
#[inline]
fn madd16(acc: __m128i, x: __m128i, w: __m128i) -> __m128i {
    _mm_add_epi32(
        acc,
        _mm_madd_epi16(_mm_maddubs_epi16(x, w), _mm_set1_epi16(1)),
    )
}

/// The int8 row loop of [`kernel::matvec_split`] with a four-row AVX2 kernel.
#[target_feature(enable = "avx2")]
fn matvec_avx2(
    q: &[u8],
    inp: usize,
    scales: &[u8],
    bias: &[u8],
    x_scale: f32,
    codes: kernel::SplitCodes<'_>,
    y: &mut [f32],
) {
    // `Σ w·x` of four rows (codes `x` in `0..=127`, rows as long as `x`), as
    // `i32` lanes: 32-byte steps, then one 16-byte step (into the low half).
    let dot4 = |rows: [&[u8]; 4], x: &[i8]| -> [__m256i; 4] {
        let [r0, r1, r2, r3] = rows;
        let (xb, xt) = x.as_chunks::<32>();
        let (b0, b1, b2, b3) = (
            r0.as_chunks::<32>().0,
            r1.as_chunks::<32>().0,
            r2.as_chunks::<32>().0,
            r3.as_chunks::<32>().0,
        );
        let z = _mm256_setzero_si256();
        let (mut a0, mut a1, mut a2, mut a3) = (z, z, z, z);
        for ((((xs, w0), w1), w2), w3) in xb.iter().zip(b0).zip(b1).zip(b2).zip(b3) {
            let xv = load_i8(xs);
            a0 = madd(a0, xv, load(w0));
            a1 = madd(a1, xv, load(w1));
            a2 = madd(a2, xv, load(w2));
            a3 = madd(a3, xv, load(w3));
        }
        let start = xb.len().saturating_mul(32);
        let w16 = |r: &[u8]| r.get(start..).and_then(|t| t.first_chunk::<16>()).copied();
        if let (Some(xs), Some(v0), Some(v1), Some(v2), Some(v3)) =
            (xt.first_chunk::<16>(), w16(r0), w16(r1), w16(r2), w16(r3))
        {
            let xv = load16_i8(xs);
            let z = _mm_setzero_si128();
            let half = |a, w: [u8; 16]| {
                _mm256_add_epi32(a, _mm256_zextsi128_si256(madd16(z, xv, load16(&w))))
            };
            a0 = half(a0, v0);
            a1 = half(a1, v1);
            a2 = half(a2, v2);
            a3 = half(a3, v3);
        }
        [a0, a1, a2, a3]
    };
    // The elements after the vector steps (fewer than 16), one by one.
    // `inp` rounded down to a multiple of 16 (32-byte steps, then one of 16).
    let start = inp & !15;
    let rest_sum = |row: &[u8], x: &[i8]| {
        let row = row.get(start..).unwrap_or_default();
        let x = x.get(start..).unwrap_or_default();
        row.iter().zip(x).fold(0i32, |a, (&w, &v)| {
            a.wrapping_add(i32::from(w as i8).wrapping_mul(i32::from(v)))
        })
    };

    let groups = q.chunks_exact(inp.saturating_mul(4).max(1));
    let rest = groups.remainder();
    let mut ys = y.chunks_exact_mut(4);
    let mut bs = bias.chunks_exact(16);
    let mut ss = scales.chunks_exact(16);
    for (((group, yg), bg), sg) in groups.zip(&mut ys).zip(&mut bs).zip(&mut ss) {
        let rows = kernel::four_rows(group, inp);
        let mut acc = dot4(rows, codes.pos);
        if let Some(neg) = codes.neg {
            let minus = dot4(rows, neg);
            for (a, m) in acc.iter_mut().zip(minus) {
                *a = _mm256_sub_epi32(*a, m);
            }
        }
        let mut sums = hsum4(acc);
        if start < inp {
            for (s, r) in sums.iter_mut().zip(rows) {
                let mut t = rest_sum(r, codes.pos);
                if let Some(neg) = codes.neg {
                    t = t.wrapping_sub(rest_sum(r, neg));
                }
                *s = s.wrapping_add(t);
            }
        }
        let bg = bg.as_chunks::<4>().0;
        let sg = sg.as_chunks::<4>().0;
        for (((yv, a), b), s) in yg.iter_mut().zip(sums).zip(bg).zip(sg) {
            *yv = kernel::finish_i8(a, s, x_scale, b);
        }
    }
    // Fewer than four rows left: each with three empty companions.
    let rows = rest.chunks_exact(inp.max(1));
    let bias_rest = bs.remainder().as_chunks::<4>().0;
    let scale_rest = ss.remainder().as_chunks::<4>().0;
    for (((row, yv), b), s) in rows.zip(ys.into_remainder()).zip(bias_rest).zip(scale_rest) {
        let one = |x: &[i8]| {
            let [a, ..] = hsum4(dot4([row, row, row, row], x));
            a.wrapping_add(rest_sum(row, x))
        };
        let mut acc = one(codes.pos);
        if let Some(neg) = codes.neg {
            acc = acc.wrapping_sub(one(neg));
        }
        *yv = kernel::finish_i8(acc, s, x_scale, b);
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
    use crate::kernel::{dot_split, dot4_split, matvec_split, split_codes};
    use crate::rng::Rng;
    use std::vec;
    use std::vec::Vec;

    fn bytes(rng: &mut Rng, n: usize) -> Vec<u8> {
        (0..n).map(|_| (rng.next_u64() >> 56) as u8).collect()
    }

    /// Every AVX2 kernel equals the portable one, bit for bit, on random layers of
    /// awkward shapes (tails, remainder rows, signed and unsigned inputs).
    #[test]
    fn avx2_equals_portable() {
        if !avx2() {
            std::eprintln!("no AVX2 on this CPU: nothing to compare");
            return;
        }
        let mut rng = Rng::new(77);
        for &(out, inp) in &[
            (1, 1),
            (3, 7),
            (4, 16),
            (4, 32),
            (5, 33),
            (6, 48),
            (9, 64),
            (7, 100),
            (64, 512),
            (13, 784),
        ] {
            let w8 = bytes(&mut rng, out * inp);
            let w16 = bytes(&mut rng, 2 * out * inp)
                .chunks(2)
                .enumerate()
                .flat_map(|(i, c)| {
                    // Finite binary16 values of every magnitude (and subnormals), and a
                    // few infinities. (Not NaN: which NaN payload an operation returns is
                    // not specified, and differs between equally correct builds.)
                    let h = u16::from_le_bytes([c[0], c[1]]) & 0xfbff;
                    let h = if i % 97 == 5 {
                        (h & 0x8000) | 0x7c00
                    } else {
                        h
                    };
                    h.to_le_bytes()
                })
                .collect::<Vec<u8>>();
            let w32: Vec<u8> = (0..out * inp)
                .flat_map(|_| (rng.normal()).to_le_bytes())
                .collect();
            let bias: Vec<u8> = (0..out).flat_map(|_| rng.normal().to_le_bytes()).collect();
            let scales: Vec<u8> = (0..out)
                .flat_map(|_| (rng.uniform() * 0.1).to_le_bytes())
                .collect();
            for signed in [false, true] {
                let x: Vec<f32> = (0..inp)
                    .map(|_| {
                        let v = rng.normal();
                        if signed { v } else { v.abs() }
                    })
                    .collect();
                let (mut ya, mut yb) = (vec![0f32; out], vec![0f32; out]);

                crate::kernel::matvec_float::<32, crate::kernel::F32s>(
                    &w32, inp, &x, &bias, &mut ya,
                );
                assert!(matvec_f32(&w32, inp, &x, &bias, &mut yb));
                assert_eq!(bits(&ya), bits(&yb), "f32 {out}x{inp}");

                crate::kernel::matvec_float::<16, crate::kernel::F16s>(
                    &w16, inp, &x, &bias, &mut ya,
                );
                assert!(matvec_f16(&w16, inp, &x, &bias, &mut yb));
                assert_eq!(bits(&ya), bits(&yb), "f16 {out}x{inp}");

                let xs = crate::kernel::input_scale(&x);
                let mut quant = vec![0i8; crate::kernel::quant_len(inp)];
                let codes = split_codes(&x, xs, &mut quant);
                matvec_split(
                    &w8, inp, &scales, &bias, xs, codes, &mut ya, dot4_split, dot_split,
                );
                let mut quant = vec![0i8; crate::kernel::quant_len(inp)];
                assert!(layer_i8(&w8, inp, &scales, &bias, &x, &mut quant, &mut yb));
                assert_eq!(bits(&ya), bits(&yb), "i8 {out}x{inp} signed {signed}");
                // The row kernel alone, on the same codes.
                let mut quant = vec![0i8; crate::kernel::quant_len(inp)];
                let codes = split_codes(&x, xs, &mut quant);
                yb.fill(0.0);
                // SAFETY: AVX2 checked at the start of the test.
                unsafe { matvec_avx2(&w8, inp, &scales, &bias, xs, codes, &mut yb) };
                assert_eq!(bits(&ya), bits(&yb), "avx2 {out}x{inp} signed {signed}");
            }
        }
    }

    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|f| f.to_bits()).collect()
    }
}
