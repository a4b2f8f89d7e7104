//! The Cortex-M4 (ARMv7E-M DSP extension) int8 kernel.
//!
//! Per int8 layer, the input is quantised once into a *window* of `i16` pairs that
//! matches word loads of the weight rows: weight row `r` starts `m = (address of q) % 4`
//! bytes after a word boundary (the same `m` for every row when `inp % 4 == 0`), so
//! window position `p` pairs with weight byte `r·inp − m + p` and holds the code of input
//! `p − m` (0 outside `[m, m + inp)`). Each group of four positions is stored as two
//! words, `(c0 | c2 << 16, c1 | c3 << 16)`: what `SMLAD` needs against `SXTB16(w)`
//! (bytes 0 and 2) and `SXTB16(w, ror 8)` (bytes 1 and 3) of a weight word. A row's
//! window covers `len` positions, a multiple of 8 (one chunk = two weight words).
//!
//! The assembly runs over every row whose window lies inside the weight array (all
//! but possibly the first and the last) and writes each row's exact `i32` sum into the
//! output slot; Rust then turns the sums into outputs. The first and last rows, whose
//! windows may reach a few bytes outside the array, take the chunks that lie inside
//! through the same assembly and the remaining positions in Rust.

#[cfg(pse_arm_dsp)]
use core::arch::asm;

use crate::kernel::{Input, code_cvt, finish_i8};

/// `(code(a), code(b))` packed as `a | b << 16`.
#[inline(always)]
fn pair(a: i32, b: i32) -> u32 {
    (a as u32 & 0xffff) | ((b as u32) << 16)
}

/// The code of `v` for a normal `scale`: `code_cvt` without its clamp, which cannot
/// act: with `scale = fl(max|x| / 127)` normal and `|v| ≤ max|x|`,
/// `|v / scale| ≤ 127 (1 + 2^-24) / (1 - 2^-24) < 127.5`, which rounds into `±127`.
#[inline(always)]
fn code_normal(v: f32, scale: f32) -> i32 {
    let i = ((v / scale) * 65536.0) as i32;
    i.wrapping_add(i >> 31).wrapping_add(0x8000) >> 16
}

/// Quantises `x` into the window `win` (`len / 2` words): `code` is [`code_cvt`] or,
/// when it gives the same values, [`code_normal`].
#[inline(always)]
fn fill_window<T: Input>(x: &[T], m: usize, win: &mut [u32], code: impl Fn(f32) -> i32) {
    let (groups, _) = win.as_chunks_mut::<2>();
    let mut groups = groups.iter_mut();
    let put = |g: &mut [u32; 2], c: [i32; 4]| {
        let [c0, c1, c2, c3] = c;
        *g = [pair(c0, c2), pair(c1, c3)];
    };
    // Group 0 holds positions 0..4: zeros for p < m, then inputs 0..4-m.
    let head = 4usize.wrapping_sub(m).min(x.len());
    let (x_head, x_rest) = x.split_at_checked(head).unwrap_or_default();
    if let Some(g) = groups.next() {
        let mut c = [0i32; 4];
        for (ci, &v) in c.iter_mut().skip(m).zip(x_head) {
            *ci = code(v.value());
        }
        put(g, c);
    }
    // Then four inputs per group; the last group of inputs may be partial. (`full`
    // drives the zip: a `groups` item must not be taken when `full` has run out.)
    let (full, partial) = x_rest.as_chunks::<4>();
    for (&[x0, x1, x2, x3], g) in full.iter().zip(&mut groups) {
        put(
            g,
            [
                code(x0.value()),
                code(x1.value()),
                code(x2.value()),
                code(x3.value()),
            ],
        );
    }
    if let Some(g) = groups.next() {
        let mut c = [0i32; 4];
        for (ci, &v) in c.iter_mut().zip(partial) {
            *ci = code(v.value());
        }
        put(g, c);
    }
    for g in groups {
        *g = [0; 2];
    }
}

