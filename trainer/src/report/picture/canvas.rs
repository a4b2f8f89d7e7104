//! [`Canvas`]: an RGB8 raster with clipped drawing primitives and atomic PNG output.

use super::font::glyph;
use super::*;

/// An RGB8 raster image, rows top to bottom, three bytes per pixel.
///
/// Coordinates are pixels with the origin at the top-left corner; pixel
/// `(x, y)` covers the square `[x, x + 1) x [y, y + 1)`. Every drawing method
/// clips to the canvas, so any coordinates are accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Canvas {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Pixel data, `width * height * 3` bytes, row-major RGB.
    pub rgb: Vec<u8>,
}

impl Canvas {
    /// A `width` x `height` canvas filled with `background`.
    ///
    /// Each side is clamped to `1..=MAX_SIDE` so the canvas is never empty
    /// and its size stays reasonable.
    pub fn new(width: u32, height: u32, background: Rgb) -> Self {
        let width = width.clamp(1, MAX_SIDE);
        let height = height.clamp(1, MAX_SIDE);
        let pixels = width as usize * height as usize;
        let mut rgb = Vec::with_capacity(pixels * 3);
        for _ in 0..pixels {
            rgb.extend_from_slice(&background);
        }
        Self { width, height, rgb }
    }

    /// Byte offset of pixel `(x, y)`, or `None` outside the canvas.
    fn offset(&self, x: i64, y: i64) -> Option<usize> {
        if x < 0 || y < 0 || x >= i64::from(self.width) || y >= i64::from(self.height) {
            return None;
        }
        Some((y as usize * self.width as usize + x as usize) * 3)
    }

    /// The colour of pixel `(x, y)`, or `None` outside the canvas.
    pub fn get(&self, x: i32, y: i32) -> Option<Rgb> {
        let i = self.offset(i64::from(x), i64::from(y))?;
        let p = self.rgb.get(i..i + 3)?;
        Some([p[0], p[1], p[2]])
    }

    /// Sets pixel `(x, y)` to `color`; coordinates outside the canvas are
    /// ignored.
    pub fn set(&mut self, x: i32, y: i32, color: Rgb) {
        self.set_i64(i64::from(x), i64::from(y), color);
    }

    fn set_i64(&mut self, x: i64, y: i64, color: Rgb) {
        if let Some(i) = self.offset(x, y)
            && let Some(p) = self.rgb.get_mut(i..i + 3)
        {
            p.copy_from_slice(&color);
        }
    }

    /// Mixes `color` into pixel `(x, y)` with opacity `alpha` (clamped to
    /// `[0, 1]`; NaN draws nothing). Coordinates outside the canvas are
    /// ignored.
    pub fn blend(&mut self, x: i32, y: i32, color: Rgb, alpha: f32) {
        self.blend_i64(i64::from(x), i64::from(y), color, alpha);
    }

    fn blend_i64(&mut self, x: i64, y: i64, color: Rgb, alpha: f32) {
        if alpha.is_nan() || alpha <= 0.0 {
            return;
        }
        let a = alpha.min(1.0);
        if let Some(i) = self.offset(x, y)
            && let Some(p) = self.rgb.get_mut(i..i + 3)
        {
            for (dst, &src) in p.iter_mut().zip(color.iter()) {
                let d = f32::from(*dst);
                *dst = (d + (f32::from(src) - d) * a).round().clamp(0.0, 255.0) as u8;
            }
        }
    }

    /// Fills the `w` x `h` rectangle whose top-left pixel is `(x, y)`.
    pub fn fill_rect(&mut self, x: i32, y: i32, w: u32, h: u32, color: Rgb) {
        self.fill_rect_i64(
            i64::from(x),
            i64::from(y),
            i64::from(w),
            i64::from(h),
            color,
        );
    }

    pub(super) fn fill_rect_i64(&mut self, x: i64, y: i64, w: i64, h: i64, color: Rgb) {
        let x0 = x.max(0);
        let y0 = y.max(0);
        let x1 = x.saturating_add(w).min(i64::from(self.width));
        let y1 = y.saturating_add(h).min(i64::from(self.height));
        if x0 >= x1 || y0 >= y1 {
            return;
        }
        let stride = self.width as usize * 3;
        for row in y0..y1 {
            let start = row as usize * stride + x0 as usize * 3;
            let end = row as usize * stride + x1 as usize * 3;
            if let Some(span) = self.rgb.get_mut(start..end) {
                for px in span.chunks_exact_mut(3) {
                    px.copy_from_slice(&color);
                }
            }
        }
    }

    /// Draws the one-pixel outline of the `w` x `h` rectangle whose top-left
    /// pixel is `(x, y)`.
    pub fn stroke_rect(&mut self, x: i32, y: i32, w: u32, h: u32, color: Rgb) {
        if w == 0 || h == 0 {
            return;
        }
        let (x, y, w, h) = (i64::from(x), i64::from(y), i64::from(w), i64::from(h));
        self.fill_rect_i64(x, y, w, 1, color);
        self.fill_rect_i64(x, y + h - 1, w, 1, color);
        self.fill_rect_i64(x, y, 1, h, color);
        self.fill_rect_i64(x + w - 1, y, 1, h, color);
    }

