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

mod canvas;
mod figures;
mod font;
mod reading;

pub use canvas::Canvas;
pub use figures::{PALETTE, class_color, image_grid, scatter, tile};
pub use reading::{read_gray_png, read_gray_png_any};

#[cfg(test)]
mod tests;
