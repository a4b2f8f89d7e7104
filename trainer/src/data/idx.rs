//! Reader for the IDX files MNIST and Fashion-MNIST ship in, raw or gzipped.
//! Written here rather than taken from a crate: every byte of untrusted input is checked
//! with a typed error naming the file, and the reader is fuzzed (`fuzz/fuzz_targets/idx.rs`).
//!
//! An IDX file is a 4-byte magic (`0, 0, type, ndim`), `ndim` big-endian `u32`
//! dimensions, then the data. We read unsigned-byte files (type `0x08`): images with
//! three dimensions (count, rows, cols) and labels with one (count).

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Why an IDX file could not be read; every variant names the file.
#[derive(Debug)]
pub enum IdxError {
    /// The file could not be opened or read (including a corrupt gzip stream).
    Io(PathBuf, std::io::Error),
    /// The first four bytes are not an unsigned-byte IDX magic with the expected rank.
    BadMagic {
        /// The file.
        path: PathBuf,
        /// The four bytes found.
        found: [u8; 4],
        /// The number of dimensions expected (3 for images, 1 for labels).
        expected_dims: u8,
    },
    /// The file ends before its header or its data does.
    Truncated {
        /// The file.
        path: PathBuf,
        /// Bytes the header promises.
        expected: u64,
        /// Bytes present.
        found: u64,
    },
    /// The file holds more bytes than its header declares.
    TrailingBytes {
        /// The file.
        path: PathBuf,
        /// Bytes the header promises.
        expected: u64,
        /// Bytes present.
        found: u64,
    },
    /// Images and labels disagree on the number of items.
    CountMismatch {
        /// The image file.
        images: PathBuf,
        /// Its item count.
        image_count: usize,
        /// The label file.
        labels: PathBuf,
        /// Its item count.
        label_count: usize,
    },
    /// A dimension is zero or the total size overflows.
    BadDims {
        /// The file.
        path: PathBuf,
        /// The dimensions read.
        dims: Vec<u32>,
    },
}

impl fmt::Display for IdxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdxError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            IdxError::BadMagic {
                path,
                found,
                expected_dims,
            } => write!(
                f,
                "{}: not an unsigned-byte IDX file with {expected_dims} dimension(s) (magic bytes {found:02x?})",
                path.display()
            ),
            IdxError::Truncated {
                path,
                expected,
                found,
            } => write!(
                f,
                "{}: truncated: the header promises {expected} bytes, the file has {found}",
                path.display()
            ),
            IdxError::TrailingBytes {
                path,
                expected,
                found,
            } => write!(
                f,
                "{}: {found} bytes where the header promises {expected}",
                path.display()
            ),
            IdxError::CountMismatch {
                images,
                image_count,
                labels,
                label_count,
            } => write!(
                f,
                "{} has {image_count} images but {} has {label_count} labels",
                images.display(),
                labels.display()
            ),
            IdxError::BadDims { path, dims } => {
                write!(f, "{}: invalid dimensions {dims:?}", path.display())
            }
        }
    }
}

impl std::error::Error for IdxError {}

/// A stack of 8-bit images, row-major, `count × rows × cols` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Images {
    /// Number of images.
    pub count: usize,
    /// Rows per image.
    pub rows: usize,
    /// Columns per image.
    pub cols: usize,
    /// Pixels, image after image.
    pub pixels: Vec<u8>,
}

/// Reads a whole file, gunzipping it when its name ends in `.gz`.
fn read_all(path: &Path) -> Result<Vec<u8>, IdxError> {
    let io = |e| IdxError::Io(path.to_path_buf(), e);
    let raw = std::fs::read(path).map_err(io)?;
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::with_capacity(raw.len() * 4);
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .map_err(io)?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Parses an unsigned-byte IDX buffer with `ndim` dimensions; returns the dimensions and data.
pub fn parse(path: &Path, bytes: &[u8], ndim: u8) -> Result<(Vec<u32>, Vec<u8>), IdxError> {
    let header = 4 + 4 * ndim as usize;
    let truncated = |expected: u64| IdxError::Truncated {
        path: path.to_path_buf(),
        expected,
        found: bytes.len() as u64,
    };
    let Some(magic) = bytes.first_chunk::<4>() else {
        return Err(truncated(header as u64));
    };
    if magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] != ndim {
        return Err(IdxError::BadMagic {
            path: path.to_path_buf(),
            found: *magic,
            expected_dims: ndim,
        });
    }
    if bytes.len() < header {
        return Err(truncated(header as u64));
    }
    let dims: Vec<u32> = bytes[4..header]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let bad = || IdxError::BadDims {
        path: path.to_path_buf(),
        dims: dims.clone(),
    };
    let mut n: u64 = 1;
    for &d in &dims {
        if d == 0 {
            return Err(bad());
        }
        n = n.checked_mul(d as u64).ok_or_else(bad)?;
    }
    let expected = header as u64 + n;
    let found = bytes.len() as u64;
    if found < expected {
        return Err(truncated(expected));
    }
    if found > expected {
        return Err(IdxError::TrailingBytes {
            path: path.to_path_buf(),
            expected,
            found,
        });
    }
    Ok((dims, bytes[header..].to_vec()))
}