    /// Draws a filled, anti-aliased disc of radius `r` centred on `(cx, cy)`
    /// (continuous coordinates: the centre of pixel `(0, 0)` is `(0.5, 0.5)`),
    /// blended with opacity `alpha`. Non-finite arguments draw nothing.
    pub fn draw_disc(&mut self, cx: f32, cy: f32, r: f32, color: Rgb, alpha: f32) {
        let all = (0, 0, i64::from(self.width), i64::from(self.height));
        self.draw_disc_clipped(cx, cy, r, color, alpha, all);
    }

    /// [`Canvas::draw_disc`] restricted to the pixels in
    /// `[clip.0, clip.2) x [clip.1, clip.3)`.
    pub(super) fn draw_disc_clipped(
        &mut self,
        cx: f32,
        cy: f32,
        r: f32,
        color: Rgb,
        alpha: f32,
        clip: (i64, i64, i64, i64),
    ) {
        if !(cx.is_finite() && cy.is_finite() && r.is_finite() && r > 0.0) {
            return;
        }
        let x0 = ((cx - r - 1.0).floor() as i64).max(clip.0).max(0);
        let y0 = ((cy - r - 1.0).floor() as i64).max(clip.1).max(0);
        let x1 = ((cx + r + 1.0).ceil() as i64)
            .min(clip.2)
            .min(i64::from(self.width));
        let y1 = ((cy + r + 1.0).ceil() as i64)
            .min(clip.3)
            .min(i64::from(self.height));
        for y in y0..y1 {
            for x in x0..x1 {
                let dx = x as f32 + 0.5 - cx;
                let dy = y as f32 + 0.5 - cy;
                let d = (dx * dx + dy * dy).sqrt();
                // Approximate pixel coverage of the disc edge.
                let coverage = (r + 0.5 - d).clamp(0.0, 1.0);
                if coverage > 0.0 {
                    self.blend_i64(x, y, color, alpha * coverage);
                }
            }
        }
    }

