//! Dependency-light raster pictures for the trainer's reports.
//!
//! This module draws the figures of the paper without any plotting or font
//! library: an RGB8 [`Canvas`] with a handful of primitives (rectangles,
//! anti-aliased discs, lines, grayscale image blits and text rendered with a
//! built-in 5x7 bitmap font covering printable ASCII), plus three ready-made
//! figures:
//!
//! * [`image_grid`]: rows of labelled grayscale images (sample grids,
//!   interpolation strips);
//! * [`scatter`]: a 2-D latent scatter coloured by class, with axes, ticks, a
//!   title and a legend;
//! * [`read_gray_png`]: loads a user PNG as `[0, 1]` grayscale floats.
//!
//! Pictures are written with [`Canvas::write_png`], which replaces the target
//! file atomically. No function here panics on bad input: problems are
//! reported as [`PictureError`].

use std::fmt;
use std::fs::File;
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};

/// Largest accepted canvas side in pixels; larger requests are clamped.
pub const MAX_SIDE: u32 = 16_384;

/// Width of a glyph of the built-in font, in font pixels (before scaling).
pub const GLYPH_W: u32 = 5;
/// Height of a glyph cell (7 rows above the baseline, 2 for descenders).
pub const GLYPH_H: u32 = 9;
/// Horizontal distance between consecutive glyph origins, in font pixels.
pub const GLYPH_ADVANCE: u32 = 6;
/// Vertical distance between consecutive text lines, in font pixels.
pub const LINE_HEIGHT: u32 = 11;

/// An RGB colour, one byte per channel.
pub type Rgb = [u8; 3];

/// Errors reported by this module.
#[derive(Debug)]
pub enum PictureError {
    /// Reading or writing `path` failed at the operating-system level.
    Io {
        /// The file involved.
        path: PathBuf,
        /// What was being done (for example `"creating"`).
        action: &'static str,
        /// The underlying error.
        source: io::Error,
    },
    /// The directory that should contain `path` does not exist.
    MissingDir {
        /// The file that was to be written.
        path: PathBuf,
    },
    /// `path` names no file (for example it ends in `..`).
    InvalidPath {
        /// The offending path.
        path: PathBuf,
    },
    /// `path` is not a PNG file, or it is corrupt or unsupported.
    Decode {
        /// The file that was read.
        path: PathBuf,
        /// The decoder's explanation.
        message: String,
    },
    /// Encoding the PNG for `path` failed.
    Encode {
        /// The file that was being written.
        path: PathBuf,
        /// The encoder's explanation.
        message: String,
    },
    /// A PNG has other dimensions than the caller expects.
    WrongSize {
        /// The file that was read.
        path: PathBuf,
        /// Expected `(width, height)`.
        expected: (u32, u32),
        /// Actual `(width, height)` of the file.
        found: (u32, u32),
    },
    /// Two inputs that must have matching lengths do not.
    LengthMismatch {
        /// What was being compared, for the message.
        what: &'static str,
        /// The required length.
        expected: usize,
        /// The length given.
        found: usize,
    },
    /// A point's class index has no entry in the class-name list.
    UnknownClass {
        /// Index of the first offending point.
        point: usize,
        /// Its class index.
        class: u16,
        /// How many class names were given.
        names: usize,
    },
}

impl fmt::Display for PictureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io {
                path,
                action,
                source,
            } => write!(f, "error {action} {}: {source}", path.display()),
            Self::MissingDir { path } => write!(
                f,
                "cannot write {}: its directory does not exist",
                path.display()
            ),
            Self::InvalidPath { path } => {
                write!(f, "{} does not name a file", path.display())
            }
            Self::Decode { path, message } => {
                write!(
                    f,
                    "{} is not a readable PNG file: {message}",
                    path.display()
                )
            }
            Self::Encode { path, message } => {
                write!(f, "cannot encode PNG for {}: {message}", path.display())
            }
            Self::WrongSize {
                path,
                expected,
                found,
            } => write!(
                f,
                "{} is {}x{} pixels, expected {}x{}",
                path.display(),
                found.0,
                found.1,
                expected.0,
                expected.1
            ),
            Self::LengthMismatch {
                what,
                expected,
                found,
            } => write!(f, "{what}: expected {expected}, got {found}"),
            Self::UnknownClass {
                point,
                class,
                names,
            } => write!(
                f,
                "point {point} has class index {class}, but only {names} class name(s) were given"
            ),
        }
    }
}

impl std::error::Error for PictureError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------
// Built-in bitmap font
// ---------------------------------------------------------------------------

