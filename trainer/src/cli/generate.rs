//! `pse-trainer generate`: images of a label, a word or a mix, through the runtime.

use crate::data::glove::Glove;
use crate::data::words;
use crate::export::host::{self, BlobFile};
use crate::report::samples;
use clap::Args;
use std::error::Error;
use std::path::PathBuf;

/// `pse-trainer generate`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true)))]
pub struct GenerateArgs {
    /// The blob.
    #[arg(long)]
    pub model: PathBuf,
    /// Label to draw, by name (e.g. `seven`) or 0-based index.
    #[arg(long, group = "what")]
    pub label: Option<String>,
    /// A word or phrase to draw through the model's label encoder (models trained with
    /// `--labels glove`), also one never seen in training, e.g. `--word jeans`.
    #[arg(long, group = "what")]
    pub word: Option<String>,
    /// Two words or phrases to compose (see --mix), e.g. `--words sneaker "ankle boot"`.
    #[arg(long, group = "what", num_args = 2, value_names = ["A", "B"])]
    pub words: Vec<String>,
    /// With --words: the label vector is (1 − t)·A + t·B for t = this.
    #[arg(long, default_value_t = 0.5, requires = "words")]
    pub mix: f32,
    /// Folder with the GloVe vectors, for --word and --words (`scripts/fetch-data.sh
    /// --glove`).
    #[arg(long, default_value = "data", env = "PSE_DATA")]
    pub data: PathBuf,
    /// Number of images (seeds SEED, SEED+1, …).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub count: u32,
    /// First seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Decode the label's mean instead (one image; --count and --seed do not apply).
    #[arg(long, conflicts_with_all = ["count", "seed"])]
    pub mean: bool,
    /// PNG file to write (atomically).
    #[arg(long, short)]
    pub out: PathBuf,
}

/// `pse-trainer generate`: a PNG grid of images drawn from one label, word or mix of words.
pub fn run_generate(a: GenerateArgs) -> Result<(), Box<dyn Error>> {
    let blob = BlobFile::read(&a.model)?;
    let model = blob.model()?;
    if a.label.is_none() && model.word_dim().is_none() {
        return Err(format!(
            "{}: has no label encoder (it was trained on one-hot labels): draw a --label",
            a.model.display()
        )
        .into());
    }
    if !a.mix.is_finite() {
        return Err(format!("--mix {}: must be a number", a.mix).into());
    }
    let vector;
    let (what, title) = match (&a.label, &a.word, a.words.as_slice()) {
        (Some(l), _, _) => {
            let i = host::resolve_label(&model, l)?;
            let name = model.label_name(i).unwrap_or_default().to_string();
            (samples::What::Label(i), name)
        }
        (_, Some(word), _) => {
            vector = Glove::load(&a.data)?.phrase(word)?;
            (samples::What::Vector(&vector), word.clone())
        }
        (_, _, [x, y]) => {
            vector = words::mix(&Glove::load(&a.data)?, x, y, a.mix)?;
            let title = format!("{:.2}·{x} + {:.2}·{y}", 1.0 - a.mix, a.mix);
            (samples::What::Vector(&vector), title)
        }
        _ => return Err("give --label, --word or --words".into()),
    };
    let images = samples::generate(&model, what, a.count as usize, a.seed, a.mean)?;
    let (w, h) = model.image_size();
    let title = if a.mean {
        format!("{title} (mean)")
    } else {
        title.to_string()
    };
    samples::grid(&images, &title, w, h).write_png(&a.out)?;
    println!("{}", a.out.display());
    Ok(())
}
