//! The pictures people look at: samples per label (paper Fig. 3), interpolation strips
//! between labels (Fig. 4b) and the latent space coloured by label (Fig. 2, 7–10); for models
//! trained on word vectors also compositions of two labels' words (Fig. 5) and words never
//! seen in training (Fig. 6).

use crate::data::glove::Glove;
use crate::data::words;
use crate::data::{self, Dataset, Split};
use crate::eval::infer;
use crate::nn::mlp::MlpCache;
use crate::nn::model::Net;
use crate::nn::rng::{Rng, Stream};
use crate::objectives::vae::{concat, gather, with_labels};
use crate::report::picture::{Canvas, PictureError, image_grid, scatter};
use crate::train::checkpoint::Checkpoint;
use crate::train::checkpoint::LabelKind;
use crate::train::{label_table, word_table};
use ndarray::{Array2, ArrayView2};
use std::path::{Path, PathBuf};

/// Label pairs drawn as interpolation strips: visual neighbours, as in the paper's Fig. 4b.
pub fn interpolation_pairs(dataset: Dataset) -> &'static [(usize, usize)] {
    match dataset {
        Dataset::Mnist => &[(1, 7), (4, 9), (3, 8), (0, 6), (5, 3), (2, 7)],
        // Sneaker → Ankle boot, T-shirt/top → Shirt, Pullover → Coat, Sandal → Sneaker, Trouser → Dress
        Dataset::Fashion => &[(7, 9), (0, 6), (2, 4), (5, 7), (1, 3)],
    }
}

/// Columns of the sample grid and steps of an interpolation strip.
pub const COLUMNS: usize = 12;

/// Label pairs whose word vectors are mixed in `compositions.png` (the paper's Fig. 5 uses
/// Sneaker / Ankle boot and T-shirt / Shirt).
pub fn composition_pairs(dataset: Dataset) -> &'static [(usize, usize)] {
    match dataset {
        Dataset::Mnist => &[(1, 7), (4, 9), (3, 8)],
        Dataset::Fashion => &[(7, 9), (0, 6), (1, 3), (5, 7)],
    }
}

/// Words that are no training label, drawn in `unseen-words.png` (the paper's Fig. 6).
pub fn unseen_words(dataset: Dataset) -> &'static [&'static str] {
    match dataset {
        Dataset::Mnist => &["ten", "eleven", "twelve", "twenty", "hundred", "seventh"],
        Dataset::Fashion => &[
            "jeans", "sweater", "blouse", "backpack", "sneakers", "heels", "boots", "skirt",
        ],
    }
}

/// Writes `samples.png`, `interpolation.png` and `latent.png` into `dir`, and for runs trained
/// on word vectors `compositions.png` and `unseen-words.png`; returns their paths.
pub fn plot(
    ck: &Checkpoint,
    data_dir: &Path,
    dir: &Path,
) -> Result<Vec<PathBuf>, Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let cfg = &ck.config;
    let net = Net::new(cfg.arch);
    let p = ck.model_params();
    let names = label_names(cfg.dataset);
    let glove = match cfg.labels {
        LabelKind::OneHot => None,
        LabelKind::Glove => Some(Glove::load(data_dir)?),
    };
    let table = match &glove {
        None => label_table(cfg, data_dir)?,
        Some(g) => word_table(g, &cfg.dataset.label_names())?,
    };
    let d = cfg.arch.latent;
    // The CVAE has no label Gaussians: its codes come from the prior, with the label
    // vector beside them in the decoder's input.
    let cvae = !cfg.arch.kind.has_label_encoder();
    let (lab_mu, lab_lv) = if cvae {
        let zeros = Array2::<f32>::zeros((table.nrows(), d));
        (zeros.clone(), zeros)
    } else {
        infer::label_gaussians(&net, p, table.view())
    };
    let decoder_input =
        |z: Array2<f32>, l: Array2<f32>| if cvae { concat(z.view(), l.view()) } else { z };
    let mut cache = MlpCache::default();
    let mut written = Vec::new();

    // Samples: column 0 decodes the label's mean, the rest z ~ q(z|l).
    let mut z = Array2::<f32>::zeros((names.len() * COLUMNS, d));
    let rows: Vec<u8> = (0..names.len() * COLUMNS)
        .map(|i| (i / COLUMNS) as u8)
        .collect();
    let mut rng = Rng::new(cfg.seed, Stream::Eval, u64::MAX);
    for c in 0..names.len() {
        for k in 0..COLUMNS {
            let mut row = z.row_mut(c * COLUMNS + k);
            let mut e = vec![0.0f32; d];
            if k > 0 {
                rng.fill_normal(&mut e);
            }
            for j in 0..d {
                row[j] = lab_mu[[c, j]] + (0.5 * lab_lv[[c, j]]).exp() * e[j];
            }
        }
    }
    let z = decoder_input(z, gather(table.view(), &rows));
    let images = infer::decode(&net, p, z.view(), &mut cache);
    written.push(save(
        image_grid(&grid_rows(names.clone(), &images), 28, 28, 2),
        &dir.join("samples.png"),
    )?);

    // Interpolation strips between label means (the CVAE: between label vectors, z = 0).
    let pairs = interpolation_pairs(cfg.dataset);
    let mut z = Array2::<f32>::zeros((pairs.len() * COLUMNS, d));
    let mut l = Array2::<f32>::zeros((pairs.len() * COLUMNS, table.ncols()));
    for (i, &(a, b)) in pairs.iter().enumerate() {
        for k in 0..COLUMNS {
            let t = k as f32 / (COLUMNS - 1) as f32;
            for j in 0..d {
                z[[i * COLUMNS + k, j]] = (1.0 - t) * lab_mu[[a, j]] + t * lab_mu[[b, j]];
            }
            for j in 0..table.ncols() {
                l[[i * COLUMNS + k, j]] = (1.0 - t) * table[[a, j]] + t * table[[b, j]];
            }
        }
    }
    let images = infer::decode(&net, p, decoder_input(z, l).view(), &mut cache);
    let strip_names = pairs
        .iter()
        .map(|&(a, b)| format!("{} -> {}", names[a], names[b]))
        .collect();
    written.push(save(
        image_grid(&grid_rows(strip_names, &images), 28, 28, 2),
        &dir.join("interpolation.png"),
    )?);

    // Latent scatter of the test images' means (projected on 2 principal axes when d > 2).
    written.push(save(
        latent_scatter(ck, data_dir, 800)?,
        &dir.join("latent.png"),
    )?);
    if let Some(glove) = &glove {
        written.extend(word_pictures(ck, glove, dir)?);
    }
    Ok(written)
}