/// The font as ASCII art: 12 bands of 8 glyphs (the last band has 7), each
/// band 9 rows tall, glyphs 5 columns wide separated by one space. `#` is ink.
/// Rows 0..=6 are the cap height, rows 7 and 8 hold descenders. The art is
/// turned into bitmaps at compile time by [`parse_font_sheet`].
#[rustfmt::skip]
const FONT_SHEET: [&str; 108] = [
    // 0x20..:   ! " # $ % & '
    "..... ..#.. .#.#. .#.#. ..#.. ##... .##.. ..#..",
    "..... ..#.. .#.#. .#.#. .#### ##..# #..#. ..#..",
    "..... ..#.. .#.#. ##### #.#.. ...#. #.#.. ..#..",
    "..... ..#.. ..... .#.#. .###. ..#.. .#... .....",
    "..... ..#.. ..... ##### ..#.# .#... #.#.# .....",
    "..... ..... ..... .#.#. ####. #..## #..#. .....",
    "..... ..#.. ..... .#.#. ..#.. ...## .##.# .....",
    "..... ..... ..... ..... ..... ..... ..... .....",
    "..... ..... ..... ..... ..... ..... ..... .....",
    // 0x28..: ( ) * + , - . /
    "...#. .#... ..... ..... ..... ..... ..... .....",
    "..#.. ..#.. ..#.. ..#.. ..... ..... ..... ....#",
    ".#... ...#. #.#.# ..#.. ..... ..... ..... ...#.",
    ".#... ...#. .###. ##### ..... ##### ..... ..#..",
    ".#... ...#. #.#.# ..#.. ..... ..... ..... .#...",
    "..#.. ..#.. ..#.. ..#.. .##.. ..... .##.. #....",
    "...#. .#... ..... ..... ..#.. ..... .##.. .....",
    "..... ..... ..... ..... .#... ..... ..... .....",
    "..... ..... ..... ..... ..... ..... ..... .....",
    // 0x30..: 0 1 2 3 4 5 6 7
    ".###. ..#.. .###. ##### ...#. ##### ..##. #####",
    "#...# .##.. #...# ...#. ..##. #.... .#... ....#",
    "#..## ..#.. ....# ..#.. .#.#. ####. #.... ...#.",
    "#.#.# ..#.. ...#. ...#. #..#. ....# ####. ..#..",
    "##..# ..#.. ..#.. ....# ##### ....# #...# .#...",
    "#...# ..#.. .#... #...# ...#. #...# #...# .#...",
    ".###. .###. ##### .###. ...#. .###. .###. .#...",
    "..... ..... ..... ..... ..... ..... ..... .....",
    "..... ..... ..... ..... ..... ..... ..... .....",
    // 0x38..: 8 9 : ; < = > ?
    ".###. .###. ..... ..... ....# ..... #.... .###.",
    "#...# #...# .##.. .##.. ...#. ..... .#... #...#",
    "#...# #...# .##.. .##.. ..#.. ##### ..#.. ....#",
    ".###. .#### ..... ..... .#... ..... ...#. ...#.",
    "#...# ....# .##.. .##.. ..#.. ##### ..#.. ..#..",
    "#...# ...#. .##.. ..#.. ...#. ..... .#... .....",
    ".###. .##.. ..... .#... ....# ..... #.... ..#..",
    "..... ..... ..... ..... ..... ..... ..... .....",
    "..... ..... ..... ..... ..... ..... ..... .....",
    // 0x40..: @ A B C D E F G
    ".###. .###. ####. .###. ####. ##### ##### .###.",
    "#...# #...# #...# #...# #...# #.... #.... #...#",
    "#.### #...# #...# #.... #...# #.... #.... #....",
    "#.#.# ##### ####. #.... #...# ####. ####. #.###",
    "#.### #...# #...# #.... #...# #.... #.... #...#",
    "#.... #...# #...# #...# #...# #.... #.... #...#",
    ".###. #...# ####. .###. ####. ##### #.... .####",
    "..... ..... ..... ..... ..... ..... ..... .....",
    "..... ..... ..... ..... ..... ..... ..... .....",
    // 0x48..: H I J K L M N O
    "#...# .###. ..### #...# #.... #...# #...# .###.",
    "#...# ..#.. ...#. #..#. #.... ##.## #...# #...#",
    "#...# ..#.. ...#. #.#.. #.... #.#.# ##..# #...#",
    "##### ..#.. ...#. ##... #.... #.#.# #.#.# #...#",
    "#...# ..#.. ...#. #.#.. #.... #...# #..## #...#",
    "#...# ..#.. #..#. #..#. #.... #...# #...# #...#",
    "#...# .###. .##.. #...# ##### #...# #...# .###.",
    "..... ..... ..... ..... ..... ..... ..... .....",
    "..... ..... ..... ..... ..... ..... ..... .....",
    // 0x50..: P Q R S T U V W
    "####. .###. ####. .#### ##### #...# #...# #...#",
    "#...# #...# #...# #.... ..#.. #...# #...# #...#",
    "#...# #...# #...# #.... ..#.. #...# #...# #...#",
    "####. #...# ####. .###. ..#.. #...# #...# #.#.#",
    "#.... #.#.# #.#.. ....# ..#.. #...# #...# #.#.#",
    "#.... #..#. #..#. ....# ..#.. #...# .#.#. #.#.#",
    "#.... .##.# #...# ####. ..#.. .###. ..#.. .#.#.",
    "..... ..... ..... ..... ..... ..... ..... .....",
    "..... ..... ..... ..... ..... ..... ..... .....",
    // 0x58..: X Y Z [ \ ] ^ _
    "#...# #...# ##### .###. ..... .###. ..#.. .....",
    "#...# #...# ....# .#... #.... ...#. .#.#. .....",
    ".#.#. .#.#. ...#. .#... .#... ...#. #...# .....",
    "..#.. ..#.. ..#.. .#... ..#.. ...#. ..... .....",
    ".#.#. ..#.. .#... .#... ...#. ...#. ..... .....",
    "#...# ..#.. #.... .#... ....# ...#. ..... .....",
    "#...# ..#.. ##### .###. ..... .###. ..... .....",
    "..... ..... ..... ..... ..... ..... ..... #####",
    "..... ..... ..... ..... ..... ..... ..... .....",
    // 0x60..: ` a b c d e f g
    ".#... ..... #.... ..... ....# ..... ..##. .....",
    "..#.. ..... #.... ..... ....# ..... .#..# .....",
    "...#. .###. #.##. .###. .##.# .###. .#... .####",
    "..... ....# ##..# #.... #..## #...# ###.. #...#",
    "..... .#### #...# #.... #...# ##### .#... #...#",
    "..... #...# #...# #...# #...# #.... .#... .####",
    "..... .#### ####. .###. .#### .###. .#... ....#",
    "..... ..... ..... ..... ..... ..... ..... #...#",
    "..... ..... ..... ..... ..... ..... ..... .###.",
    // 0x68..: h i j k l m n o
    "#.... ..#.. ...#. #.... .##.. ..... ..... .....",
    "#.... ..... ..... #.... ..#.. ..... ..... .....",
    "#.##. .##.. ..##. #..#. ..#.. ##.#. #.##. .###.",
    "##..# ..#.. ...#. #.#.. ..#.. #.#.# ##..# #...#",
    "#...# ..#.. ...#. ##... ..#.. #.#.# #...# #...#",
    "#...# ..#.. ...#. #.#.. ..#.. #.#.# #...# #...#",
    "#...# .###. ...#. #..#. .###. #.#.# #...# .###.",
    "..... ..... #..#. ..... ..... ..... ..... .....",
    "..... ..... .##.. ..... ..... ..... ..... .....",
    // 0x70..: p q r s t u v w
    "..... ..... ..... ..... .#... ..... ..... .....",
    "..... ..... ..... ..... .#... ..... ..... .....",
    "####. .#### #.##. .#### ###.. #...# #...# #...#",
    "#...# #...# ##..# #.... .#... #...# #...# #...#",
    "#...# #...# #.... .###. .#... #...# #...# #.#.#",
    "#...# #...# #.... ....# .#..# #..## .#.#. #.#.#",
    "####. .#### #.... ####. ..##. .##.# ..#.. .#.#.",
    "#.... ....# ..... ..... ..... ..... ..... .....",
    "#.... ....# ..... ..... ..... ..... ..... .....",
    // 0x78..: x y z { | } ~
    "..... ..... ..... ..##. ..#.. .##.. .....",
    "..... ..... ..... .#... ..#.. ...#. .....",
    "#...# #...# ##### .#... ..#.. ...#. .#...",
    ".#.#. #...# ...#. #.... ..#.. ....# #.#.#",
    "..#.. #...# ..#.. .#... ..#.. ...#. ...#.",
    ".#.#. #...# .#... .#... ..#.. ...#. .....",
    "#...# .#### ##### ..##. ..#.. .##.. .....",
    "..... ....# ..... ..... ..... ..... .....",
    "..... .###. ..... ..... ..... ..... .....",
];

/// Number of glyphs in the font (printable ASCII, `0x20..=0x7E`).
const GLYPH_COUNT: usize = 95;

/// Glyph bitmaps for `0x20..=0x7E`: one byte per row, bit 4 is the leftmost
/// column.
const FONT: [[u8; GLYPH_H as usize]; GLYPH_COUNT] = parse_font_sheet(&FONT_SHEET);

