//! Enrollment on the host with `pse-runtime`'s own arithmetic: a label Gaussian from a few
//! images ([`pse_runtime::Enroller`], the code a device runs), a blob with that label added
//! to its table, and the enrollment experiment: a class the model never saw, enrolled from
//! `k` images, with the test set scored before and after.

use crate::data::Labelled;
use crate::export::host::{self, Score, Scratchpad, encode_blob};
use crate::nn::rng::{Rng, Stream};
use pse_runtime::payload::Labels;
use pse_runtime::{Image, LabelGaussian, Model};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A label could not be enrolled or added to a blob.
#[derive(Debug)]
pub enum EnrollError {
    /// The runtime refused (a bad blob, an image of the wrong size, a full label table…).
    Runtime(pse_runtime::Error),
    /// The new label's name is empty, holds a newline, or is already one of the blob's.
    Name(String),
    /// The experiment cannot run as asked (the reason is in the message).
    Plan(String),
}

impl fmt::Display for EnrollError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnrollError::Runtime(e) => write!(f, "{e} (runtime error {e:?})"),
            EnrollError::Name(s) | EnrollError::Plan(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for EnrollError {}

impl From<pse_runtime::Error> for EnrollError {
    fn from(e: pse_runtime::Error) -> Self {
        EnrollError::Runtime(e)
    }
}

/// Default [`Estimate::prior_weight`]: chosen by re-enrolling "two" and "four" (5 images,
/// 10 draws) into the MNIST 10D model exported without them, whose other labels were all
/// trained: weight 0 → 77 %, 5 → 88–91 %, 10 → 88–92 %, 20 → 87–92 % annotation accuracy
/// on their test images.
pub const DEFAULT_PRIOR_WEIGHT: f32 = 10.0;

/// How an enrolled label's variance is estimated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Variance floor.
    pub var_floor: f32,
    /// Weight, in images, of the prior variance (the mean of the model's label variances)
    /// the estimate is shrunk toward; 0 for none.
    pub prior_weight: f32,
}

impl Default for Estimate {
    /// The runtime's default floor and [`DEFAULT_PRIOR_WEIGHT`].
    fn default() -> Self {
        Estimate {
            var_floor: pse_runtime::enroll::DEFAULT_VAR_FLOOR,
            prior_weight: DEFAULT_PRIOR_WEIGHT,
        }
    }
}

/// Encodes `images` with the runtime and enrolls them into one label Gaussian
/// ([`pse_runtime::Enroller`]), estimated as `est` says.
pub fn enroll<'x>(
    model: &Model<'_>,
    pad: &mut Scratchpad,
    images: impl IntoIterator<Item = Image<'x>>,
    est: Estimate,
) -> Result<LabelGaussian, EnrollError> {
    let mut e = model.enroller();
    for image in images {
        model.enroll_image(&mut e, image, &mut pad.scratch())?;
    }
    if est.prior_weight == 0.0 {
        return Ok(e.finish(est.var_floor)?);
    }
    if model.label_count() == 0 {
        return Err(EnrollError::Plan(
            "the model has no labels to take a variance prior from: use prior weight 0 \
             (--prior-weight 0)"
                .into(),
        ));
    }
    let mut prior = vec![0.0f32; model.latent_dim()];
    model.mean_label_variance(&mut prior)?;
    Ok(e.finish_with_prior(est.var_floor, &prior, est.prior_weight)?)
}

