//! `pse-trainer annotate`: one line per image, through the runtime.

use crate::cli::common::quiet_broken_pipe;
use crate::data::inputs::{InputFile, Preprocess};
use crate::export::host::{self, BlobFile, Scratchpad};
use clap::Args;
use std::error::Error;
use std::io::Write;
use std::path::PathBuf;

/// `pse-trainer annotate`.
#[derive(Debug, Args)]
pub struct AnnotateArgs {
    /// The blob.
    #[arg(long)]
    pub model: PathBuf,
    /// PNG files (one image each, the blob's image size) or IDX image files (every image
    /// inside, raw or .gz).
    #[arg(required = true, value_name = "IMAGES")]
    pub images: Vec<PathBuf>,
    /// `mnist`: take pictures of any size and polarity and make them MNIST-like first (the
    /// runtime's `preprocess::mnist_like`: invert a light background, crop to the ink, fit
    /// 20x20, centre by mass in 28x28).
    #[arg(long, value_enum, default_value = "none")]
    pub preprocess: Preprocess,
    /// One JSON object per image (file, verdict, label, posterior, reason) instead of the
    /// tab-separated lines.
    #[arg(long)]
    pub json: bool,
}

/// `pse-trainer annotate`: one line per image.
pub fn run_annotate(a: AnnotateArgs) -> Result<(), Box<dyn Error>> {
    let blob = BlobFile::read(&a.model)?;
    let model = blob.model()?;
    // Read (and check) every input before printing anything.
    let files = InputFile::read_all(&a.images, model.image_size(), a.preprocess)?;
    let mut pad = Scratchpad::for_model(&model);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let name = |i: Option<usize>| {
        i.and_then(|i| model.label_name(i))
            .unwrap_or("(none)")
            .to_string()
    };
    for f in &files {
        for i in 0..f.len() {
            let (what, image) = f.image(i).ok_or("image index out of range")?;
            let ann = host::annotate(&model, &mut pad, image)?;
            let verdict = if ann.unknown {
                let why = ann.reason.map(host::reason_name).unwrap_or("no label");
                format!("unknown (nearest: {}; {why})", name(ann.best))
            } else {
                name(ann.best)
            };
            let line = if a.json {
                serde_json::json!({
                    "image": what,
                    "unknown": ann.unknown,
                    "label": ann.best.and_then(|i| model.label_name(i)),
                    "posterior": ann.posterior,
                    "log_likelihood": ann.log_likelihood,
                    "reason": ann.reason.map(host::reason_name),
                })
                .to_string()
            } else {
                format!("{what}\t{verdict}\t{:.4}", ann.posterior)
            };
            if let Err(e) = writeln!(out, "{line}") {
                return quiet_broken_pipe(e);
            }
        }
    }
    out.flush().or_else(quiet_broken_pipe)
}
