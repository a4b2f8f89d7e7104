//! Annotates grey PNG images with a `.pse` blob, as a desktop program using `pse-runtime`
//! would: read the blob once, validate it, size the scratch from it, then annotate each
//! image (28×28, white digit on black, like MNIST; 8-bit grey).
//!
//! ```sh
//! cargo run -p pse-runtime --features std --example annotate -- \
//!     models/mnist-pse-star-10d-i8.pse runtime/examples/data/seven.png
//! ```

use pse_runtime::{AnnotateOut, Model, Scratch, Verdict};
use std::process::ExitCode;

/// The 8-bit grey pixels of the PNG at `path`, which must be `width × height`.
fn read_grey_png(path: &str, width: usize, height: usize) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder
        .read_info()
        .map_err(|e| format!("{path}: not a PNG: {e}"))?;
    let mut buf = vec![
        0;
        reader
            .output_buffer_size()
            .ok_or(format!("{path}: too large"))?
    ];
    let info = reader
        .next_frame(&mut buf)
        .map_err(|e| format!("{path}: {e}"))?;
    let (w, h) = (info.width as usize, info.height as usize);
    if (w, h) != (width, height) {
        return Err(format!(
            "{path}: {w}x{h} pixels, the model reads {width}x{height}"
        ));
    }
    let channels = info.color_type.samples();
    // Grey (with or without alpha) keeps its first channel; colour is averaged.
    Ok(buf[..info.buffer_size()]
        .chunks(channels)
        .map(|p| match channels {
            1 | 2 => p[0],
            _ => ((p[0] as u16 + p[1] as u16 + p[2] as u16) / 3) as u8,
        })
        .collect())
}

fn run(args: &[String]) -> Result<(), String> {
    let [blob_path, images @ ..] = args else {
        return Err("usage: annotate MODEL.pse IMAGE.png...".into());
    };
    if images.is_empty() {
        return Err("usage: annotate MODEL.pse IMAGE.png...".into());
    }
    let bytes = std::fs::read(blob_path).map_err(|e| format!("{blob_path}: {e}"))?;
    let model = Model::from_bytes(&bytes).map_err(|e| format!("{blob_path}: {e}"))?;
    let need = model.scratch_len();
    let (mut act, mut quant) = (vec![0.0f32; need.f32s], vec![0i8; need.i8s]);
    let mut scratch = Scratch::new(&mut act, &mut quant);
    let mut out = AnnotateOut::new();
    let (w, h) = model.image_size();
    for path in images {
        let pixels = read_grey_png(path, w, h)?;
        let verdict = model
            .annotate(&pixels[..], &[], &mut scratch, &mut out)
            .map_err(|e| format!("{path}: {e}"))?;
        let name = |i: usize| model.label_name(i).unwrap_or("?");
        let posterior = |i: usize| out.posteriors().get(i).copied().unwrap_or(f32::NAN);
        match verdict {
            Verdict::Label(i) => println!("{path}\t{}\t{:.4}", name(i), posterior(i)),
            Verdict::Unknown { nearest } => println!(
                "{path}\tunknown (nearest: {}; {:?})",
                nearest.map_or("none", name),
                out.unknown_reason()
            ),
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