/// The blob `bytes` with `label` appended to its label table as `name`: the same model,
/// threshold and weights, one more label (its constants computed by
/// `LabelGaussian::new`, the computation `Model::from_bytes` checks), validated by the
/// runtime.
pub fn with_label(bytes: &[u8], name: &str, label: &LabelGaussian) -> Result<Vec<u8>, EnrollError> {
    let model = Model::from_bytes(bytes)?;
    if name.is_empty() || name.contains('\n') {
        return Err(EnrollError::Name(format!(
            "label name {name:?}: a name must be non-empty and on one line"
        )));
    }
    if model.label_index(name).is_some() {
        return Err(EnrollError::Name(format!(
            "the model already has a label named {name:?}"
        )));
    }
    let d = model.latent_dim();
    if label.dim() != d {
        return Err(pse_runtime::Error::LatentMismatch {
            expected: d,
            found: label.dim(),
        }
        .into());
    }
    // The stored rows stay as they are (validation checked their constants); the new row's
    // constants come from `LabelGaussian::new`, the computation validation repeats.
    let p = *model.payload();
    let append = |rows: &[u8], new: &[f32]| -> Vec<u8> {
        rows.iter()
            .copied()
            .chain(new.iter().flat_map(|v| v.to_le_bytes()))
            .collect()
    };
    let mu = append(p.labels.mu, label.mu());
    let logvar = append(p.labels.logvar, label.logvar());
    let inv_var = append(p.labels.inv_var, label.inv_var());
    let log_norm = append(p.labels.log_norm, &[label.log_norm()]);
    let count = model.label_count() + 1;
    let names = if model.label_count() == 0 {
        name.to_string()
    } else {
        format!("{}\n{name}", p.labels.names)
    };
    let mut q = p;
    q.labels = Labels {
        count: count as u32,
        names: &names,
        mu: &mu,
        logvar: &logvar,
        inv_var: &inv_var,
        log_norm: &log_norm,
    };
    Ok(encode_blob(&q)?)
}

/// The blob `bytes` with its open-world bounds (if any) lowered just enough that every one
/// of `images` passes them: the enrolled examples are known images, although the decoder,
/// trained without their class, may reconstruct them poorly. Otherwise the same blob.
pub fn admitting(bytes: &[u8], images: &[Image<'_>]) -> Result<Vec<u8>, EnrollError> {
    let model = Model::from_bytes(bytes)?;
    let Some(mut ow) = model.open_world() else {
        return Ok(bytes.to_vec());
    };
    let mut pad = Scratchpad::for_model(&model);
    let mut recon = vec![0.0f32; model.pixels()];
    for &image in images {
        let s = model.image_scores(image, &mut pad.scratch(), &mut recon)?;
        ow.reconstruction_low = ow.reconstruction_low.min(s.reconstruction);
        ow.ratio_low = ow.ratio_low.min(s.ratio());
    }
    if Some(ow) == model.open_world() {
        return Ok(bytes.to_vec());
    }
    let mut q = *model.payload();
    q.open_world = Some(ow);
    Ok(encode_blob(&q)?)
}

/// What the enrollment experiment does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The class to enroll: its id in the dataset and its name (the blob must not have it).
    pub class: usize,
    /// Its name, which the enrolled label gets.
    pub name: String,
    /// Images per enrollment (`k`).
    pub shots: usize,
    /// Independent enrollments, each from its own random `k` images.
    pub draws: u32,
    /// Seed of the draws.
    pub seed: u64,
    /// How the enrolled Gaussian's variance is estimated.
    pub estimate: Estimate,
}

/// Accuracy on the enrolled class and on every other class, from one [`Score`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Split {
    /// Annotation accuracy on the enrolled class's test images.
    pub class_accuracy: f64,
    /// Share of the enrolled class's test images called unknown.
    pub class_unknown: f64,
    /// Annotation accuracy on the other classes' test images.
    pub others_accuracy: f64,
    /// Annotation accuracy on all test images.
    pub all_accuracy: f64,
}

impl Split {
    fn of(s: &Score, counts: &[usize], class: usize) -> Split {
        let (mut hits, mut n) = (0.0, 0usize);
        for (c, (&acc, &k)) in s.annotation_per_class.iter().zip(counts).enumerate() {
            if c != class {
                hits += acc * k as f64;
                n += k;
            }
        }
        Split {
            class_accuracy: s.annotation_per_class.get(class).copied().unwrap_or(0.0),
            class_unknown: s.unknown_per_class.get(class).copied().unwrap_or(0.0),
            others_accuracy: hits / n.max(1) as f64,
            all_accuracy: s.annotation_accuracy,
        }
    }
}

/// The experiment's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Experiment {
    /// What was done.
    pub plan: Plan,
    /// Test images per class.
    pub test_counts: Vec<usize>,
    /// The blob as it was (no label for the class).
    pub before: Score,
    /// The blob plus the enrolled label, one score per draw.
    pub after: Vec<Score>,
    /// `before` reduced to the class and the others.
    pub before_split: Split,
    /// `after` reduced the same way, per draw.
    pub after_split: Vec<Split>,
    /// Training-image indices of each draw's `k` images.
    pub drawn: Vec<Vec<usize>>,
}