/// Turns [`FONT_SHEET`] into bitmaps. Runs at compile time, so a malformed
/// sheet is a build error rather than a run-time failure.
const fn parse_font_sheet(sheet: &[&str; 108]) -> [[u8; GLYPH_H as usize]; GLYPH_COUNT] {
    let mut font = [[0u8; GLYPH_H as usize]; GLYPH_COUNT];
    let mut glyph = 0;
    while glyph < GLYPH_COUNT {
        let band = glyph / 8;
        let col = glyph % 8;
        let mut row = 0;
        while row < GLYPH_H as usize {
            let line = sheet[band * GLYPH_H as usize + row].as_bytes();
            let mut bits = 0u8;
            let mut x = 0;
            while x < GLYPH_W as usize {
                let c = line[col * 6 + x];
                if c == b'#' {
                    bits |= 1 << (4 - x);
                } else if c != b'.' {
                    panic!("font sheet: unexpected character");
                }
                x += 1;
            }
            font[glyph][row] = bits;
            row += 1;
        }
        glyph += 1;
    }
    font
}

/// The bitmap for `ch`; characters outside printable ASCII render as `?`.
fn glyph(ch: char) -> &'static [u8; GLYPH_H as usize] {
    let code = ch as u32;
    let index = if (0x20..=0x7E).contains(&code) {
        (code - 0x20) as usize
    } else {
        ('?' as u32 - 0x20) as usize
    };
    // `index` is always < GLYPH_COUNT; fall back to the blank glyph anyway.
    FONT.get(index).unwrap_or(&FONT[0])
}

