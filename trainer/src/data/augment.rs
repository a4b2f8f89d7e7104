//! Image transforms for robust training (`train --augment`) and for the shifted test suite
//! (`eval`'s annotation under each transform at a fixed strength, in the spirit of MNIST-C).
//!
//! Written here rather than taken from an imaging crate: the transforms work on the
//! trainer's f32 rows in place of decoded images, and must give the same bits on every run
//! so that a resumed training run stays byte-identical (every random choice is drawn from
//! `(seed, step, row)`).
//!
//! Random training augmentation, per image (ranges):
//! - an affine warp about the centre: rotation ±15°, scale 0.85–1.15, shear ±0.25,
//!   shift ±2.5 px (bilinear sampling, zero outside);
//! - then, each with probability 0.15: thicken the strokes (3×3 cross max), thin them
//!   (3×3 cross min), blur (separable [1 2 1]/4), or pixelate (2×2 mean, then back up).

use crate::nn::rng::Rng;

/// Side of the square images (MNIST, Fashion-MNIST).
pub const SIDE: usize = 28;
const N: usize = SIDE * SIDE;

/// One transform at a fixed strength.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Transform {
    /// Rotation by this many degrees (counter-clockwise).
    Rotate(f32),
    /// Scaling about the centre.
    Scale(f32),
    /// Horizontal shear (x += s · y).
    Shear(f32),
    /// Shift right and down by this many pixels.
    Shift(f32, f32),
    /// Thicker strokes (3×3 cross max).
    Thicken,
    /// Thinner strokes (3×3 cross min).
    Thin,
    /// Blur (separable [1 2 1]/4).
    Blur,
    /// Down-sampled by this factor (block means), then up again (nearest).
    Pixelate(usize),
}

/// The shifted test suite: each transform's name and strength. Rotations and shears
/// alternate their sign from image to image.
pub const SHIFTED: [(&str, Transform); 9] = [
    ("rotate 25°", Transform::Rotate(25.0)),
    ("shear 0.4", Transform::Shear(0.4)),
    ("scale 0.7", Transform::Scale(0.7)),
    ("scale 1.25", Transform::Scale(1.25)),
    ("shift 3 px", Transform::Shift(3.0, 3.0)),
    ("thick strokes", Transform::Thicken),
    ("thin strokes", Transform::Thin),
    ("blur", Transform::Blur),
    ("pixelate 2×", Transform::Pixelate(2)),
];

/// Writes `t` applied to the 28×28 image `src` into `out`.
pub fn apply(t: Transform, src: &[f32], out: &mut [f32]) {
    assert!(src.len() == N && out.len() == N, "28×28 images");
    match t {
        Transform::Rotate(deg) => affine(src, out, warp(deg, 1.0, 0.0, 0.0, 0.0)),
        Transform::Scale(k) => affine(src, out, warp(0.0, k, 0.0, 0.0, 0.0)),
        Transform::Shear(s) => affine(src, out, warp(0.0, 1.0, s, 0.0, 0.0)),
        Transform::Shift(dx, dy) => affine(src, out, warp(0.0, 1.0, 0.0, dx, dy)),
        Transform::Thicken => cross(src, out, f32::max),
        Transform::Thin => cross(src, out, f32::min),
        Transform::Blur => blur(src, out),
        Transform::Pixelate(k) => pixelate(src, out, k.max(1)),
    }
}

/// Applies the suite's transform `t` to the `index`-th test image (rotations and shears
/// take the sign of the index's parity).
pub fn apply_shifted(t: Transform, index: usize, src: &[f32], out: &mut [f32]) {
    let sign = if index.is_multiple_of(2) { 1.0 } else { -1.0 };
    let t = match t {
        Transform::Rotate(d) => Transform::Rotate(sign * d),
        Transform::Shear(s) => Transform::Shear(sign * s),
        other => other,
    };
    apply(t, src, out);
}