/// The code at window position `p` (0 when out of range).
fn window_code(win: &[u32], p: usize) -> i32 {
    // Position 4g + j is half (j >> 1) of word 2g + (j & 1).
    let word = win.get((p >> 2 << 1) | (p & 1)).copied().unwrap_or(0);
    let half = if p & 2 == 0 { word } else { word >> 16 };
    i32::from(half as u16 as i16)
}

/// `y = W x + b` for an int8 layer through the DSP kernel; `false` (nothing done) when
/// the layer does not suit it (`inp` not a multiple of 4, or under 16) or `quant` is
/// too short.
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
    if !inp.is_multiple_of(4) || inp < 16 || x.len() != inp || q.len() != out.wrapping_mul(inp) {
        return false;
    }
    let m = (q.as_ptr() as usize) & 3;
    let len = m.wrapping_add(inp).next_multiple_of(8);
    let win = words(quant);
    let Some(win) = win.get_mut(..len / 2) else {
        return false;
    };
    if T::NORMAL_SCALE || x_scale >= f32::MIN_POSITIVE {
        fill_window(x, m, win, |v| code_normal(v, x_scale));
    } else {
        fill_window(x, m, win, |v| code_cvt(v, x_scale));
    }
    let win: &[u32] = win;

    // Rows whose whole window lies inside `q`: all but the first when `m > 0` (its
    // window starts `m` bytes before `q`) and the last when its window ends after `q`.
    let first = usize::from(m > 0);
    let overhang = len.wrapping_sub(m) > inp;
    let end = out.saturating_sub(usize::from(overhang));
    if first < end {
        let from = first.wrapping_mul(inp).wrapping_sub(m);
        let to = (end.wrapping_sub(1))
            .wrapping_mul(inp)
            .wrapping_sub(m)
            .wrapping_add(len);
        if let (Some(w), Some(acc)) = (q.get(from..to), y.get_mut(first..end)) {
            dot_rows(w, inp, win, acc);
        }
    }
    for r in (0..first).chain(end.max(first)..out) {
        if let Some(yv) = y.get_mut(r) {
            *yv = f32::from_bits(edge_row(q, inp, r, m, win) as u32);
        }
    }

    let scales = scales.as_chunks::<4>().0;
    let bias = bias.as_chunks::<4>().0;
    for ((yv, s), b) in y.iter_mut().zip(scales).zip(bias) {
        *yv = finish_i8(yv.to_bits() as i32, s, x_scale, b);
    }
    true
}

/// The exact sum of row `r`, whose window may reach outside `q`: the chunks inside `q`
/// through the assembly, the other positions in Rust.
fn edge_row(q: &[u8], inp: usize, r: usize, m: usize, win: &[u32]) -> i32 {
    let chunks = win.len() / 4;
    let start = r.wrapping_mul(inp); // the row's first byte in `q`; its window starts m before
    let c_lo = usize::from(start < m);
    let room = q.len().wrapping_sub(start).wrapping_add(m); // window start to end of `q`
    let c_hi = chunks.min(room / 8).max(c_lo);
    let mut acc = 0i32;
    let w_from = start.wrapping_add(c_lo.wrapping_mul(8)).wrapping_sub(m);
    let w_to = start.wrapping_add(c_hi.wrapping_mul(8)).wrapping_sub(m);
    let x_from = c_lo.wrapping_mul(4);
    let x_to = c_hi.wrapping_mul(4);
    if let (Some(w), Some(xw)) = (q.get(w_from..w_to), win.get(x_from..x_to)) {
        let mut one = [0.0f32];
        dot_rows(w, w.len(), xw, &mut one);
        acc = one[0].to_bits() as i32;
    }
    // Inputs outside the chunks [c_lo, c_hi): `..head` and `tail..`.
    let row = q.get(start..start.wrapping_add(inp)).unwrap_or_default();
    let head = c_lo.wrapping_mul(8).saturating_sub(m).min(inp);
    let tail = c_hi.wrapping_mul(8).saturating_sub(m).clamp(head, inp);
    let outside = row.iter().enumerate();
    for (i, &w) in outside.clone().take(head).chain(outside.skip(tail)) {
        let p = i.wrapping_add(m);
        acc = acc.wrapping_add(i32::from(w as i8).wrapping_mul(window_code(win, p)));
    }
    acc
}