// ---------------------------------------------------------------------------
// Canvas
// ---------------------------------------------------------------------------

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

    fn fill_rect_i64(&mut self, x: i64, y: i64, w: i64, h: i64, color: Rgb) {
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
    fn draw_disc_clipped(
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

// ---------------------------------------------------------------------------
// Figures
// ---------------------------------------------------------------------------

/// Background of [`image_grid`] pictures.
const GRID_BACKGROUND: Rgb = [40, 40, 46];
/// Label colour of [`image_grid`] pictures.
const GRID_LABEL: Rgb = [235, 235, 235];
/// Fill of an [`image_grid`] tile whose pixel count is wrong.
const GRID_BAD_TILE: Rgb = [110, 24, 24];

/// Lays out labelled rows of grayscale images, one row per entry of `rows`:
/// the row's label (left-aligned, vertically centred) followed by its images
/// left to right.
///
/// Every image is `img_w` x `img_h` pixels, row-major, values in `[0, 1]`
/// (0 = black, 1 = white, as in MNIST), drawn magnified by `scale` (0 counts
/// as 1) with 2-pixel gaps between images and rows, on a dark background.
/// Labels are drawn with the built-in font (twice as large when
/// `scale >= 2`). Rows may have different numbers of images. An image whose
/// length is not `img_w * img_h` is drawn as a dark red tile with a cross
/// rather than failing the whole picture.
///
/// Used for "samples per label" grids (each row a label such as
/// `"T-shirt/top"`) and interpolation strips (each row a label such as
/// `"3 -> 8"` followed by the decoded sequence).
pub fn image_grid(
    rows: &[(String, Vec<&[f32]>)],
    img_w: usize,
    img_h: usize,
    scale: u32,
) -> Canvas {
    const MARGIN: u32 = 8;
    const GAP: u32 = 2;
    let scale = scale.clamp(1, 64);
    let text_scale = if scale >= 2 { 2 } else { 1 };
    let side = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).saturating_mul(scale);
    let (tile_w, tile_h) = (side(img_w), side(img_h));
    let label_w = rows
        .iter()
        .map(|(label, _)| Canvas::text_width(label, text_scale))
        .max()
        .unwrap_or(0);
    let label_col = if label_w == 0 {
        0
    } else {
        label_w + 6 * text_scale
    };
    let cols = u32::try_from(rows.iter().map(|(_, imgs)| imgs.len()).max().unwrap_or(0))
        .unwrap_or(u32::MAX);
    let row_h = tile_h.max(7 * text_scale);
    let n_rows = u32::try_from(rows.len()).unwrap_or(u32::MAX);
    let span = |n: u32, each: u32| {
        n.saturating_mul(each.saturating_add(GAP))
            .saturating_sub(GAP)
    };
    let width = MARGIN
        .saturating_mul(2)
        .saturating_add(label_col)
        .saturating_add(span(cols, tile_w));
    let height = MARGIN.saturating_mul(2).saturating_add(span(n_rows, row_h));
    let mut canvas = Canvas::new(width, height, GRID_BACKGROUND);

    let mut y = i64::from(MARGIN);
    for (label, images) in rows {
        // Centre the cap height (7 font rows) on the row.
        let text_y = y + (i64::from(row_h) - 7 * i64::from(text_scale)) / 2;
        canvas.draw_text(
            clamp_i32(i64::from(MARGIN)),
            clamp_i32(text_y),
            label,
            GRID_LABEL,
            text_scale,
        );
        let tile_y = y + (i64::from(row_h) - i64::from(tile_h)) / 2;
        let mut x = i64::from(MARGIN) + i64::from(label_col);
        for image in images {
            let (tx, ty) = (clamp_i32(x), clamp_i32(tile_y));
            if canvas
                .blit_gray(tx, ty, image, img_w, img_h, scale)
                .is_err()
            {
                canvas.fill_rect(tx, ty, tile_w, tile_h, GRID_BAD_TILE);
                let (x1, y1) = (
                    clamp_i32(x + i64::from(tile_w) - 1),
                    clamp_i32(tile_y + i64::from(tile_h) - 1),
                );
                canvas.draw_line(tx, ty, x1, y1, GRID_LABEL);
                canvas.draw_line(tx, y1, x1, ty, GRID_LABEL);
            }
            x += i64::from(tile_w) + i64::from(GAP);
        }
        y += i64::from(row_h) + i64::from(GAP);
    }
    canvas
}

/// Saturating conversion for drawing coordinates.
fn clamp_i32(v: i64) -> i32 {
    v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

/// Categorical palette for classes: matplotlib's `tab10` followed by the
/// light half of `tab20`. Classes beyond 20 reuse the colours cyclically.
pub const PALETTE: [Rgb; 20] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [127, 127, 127],
    [188, 189, 34],
    [23, 190, 207],
    [174, 199, 232],
    [255, 187, 120],
    [152, 223, 138],
    [255, 152, 150],
    [197, 176, 213],
    [196, 156, 148],
    [247, 182, 210],
    [199, 199, 199],
    [219, 219, 141],
    [158, 218, 229],
];

/// The panels side by side, `columns` to a row, on a white background (cells sized to the
/// largest panel, panels at their cells' top left; what falls outside [`MAX_SIDE`] is cut).
pub fn tile(panels: &[Canvas], columns: usize) -> Canvas {
    let columns = columns.max(1);
    let cw = panels.iter().map(|c| c.width).max().unwrap_or(1);
    let ch = panels.iter().map(|c| c.height).max().unwrap_or(1);
    let rows = panels.len().div_ceil(columns).max(1);
    let cols = columns.min(panels.len().max(1));
    let mut out = Canvas::new(cw * cols as u32, ch * rows as u32, [255, 255, 255]);
    for (i, panel) in panels.iter().enumerate() {
        let (x0, y0) = ((i % columns) as u32 * cw, (i / columns) as u32 * ch);
        for y in 0..panel.height.min(out.height.saturating_sub(y0)) {
            let src = (y * panel.width * 3) as usize;
            let dst = (((y0 + y) * out.width + x0) * 3) as usize;
            let n = (panel.width.min(out.width.saturating_sub(x0)) * 3) as usize;
            out.rgb[dst..dst + n].copy_from_slice(&panel.rgb[src..src + n]);
        }
    }
    out
}

/// The palette colour of class `class`.
pub fn class_color(class: usize) -> Rgb {
    PALETTE[class % PALETTE.len()]
}

const INK: Rgb = [34, 34, 34];
const AXIS: Rgb = [90, 90, 90];
const GRID_LINE: Rgb = [232, 232, 232];
const WHITE: Rgb = [255, 255, 255];

/// A 2-D scatter plot of `points` coloured by class, with a title, axes
/// with numeric ticks, light grid lines and a legend (colour swatch + class
/// name) to the right of the plot.
///
/// `classes[i]` indexes `class_names` and picks the colour of `points[i]`
/// from [`PALETTE`]. The picture is `size` pixels tall and `size` plus the
/// legend width wide (`size` is clamped to `240..=8192`); text is drawn
/// twice as large from `size >= 700` on.
///
/// The view is chosen robustly: non-finite points are ignored, and each
/// axis spans its 0.5 %..99.5 % quantiles plus a 5 % margin, so a few
/// outliers do not squash the plot (points outside the view are not drawn).
/// Points are drawn as small translucent discs in a fixed pseudo-random
/// order, so that no class systematically hides another and 10,000 points
/// stay readable. The legend lists the classes in order; if they do not fit
/// the height, the last line says how many were left out.
///
/// Fails if `points.len() != classes.len()` or a class index has no name.
pub fn scatter(
    points: &[[f32; 2]],
    classes: &[u16],
    class_names: &[String],
    title: &str,
    size: u32,
) -> Result<Canvas, PictureError> {
    if points.len() != classes.len() {
        return Err(PictureError::LengthMismatch {
            what: "scatter class labels (one per point)",
            expected: points.len(),
            found: classes.len(),
        });
    }
    if let Some((point, &class)) = classes
        .iter()
        .enumerate()
        .find(|&(_, &c)| usize::from(c) >= class_names.len())
    {
        return Err(PictureError::UnknownClass {
            point,
            class,
            names: class_names.len(),
        });
    }

    let size = size.clamp(240, 8192);
    let ts: u32 = if size >= 700 { 2 } else { 1 };
    let title_scale = ts + 1;
    let pad = 6 * ts + 4;
    let tick_len = 3 * ts + 1;

    let finite: Vec<[f32; 2]> = points
        .iter()
        .copied()
        .filter(|p| p[0].is_finite() && p[1].is_finite())
        .collect();
    let (x_lo, x_hi) = view_range(finite.iter().map(|p| p[0]));
    let (y_lo, y_hi) = view_range(finite.iter().map(|p| p[1]));
    let x_ticks = ticks(x_lo, x_hi);
    let y_ticks = ticks(y_lo, y_hi);

    // Layout of the plot panel (the legend goes to its right).
    let text_h = 7 * ts; // cap height
    let y_label_w = y_ticks
        .iter()
        .map(|(_, label)| Canvas::text_width(label, ts))
        .max()
        .unwrap_or(0);
    let plot_left = pad + y_label_w + tick_len + 3 * ts;
    let plot_top = if title.is_empty() {
        pad
    } else {
        pad + Canvas::text_height(title, title_scale) + pad / 2
    };
    let plot_bottom = size - (pad + text_h + tick_len + 3 * ts);
    // Leave room for the last x tick label to overhang the frame.
    let plot_right = size - pad.max(Canvas::text_width("0.00", ts) / 2);

    // Legend geometry.
    let swatch = 4 * ts + 2; // disc radius, pixels
    let row_h = LINE_HEIGHT * ts + 4 * ts;
    let name_w = class_names
        .iter()
        .map(|n| Canvas::text_width(n, ts))
        .max()
        .unwrap_or(0)
        .max(Canvas::text_width("+99 more", ts));
    let legend_inner = 2 * swatch + 2 * ts + 4 + name_w;
    let legend_w = if class_names.is_empty() {
        0
    } else {
        legend_inner + 4 * pad
    };
    let width = size + legend_w;
    let mut canvas = Canvas::new(width, size, WHITE);

    let (l, t, r, b) = (
        i64::from(plot_left),
        i64::from(plot_top),
        i64::from(plot_right),
        i64::from(plot_bottom),
    );
    let map_x = |v: f32| l as f32 + (v - x_lo) / (x_hi - x_lo) * (r - l) as f32;
    let map_y = |v: f32| b as f32 - (v - y_lo) / (y_hi - y_lo) * (b - t) as f32;

    // Grid lines and ticks.
    for (v, label) in &x_ticks {
        let x = map_x(*v).floor() as i64;
        if x <= l || x >= r {
            continue;
        }
        canvas.fill_rect_i64(x, t + 1, 1, b - t - 1, GRID_LINE);
        canvas.fill_rect_i64(x, b + 1, 1, i64::from(tick_len), AXIS);
        let w = i64::from(Canvas::text_width(label, ts));
        let ty = b + 1 + i64::from(tick_len) + 2 * i64::from(ts);
        canvas.draw_text(clamp_i32(x - w / 2), clamp_i32(ty), label, INK, ts);
    }
    for (v, label) in &y_ticks {
        let y = map_y(*v).floor() as i64;
        if y <= t || y >= b {
            continue;
        }
        canvas.fill_rect_i64(l + 1, y, r - l - 1, 1, GRID_LINE);
        canvas.fill_rect_i64(l - i64::from(tick_len), y, i64::from(tick_len), 1, AXIS);
        let w = i64::from(Canvas::text_width(label, ts));
        let tx = l - i64::from(tick_len) - 3 * i64::from(ts) - w;
        let ty = y - i64::from(text_h) / 2;
        canvas.draw_text(clamp_i32(tx), clamp_i32(ty), label, INK, ts);
    }

    // Points, in a fixed shuffled order, clipped to the plot interior.
    let n = finite.len().max(1) as f32;
    let alpha = (0.5 * (10_000.0 / n).sqrt()).clamp(0.25, 0.85);
    let base_r = if finite.len() <= 2_000 { 2.5 } else { 1.5 };
    let radius = base_r * (size as f32 / 600.0).max(1.0);
    let clip = (l + 1, t + 1, r, b);
    for i in shuffled(points.len()) {
        let (Some(p), Some(&c)) = (points.get(i), classes.get(i)) else {
            continue;
        };
        if !(p[0].is_finite() && p[1].is_finite()) {
            continue;
        }
        let color = class_color(usize::from(c));
        canvas.draw_disc_clipped(map_x(p[0]), map_y(p[1]), radius, color, alpha, clip);
    }

    // Frame and title.
    canvas.stroke_rect(
        clamp_i32(l),
        clamp_i32(t),
        plot_right.saturating_sub(plot_left) + 1,
        plot_bottom.saturating_sub(plot_top) + 1,
        AXIS,
    );
    if !title.is_empty() {
        let w = i64::from(Canvas::text_width(title, title_scale));
        let tx = (l + r) / 2 - w / 2;
        canvas.draw_text(
            clamp_i32(tx.max(i64::from(pad))),
            clamp_i32(i64::from(pad)),
            title,
            INK,
            title_scale,
        );
    }

    // Legend.
    if !class_names.is_empty() {
        let lx = i64::from(size) + i64::from(pad);
        let avail = (b - t - 2 * i64::from(pad)).max(i64::from(row_h));
        let fit = (avail / i64::from(row_h)).max(1) as usize;
        let shown = if class_names.len() <= fit {
            class_names.len()
        } else {
            fit.saturating_sub(1)
        };
        let lines = shown + usize::from(shown < class_names.len());
        let box_h = lines as i64 * i64::from(row_h) + i64::from(pad);
        let box_w = i64::from(legend_inner) + 2 * i64::from(pad);
        canvas.stroke_rect(
            clamp_i32(lx),
            clamp_i32(t),
            u32::try_from(box_w).unwrap_or(0),
            u32::try_from(box_h).unwrap_or(0),
            [200, 200, 200],
        );
        let mut y = t + i64::from(pad) / 2 + i64::from(row_h) / 2;
        let sx = lx + i64::from(pad) + i64::from(swatch);
        for (i, name) in class_names.iter().take(shown).enumerate() {
            canvas.draw_disc(
                sx as f32 + 0.5,
                y as f32 + 0.5,
                swatch as f32,
                class_color(i),
                1.0,
            );
            let tx = sx + i64::from(swatch) + 2 * i64::from(ts) + 4;
            canvas.draw_text(
                clamp_i32(tx),
                clamp_i32(y - i64::from(text_h) / 2),
                name,
                INK,
                ts,
            );
            y += i64::from(row_h);
        }
        if shown < class_names.len() {
            let more = format!("+{} more", class_names.len() - shown);
            canvas.draw_text(
                clamp_i32(lx + i64::from(pad)),
                clamp_i32(y - i64::from(text_h) / 2),
                &more,
                INK,
                ts,
            );
        }
    }
    Ok(canvas)
}

/// The displayed range of one axis: the 0.5 %..99.5 % quantiles of the
/// finite values plus a 5 % margin on each side, never empty.
fn view_range(values: impl Iterator<Item = f32>) -> (f32, f32) {
    let mut v: Vec<f32> = values.filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return (-1.0, 1.0);
    }
    v.sort_by(f32::total_cmp);
    let quantile = |q: f64| {
        let pos = q * (v.len() - 1) as f64;
        let i = pos.floor() as usize;
        let j = (i + 1).min(v.len() - 1);
        let frac = (pos - i as f64) as f32;
        let (a, b) = (v[i.min(v.len() - 1)], v[j]);
        a + (b - a) * frac
    };
    let (mut lo, mut hi) = (quantile(0.005), quantile(0.995));
    let span = hi - lo;
    if !(span.is_finite() && span > lo.abs().max(hi.abs()) * 1e-6) {
        let c = 0.5 * lo + 0.5 * hi;
        let half = (c.abs() * 0.1).max(1.0);
        (lo, hi) = (c - half, c + half);
    }
    let margin = 0.05 * (hi - lo);
    (lo - margin, hi + margin)
}

