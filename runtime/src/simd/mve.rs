//! The Cortex-M55 (Helium, the M-profile vector extension) int8 and int4 kernels: the
//! input is quantised once per layer into `i8` codes, and each row's exact sum is one
//! tail-predicated loop of 16 multiply-adds per `VMLADAVA.S8` (`DLSTP.8` / `LETP`: the
//! last, partial vector is predicated, so nothing past a row or the codes is read).

use core::arch::asm;

use crate::kernel::{Input, code, finish_i8, int8_codes};

/// `y = W x + b` for an int8 layer (`x_scale > 0`); `false` (nothing done) when the
/// arrays do not have the layer's lengths or `quant` is too short.
#[allow(clippy::too_many_arguments)]
pub(crate) fn matvec_i8<T: Input>(
    q: &[u8],
    inp: usize,
    scales: &[u8],
    bias: &[u8],
    x: &[T],
    x_scale: f32,
    quant: &mut [i8],
    y: &mut [f32],
) -> bool {
    let out = y.len();
    if inp == 0 || x.len() != inp || q.len() != out.wrapping_mul(inp) {
        return false;
    }
    let Some(codes) = quant.get_mut(..inp) else {
        return false;
    };
    let codes = int8_codes(x, x_scale, codes);
    let scales = scales.as_chunks::<4>().0;
    let bias = bias.as_chunks::<4>().0;
    // Four rows per pass (each code vector loaded once for all four).
    let quads = q.chunks_exact(inp.wrapping_mul(4));
    let rest = quads.remainder();
    let mut ys = y.chunks_exact_mut(4);
    let mut ss = scales.chunks_exact(4);
    let mut bs = bias.chunks_exact(4);
    for (((rows, yv), s), b) in quads.zip(&mut ys).zip(&mut ss).zip(&mut bs) {
        let (r01, r23) = rows.split_at(inp.wrapping_mul(2));
        let (r0, r1) = r01.split_at(inp);
        let (r2, r3) = r23.split_at(inp);
        let acc = dot4(r0, r1, r2, r3, codes);
        for (((yv, s), b), a) in yv.iter_mut().zip(s).zip(b).zip(acc) {
            *yv = finish_i8(a, s, x_scale, b);
        }
    }
    // The last rows (up to three) one by one.
    let (y, scales, bias) = (ys.into_remainder(), ss.remainder(), bs.remainder());
    for (((row, yv), s), b) in rest.chunks_exact(inp).zip(y).zip(scales).zip(bias) {
        *yv = finish_i8(dot(row, codes), s, x_scale, b);
    }
    true
}

/// `y = W x + b` for an int4 layer (`x_scale > 0`); `false` (nothing done) when the
/// arrays do not have the layer's lengths or `quant` is shorter than the codes' layout.
///
/// Sixteen weight bytes hold 32 weights: the low nibbles (even inputs) come out of
/// `VSHL.I8 #4` then `VSHR.S8 #4`, the high nibbles (odd inputs) out of `VSHR.S8 #4`, so
/// the codes are laid out per block of 32 inputs as the 16 even ones, then the 16 odd
/// ones (zero past the last input, so an odd row's padding nibble adds nothing).
#[allow(clippy::too_many_arguments)]
pub(crate) fn matvec_i4<T: Input>(
    q: &[u8],
    inp: usize,
    scales: &[u8],
    bias: &[u8],
    x: &[T],
    x_scale: f32,
    quant: &mut [i8],
    y: &mut [f32],
) -> bool {
    let row_bytes = inp.div_ceil(2);
    if inp == 0 || x.len() != inp || q.len() != y.len().wrapping_mul(row_bytes) {
        return false;
    }
    let Some(codes) = quant.get_mut(..row_bytes.div_ceil(16).wrapping_mul(32)) else {
        return false;
    };
    codes.fill(0);
    for (block, xs) in codes.chunks_exact_mut(32).zip(x.chunks(32)) {
        let (even, odd) = block.split_at_mut(16);
        for (k, &v) in xs.iter().enumerate() {
            let half = if k % 2 == 0 { &mut *even } else { &mut *odd };
            if let Some(c) = half.get_mut(k / 2) {
                *c = code(v.value(), x_scale) as i8;
            }
        }
    }
    let codes: &[i8] = codes;
    let scales = scales.as_chunks::<4>().0;
    let bias = bias.as_chunks::<4>().0;
    for (((row, yv), s), b) in q
        .chunks_exact(row_bytes)
        .zip(y.iter_mut())
        .zip(scales)
        .zip(bias)
    {
        *yv = finish_i8(dot_i4(row, codes), s, x_scale, b);
    }
    true
}