/// `y = W x + b` for an int4 layer through the DSP instructions; `false` (nothing done)
/// when `inp` is not a multiple of 8 or `quant` is too short.
///
/// Eight weights are one little-endian word `w` of nibbles `n0..n7` (byte `j` holds
/// `n2j` low and `n2j+1` high). `(w << 4) & 0xF0F0F0F0` holds `n0, n2, n4, n6` and
/// `w & 0xF0F0F0F0` holds `n1, n3, n5, n7`, each in the top half of its byte, so
/// `SXTB16` (bytes 0 and 2, or with `ror #8` bytes 1 and 3) gives `16·n` pairs without
/// a shift: four `SMLAD`s against the codes stored per group of eight as
/// `(c0|c4, c2|c6, c1|c5, c3|c7)` sum `16·Σ n·c` exactly, and `>> 4` gives the sum.
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
    let row_bytes = inp / 2;
    if inp == 0
        || !inp.is_multiple_of(8)
        || x.len() != inp
        || q.len() != y.len().wrapping_mul(row_bytes)
    {
        return false;
    }
    let Some(win) = words(quant).get_mut(..row_bytes) else {
        return false;
    };
    let (groups, _) = win.as_chunks_mut::<4>();
    let (xs, _) = x.as_chunks::<8>();
    let normal = T::NORMAL_SCALE || x_scale >= f32::MIN_POSITIVE;
    for (g, xg) in groups.iter_mut().zip(xs) {
        let c = xg.map(|v| {
            if normal {
                code_normal(v.value(), x_scale)
            } else {
                code_cvt(v.value(), x_scale)
            }
        });
        let [c0, c1, c2, c3, c4, c5, c6, c7] = c;
        *g = [pair(c0, c4), pair(c2, c6), pair(c1, c5), pair(c3, c7)];
    }
    let groups: &[[u32; 4]] = groups;
    let scales = scales.as_chunks::<4>().0;
    let bias = bias.as_chunks::<4>().0;
    for (((row, yv), s), b) in q
        .chunks_exact(row_bytes)
        .zip(y.iter_mut())
        .zip(scales)
        .zip(bias)
    {
        let acc = row
            .as_chunks::<4>()
            .0
            .iter()
            .zip(groups)
            .fold(0i32, |acc, (w, g)| dot8(u32::from_le_bytes(*w), g, acc));
        *yv = finish_i8(acc >> 4, s, x_scale, b);
    }
    true
}

/// `acc + 16·Σ n_k·c_k` for the eight nibbles of `w` and a group of codes (see
/// [`matvec_i4`]).
#[cfg(pse_arm_dsp)]
#[inline(always)]
fn dot8(w: u32, x: &[u32; 4], acc: i32) -> i32 {
    let mut acc = acc;
    // SAFETY: register arithmetic only (no memory, no stack, flags untouched: SMLAD
    // sets only the sticky Q flag).
    unsafe {
        asm!(
            "lsl {a}, {w}, #4",
            "and {a}, {a}, {m}",
            "and {b}, {w}, {m}",
            "sxtb16 {t}, {a}",
            "smlad {acc}, {t}, {x0}, {acc}",
            "sxtb16 {t}, {a}, ror #8",
            "smlad {acc}, {t}, {x1}, {acc}",
            "sxtb16 {t}, {b}",
            "smlad {acc}, {t}, {x2}, {acc}",
            "sxtb16 {t}, {b}, ror #8",
            "smlad {acc}, {t}, {x3}, {acc}",
            w = in(reg) w,
            m = in(reg) 0xF0F0_F0F0u32,
            x0 = in(reg) x[0],
            x1 = in(reg) x[1],
            x2 = in(reg) x[2],
            x3 = in(reg) x[3],
            a = out(reg) _,
            b = out(reg) _,
            t = out(reg) _,
            acc = inout(reg) acc,
            options(pure, nomem, nostack),
        );
    }
    acc
}