/// Round tick positions (steps of 1, 2 or 5 times a power of ten, about
/// five of them) inside `[lo, hi]`, with their labels.
fn ticks(lo: f32, hi: f32) -> Vec<(f32, String)> {
    let (lo, hi) = (f64::from(lo), f64::from(hi));
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return Vec::new();
    }
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let step = mag
        * if norm < 1.5 {
            1.0
        } else if norm < 3.0 {
            2.0
        } else if norm < 7.0 {
            5.0
        } else {
            10.0
        };
    let first = (lo / step).ceil();
    let last = (hi / step).floor();
    if !(first.is_finite() && last.is_finite()) || last - first > 20.0 {
        return Vec::new();
    }
    let biggest = lo.abs().max(hi.abs());
    let scientific = step < 1e-4 || biggest >= 1e6;
    let decimals = (-step.log10().floor()).clamp(0.0, 10.0) as usize;
    let mut out = Vec::new();
    let mut k = first;
    while k <= last {
        let v = k * step;
        let mut label = if scientific {
            format!("{v:.1e}")
        } else {
            format!("{v:.decimals$}")
        };
        if label.starts_with('-') && label[1..].chars().all(|c| c == '0' || c == '.') {
            label.remove(0);
        }
        out.push((v as f32, label));
        k += 1.0;
    }
    out
}