fn label_names(dataset: Dataset) -> Vec<String> {
    dataset
        .label_names()
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// The latent scatter of the test images' means (paper Fig. 2), projected on 2 principal
/// axes when `d > 2`; the CVAE's means are of `q(z|x,l)`.
pub fn latent_scatter(
    ck: &Checkpoint,
    data_dir: &Path,
    size: u32,
) -> Result<Canvas, Box<dyn std::error::Error>> {
    let cfg = &ck.config;
    let net = Net::new(cfg.arch);
    let test = data::load(data_dir, cfg.dataset, Split::Test)?;
    let cond = if cfg.arch.kind.has_label_encoder() {
        None
    } else {
        Some(gather(label_table(cfg, data_dir)?.view(), &test.y))
    };
    let input = with_labels(test.x.view(), cond.as_ref().map(|l| l.view()));
    let (mu, _) = infer::encode(&net, ck.model_params(), input.view());
    let (points, how) = project_2d(mu.view());
    let classes: Vec<u16> = test.y.iter().map(|&y| y as u16).collect();
    let names = label_names(cfg.dataset);
    let title = format!(
        "{} {}D, {}: test-image means{how}",
        cfg.arch.kind.paper_name(),
        cfg.arch.latent,
        cfg.dataset
    );
    Ok(scatter(&points, &classes, &names, &title, size)?)
}

/// `compositions.png` (each row: the mean image of `(1 − t)·a + t·b` for the word vectors of
/// two labels, t from 0 to 1) and `unseen-words.png` (each row: a word that is no label, its
/// mean then samples of `q(z|word)`).
fn word_pictures(
    ck: &Checkpoint,
    glove: &Glove,
    dir: &Path,
) -> Result<Vec<PathBuf>, Box<dyn std::error::Error>> {
    let cfg = &ck.config;
    let net = Net::new(cfg.arch);
    let p = ck.model_params();
    let names = cfg.dataset.label_names();
    let mut cache = MlpCache::default();
    let mut written = Vec::new();

    let pairs = composition_pairs(cfg.dataset);
    let mut vectors = Array2::<f32>::zeros((pairs.len() * COLUMNS, crate::data::glove::DIM));
    for (i, &(a, b)) in pairs.iter().enumerate() {
        for k in 0..COLUMNS {
            let t = k as f32 / (COLUMNS - 1) as f32;
            let v = words::mix(glove, names[a], names[b], t)?;
            vectors
                .row_mut(i * COLUMNS + k)
                .assign(&ndarray::aview1(&v));
        }
    }
    let (mu, _) = infer::label_gaussians(&net, p, vectors.view());
    let images = infer::decode(&net, p, mu.view(), &mut cache);
    let rows = pairs
        .iter()
        .map(|&(a, b)| format!("{} + {}", names[a], names[b]))
        .collect();
    written.push(save(
        image_grid(&grid_rows(rows, &images), 28, 28, 2),
        &dir.join("compositions.png"),
    )?);

    let unseen = unseen_words(cfg.dataset);
    let table = word_table(glove, unseen)?;
    let (mu, lv) = infer::label_gaussians(&net, p, table.view());
    let d = cfg.arch.latent;
    let mut z = Array2::<f32>::zeros((unseen.len() * COLUMNS, d));
    let mut rng = Rng::new(cfg.seed, Stream::Eval, u64::MAX - 1);
    let mut e = vec![0.0f32; d];
    for w in 0..unseen.len() {
        for k in 0..COLUMNS {
            e.fill(0.0);
            if k > 0 {
                rng.fill_normal(&mut e);
            }
            for j in 0..d {
                z[[w * COLUMNS + k, j]] = mu[[w, j]] + (0.5 * lv[[w, j]]).exp() * e[j];
            }
        }
    }
    let images = infer::decode(&net, p, z.view(), &mut cache);
    let rows = unseen.iter().map(|w| w.to_string()).collect();
    written.push(save(
        image_grid(&grid_rows(rows, &images), 28, 28, 2),
        &dir.join("unseen-words.png"),
    )?);
    Ok(written)
}

/// Rows of [`COLUMNS`] consecutive images each, labelled with `names` in order.
fn grid_rows(names: Vec<String>, images: &Array2<f32>) -> Vec<(String, Vec<&[f32]>)> {
    let pixels = images.as_slice().expect("contiguous");
    let mut chunks = pixels.chunks_exact(images.ncols());
    names
        .into_iter()
        .map(|n| (n, chunks.by_ref().take(COLUMNS).collect()))
        .collect()
}

fn save(c: crate::report::picture::Canvas, path: &Path) -> Result<PathBuf, PictureError> {
    c.write_png(path)?;
    Ok(path.to_path_buf())
}

/// Points in 2-D: the coordinates themselves for d ≤ 2, else the projection on the two
/// leading principal axes (power iteration with deflation, in `f64`).
pub fn project_2d(x: ArrayView2<f32>) -> (Vec<[f32; 2]>, &'static str) {
    let (n, d) = x.dim();
    if d <= 2 {
        let pts = x
            .rows()
            .into_iter()
            .map(|r| [r[0], if d == 2 { r[1] } else { 0.0 }])
            .collect();
        return (pts, "");
    }
    let mean: Vec<f64> = (0..d)
        .map(|j| x.column(j).iter().map(|&v| v as f64).sum::<f64>() / n as f64)
        .collect();
    let mut cov = vec![vec![0.0f64; d]; d];
    for r in x.rows() {
        for i in 0..d {
            for j in 0..d {
                cov[i][j] += (r[i] as f64 - mean[i]) * (r[j] as f64 - mean[j]);
            }
        }
    }
    let mut axes: Vec<Vec<f64>> = Vec::new();
    for _ in 0..2 {
        let mut v: Vec<f64> = (0..d).map(|i| 1.0 + i as f64 * 0.1).collect();
        for _ in 0..200 {
            let mut w: Vec<f64> = (0..d)
                .map(|i| (0..d).map(|j| cov[i][j] * v[j]).sum())
                .collect();
            for a in &axes {
                let dot: f64 = w.iter().zip(a).map(|(x, y)| x * y).sum();
                w.iter_mut().zip(a).for_each(|(x, y)| *x -= dot * y);
            }
            let norm = w.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-30);
            v = w.into_iter().map(|x| x / norm).collect();
        }
        axes.push(v);
    }
    let pts = x
        .rows()
        .into_iter()
        .map(|r| {
            let c =
                |a: &Vec<f64>| (0..d).map(|j| (r[j] as f64 - mean[j]) * a[j]).sum::<f64>() as f32;
            [c(&axes[0]), c(&axes[1])]
        })
        .collect();
    (pts, ", 2 principal axes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_finds_the_spread_axis() {
        // Points spread along (1, 1, 0) with tiny noise elsewhere.
        let x = Array2::from_shape_fn((200, 3), |(i, j)| {
            let t = i as f32 / 10.0 - 10.0;
            match j {
                0 | 1 => t,
                _ => ((i * 7) % 5) as f32 * 0.01,
            }
        });
        let (pts, how) = project_2d(x.view());
        assert!(!how.is_empty());
        let spread0 = pts.iter().map(|p| p[0].abs()).fold(0.0, f32::max);
        let spread1 = pts.iter().map(|p| p[1].abs()).fold(0.0, f32::max);
        assert!(spread0 > 10.0 && spread1 < 0.1, "{spread0} {spread1}");
    }
}