/// A random training augmentation of `src` into `out` (see the module's ranges), drawn
/// from `rng`.
pub fn random(src: &[f32], out: &mut [f32], rng: &mut Rng) {
    assert!(src.len() == N && out.len() == N, "28×28 images");
    let mut u = |lo: f64, hi: f64| (lo + (hi - lo) * rng.uniform()) as f32;
    let m = warp(
        u(-15.0, 15.0),
        u(0.85, 1.15),
        u(-0.25, 0.25),
        u(-2.5, 2.5),
        u(-2.5, 2.5),
    );
    let pick = u(0.0, 1.0);
    affine(src, out, m);
    let extra = match pick {
        p if p < 0.15 => Some(Transform::Thicken),
        p if p < 0.30 => Some(Transform::Thin),
        p if p < 0.45 => Some(Transform::Blur),
        p if p < 0.60 => Some(Transform::Pixelate(2)),
        _ => None,
    };
    if let Some(t) = extra {
        let warped = out.to_vec();
        apply(t, &warped, out);
    }
}

/// The forward map (rotation · shear · scale, then shift) as `[a, b, c, d, tx, ty]`:
/// `dst = [[a, b], [c, d]] · (src − centre) + centre + (tx, ty)`.
fn warp(deg: f32, scale: f32, shear: f32, tx: f32, ty: f32) -> [f32; 6] {
    let (s, c) = deg.to_radians().sin_cos();
    // R · Sh · S with Sh = [[1, shear], [0, 1]], S = scale · I.
    [
        scale * c,
        scale * (c * shear - s),
        scale * s,
        scale * (s * shear + c),
        tx,
        ty,
    ]
}

/// Resamples `src` through the inverse of the forward map `m` (bilinear, zero outside).
fn affine(src: &[f32], out: &mut [f32], m: [f32; 6]) {
    let [a, b, c, d, tx, ty] = m;
    let det = a * d - b * c;
    let (ia, ib, ic, id) = (d / det, -b / det, -c / det, a / det);
    let centre = (SIDE as f32 - 1.0) / 2.0;
    let at = |x: isize, y: isize| -> f32 {
        if (0..SIDE as isize).contains(&x) && (0..SIDE as isize).contains(&y) {
            src[y as usize * SIDE + x as usize]
        } else {
            0.0
        }
    };
    for y in 0..SIDE {
        for x in 0..SIDE {
            let (u, v) = (x as f32 - centre - tx, y as f32 - centre - ty);
            let sx = ia * u + ib * v + centre;
            let sy = ic * u + id * v + centre;
            let (x0, y0) = (sx.floor(), sy.floor());
            let (fx, fy) = (sx - x0, sy - y0);
            let (x0, y0) = (x0 as isize, y0 as isize);
            let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1, y0) * fx;
            let bottom = at(x0, y0 + 1) * (1.0 - fx) + at(x0 + 1, y0 + 1) * fx;
            out[y * SIDE + x] = top * (1.0 - fy) + bottom * fy;
        }
    }
}

/// Each pixel combined with its four neighbours by `f` (max: thicker, min: thinner);
/// outside pixels count as 0 for the min only where the image is 0 anyway (edges kept).
fn cross(src: &[f32], out: &mut [f32], f: fn(f32, f32) -> f32) {
    for y in 0..SIDE {
        for x in 0..SIDE {
            let mut v = src[y * SIDE + x];
            let nbrs = [
                (x > 0).then(|| src[y * SIDE + x - 1]),
                (x + 1 < SIDE).then(|| src[y * SIDE + x + 1]),
                (y > 0).then(|| src[(y - 1) * SIDE + x]),
                (y + 1 < SIDE).then(|| src[(y + 1) * SIDE + x]),
            ];
            for n in nbrs.into_iter().flatten() {
                v = f(v, n);
            }
            out[y * SIDE + x] = v;
        }
    }
}

/// Separable [1 2 1]/4 blur, zero outside.
fn blur(src: &[f32], out: &mut [f32]) {
    let mut tmp = [0.0f32; N];
    let get = |img: &[f32], x: isize, y: isize| {
        if (0..SIDE as isize).contains(&x) && (0..SIDE as isize).contains(&y) {
            img[y as usize * SIDE + x as usize]
        } else {
            0.0
        }
    };
    for y in 0..SIDE as isize {
        for x in 0..SIDE as isize {
            tmp[y as usize * SIDE + x as usize] =
                0.25 * get(src, x - 1, y) + 0.5 * get(src, x, y) + 0.25 * get(src, x + 1, y);
        }
    }
    for y in 0..SIDE as isize {
        for x in 0..SIDE as isize {
            out[y as usize * SIDE + x as usize] =
                0.25 * get(&tmp, x, y - 1) + 0.5 * get(&tmp, x, y) + 0.25 * get(&tmp, x, y + 1);
        }
    }
}

