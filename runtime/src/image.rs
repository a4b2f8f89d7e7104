//! The images every operation reads: `f32` pixels or bytes, row-major.

/// An image: `f32` pixels in `[0, 1]`, or bytes, converted as `byte as f32 / 255.0`.
/// Row-major, `width * height` values, like the IDX files.
#[derive(Clone, Copy, Debug)]
pub enum Image<'x> {
    /// Pixels in `[0, 1]`.
    F32(&'x [f32]),
    /// Pixel bytes `0..=255`.
    U8(&'x [u8]),
}

impl<'x> From<&'x [f32]> for Image<'x> {
    fn from(x: &'x [f32]) -> Self {
        Image::F32(x)
    }
}

impl<'x> From<&'x [u8]> for Image<'x> {
    fn from(x: &'x [u8]) -> Self {
        Image::U8(x)
    }
}

impl<'x, const N: usize> From<&'x [f32; N]> for Image<'x> {
    fn from(x: &'x [f32; N]) -> Self {
        Image::F32(x)
    }
}

impl<'x, const N: usize> From<&'x [u8; N]> for Image<'x> {
    fn from(x: &'x [u8; N]) -> Self {
        Image::U8(x)
    }
}

impl Image<'_> {
    /// Number of pixels.
    pub const fn len(&self) -> usize {
        match self {
            Image::F32(x) => x.len(),
            Image::U8(x) => x.len(),
        }
    }

    /// Whether there are no pixels.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
