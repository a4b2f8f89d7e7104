//! Reading user PNG files as `[0, 1]` grayscale.

use super::*;

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