/// Reads an image file (`idx3-ubyte`, raw or `.gz`).
pub fn read_images(path: &Path) -> Result<Images, IdxError> {
    let (dims, pixels) = parse(path, &read_all(path)?, 3)?;
    Ok(Images {
        count: dims[0] as usize,
        rows: dims[1] as usize,
        cols: dims[2] as usize,
        pixels,
    })
}

/// Reads a label file (`idx1-ubyte`, raw or `.gz`).
pub fn read_labels(path: &Path) -> Result<Vec<u8>, IdxError> {
    Ok(parse(path, &read_all(path)?, 1)?.1)
}

/// Reads an image file and its label file and checks that their counts agree.
pub fn read_pair(images: &Path, labels: &Path) -> Result<(Images, Vec<u8>), IdxError> {
    let im = read_images(images)?;
    let lb = read_labels(labels)?;
    if im.count != lb.len() {
        return Err(IdxError::CountMismatch {
            images: images.to_path_buf(),
            image_count: im.count,
            labels: labels.to_path_buf(),
            label_count: lb.len(),
        });
    }
    Ok((im, lb))
}

/// Encodes images as an unsigned-byte IDX buffer (used by tests and by tools that
/// write image sets for the firmware).
pub fn encode_images(images: &Images) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, 3];
    for d in [images.count, images.rows, images.cols] {
        out.extend_from_slice(&(d as u32).to_be_bytes());
    }
    out.extend_from_slice(&images.pixels);
    out
}

/// Encodes labels as an unsigned-byte IDX buffer.
pub fn encode_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, 1];
    out.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    out.extend_from_slice(labels);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn sample() -> Images {
        Images {
            count: 2,
            rows: 3,
            cols: 2,
            pixels: (0..12).collect(),
        }
    }

    #[test]
    fn round_trip_raw_and_gz() {
        let dir = tempfile::tempdir().unwrap();
        let raw = dir.path().join("x-idx3-ubyte");
        std::fs::write(&raw, encode_images(&sample())).unwrap();
        assert_eq!(read_images(&raw).unwrap(), sample());
        let gz = dir.path().join("x-idx3-ubyte.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&encode_images(&sample())).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        assert_eq!(read_images(&gz).unwrap(), sample());
    }

    #[test]
    fn wrong_magic_names_file() {
        let p = Path::new("labels.idx");
        let err = parse(p, &encode_labels(&[1, 2]), 3).unwrap_err();
        assert!(matches!(
            err,
            IdxError::BadMagic {
                expected_dims: 3,
                ..
            }
        ));
        assert!(err.to_string().contains("labels.idx"));
    }

    #[test]
    fn truncated_and_trailing() {
        let p = Path::new("t");
        let mut b = encode_images(&sample());
        b.pop();
        assert!(matches!(
            parse(p, &b, 3),
            Err(IdxError::Truncated {
                expected: 28,
                found: 27,
                ..
            })
        ));
        assert!(matches!(
            parse(p, &b[..6], 3),
            Err(IdxError::Truncated { .. })
        ));
        assert!(matches!(parse(p, &[], 3), Err(IdxError::Truncated { .. })));
        let mut b = encode_images(&sample());
        b.push(0);
        assert!(matches!(
            parse(p, &b, 3),
            Err(IdxError::TrailingBytes { .. })
        ));
    }

    #[test]
    fn zero_dimension_rejected() {
        let mut b = encode_labels(&[]);
        b.truncate(8);
        assert!(matches!(
            parse(Path::new("z"), &b, 1),
            Err(IdxError::BadDims { .. })
        ));
    }

    #[test]
    fn count_mismatch() {
        let dir = tempfile::tempdir().unwrap();
        let (i, l) = (dir.path().join("i"), dir.path().join("l"));
        std::fs::write(&i, encode_images(&sample())).unwrap();
        std::fs::write(&l, encode_labels(&[1, 2, 3])).unwrap();
        let err = read_pair(&i, &l).unwrap_err();
        assert!(matches!(
            err,
            IdxError::CountMismatch {
                image_count: 2,
                label_count: 3,
                ..
            }
        ));
    }

    #[test]
    fn corrupt_gzip_is_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let gz = dir.path().join("bad.gz");
        std::fs::write(&gz, b"\x1f\x8bnot really gzip").unwrap();
        let err = read_images(&gz).unwrap_err();
        assert!(matches!(err, IdxError::Io(..)));
        assert!(err.to_string().contains("bad.gz"));
    }
}