/// Runs the experiment: scores `test` with the blob `bytes`, then `plan.draws` times enrolls
/// the class from `plan.shots` random images of it in `pool` (through the runtime), adds the
/// label to the blob and scores `test` again. `class_names` names the dataset's class ids.
pub fn experiment(
    bytes: &[u8],
    pool: &Labelled,
    test: &Labelled,
    class_names: &[&str],
    plan: &Plan,
) -> Result<Experiment, EnrollError> {
    let model = Model::from_bytes(bytes)?;
    if model.label_index(&plan.name).is_some() {
        return Err(EnrollError::Plan(format!(
            "the model already has the label {:?}: export it with --without-label {} to \
             enroll it",
            plan.name, plan.name
        )));
    }
    let candidates: Vec<usize> = (0..pool.len())
        .filter(|&i| pool.y[i] as usize == plan.class)
        .collect();
    if plan.shots == 0 || candidates.len() < plan.shots {
        return Err(EnrollError::Plan(format!(
            "{} images of {:?} to draw from, {} asked for per enrollment",
            candidates.len(),
            plan.name,
            plan.shots
        )));
    }
    let mut test_counts = vec![0usize; class_names.len()];
    for &c in &test.y {
        if let Some(k) = test_counts.get_mut(c as usize) {
            *k += 1;
        }
    }
    let mut pad = Scratchpad::for_model(&model);
    let before = host::score(&model, &mut pad, test.x.view(), &test.y, class_names)?;
    let (mut after, mut drawn) = (Vec::new(), Vec::new());
    for draw in 0..plan.draws {
        let order = Rng::new(plan.seed, Stream::Enroll, draw as u64).permutation(candidates.len());
        let picked: Vec<usize> = order[..plan.shots]
            .iter()
            .map(|&j| candidates[j as usize])
            .collect();
        let rows: Vec<_> = picked.iter().map(|&i| pool.x.row(i)).collect();
        let images: Vec<Image<'_>> = rows
            .iter()
            .map(|r| Image::F32(r.as_slice().expect("rows of a standard-layout array")))
            .collect();
        let label = enroll(&model, &mut pad, images.iter().copied(), plan.estimate)?;
        let grown = admitting(&with_label(bytes, &plan.name, &label)?, &images)?;
        let m = Model::from_bytes(&grown)?;
        after.push(host::score(
            &m,
            &mut pad,
            test.x.view(),
            &test.y,
            class_names,
        )?);
        drawn.push(picked);
    }
    Ok(Experiment {
        before_split: Split::of(&before, &test_counts, plan.class),
        after_split: after
            .iter()
            .map(|s| Split::of(s, &test_counts, plan.class))
            .collect(),
        plan: plan.clone(),
        test_counts,
        before,
        after,
        drawn,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::Exported;
    use crate::export::precision::Precision;
    use crate::nn::model::{Arch, Kind, Net};
    use pse_runtime::payload::Encoding;
    use pse_runtime::{AnnotateOut, LabelTable};

    /// A small random model with three labels, as an f32 blob.
    fn tiny_blob() -> Vec<u8> {
        let arch = Arch {
            kind: Kind::PseStar,
            latent: 3,
            label_dim: 3,
            classes: 3,
            pixels: 16,
            hidden: [8, 4],
        };
        let net = Net::new(arch);
        let ck = crate::train::checkpoint::Checkpoint {
            config: crate::train::checkpoint::RunConfig {
                dataset: crate::data::Dataset::Mnist,
                arch,
                labels: crate::train::checkpoint::LabelKind::OneHot,
                seed: 1,
                recipe: crate::train::recipe::Recipe::paper(),
                left_out: Vec::new(),
            },
            step: 0,
            params: net.layout.init(4),
            adam: crate::nn::adam::Adam::new(net.n_params()),
            average: None,
        };
        let mut e = Exported::from_checkpoint(
            &ck,
            &Precision::uniform(&net, Encoding::F32),
            crate::objectives::pse::one_hot_table(3).view(),
        )
        .unwrap();
        e.without_labels(&[2]);
        e.blob(-1e9).unwrap()
    }

    fn image(k: usize) -> Vec<f32> {
        (0..16)
            .map(|i| ((i * 7 + k * 3) % 11) as f32 / 10.0)
            .collect()
    }

    /// The label written into the blob scores exactly like the same label held in a
    /// caller-owned table (what a device does), for every image.
    #[test]
    fn blob_label_equals_table_label() {
        let bytes = tiny_blob();
        let model = Model::from_bytes(&bytes).unwrap();
        let mut pad = Scratchpad::for_model(&model);
        let imgs: Vec<Vec<f32>> = (0..5).map(image).collect();
        let est = Estimate {
            var_floor: 1e-3,
            prior_weight: 2.0,
        };
        let g = enroll(&model, &mut pad, imgs.iter().map(|v| Image::F32(v)), est).unwrap();
        let grown = with_label(&bytes, "two", &g).unwrap();
        let m2 = Model::from_bytes(&grown).unwrap();
        assert_eq!(m2.label_count(), 3);
        assert_eq!(m2.label_name(2), Some("two"));
        assert_eq!(m2.unknown_threshold(), model.unknown_threshold());
        let mut table = LabelTable::<2>::new();
        table.push(g).unwrap();
        for k in 0..20 {
            let x = image(k + 10);
            let (mut a, mut b) = (AnnotateOut::new(), AnnotateOut::new());
            let va = model
                .annotate(&x[..], table.as_slice(), &mut pad.scratch(), &mut a)
                .unwrap();
            let vb = m2
                .annotate(&x[..], &[], &mut pad.scratch(), &mut b)
                .unwrap();
            assert_eq!(va, vb);
            let bits = |o: &AnnotateOut| {
                o.log_likelihoods()
                    .iter()
                    .map(|v| v.to_bits())
                    .collect::<Vec<_>>()
            };
            assert_eq!(bits(&a), bits(&b));
        }
    }

    #[test]
    fn bad_names_and_dimensions_are_refused() {
        let bytes = tiny_blob();
        let g = LabelGaussian::new(&[0.0; 3], &[0.0; 3]).unwrap();
        for bad in ["", "a\nb", "zero"] {
            assert!(
                matches!(with_label(&bytes, bad, &g), Err(EnrollError::Name(_))),
                "{bad:?}"
            );
        }
        let g2 = LabelGaussian::new(&[0.0; 2], &[0.0; 2]).unwrap();
        assert!(matches!(
            with_label(&bytes, "new", &g2),
            Err(EnrollError::Runtime(
                pse_runtime::Error::LatentMismatch { .. }
            ))
        ));
        let mut broken = bytes.clone();
        broken[20] ^= 1;
        assert!(matches!(
            with_label(&broken, "new", &g),
            Err(EnrollError::Runtime(_))
        ));
    }

    #[test]
    fn experiment_draws_distinct_images_of_the_class_and_scores() {
        let bytes = tiny_blob();
        let n = 60;
        let pool = Labelled {
            x: ndarray::Array2::from_shape_fn((n, 16), |(i, j)| image(i)[j]),
            y: (0..n).map(|i| (i % 3) as u8).collect(),
        };
        let plan = Plan {
            class: 2,
            name: "two".into(),
            shots: 5,
            draws: 3,
            seed: 7,
            estimate: Estimate {
                var_floor: 1e-3,
                prior_weight: 0.0,
            },
        };
        let names = ["zero", "one", "two"];
        let e = experiment(&bytes, &pool, &pool, &names, &plan).unwrap();
        assert_eq!(e.after.len(), 3);
        assert_eq!(e.test_counts, vec![20, 20, 20]);
        // Before enrollment the model has no label "two": none of its images is right.
        assert_eq!(e.before_split.class_accuracy, 0.0);
        for d in &e.drawn {
            let mut s = d.clone();
            s.sort_unstable();
            s.dedup();
            assert_eq!(s.len(), 5);
            assert!(d.iter().all(|&i| pool.y[i] == 2));
        }
        assert_ne!(e.drawn[0], e.drawn[1]);
        // Same plan, same draws and scores.
        assert_eq!(experiment(&bytes, &pool, &pool, &names, &plan).unwrap(), e);
        let too_many = Plan {
            shots: 21,
            ..plan.clone()
        };
        assert!(matches!(
            experiment(&bytes, &pool, &pool, &names, &too_many),
            Err(EnrollError::Plan(_))
        ));
        let known = Plan {
            name: "one".into(),
            class: 1,
            ..plan
        };
        assert!(matches!(
            experiment(&bytes, &pool, &pool, &names, &known),
            Err(EnrollError::Plan(_))
        ));
    }
}
