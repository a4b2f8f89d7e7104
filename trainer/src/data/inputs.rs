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

/// What is done to each input image before the model sees it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Preprocess {
    /// Nothing: images must be the model's size, light ink on black.
    #[default]
    None,
    /// As MNIST was made, by the runtime's `preprocess::mnist_like`: any size and polarity
    /// (a light background is inverted), cropped to the ink, scaled to fit 20×20, centred by
    /// mass in 28×28.
    Mnist,
}

/// `pixels` (`w × h` bytes) through `preprocess::mnist_like`, as `f32` in `[0, 1]`.
fn mnist_like(path: &Path, pixels: &[u8], w: usize, h: usize) -> Result<Vec<f32>, String> {
    let mut out = [0u8; pse_runtime::preprocess::SIDE * pse_runtime::preprocess::SIDE];
    let picture = pse_runtime::preprocess::GreyImage {
        pixels,
        width: w,
        height: h,
        stride: w,
    };
    pse_runtime::preprocess::mnist_like(picture, &mut out)
        .map_err(|e| format!("{}: cannot preprocess: {e}", path.display()))?;
    Ok(out.iter().map(|&b| f32::from(b) / 255.0).collect())
}

impl InputFile {
    /// Reads `path` as [`InputFile::read`] does, after `preprocess` (which, for
    /// [`Preprocess::Mnist`], makes 28×28 images of any size; a 28×28 model is then required).
    pub fn read_with(
        path: &Path,
        (width, height): (usize, usize),
        preprocess: Preprocess,
    ) -> Result<InputFile, String> {
        if preprocess == Preprocess::None {
            return InputFile::read(path, width, height);
        }
        let side = pse_runtime::preprocess::SIDE;
        if (width, height) != (side, side) {
            return Err(format!(
                "--preprocess mnist makes 28x28 images; the model reads {width}x{height}"
            ));
        }
        let mut head = [0u8; 8];
        let got = std::fs::File::open(path)
            .and_then(|f| f.take(8).read(&mut head))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if head[..got].starts_with(&PNG_SIGNATURE) {
            let ((w, h), px) = picture::read_gray_png_any(path).map_err(|e| e.to_string())?;
            let bytes: Vec<u8> = px.iter().map(|&v| (v * 255.0).round() as u8).collect();
            return Ok(InputFile::Png {
                path: path.to_path_buf(),
                pixels: mnist_like(path, &bytes, w as usize, h as usize)?,
            });
        }
        // IDX: every image through the same steps, kept as bytes.
        let images = idx::read_images(path).map_err(|e| e.to_string())?;
        let n = images.rows * images.cols;
        let mut pixels = Vec::with_capacity(images.count * side * side);
        for i in 0..images.count {
            let img = images.pixels.get(i * n..(i + 1) * n).unwrap_or_default();
            pixels.extend(
                mnist_like(path, img, images.cols, images.rows)?
                    .iter()
                    .map(|&v| (v * 255.0).round() as u8),
            );
        }
        Ok(InputFile::Idx {
            path: path.to_path_buf(),
            images: Images {
                count: images.count,
                rows: side,
                cols: side,
                pixels,
            },
        })
    }

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
        size: (usize, usize),
        preprocess: Preprocess,
    ) -> Result<Vec<InputFile>, String> {
        paths
            .iter()
            .map(|p| InputFile::read_with(p, size, preprocess))
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