/// The exact sum of a packed int4 row with codes laid out as [`matvec_i4`] does
/// (`codes.len() ≥ 32 · ceil(row.len() / 16)`).
fn dot_i4(row: &[u8], codes: &[i8]) -> i32 {
    let n = row.len().min((codes.len() / 32).wrapping_mul(16));
    let acc: i32;
    // SAFETY: `DLSTP.8` runs `ceil(n / 16)` iterations over `n` byte lanes and predicates
    // the lanes past `n` in the last one, so the loads read `row[..n]` and, per
    // iteration `i`, the codes `32·i .. 32·i + 32` (inside `codes`: `n ≤ codes.len() / 2`
    // rounded to whole blocks), and nothing else. It writes only the declared
    // registers: `r0` (the sum; `VMLADAVA` needs an even register), the three pointers,
    // `lr` and `q0`–`q3` (= `s0`–`s15`); no stack, no memory written.
    unsafe {
        asm!(
            "mov r0, #0",
            "dlstp.8 lr, {n}",
            "2:",
            "vldrb.u8 q0, [{w}], #16",
            "vshl.i8 q1, q0, #4",
            "vshr.s8 q1, q1, #4",
            "vshr.s8 q0, q0, #4",
            "vldrb.u8 q2, [{xe}], #32",
            "vmladava.s8 r0, q1, q2",
            "vldrb.u8 q3, [{xo}], #32",
            "vmladava.s8 r0, q0, q3",
            "letp lr, 2b",
            n = in(reg) n,
            w = inout(reg) row.as_ptr() => _,
            xe = inout(reg) codes.as_ptr() => _,
            xo = inout(reg) codes.as_ptr().wrapping_add(16) => _,
            out("r0") acc,
            out("lr") _,
            out("s0") _,
            out("s1") _,
            out("s2") _,
            out("s3") _,
            out("s4") _,
            out("s5") _,
            out("s6") _,
            out("s7") _,
            out("s8") _,
            out("s9") _,
            out("s10") _,
            out("s11") _,
            out("s12") _,
            out("s13") _,
            out("s14") _,
            out("s15") _,
            options(nostack, readonly),
        );
    }
    acc
}

/// The exact sums of four rows with the same codes (all five equally long).
fn dot4(r0: &[u8], r1: &[u8], r2: &[u8], r3: &[u8], codes: &[i8]) -> [i32; 4] {
    let n = r0
        .len()
        .min(r1.len())
        .min(r2.len())
        .min(r3.len())
        .min(codes.len());
    let (a0, a1, a2, a3): (i32, i32, i32, i32);
    // SAFETY: as in `dot`, with four rows: the loads read `r0[..n]` to `r3[..n]` and
    // `codes[..n]` only; the sums are in `r0`, `r2`, `r4` and `r8` (even registers),
    // `q0`–`q4` (= `s0`–`s19`) are clobbered; no stack, no memory written.
    unsafe {
        asm!(
            "mov r0, #0",
            "mov r2, #0",
            "mov r4, #0",
            "mov r8, #0",
            "dlstp.8 lr, {n}",
            "2:",
            "vldrb.8 q0, [{x}], #16",
            "vldrb.8 q1, [{w0}], #16",
            "vmladava.s8 r0, q1, q0",
            "vldrb.8 q2, [{w1}], #16",
            "vmladava.s8 r2, q2, q0",
            "vldrb.8 q3, [{w2}], #16",
            "vmladava.s8 r4, q3, q0",
            "vldrb.8 q4, [{w3}], #16",
            "vmladava.s8 r8, q4, q0",
            "letp lr, 2b",
            n = in(reg) n,
            w0 = inout(reg) r0.as_ptr() => _,
            w1 = inout(reg) r1.as_ptr() => _,
            w2 = inout(reg) r2.as_ptr() => _,
            w3 = inout(reg) r3.as_ptr() => _,
            x = inout(reg) codes.as_ptr() => _,
            out("r0") a0,
            out("r2") a1,
            out("r4") a2,
            out("r8") a3,
            out("lr") _,
            out("s0") _,
            out("s1") _,
            out("s2") _,
            out("s3") _,
            out("s4") _,
            out("s5") _,
            out("s6") _,
            out("s7") _,
            out("s8") _,
            out("s9") _,
            out("s10") _,
            out("s11") _,
            out("s12") _,
            out("s13") _,
            out("s14") _,
            out("s15") _,
            out("s16") _,
            out("s17") _,
            out("s18") _,
            out("s19") _,
            options(nostack, readonly),
        );
    }
    [a0, a1, a2, a3]
}

/// The exact `Σ row[i] · codes[i]` of a row and the codes, equally long.
fn dot(row: &[u8], codes: &[i8]) -> i32 {
    let n = row.len().min(codes.len());
    let acc: i32;
    // SAFETY: the loop runs over `n` byte lanes, `n ≤ row.len()` and `n ≤ codes.len()`:
    // `DLSTP.8` sets up `ceil(n / 16)` iterations and predicates the lanes past `n` in
    // the last one, so the loads read `row[..n]` and `codes[..n]` and nothing else
    // (predicated-off lanes are not accessed). It writes only the declared registers:
    // `r0` (the sum; `VMLADAVA` needs an even register), the two pointers, `lr` (the loop
    // count) and `q0`/`q1` (= `s0`–`s7`); no stack, no memory written.
    unsafe {
        asm!(
            "mov r0, #0",
            "dlstp.8 lr, {n}",
            "2:",
            "vldrb.8 q0, [{w}], #16",
            "vldrb.8 q1, [{x}], #16",
            "vmladava.s8 r0, q0, q1",
            "letp lr, 2b",
            n = in(reg) n,
            w = inout(reg) row.as_ptr() => _,
            x = inout(reg) codes.as_ptr() => _,
            out("r0") acc,
            out("lr") _,
            out("s0") _,
            out("s1") _,
            out("s2") _,
            out("s3") _,
            out("s4") _,
            out("s5") _,
            out("s6") _,
            out("s7") _,
            options(nostack, readonly),
        );
    }
    acc
}
