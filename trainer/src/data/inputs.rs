//! Image files given on the command line (`pse-trainer annotate`): a PNG holds one image,
//! an IDX image file (raw or `.gz`) holds many. The format is told by the file's first
//! bytes (or a `.gz` name), never guessed from a plain extension; every error names the file.

use crate::data::idx::{self, Images};
use crate::report::picture;
use pse_runtime::Image;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The images of one input file, already checked against the model's image size.
#[derive(Debug, Clone, PartialEq)]
pub enum InputFile {
    /// One PNG, as grayscale in `[0, 1]` ([`picture::read_gray_png`]).
    Png {
        /// The file.
        path: PathBuf,
        /// `width * height` pixels.
        pixels: Vec<f32>,
    },
    /// An IDX image file: every image inside, as bytes.
    Idx {
        /// The file.
        path: PathBuf,
        /// The images.
        images: Images,
    },
}

const PNG_SIGNATURE: [u8; 8] = *b"\x89PNG\r\n\x1a\n";

impl InputFile {
    /// Reads `path` as a PNG or IDX image file whose images are `width × height`.
    pub fn read(path: &Path, width: usize, height: usize) -> Result<InputFile, String> {
        let mut head = [0u8; 8];
        let got = std::fs::File::open(path)
            .and_then(|f| f.take(8).read(&mut head))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let head = &head[..got];
        let gz = path.extension().is_some_and(|e| e == "gz");
        if head.starts_with(&PNG_SIGNATURE) {
            let pixels = picture::read_gray_png(path, width as u32, height as u32)
                .map_err(|e| e.to_string())?;
            return Ok(InputFile::Png {
                path: path.to_path_buf(),
                pixels,
            });
        }
        if gz || head.starts_with(&[0, 0, 0x08]) {
            let images = idx::read_images(path).map_err(|e| e.to_string())?;
            if (images.cols, images.rows) != (width, height) {
                return Err(format!(
                    "{}: images are {}x{} pixels, the model expects {width}x{height}",
                    path.display(),
                    images.cols,
                    images.rows
                ));
            }
            return Ok(InputFile::Idx {
                path: path.to_path_buf(),
                images,
            });
        }
        Err(format!(
            "{}: not a PNG or IDX image file (first bytes {head:02x?})",
            path.display()
        ))
    }

    /// Reads every file of `paths` ([`InputFile::read`]) for a model whose images are
    /// `(width, height)`; the first bad file is the error.
    pub fn read_all(
        paths: &[PathBuf],
        (width, height): (usize, usize),
    ) -> Result<Vec<InputFile>, String> {
        paths
            .iter()
            .map(|p| InputFile::read(p, width, height))
            .collect()
    }

    /// Number of images in the file.
    pub fn len(&self) -> usize {
        match self {
            InputFile::Png { .. } => 1,
            InputFile::Idx { images, .. } => images.count,
        }
    }

    /// Whether the file holds no image (never true for a file [`InputFile::read`] accepted).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Image `i` and its name: `file` for a PNG, `file#i` for an IDX file.
    pub fn image(&self, i: usize) -> Option<(String, Image<'_>)> {
        match self {
            InputFile::Png { path, pixels } => {
                (i == 0).then(|| (path.display().to_string(), Image::F32(pixels)))
            }
            InputFile::Idx { path, images } => {
                let n = images.rows * images.cols;
                let px = images.pixels.get(i * n..(i + 1) * n)?;
                Some((format!("{}#{i}", path.display()), Image::U8(px)))
            }
        }
    }
}
