//! Turning a grey picture of a digit (any size, either polarity) into the 28×28 image a model
//! trained on MNIST expects, the way MNIST itself was made: light ink on black, the ink's
//! bounding box scaled to fit 20×20 (aspect kept), centred by its centre of mass in 28×28.
//!
//! Integer arithmetic only, no heap: a device with a camera can run it on a crop in RAM, and
//! the host (`pse-trainer annotate --preprocess mnist`) gets the same bytes.
//!
//! Steps:
//! 1. **Polarity**: when the mean of the picture's border pixels is 128 or more (a light
//!    background), every pixel is read inverted (`255 − v`).
//! 2. **Ink**: the bounding box of the pixels at 64 or more (after step 1).
//! 3. **Scale**: the box is resampled so that its longer side is 20 pixels: output pixel `o`
//!    of `n` covers source pixels `floor(o·len/n) .. floor((o+1)·len/n)` (at least one) and
//!    takes their mean, so shrinking averages and enlarging repeats.
//! 4. **Centre**: the 20×20-bounded digit is placed in a black 28×28 frame so that its centre of
//!    mass is as near (14, 14) as the frame allows.

use crate::Error;

/// The largest picture side accepted, and the largest stride: every product below then stays
/// far inside `u32` and `u64` (at most 4096 · 4096 · 255 < 2³² per sum, 20 · 65536 per
/// index), which is why this module may use plain arithmetic where the rest of the runtime
/// uses checked operations.
pub const MAX_SIDE: usize = 4096;

/// Side of the output image.
pub const SIDE: usize = 28;
/// The longer side of the digit's box after scaling.
pub const BOX: usize = 20;
/// Pixels at or above this (after inversion) are ink.
pub const INK: u8 = 64;

/// A grey picture: `height` rows of `width` bytes, row `r` starting at `r * stride`.
#[derive(Clone, Copy, Debug)]
pub struct GreyImage<'a> {
    /// The bytes.
    pub pixels: &'a [u8],
    /// Pixels per row.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// Bytes from one row's start to the next's (at least `width`).
    pub stride: usize,
}

/// What [`mnist_like`] found and did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preprocessed {
    /// The picture was read inverted (a light background).
    pub inverted: bool,
    /// The ink's bounding box in the picture: `(x, y, width, height)`.
    pub ink_box: (usize, usize, usize, usize),
    /// The digit's size after scaling (the longer side is [`BOX`]).
    pub scaled: (usize, usize),
}

impl GreyImage<'_> {
    fn checked(&self) -> Result<(), Error> {
        let need = self
            .height
            .checked_sub(1)
            .and_then(|h| h.checked_mul(self.stride))
            .and_then(|n| n.checked_add(self.width));
        if self.width == 0
            || self.height == 0
            || self.width > MAX_SIDE
            || self.height > MAX_SIDE
            || self.stride < self.width
            || self.stride > 16 * MAX_SIDE
        {
            return Err(Error::BadPicture);
        }
        match need {
            Some(n) if n <= self.pixels.len() => Ok(()),
            Some(n) => Err(Error::WrongInputLength {
                expected: n,
                got: self.pixels.len(),
            }),
            None => Err(Error::BadPicture),
        }
    }

    /// Pixel `(x, y)`, inverted when `invert` (0 outside).
    #[allow(clippy::arithmetic_side_effects)] // 255 - v cannot underflow
    fn at(&self, x: usize, y: usize, invert: bool) -> u8 {
        let v = y
            .checked_mul(self.stride)
            .and_then(|r| r.checked_add(x))
            .and_then(|i| self.pixels.get(i))
            .copied()
            .unwrap_or(0);
        if invert { 255 - v } else { v }
    }
}