    /// Draws a one-pixel line from `(x0, y0)` to `(x1, y1)`, both ends
    /// included (Bresenham).
    pub fn draw_line(&mut self, x0: i32, y0: i32, x1: i32, y1: i32, color: Rgb) {
        let (mut x0, mut y0, mut x1, mut y1) =
            (i64::from(x0), i64::from(y0), i64::from(x1), i64::from(y1));
        let (w, h) = (i64::from(self.width), i64::from(self.height));
        let inside = |x: i64, y: i64| (0..w).contains(&x) && (0..h).contains(&y);
        if !(inside(x0, y0) && inside(x1, y1)) {
            // Clip far-away ends so the loop below stays short.
            match clip_segment(
                (x0 as f64, y0 as f64),
                (x1 as f64, y1 as f64),
                (w - 1) as f64,
                (h - 1) as f64,
            ) {
                Some(((a, b), (c, d))) => {
                    (x0, y0, x1, y1) = (
                        a.round() as i64,
                        b.round() as i64,
                        c.round() as i64,
                        d.round() as i64,
                    );
                }
                None => return,
            }
        }
        let dx = (x1 - x0).abs();
        let dy = -(y1 - y0).abs();
        let sx = if x0 < x1 { 1 } else { -1 };
        let sy = if y0 < y1 { 1 } else { -1 };
        let mut err = dx + dy;
        let (mut x, mut y) = (x0, y0);
        loop {
            self.set_i64(x, y, color);
            if x == x1 && y == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }

    /// Draws `text` with the built-in 5x7 font, its top-left corner at
    /// `(x, y)`, every font pixel drawn as a `scale` x `scale` square
    /// (`scale` 0 counts as 1, and at most 64 is used).
    ///
    /// A glyph cell is [`GLYPH_W`] x [`GLYPH_H`] font pixels (cap height 7,
    /// plus 2 rows for descenders); glyphs advance by [`GLYPH_ADVANCE`] and
    /// `'\n'` starts a new line [`LINE_HEIGHT`] font pixels lower.
    /// Characters outside printable ASCII are drawn as `?`.
    pub fn draw_text(&mut self, x: i32, y: i32, text: &str, color: Rgb, scale: u32) {
        let s = i64::from(scale.clamp(1, 64));
        let (mut cx, mut cy) = (i64::from(x), i64::from(y));
        for ch in text.chars() {
            if ch == '\n' {
                cx = i64::from(x);
                cy += i64::from(LINE_HEIGHT) * s;
                continue;
            }
            for (row, bits) in glyph(ch).iter().enumerate() {
                for col in 0..GLYPH_W {
                    if bits & (0x10 >> col) != 0 {
                        let px = cx + i64::from(col) * s;
                        let py = cy + row as i64 * s;
                        self.fill_rect_i64(px, py, s, s, color);
                    }
                }
            }
            cx += i64::from(GLYPH_ADVANCE) * s;
        }
    }

    /// Width in pixels of `text` drawn by [`Canvas::draw_text`] at `scale`:
    /// the widest line, from the first glyph's left edge to the last glyph's
    /// right edge (no trailing spacing). Empty text is 0 wide.
    pub fn text_width(text: &str, scale: u32) -> u32 {
        let s = scale.clamp(1, 64);
        text.split('\n')
            .map(|line| {
                let n = u32::try_from(line.chars().count()).unwrap_or(u32::MAX);
                if n == 0 {
                    0
                } else {
                    n.saturating_mul(GLYPH_ADVANCE)
                        .saturating_sub(GLYPH_ADVANCE - GLYPH_W)
                        .saturating_mul(s)
                }
            })
            .max()
            .unwrap_or(0)
    }

    /// Height in pixels of `text` drawn by [`Canvas::draw_text`] at `scale`,
    /// descenders included: one glyph cell for the last line plus
    /// [`LINE_HEIGHT`] for every line before it.
    pub fn text_height(text: &str, scale: u32) -> u32 {
        let s = scale.clamp(1, 64);
        let lines = u32::try_from(text.split('\n').count()).unwrap_or(u32::MAX);
        lines
            .saturating_sub(1)
            .saturating_mul(LINE_HEIGHT)
            .saturating_add(GLYPH_H)
            .saturating_mul(s)
    }

    /// Draws a `w` x `h` grayscale image (row-major, values in `[0, 1]`,
    /// 0 = black, 1 = white, MNIST style; values are clamped and NaN counts
    /// as 0) with its top-left corner at `(x, y)`, each image pixel drawn as
    /// a `scale` x `scale` square (`scale` 0 counts as 1).
    ///
    /// Fails if `pixels.len() != w * h`.
    pub fn blit_gray(
        &mut self,
        x: i32,
        y: i32,
        pixels: &[f32],
        w: usize,
        h: usize,
        scale: u32,
    ) -> Result<(), PictureError> {
        let expected = w.saturating_mul(h);
        if pixels.len() != expected {
            return Err(PictureError::LengthMismatch {
                what: "grayscale image pixels (width * height)",
                expected,
                found: pixels.len(),
            });
        }
        if w == 0 {
            return Ok(());
        }
        let s = i64::from(scale.max(1));
        for (row, line) in pixels.chunks_exact(w).enumerate() {
            let py = i64::from(y) + row as i64 * s;
            for (col, &v) in line.iter().enumerate() {
                let g = gray_byte(v);
                let px = i64::from(x) + col as i64 * s;
                self.fill_rect_i64(px, py, s, s, [g, g, g]);
            }
        }
        Ok(())
    }

    /// Encodes the canvas as an 8-bit RGB PNG in memory.
    fn encode_png(&self, path: &Path) -> Result<Vec<u8>, PictureError> {
        let expected = self.width as usize * self.height as usize * 3;
        if self.rgb.len() != expected {
            return Err(PictureError::LengthMismatch {
                what: "canvas pixel buffer bytes (width * height * 3)",
                expected,
                found: self.rgb.len(),
            });
        }
        let encode_err = |e: png::EncodingError| PictureError::Encode {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let mut bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut bytes, self.width, self.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(encode_err)?;
        writer.write_image_data(&self.rgb).map_err(encode_err)?;
        writer.finish().map_err(encode_err)?;
        Ok(bytes)
    }

    /// Writes the canvas to `path` as an 8-bit RGB PNG.
    ///
    /// The file is replaced atomically: the PNG is written to a temporary
    /// file in the same directory, synced, then renamed over `path`, so a
    /// reader never sees a half-written picture. The directory must already
    /// exist ([`PictureError::MissingDir`] otherwise).
    pub fn write_png(&self, path: &Path) -> Result<(), PictureError> {
        if path.file_name().is_none() {
            return Err(PictureError::InvalidPath {
                path: path.to_path_buf(),
            });
        }
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if !dir.is_dir() {
            return Err(PictureError::MissingDir {
                path: path.to_path_buf(),
            });
        }
        let bytes = self.encode_png(path)?;
        crate::atomic::write_atomic(path, &bytes).map_err(|source| PictureError::Io {
            path: path.to_path_buf(),
            action: "writing",
            source,
        })
    }
}

/// A `[0, 1]` intensity as a byte (clamped; NaN is 0).
fn gray_byte(v: f32) -> u8 {
    if v.is_nan() {
        0
    } else {
        (v.clamp(0.0, 1.0) * 255.0).round() as u8
    }
}

/// A point in continuous canvas coordinates.
type Point = (f64, f64);

/// Clips the segment `a`-`b` to `[0, max_x] x [0, max_y]` (Liang-Barsky).
fn clip_segment(a: Point, b: Point, max_x: f64, max_y: f64) -> Option<(Point, Point)> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let mut t0 = 0.0f64;
    let mut t1 = 1.0f64;
    for (p, q) in [(-dx, a.0), (dx, max_x - a.0), (-dy, a.1), (dy, max_y - a.1)] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    if t0 > t1 {
        return None;
    }
    Some((
        (a.0 + t0 * dx, a.1 + t0 * dy),
        (a.0 + t1 * dx, a.1 + t1 * dy),
    ))
}
