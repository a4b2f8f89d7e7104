//! Word-vector labels on the command line: `pse-trainer words nearest`, and the label
//! vectors `pse-trainer generate --word / --words --mix` decodes (a phrase, or a mix of two).

use crate::data::Dataset;
use crate::data::glove::{Glove, GloveError};
use crate::export::host::{BlobFile, Scratchpad};
use clap::{Args, Subcommand};
use std::error::Error;
use std::path::PathBuf;

/// `pse-trainer words`.
#[derive(Debug, Args)]
pub struct WordsArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: WordsCommand,
}

/// The `words` subcommands.
#[derive(Debug, Subcommand)]
pub enum WordsCommand {
    /// A word's (or phrase's) nearest neighbours by cosine similarity: among the GloVe
    /// vocabulary, among a dataset's or a model's labels and, for a model trained on word
    /// vectors, among its labels in the latent space.
    Nearest(NearestArgs),
}

/// `pse-trainer words nearest`.
#[derive(Debug, Args)]
pub struct NearestArgs {
    /// The word or phrase (a phrase is the mean of its words' vectors).
    pub word: String,
    /// Vocabulary neighbours to list.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub count: u32,
    /// Rank these labels too [default: Fashion-MNIST's, or the model's with --model].
    #[arg(long, value_enum)]
    pub dataset: Option<Dataset>,
    /// A blob: rank its labels; if it has a label encoder (`train --labels glove`), also
    /// by the likelihood of the word's latent mean under each label's Gaussian.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Folder with the GloVe vectors (`scripts/fetch-data.sh --glove`).
    #[arg(long, default_value = "data", env = "PSE_DATA")]
    pub data: PathBuf,
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb).max(f32::MIN_POSITIVE)
}

/// The label vector of `(1 − t)·a + t·b` for two phrases.
pub fn mix(glove: &Glove, a: &str, b: &str, t: f32) -> Result<Vec<f32>, GloveError> {
    let (va, vb) = (glove.phrase(a)?, glove.phrase(b)?);
    Ok(va
        .iter()
        .zip(&vb)
        .map(|(x, y)| (1.0 - t) * x + t * y)
        .collect())
}

/// `pse-trainer words nearest`.
pub fn run_nearest(a: NearestArgs) -> Result<(), Box<dyn Error>> {
    let blob = a.model.as_deref().map(BlobFile::read).transpose()?;
    let model = blob.as_ref().map(BlobFile::model).transpose()?;
    let glove = Glove::load(&a.data)?;
    let v = glove.phrase(&a.word)?;
    println!("nearest GloVe words to {:?} (cosine similarity):", a.word);
    for (w, c) in glove.nearest(&v, a.count as usize) {
        println!("  {c:.3}  {w}");
    }
    let labels: Vec<String> = match (&model, a.dataset) {
        (Some(m), None) => (0..m.label_count())
            .filter_map(|i| m.label_name(i).map(str::to_string))
            .collect(),
        (_, d) => d
            .unwrap_or(Dataset::Fashion)
            .label_names()
            .iter()
            .map(|s| s.to_string())
            .collect(),
    };
    let mut ranked = labels
        .iter()
        .map(|l| Ok((cosine(&v, &glove.phrase(l)?), l.as_str())))
        .collect::<Result<Vec<_>, GloveError>>()?;
    ranked.sort_by(|x, y| y.0.total_cmp(&x.0));
    println!("labels by cosine similarity in the word space:");
    for (c, l) in &ranked {
        println!("  {c:.3}  {l}");
    }
    if let Some(m) = model.as_ref().filter(|m| m.word_dim().is_some()) {
        let mut pad = Scratchpad::for_model(m);
        let g = m.gaussian_from_vector(&v, &mut pad.scratch())?;
        let mut ranked = (0..m.label_count())
            .map(|i| {
                let l = m.label(i)?;
                Ok((
                    l.log_likelihood(g.mu()),
                    m.label_name(i).unwrap_or_default(),
                ))
            })
            .collect::<Result<Vec<_>, pse_runtime::Error>>()?;
        ranked.sort_by(|x, y| y.0.total_cmp(&x.0));
        println!("the model's labels by log N(mu_word; mu_label, var_label) in its latent space:");
        for (ll, l) in &ranked {
            println!("  {ll:9.2}  {l}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_of_simple_vectors() {
        assert!((cosine(&[1.0, 0.0], &[2.0, 0.0]) - 1.0).abs() < 1e-6);
        assert!(cosine(&[1.0, 0.0], &[0.0, 3.0]).abs() < 1e-6);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
    }
}