/// `0..n` in a fixed pseudo-random order (Fisher-Yates with xorshift).
fn shuffled(n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in (1..n).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let j = (state % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

// ---------------------------------------------------------------------------
// Reading PNG files
// ---------------------------------------------------------------------------

/// Reads the PNG at `path` as `w * h` row-major grayscale values in
/// `[0, 1]`.
///
/// Accepts grayscale, grayscale + alpha, RGB, RGBA and palette images of any
/// bit depth. Colour is converted to luma (`0.299 R + 0.587 G + 0.114 B`);
/// alpha is composited over black, matching the MNIST convention of a white
/// digit on a black background. The image is not inverted or resized: a file
/// whose size is not `w` x `h` is an error naming the file and both sizes,
/// and a file that is not a PNG is an error naming the file.
pub fn read_gray_png(path: &Path, w: u32, h: u32) -> Result<Vec<f32>, PictureError> {
    read_gray_png_sized(path, Some((w, h))).map(|(_, px)| px)
}

/// [`read_gray_png`] for a PNG of any size: its `(width, height)` and pixels.
pub fn read_gray_png_any(path: &Path) -> Result<((u32, u32), Vec<f32>), PictureError> {
    read_gray_png_sized(path, None)
}

fn read_gray_png_sized(
    path: &Path,
    expected: Option<(u32, u32)>,
) -> Result<((u32, u32), Vec<f32>), PictureError> {
    let decode_err = |message: String| PictureError::Decode {
        path: path.to_path_buf(),
        message,
    };
    let file = File::open(path).map_err(|source| PictureError::Io {
        path: path.to_path_buf(),
        action: "opening",
        source,
    })?;
    let mut decoder = png::Decoder::new(BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().map_err(|e| decode_err(e.to_string()))?;
    let found = reader.info().size();
    if let Some(expected) = expected.filter(|&e| e != found) {
        return Err(PictureError::WrongSize {
            path: path.to_path_buf(),
            expected,
            found,
        });
    }
    let (w, h) = found;
    let len = reader
        .output_buffer_size()
        .ok_or_else(|| decode_err("image too large".to_string()))?;
    let mut buf = vec![0u8; len];
    let info = reader
        .next_frame(&mut buf)
        .map_err(|e| decode_err(e.to_string()))?;
    let channels = match info.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => {
            return Err(decode_err("palette image was not expanded".to_string()));
        }
    };
    let bytes_per_sample = match info.bit_depth {
        png::BitDepth::Eight => 1,
        png::BitDepth::Sixteen => 2,
        other => {
            return Err(decode_err(format!(
                "unexpected bit depth {other:?} after expansion"
            )));
        }
    };
    let pixel_bytes = channels * bytes_per_sample;
    let row_bytes = w as usize * pixel_bytes;
    let sample = |px: &[u8], k: usize| -> f32 {
        if bytes_per_sample == 1 {
            px.get(k).map_or(0.0, |&b| f32::from(b) / 255.0)
        } else {
            match (px.get(2 * k), px.get(2 * k + 1)) {
                (Some(&hi), Some(&lo)) => f32::from(u16::from_be_bytes([hi, lo])) / 65535.0,
                _ => 0.0,
            }
        }
    };
    let mut out = Vec::with_capacity(w as usize * h as usize);
    for y in 0..h as usize {
        let start = y * info.line_size;
        let row = buf
            .get(start..start + row_bytes)
            .ok_or_else(|| decode_err("decoded image is shorter than expected".to_string()))?;
        for px in row.chunks_exact(pixel_bytes) {
            let v = match channels {
                1 => sample(px, 0),
                2 => sample(px, 0) * sample(px, 1),
                3 => luma(sample(px, 0), sample(px, 1), sample(px, 2)),
                _ => luma(sample(px, 0), sample(px, 1), sample(px, 2)) * sample(px, 3),
            };
            out.push(v.clamp(0.0, 1.0));
        }
    }
    Ok(((w, h), out))
}

/// Rec. 601 luma of an RGB colour with components in `[0, 1]`.
fn luma(r: f32, g: f32, b: f32) -> f32 {
    0.299 * r + 0.587 * g + 0.114 * b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_places_panels_three_to_a_row() {
        let a = Canvas::new(2, 3, [1, 1, 1]);
        let b = Canvas::new(4, 1, [2, 2, 2]);
        let t = tile(&[a.clone(), b, a.clone(), a], 3);
        assert_eq!((t.width, t.height), (12, 6));
        assert_eq!(t.get(0, 0), Some([1, 1, 1]));
        assert_eq!(t.get(4, 0), Some([2, 2, 2]));
        assert_eq!(t.get(4, 1), Some([255, 255, 255]), "below the short panel");
        assert_eq!(t.get(9, 2), Some([1, 1, 1]));
        assert_eq!(t.get(0, 5), Some([1, 1, 1]), "second row");
        assert_eq!(t.get(5, 5), Some([255, 255, 255]));
    }

    /// A fresh, empty scratch directory for one test.
    fn scratch_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("pse-picture-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        dir
    }

    /// Writes a PNG with the given colour type and raw data via `png`.
    fn write_raw_png(
        path: &Path,
        w: u32,
        h: u32,
        color: png::ColorType,
        depth: png::BitDepth,
        palette: Option<&[u8]>,
        data: &[u8],
    ) {
        let file = File::create(path).expect("create");
        let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w, h);
        enc.set_color(color);
        enc.set_depth(depth);
        if let Some(p) = palette {
            enc.set_palette(p.to_vec());
        }
        let mut writer = enc.write_header().expect("header");
        writer.write_image_data(data).expect("data");
        writer.finish().expect("finish");
    }

    #[test]
    fn gray_round_trip_through_png() {
        let dir = scratch_dir("round-trip");
        let (w, h) = (13usize, 7usize);
        let pixels: Vec<f32> = (0..w * h)
            .map(|i| ((i * 37) % 101) as f32 / 100.0)
            .collect();
        let mut canvas = Canvas::new(w as u32, h as u32, [9, 9, 9]);
        canvas.blit_gray(0, 0, &pixels, w, h, 1).expect("blit");
        let path = dir.join("gray.png");
        canvas.write_png(&path).expect("write");
        let back = read_gray_png(&path, w as u32, h as u32).expect("read");
        assert_eq!(back.len(), pixels.len());
        for (a, b) in pixels.iter().zip(&back) {
            assert!((a - b).abs() <= 1.0 / 255.0, "{a} vs {b}");
        }
        // The atomic write left no temporary file behind.
        let names: Vec<_> = std::fs::read_dir(&dir)
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("gray.png")]);
        // Overwriting an existing picture works too.
        Canvas::new(w as u32, h as u32, [255, 255, 255])
            .write_png(&path)
            .expect("overwrite");
        let white = read_gray_png(&path, w as u32, h as u32).expect("read");
        assert!(white.iter().all(|&v| (v - 1.0).abs() < 1e-6));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn blit_gray_scales_clamps_and_checks_length() {
        let mut canvas = Canvas::new(6, 4, [1, 2, 3]);
        canvas
            .blit_gray(1, 1, &[0.0, 1.0, f32::NAN, 7.0, -1.0, 0.5], 3, 2, 1)
            .expect("blit");
        assert_eq!(canvas.get(1, 1), Some([0, 0, 0]));
        assert_eq!(canvas.get(2, 1), Some([255, 255, 255]));
        assert_eq!(canvas.get(3, 1), Some([0, 0, 0]));
        assert_eq!(canvas.get(1, 2), Some([255, 255, 255]));
        assert_eq!(canvas.get(2, 2), Some([0, 0, 0]));
        assert_eq!(canvas.get(3, 2), Some([128, 128, 128]));
        assert_eq!(canvas.get(0, 0), Some([1, 2, 3]));
        let mut big = Canvas::new(8, 8, [0, 0, 0]);
        big.blit_gray(0, 0, &[1.0], 1, 1, 3).expect("blit");
        assert_eq!(big.get(2, 2), Some([255, 255, 255]));
        assert_eq!(big.get(3, 3), Some([0, 0, 0]));
        let err = big.blit_gray(0, 0, &[0.0; 5], 2, 3, 1).unwrap_err();
        assert!(matches!(
            err,
            PictureError::LengthMismatch {
                expected: 6,
                found: 5,
                ..
            }
        ));
    }

    #[test]
    fn reads_other_png_layouts() {
        let dir = scratch_dir("layouts");
        let p = dir.join("g16.png");
        write_raw_png(
            &p,
            2,
            1,
            png::ColorType::Grayscale,
            png::BitDepth::Sixteen,
            None,
            &[0xFF, 0xFF, 0x80, 0x00],
        );
        let v = read_gray_png(&p, 2, 1).expect("16-bit gray");
        assert!((v[0] - 1.0).abs() < 1e-6 && (v[1] - 0.5).abs() < 1e-3);

        let p = dir.join("ga.png");
        write_raw_png(
            &p,
            2,
            1,
            png::ColorType::GrayscaleAlpha,
            png::BitDepth::Eight,
            None,
            &[255, 255, 255, 0],
        );
        let v = read_gray_png(&p, 2, 1).expect("gray alpha");
        assert_eq!(v, vec![1.0, 0.0]);

        let p = dir.join("rgb.png");
        write_raw_png(
            &p,
            3,
            1,
            png::ColorType::Rgb,
            png::BitDepth::Eight,
            None,
            &[255, 0, 0, 0, 255, 0, 0, 0, 255],
        );
        let v = read_gray_png(&p, 3, 1).expect("rgb");
        for (got, want) in v.iter().zip([0.299, 0.587, 0.114]) {
            assert!((got - want).abs() < 1e-5, "{got} vs {want}");
        }

        let p = dir.join("rgba16.png");
        let mut data = Vec::new();
        for _ in 0..4 {
            data.extend_from_slice(&[0xFF; 8]);
        }
        write_raw_png(
            &p,
            2,
            2,
            png::ColorType::Rgba,
            png::BitDepth::Sixteen,
            None,
            &data,
        );
        let v = read_gray_png(&p, 2, 2).expect("rgba16");
        assert!(v.iter().all(|&x| (x - 1.0).abs() < 1e-5));

        let p = dir.join("palette.png");
        // 1-bit palette: black, white; pixels 1,0,1,1 packed MSB first.
        write_raw_png(
            &p,
            4,
            1,
            png::ColorType::Indexed,
            png::BitDepth::One,
            Some(&[0, 0, 0, 255, 255, 255]),
            &[0b1011_0000],
        );
        let v = read_gray_png(&p, 4, 1).expect("palette");
        assert_eq!(v, vec![1.0, 0.0, 1.0, 1.0]);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn wrong_size_and_non_png_errors_name_the_file() {
        let dir = scratch_dir("errors");
        let path = dir.join("small.png");
        Canvas::new(10, 12, [0, 0, 0])
            .write_png(&path)
            .expect("write");
        let err = read_gray_png(&path, 28, 28).unwrap_err();
        assert!(matches!(
            err,
            PictureError::WrongSize {
                expected: (28, 28),
                found: (10, 12),
                ..
            }
        ));
        let msg = err.to_string();
        assert!(msg.contains("small.png"), "{msg}");
        assert!(msg.contains("10x12") && msg.contains("28x28"), "{msg}");

        let text = dir.join("notes.png");
        std::fs::write(&text, b"certainly not a png file").expect("write");
        let err = read_gray_png(&text, 28, 28).unwrap_err();
        assert!(matches!(err, PictureError::Decode { .. }), "{err:?}");
        assert!(err.to_string().contains("notes.png"), "{err}");

        let missing = dir.join("absent.png");
        let err = read_gray_png(&missing, 28, 28).unwrap_err();
        assert!(matches!(err, PictureError::Io { .. }), "{err:?}");
        assert!(err.to_string().contains("absent.png"), "{err}");
        assert!(std::error::Error::source(&err).is_some());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn write_into_missing_dir_fails_clearly() {
        let dir = scratch_dir("missing");
        let path = dir.join("no/such/dir/out.png");
        let err = Canvas::new(4, 4, [0, 0, 0]).write_png(&path).unwrap_err();
        assert!(matches!(err, PictureError::MissingDir { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains("out.png") && msg.contains("does not exist"),
            "{msg}"
        );
        assert!(!dir.join("no").exists());

        let err = Canvas::new(4, 4, [0, 0, 0])
            .write_png(&dir.join(".."))
            .unwrap_err();
        assert!(matches!(err, PictureError::InvalidPath { .. }), "{err:?}");

        let mut broken = Canvas::new(4, 4, [0, 0, 0]);
        broken.rgb.pop();
        let err = broken.write_png(&dir.join("broken.png")).unwrap_err();
        assert!(
            matches!(err, PictureError::LengthMismatch { .. }),
            "{err:?}"
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    /// Horizontal extent `(min_x, max_x)` of pixels that differ from `bg`.
    fn ink_extent(canvas: &Canvas, bg: Rgb) -> Option<(u32, u32)> {
        let mut extent: Option<(u32, u32)> = None;
        for y in 0..canvas.height {
            for x in 0..canvas.width {
                if canvas.get(x as i32, y as i32) != Some(bg) {
                    extent = Some(match extent {
                        None => (x, x),
                        Some((a, b)) => (a.min(x), b.max(x)),
                    });
                }
            }
        }
        extent
    }

    #[test]
    fn text_width_matches_drawn_ink() {
        assert_eq!(Canvas::text_width("", 1), 0);
        assert_eq!(Canvas::text_width("A", 1), GLYPH_W);
        assert_eq!(Canvas::text_width("AB", 1), GLYPH_ADVANCE + GLYPH_W);
        assert_eq!(Canvas::text_width("AB", 3), 3 * (GLYPH_ADVANCE + GLYPH_W));
        assert_eq!(Canvas::text_width("AB", 0), Canvas::text_width("AB", 1));
        assert_eq!(
            Canvas::text_width("ABC\nA", 2),
            Canvas::text_width("ABC", 2)
        );
        assert_eq!(Canvas::text_height("A", 2), 2 * GLYPH_H);
        assert_eq!(Canvas::text_height("A\nB", 1), LINE_HEIGHT + GLYPH_H);
        // "M" and "W" have ink in the first and last glyph columns, so the
        // drawn ink spans exactly `text_width`.
        for (text, scale) in [("MW", 1), ("WMMW", 2), ("Ankle boot M", 3)] {
            let bg = [255, 255, 255];
            let mut c = Canvas::new(400, 40, bg);
            c.draw_text(4, 3, text, [0, 0, 0], scale);
            let (lo, hi) = ink_extent(&c, bg).expect("ink");
            assert_eq!(lo, 4);
            assert_eq!(hi - lo + 1, Canvas::text_width(text, scale), "{text}");
        }
    }

    #[test]
    fn font_covers_printable_ascii() {
        for code in 0x21u8..=0x7E {
            let g = glyph(char::from(code));
            assert!(g.iter().any(|&row| row != 0), "glyph {code:#x} is blank");
            assert!(g.iter().all(|&row| row < 32));
        }
        assert!(glyph(' ').iter().all(|&row| row == 0));
        assert_eq!(glyph('é'), glyph('?'));
        // Distinct characters have distinct bitmaps.
        for a in 0x20u8..=0x7E {
            for b in (a + 1)..=0x7E {
                assert_ne!(glyph(char::from(a)), glyph(char::from(b)), "{a} {b}");
            }
        }
    }

    #[test]
    fn drawing_clips_and_ignores_bad_input() {
        let mut c = Canvas::new(10, 10, [0, 0, 0]);
        c.set(-1, 3, [255, 0, 0]);
        c.set(10, 3, [255, 0, 0]);
        c.fill_rect(-5, -5, 8, 8, [1, 1, 1]);
        assert_eq!(c.get(2, 2), Some([1, 1, 1]));
        assert_eq!(c.get(3, 3), Some([0, 0, 0]));
        c.draw_line(i32::MIN, i32::MIN, i32::MAX, i32::MAX, [9, 9, 9]);
        assert_eq!(c.get(5, 5), Some([9, 9, 9]));
        c.draw_line(0, 9, 9, 9, [7, 7, 7]);
        assert!((0..10).all(|x| c.get(x, 9) == Some([7, 7, 7])));
        c.draw_line(-100, -100, -50, -1, [7, 7, 7]);
        c.draw_disc(f32::NAN, 1.0, 2.0, [255, 255, 255], 1.0);
        c.draw_disc(1e30, -1e30, 1e30, [255, 255, 255], 1.0);
        c.draw_text(i32::MAX - 3, i32::MIN, "xyz", [1, 2, 3], u32::MAX);
        c.blend(6, 3, [255, 255, 255], f32::NAN);
        assert_eq!(c.get(6, 3), Some([0, 0, 0]));
        c.blend(6, 3, [200, 100, 50], 0.5);
        assert_eq!(c.get(6, 3), Some([100, 50, 25]));
        assert_eq!(c.get(10, 0), None);
        let huge = Canvas::new(u32::MAX, 0, [0, 0, 0]);
        assert_eq!((huge.width, huge.height), (MAX_SIDE, 1));
    }

    #[test]
    fn disc_is_round_and_blended() {
        let mut c = Canvas::new(21, 21, [0, 0, 0]);
        c.draw_disc(10.5, 10.5, 5.0, [255, 255, 255], 1.0);
        assert_eq!(c.get(10, 10), Some([255, 255, 255]));
        assert_eq!(c.get(10, 14), Some([255, 255, 255]));
        assert_eq!(c.get(10, 17), Some([0, 0, 0]));
        assert_eq!(c.get(14, 14), Some([0, 0, 0]));
        let mut c = Canvas::new(5, 5, [0, 0, 0]);
        c.draw_disc(2.5, 2.5, 1.5, [200, 200, 200], 0.5);
        assert_eq!(c.get(2, 2), Some([100, 100, 100]));
    }

    #[test]
    fn scatter_checks_its_inputs() {
        let names = vec!["a".to_string(), "b".to_string()];
        let err = scatter(&[[0.0, 0.0], [1.0, 1.0]], &[0], &names, "t", 300).unwrap_err();
        assert!(matches!(
            err,
            PictureError::LengthMismatch {
                expected: 2,
                found: 1,
                ..
            }
        ));
        let err = scatter(&[[0.0, 0.0], [1.0, 1.0]], &[0, 2], &names, "t", 300).unwrap_err();
        assert!(matches!(
            err,
            PictureError::UnknownClass {
                point: 1,
                class: 2,
                names: 2
            }
        ));
        assert!(err.to_string().contains("class index 2"), "{err}");
    }

    #[test]
    fn scatter_survives_degenerate_data() {
        let names: Vec<String> = (0..30).map(|i| format!("c{i}")).collect();
        let cases: Vec<Vec<[f32; 2]>> = vec![
            vec![],
            vec![[f32::NAN, 1.0], [f32::INFINITY, 0.0]],
            vec![[3.0, 3.0]; 50],
            vec![[1e30, -1e30], [-1e30, 1e30], [0.0, 0.0]],
            vec![[1e-30, 2e-30], [3e-30, 1e-30]],
        ];
        for pts in cases {
            let classes: Vec<u16> = (0..pts.len()).map(|i| (i % 30) as u16).collect();
            let c = scatter(&pts, &classes, &names, "", 240).expect("scatter");
            assert_eq!(c.height, 240);
            assert_eq!(c.rgb.len(), (c.width * c.height * 3) as usize);
        }
        let c = scatter(&[], &[], &[], "empty", 100).expect("scatter");
        assert_eq!((c.width, c.height), (240, 240));
    }

    #[test]
    fn scatter_draws_points_in_class_colours() {
        let names = vec!["left".to_string(), "right".to_string()];
        let mut pts = Vec::new();
        let mut cls = Vec::new();
        for i in 0..200 {
            let t = i as f32 / 200.0;
            pts.push([-5.0 + t, t]);
            cls.push(0);
            pts.push([5.0 - t, t]);
            cls.push(1);
        }
        let c = scatter(&pts, &cls, &names, "two", 400).expect("scatter");
        let tinted = |col: Rgb| {
            (0..c.height as i32)
                .flat_map(|y| (0..400).map(move |x| (x, y)))
                .filter(|&(x, y)| {
                    c.get(x, y).is_some_and(|p| {
                        let dominant = |i: usize| (0..3).all(|j| j == i || p[i] > p[j]);
                        let main = (0..3).max_by_key(|&i| col[i]).unwrap_or(0);
                        dominant(main)
                    })
                })
                .count()
        };
        assert!(tinted(PALETTE[0]) > 100);
        assert!(tinted(PALETTE[1]) > 100);
    }

    #[test]
    fn ticks_are_round_and_labelled() {
        let t = ticks(-1.2, 3.7);
        let labels: Vec<&str> = t.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels, ["-1", "0", "1", "2", "3"]);
        let t = ticks(-0.013, 0.021);
        assert!(t.iter().any(|(_, l)| l == "0.000"), "{t:?}");
        assert!(t.iter().all(|(_, l)| !l.starts_with("-0.000")));
        assert!(ticks(1.0, 1.0).is_empty());
        assert!(ticks(f32::NAN, 1.0).is_empty());
        let t = ticks(0.0, 5e7);
        assert!(t.iter().all(|(_, l)| l.contains('e')), "{t:?}");
    }

    #[test]
    fn view_range_ignores_outliers() {
        let mut v: Vec<f32> = (0..1000).map(|i| i as f32 / 1000.0).collect();
        v.push(1e9);
        v.push(f32::NAN);
        let (lo, hi) = view_range(v.into_iter());
        assert!(lo < 0.01 && lo > -0.1, "{lo}");
        assert!(hi > 0.99 && hi < 1.1, "{hi}");
        let (lo, hi) = view_range([2.0f32; 10].into_iter());
        assert!(lo < 2.0 && hi > 2.0);
        assert_eq!(view_range(std::iter::empty()), (-1.0, 1.0));
    }

    #[test]
    fn image_grid_layout() {
        let img = vec![1.0f32; 4 * 3];
        let bad = vec![0.0f32; 5];
        let rows: Vec<(String, Vec<&[f32]>)> = vec![
            ("T-shirt/top".to_string(), vec![&img, &img, &img]),
            ("x".to_string(), vec![&img, &bad]),
        ];
        let c = image_grid(&rows, 4, 3, 2);
        let label_col = Canvas::text_width("T-shirt/top", 2) + 12;
        let row_h = 14; // text cap height 7 * 2 exceeds the 6-pixel tiles
        assert_eq!(c.width, 8 + label_col + 3 * 8 + 2 * 2 + 8);
        assert_eq!(c.height, 8 + 2 * row_h + 2 + 8);
        // First tile of the first row is white.
        let x0 = (8 + label_col) as i32;
        let y0 = 8 + (row_h as i32 - 6) / 2;
        assert_eq!(c.get(x0, y0), Some([255, 255, 255]));
        assert_eq!(c.get(x0 + 7, y0 + 5), Some([255, 255, 255]));
        assert_eq!(c.get(x0 + 8, y0), Some(GRID_BACKGROUND));
        // The wrong-sized image became a marked tile, not a panic.
        let bad_x = x0 + 10;
        let bad_y = y0 + row_h as i32 + 2;
        assert_eq!(c.get(bad_x + 3, bad_y), Some(GRID_BAD_TILE));
        let empty = image_grid(&[], 28, 28, 1);
        assert!(empty.width >= 1 && empty.height >= 1);
    }
}