/// [`dot8`]'s instructions in Rust, for the host tests of the window layout.
#[cfg(not(pse_arm_dsp))]
fn dot8(w: u32, x: &[u32; 4], acc: i32) -> i32 {
    let sxtb16 =
        |v: u32| -> [i32; 2] { [i32::from(v as u8 as i8), i32::from((v >> 16) as u8 as i8)] };
    let smlad = |acc: i32, a: [i32; 2], b: u32| {
        let [b0, b1] = [
            i32::from(b as u16 as i16),
            i32::from((b >> 16) as u16 as i16),
        ];
        acc.wrapping_add(a[0].wrapping_mul(b0))
            .wrapping_add(a[1].wrapping_mul(b1))
    };
    let a = (w << 4) & 0xF0F0_F0F0;
    let b = w & 0xF0F0_F0F0;
    let acc = smlad(acc, sxtb16(a), x[0]);
    let acc = smlad(acc, sxtb16(a.rotate_right(8)), x[1]);
    let acc = smlad(acc, sxtb16(b), x[2]);
    smlad(acc, sxtb16(b.rotate_right(8)), x[3])
}

/// The int8 scratch as aligned words (its first 0–3 bytes skipped).
fn words(quant: &mut [i8]) -> &mut [u32] {
    // SAFETY: `u32` has no invalid bit patterns and `align_to_mut` only returns a
    // correctly aligned middle part that lies inside `quant`.
    let (_, middle, _) = unsafe { quant.align_to_mut::<u32>() };
    middle
}

/// Constants of the row loop, read from memory by the assembly (it has no free
/// registers left for them). Field offsets are used in the assembly: keep the order.
#[cfg(pse_arm_dsp)]
#[repr(C)]
struct RowLoop {
    /// The window (`i16` pairs), re-read at the start of every row.
    x: *const u32,
    /// Bytes from the end of one row's window back to the start of the next one's.
    back: usize,
    /// Bytes of weights per row in 64-weight steps.
    bytes64: usize,
    /// Bytes of weights per row in the remaining 8-weight steps.
    bytes8: usize,
    /// Where the next row's sum goes.
    out: *mut f32,
    /// Rows left.
    rows: usize,
}

/// Writes into `out[r]` (as `f32` bits) the exact sum `Σ_p w[r·stride + p] · window(p)`
/// over the window's `len = 2 · xw.len()` positions, for `out.len()` rows, where `w`
/// spans exactly the rows' windows. Plain Rust when the lengths or alignments are not
/// what the assembly needs (never, from this module).
fn dot_rows(w: &[u8], stride: usize, xw: &[u32], out: &mut [f32]) {
    let rows = out.len();
    let len = xw.len().wrapping_mul(2);
    let span = rows
        .checked_sub(1)
        .and_then(|r| r.checked_mul(stride))
        .and_then(|b| b.checked_add(len));
    let fits = rows > 0
        && len > 0
        && len.is_multiple_of(8)
        && stride <= len
        && stride.is_multiple_of(4)
        && (w.as_ptr() as usize).is_multiple_of(4)
        && span == Some(w.len());
    if fits && cfg!(pse_arm_dsp) {
        #[cfg(pse_arm_dsp)]
        row_loop(w, stride, xw, out);
    } else {
        for (r, o) in out.iter_mut().enumerate() {
            let row = w.get(r.wrapping_mul(stride)..).unwrap_or_default();
            let acc = row.iter().take(len).enumerate().fold(0i32, |a, (p, &wv)| {
                a.wrapping_add(i32::from(wv as i8).wrapping_mul(window_code(xw, p)))
            });
            *o = f32::from_bits(acc as u32);
        }
    }
}