/// Writes the MNIST-style 28×28 version of `picture` into `out` (784 bytes, row-major).
///
/// Fails with [`Error::BadPicture`] for an empty picture, one wider or taller than
/// [`MAX_SIDE`], or a stride shorter than a row (or over 16 · `MAX_SIDE`),
/// [`Error::WrongInputLength`] when `pixels` is shorter than the shape says or `out` is not
/// 784 bytes, and [`Error::NoInk`] when no pixel reaches [`INK`].
#[allow(clippy::arithmetic_side_effects)] // bounded by MAX_SIDE: see its docs
pub fn mnist_like(picture: GreyImage<'_>, out: &mut [u8]) -> Result<Preprocessed, Error> {
    picture.checked()?;
    if out.len() != SIDE * SIDE {
        return Err(Error::WrongInputLength {
            expected: SIDE * SIDE,
            got: out.len(),
        });
    }
    let (w, h) = (picture.width, picture.height);
    // 1. Polarity, from the border's mean.
    let (mut sum, mut count) = (0u64, 0u64);
    for y in 0..h {
        for x in 0..w {
            if y == 0 || x == 0 || y + 1 == h || x + 1 == w {
                sum += u64::from(picture.at(x, y, false));
                count += 1;
            }
        }
    }
    let invert = sum >= 128 * count.max(1);
    // 2. The ink's bounding box.
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0usize, 0usize);
    for y in 0..h {
        for x in 0..w {
            if picture.at(x, y, invert) >= INK {
                x0 = x0.min(x);
                y0 = y0.min(y);
                x1 = x1.max(x + 1);
                y1 = y1.max(y + 1);
            }
        }
    }
    if x0 == usize::MAX {
        return Err(Error::NoInk);
    }
    let (bw, bh) = (x1 - x0, y1 - y0);
    // 3. Scale the longer side to BOX (rounded, at least 1 on the shorter side).
    let long = bw.max(bh);
    let sw = ((bw * BOX + long / 2) / long).clamp(1, BOX);
    let sh = ((bh * BOX + long / 2) / long).clamp(1, BOX);
    let mut digit = [0u8; BOX * BOX];
    for oy in 0..sh {
        // Source rows whose centres fall in this output row: [ya, yb), at least one.
        let ya = y0 + oy * bh / sh;
        let yb = (y0 + (oy + 1) * bh / sh).max(ya + 1).min(y1);
        for ox in 0..sw {
            let xa = x0 + ox * bw / sw;
            let xb = (x0 + (ox + 1) * bw / sw).max(xa + 1).min(x1);
            let (mut s, mut n) = (0u32, 0u32);
            for y in ya..yb {
                for x in xa..xb {
                    s += u32::from(picture.at(x, y, invert));
                    n += 1;
                }
            }
            if let Some(d) = digit.get_mut(oy * BOX + ox) {
                *d = ((s + n / 2) / n.max(1)) as u8;
            }
        }
    }
    // 4. Centre of mass to (14, 14), within the frame: with pixel centres at x + 0.5 and the
    // mass centre m = Σ v·x / Σ v, the offset 13.5 − m rounded is floor(14 − m).
    let (mut mass, mut mx, mut my) = (0u64, 0u64, 0u64);
    for y in 0..sh {
        for x in 0..sw {
            let v = u64::from(digit.get(y * BOX + x).copied().unwrap_or(0));
            mass += v;
            mx += v * x as u64;
            my += v * y as u64;
        }
    }
    let mass = mass.max(1);
    let place = |m_num: u64, size: usize| -> usize {
        let off = (14 * mass as i64 - m_num as i64).div_euclid(mass as i64);
        off.clamp(0, (SIDE - size) as i64) as usize
    };
    let (ox, oy) = (place(mx, sw), place(my, sh));
    out.fill(0);
    for y in 0..sh {
        for x in 0..sw {
            if let (Some(o), Some(&v)) = (
                out.get_mut((oy + y) * SIDE + ox + x),
                digit.get(y * BOX + x),
            ) {
                *o = v;
            }
        }
    }
    Ok(Preprocessed {
        inverted: invert,
        ink_box: (x0, y0, bw, bh),
        scaled: (sw, sh),
    })
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// A `w × h` picture with background `bg` and a filled rectangle of `ink`.
    fn picture(w: usize, h: usize, bg: u8, ink: u8, rect: (usize, usize, usize, usize)) -> Vec<u8> {
        let (rx, ry, rw, rh) = rect;
        (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                if (rx..rx + rw).contains(&x) && (ry..ry + rh).contains(&y) {
                    ink
                } else {
                    bg
                }
            })
            .collect()
    }

    fn run(p: &[u8], w: usize, h: usize) -> (Preprocessed, Vec<u8>) {
        let mut out = std::vec![0u8; 784];
        let info = mnist_like(
            GreyImage {
                pixels: p,
                width: w,
                height: h,
                stride: w,
            },
            &mut out,
        )
        .unwrap();
        (info, out)
    }

    #[test]
    fn a_bar_becomes_a_centred_20_pixel_bar_in_either_polarity() {
        // A tall bar, 10 × 60, in a 100 × 80 picture: scaled to 3 × 20 (rounded), centred.
        let light = picture(100, 80, 0, 255, (30, 10, 10, 60));
        let dark = picture(100, 80, 240, 10, (30, 10, 10, 60));
        let (a, img_a) = run(&light, 100, 80);
        let (b, img_b) = run(&dark, 100, 80);
        assert!(!a.inverted && b.inverted);
        assert_eq!(a.ink_box, (30, 10, 10, 60));
        assert_eq!(a.scaled, (3, 20));
        assert_eq!(img_a.iter().filter(|&&v| v > 200).count(), 60);
        // Rows 4..24 and columns 13..16 hold the ink: mass centre (14.0, 14.0).
        for y in 0..28 {
            for x in 0..28 {
                let inside = (4..24).contains(&y) && (13..16).contains(&x);
                assert_eq!(img_a[y * 28 + x] > 200, inside, "({x}, {y})");
            }
        }
        // The dark-on-light picture gives the inverted values (255 - 10 = 245).
        assert!(img_b.iter().all(|&v| v == 0 || v == 245), "{img_b:?}");
        assert_eq!(img_b.iter().filter(|&&v| v == 245).count(), 60);
    }

    #[test]
    fn bad_pictures_are_refused() {
        let mut out = [0u8; 784];
        let p = [0u8; 16];
        let g = |w, h, stride| GreyImage {
            pixels: &p,
            width: w,
            height: h,
            stride,
        };
        assert_eq!(mnist_like(g(4, 4, 4), &mut out), Err(Error::NoInk));
        assert_eq!(mnist_like(g(0, 4, 4), &mut out), Err(Error::BadPicture));
        assert_eq!(mnist_like(g(4, 4, 3), &mut out), Err(Error::BadPicture));
        assert_eq!(
            mnist_like(g(4, 5, 4), &mut out),
            Err(Error::WrongInputLength {
                expected: 20,
                got: 16
            })
        );
        assert_eq!(
            mnist_like(g(4, 4, 4), &mut [0u8; 10]),
            Err(Error::WrongInputLength {
                expected: 784,
                got: 10
            })
        );
        assert_eq!(
            mnist_like(g(MAX_SIDE + 1, 1, MAX_SIDE + 1), &mut out),
            Err(Error::BadPicture)
        );
    }
}