/// Means of `k × k` blocks (partial blocks at the edge averaged over what they hold),
/// spread back over their pixels.
fn pixelate(src: &[f32], out: &mut [f32], k: usize) {
    for by in (0..SIDE).step_by(k) {
        for bx in (0..SIDE).step_by(k) {
            let (ys, xs) = (by..(by + k).min(SIDE), bx..(bx + k).min(SIDE));
            let count = (ys.len() * xs.len()) as f32;
            let mean = ys
                .clone()
                .flat_map(|y| xs.clone().map(move |x| (y, x)))
                .map(|(y, x)| src[y * SIDE + x])
                .sum::<f32>()
                / count;
            for y in ys {
                for x in xs.clone() {
                    out[y * SIDE + x] = mean;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::rng::Stream;

    /// A 28×28 image with a bar of ink from (8, 10) to (19, 17).
    fn bar() -> Vec<f32> {
        (0..N)
            .map(|i| {
                let (y, x) = (i / SIDE, i % SIDE);
                f32::from((10..18).contains(&y) && (8..20).contains(&x))
            })
            .collect()
    }

    fn ink(img: &[f32]) -> f32 {
        img.iter().sum()
    }

    #[test]
    fn identities_keep_the_image() {
        let src = bar();
        let mut out = vec![0.0; N];
        for t in [
            Transform::Rotate(0.0),
            Transform::Scale(1.0),
            Transform::Shear(0.0),
            Transform::Shift(0.0, 0.0),
            Transform::Pixelate(1),
        ] {
            apply(t, &src, &mut out);
            assert!(
                out.iter().zip(&src).all(|(a, b)| (a - b).abs() < 1e-5),
                "{t:?}"
            );
        }
    }

    #[test]
    fn transforms_do_what_they_say() {
        let src = bar();
        let mut out = vec![0.0; N];
        apply(Transform::Shift(2.0, 1.0), &src, &mut out);
        assert_eq!(out[11 * SIDE + 10], 1.0);
        assert_eq!(out[10 * SIDE + 9], 0.0);
        apply(Transform::Rotate(90.0), &src, &mut out);
        // A horizontal bar becomes a vertical one: taller than wide.
        let rows = (0..SIDE).filter(|y| out[y * SIDE..(y + 1) * SIDE].iter().any(|&v| v > 0.5));
        assert!(rows.count() > 10);
        apply(Transform::Scale(0.5), &src, &mut out);
        assert!((ink(&out) - ink(&src) / 4.0).abs() < 0.2 * ink(&src) / 4.0);
        apply(Transform::Thicken, &src, &mut out);
        assert!(ink(&out) > ink(&src));
        apply(Transform::Thin, &src, &mut out);
        assert!(ink(&out) < ink(&src));
        apply(Transform::Blur, &src, &mut out);
        assert!(
            (ink(&out) - ink(&src)).abs() < 1e-3,
            "blur keeps the ink inside"
        );
        assert!(out[10 * SIDE + 8] < 1.0 && out[9 * SIDE + 8] > 0.0);
        apply(Transform::Pixelate(2), &src, &mut out);
        assert!((ink(&out) - ink(&src)).abs() < 1e-3);
    }

    #[test]
    fn random_augmentation_is_a_function_of_its_draws() {
        let src = bar();
        let (mut a, mut b) = (vec![0.0; N], vec![0.0; N]);
        random(&src, &mut a, &mut Rng::new(1, Stream::Augment, 7));
        random(&src, &mut b, &mut Rng::new(1, Stream::Augment, 7));
        assert_eq!(a, b);
        random(&src, &mut b, &mut Rng::new(1, Stream::Augment, 8));
        assert_ne!(a, b);
        assert!(a.iter().all(|v| (0.0..=1.0).contains(v)));
        assert!(
            ink(&a) > 0.3 * ink(&src),
            "the ink stays mostly in the frame"
        );
    }
}