/// The assembly of [`dot_rows`], for arguments it has checked.
#[cfg(pse_arm_dsp)]
fn row_loop(w: &[u8], stride: usize, xw: &[u32], out: &mut [f32]) {
    let rows = out.len();
    let len = xw.len().wrapping_mul(2);
    let chunks = len / 8;
    let mut state = RowLoop {
        x: xw.as_ptr(),
        back: len.wrapping_sub(stride),
        bytes64: (chunks / 8).wrapping_mul(64),
        bytes8: (chunks % 8).wrapping_mul(8),
        out: out.as_mut_ptr(),
        rows,
    };
    let state: *mut RowLoop = &mut state;
    // SAFETY: `dot_rows` checked, before calling this: `rows > 0`; `len` is a positive
    // multiple of 8; `stride <= len`; row `r`'s window `w[r·stride .. r·stride + len]`
    // lies inside `w` for every `r < rows` (`(rows - 1)·stride + len == w.len()`). The
    // loops read exactly those bytes (`len / 8` steps of 8) with `ldm` at word-aligned
    // addresses (`w` and `stride` are multiples of 4, checked), and `len / 2 = xw.len()` words of `xw` per row
    // (a `&[u32]`, so aligned). They write `rows` words to `out` (`rows = out.len()`)
    // and fields of `state`, a live local. No stack use; the clobbered registers are
    // declared; flags are not preserved.
    unsafe {
        asm!(
            "2:",
            "mov {acc}, #0",
            "ldr {x}, [{s}, #0]",
            "ldr {e}, [{s}, #8]",
            "add {e}, {w}",
            "cmp {w}, {e}",
            "beq 4f",
            "3:",
            "ldm {w}!, {{r4, r5}}",
            "ldm {x}!, {{r8, r9, r10, r11}}",
            "sxtb16 r12, r4",
            "sxtb16 r4, r4, ror #8",
            "smlad {acc}, r12, r8, {acc}",
            "smlad {acc}, r4, r9, {acc}",
            "sxtb16 r12, r5",
            "sxtb16 r5, r5, ror #8",
            "smlad {acc}, r12, r10, {acc}",
            "smlad {acc}, r5, r11, {acc}",
            "ldm {w}!, {{r4, r5}}",
            "ldm {x}!, {{r8, r9, r10, r11}}",
            "sxtb16 r12, r4",
            "sxtb16 r4, r4, ror #8",
            "smlad {acc}, r12, r8, {acc}",
            "smlad {acc}, r4, r9, {acc}",
            "sxtb16 r12, r5",
            "sxtb16 r5, r5, ror #8",
            "smlad {acc}, r12, r10, {acc}",
            "smlad {acc}, r5, r11, {acc}",
            "ldm {w}!, {{r4, r5}}",
            "ldm {x}!, {{r8, r9, r10, r11}}",
            "sxtb16 r12, r4",
            "sxtb16 r4, r4, ror #8",
            "smlad {acc}, r12, r8, {acc}",
            "smlad {acc}, r4, r9, {acc}",
            "sxtb16 r12, r5",
            "sxtb16 r5, r5, ror #8",
            "smlad {acc}, r12, r10, {acc}",
            "smlad {acc}, r5, r11, {acc}",
            "ldm {w}!, {{r4, r5}}",
            "ldm {x}!, {{r8, r9, r10, r11}}",
            "sxtb16 r12, r4",
            "sxtb16 r4, r4, ror #8",
            "smlad {acc}, r12, r8, {acc}",
            "smlad {acc}, r4, r9, {acc}",
            "sxtb16 r12, r5",
            "sxtb16 r5, r5, ror #8",
            "smlad {acc}, r12, r10, {acc}",
            "smlad {acc}, r5, r11, {acc}",
            "ldm {w}!, {{r4, r5}}",
            "ldm {x}!, {{r8, r9, r10, r11}}",
            "sxtb16 r12, r4",
            "sxtb16 r4, r4, ror #8",
            "smlad {acc}, r12, r8, {acc}",
            "smlad {acc}, r4, r9, {acc}",
            "sxtb16 r12, r5",
            "sxtb16 r5, r5, ror #8",
            "smlad {acc}, r12, r10, {acc}",
            "smlad {acc}, r5, r11, {acc}",
            "ldm {w}!, {{r4, r5}}",
            "ldm {x}!, {{r8, r9, r10, r11}}",
            "sxtb16 r12, r4",
            "sxtb16 r4, r4, ror #8",
            "smlad {acc}, r12, r8, {acc}",
            "smlad {acc}, r4, r9, {acc}",
            "sxtb16 r12, r5",
            "sxtb16 r5, r5, ror #8",
            "smlad {acc}, r12, r10, {acc}",
            "smlad {acc}, r5, r11, {acc}",
            "ldm {w}!, {{r4, r5}}",
            "ldm {x}!, {{r8, r9, r10, r11}}",
            "sxtb16 r12, r4",
            "sxtb16 r4, r4, ror #8",
            "smlad {acc}, r12, r8, {acc}",
            "smlad {acc}, r4, r9, {acc}",
            "sxtb16 r12, r5",
            "sxtb16 r5, r5, ror #8",
            "smlad {acc}, r12, r10, {acc}",
            "smlad {acc}, r5, r11, {acc}",
            "ldm {w}!, {{r4, r5}}",
            "ldm {x}!, {{r8, r9, r10, r11}}",
            "sxtb16 r12, r4",
            "sxtb16 r4, r4, ror #8",
            "smlad {acc}, r12, r8, {acc}",
            "smlad {acc}, r4, r9, {acc}",
            "sxtb16 r12, r5",
            "sxtb16 r5, r5, ror #8",
            "smlad {acc}, r12, r10, {acc}",
            "smlad {acc}, r5, r11, {acc}",
            "cmp {w}, {e}",
            "bne 3b",
            "4:",
            "ldr {e}, [{s}, #12]",
            "add {e}, {w}",
            "cmp {w}, {e}",
            "beq 6f",
            "5:",
            "ldm {w}!, {{r4, r5}}",
            "ldm {x}!, {{r8, r9, r10, r11}}",
            "sxtb16 r12, r4",
            "sxtb16 r4, r4, ror #8",
            "smlad {acc}, r12, r8, {acc}",
            "smlad {acc}, r4, r9, {acc}",
            "sxtb16 r12, r5",
            "sxtb16 r5, r5, ror #8",
            "smlad {acc}, r12, r10, {acc}",
            "smlad {acc}, r5, r11, {acc}",
            "cmp {w}, {e}",
            "bne 5b",
            "6:",
            "ldr {e}, [{s}, #16]",
            "str {acc}, [{e}], #4",
            "str {e}, [{s}, #16]",
            "ldr {e}, [{s}, #4]",
            "sub {w}, {w}, {e}",
            "ldr {e}, [{s}, #20]",
            "subs {e}, {e}, #1",
            "str {e}, [{s}, #20]",
            "bne 2b",
            w = inout(reg) w.as_ptr() => _,
            s = in(reg) state,
            x = out(reg) _,
            e = out(reg) _,
            acc = out(reg) _,
            out("r4") _,
            out("r5") _,
            out("r8") _,
            out("r9") _,
            out("r10") _,
            out("r11") _,
            out("r12") _,
            options(nostack),
        );
    }
}
