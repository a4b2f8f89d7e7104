//! Tables over several runs: metrics grouped by (dataset, model, latent, recipe), as
//! mean ± sample standard deviation over seeds, beside the paper's numbers. A group of one
//! run shows generation accuracy as the paper does: ± over the generation repeats.

use crate::eval::{Metrics, paper_numbers};
use crate::model::Kind;
use std::collections::BTreeMap;

/// Mean and sample standard deviation (0 for fewer than two values).
pub fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n.max(1.0);
    if v.len() < 2 {
        return (mean, 0.0);
    }
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// Runs are grouped by dataset, model, latent dimension, recipe name and steps: only
/// seeds differ within a group.
type GroupKey = (String, String, usize, String, u64);

/// A Markdown table with one row per group of runs (and the wall time of training when
/// given, in seconds, in the same order as `runs`).
pub fn table(runs: &[(Metrics, Option<f64>)]) -> String {
    let mut groups: BTreeMap<GroupKey, Vec<&(Metrics, Option<f64>)>> = BTreeMap::new();
    for r in runs {
        let m = &r.0;
        groups
            .entry((
                m.dataset.to_string(),
                m.model.clone(),
                m.latent,
                m.recipe.clone(),
                m.steps,
            ))
            .or_default()
            .push(r);
    }
    let mut t = String::from(
        "| dataset | model | recipe | seeds | steps | reconstruction (nats) | annotation (%) | generation (%) | train time (s) | paper: rec / ann / gen |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for ((dataset, model, latent, recipe, steps), rs) in groups {
        let col = |f: fn(&Metrics) -> f64, scale: f64| {
            mean_std(&rs.iter().map(|r| scale * f(&r.0)).collect::<Vec<_>>())
        };
        let (rec, rec_s) = col(|m| m.reconstruction, 1.0);
        let (ann, ann_s) = col(|m| m.annotation_accuracy, 100.0);
        let (gen_mean, gen_s) = col(|m| m.generation_accuracy, 100.0);
        let times: Vec<f64> = rs.iter().filter_map(|r| r.1).collect();
        let time = if times.is_empty() {
            "—".to_string()
        } else {
            format!("{:.0}", mean_std(&times).0)
        };
        let seeds: Vec<String> = rs.iter().map(|r| r.0.seed.to_string()).collect();
        let kind = if model == "PSE" {
            Kind::Pse
        } else {
            Kind::PseStar
        };
        let ds = rs.first().expect("non-empty group").0.dataset;
        let paper = paper_numbers(ds, kind, latent).map_or("—".to_string(), |p| {
            format!("{:.1} / {:.1} / {:.1}", p.0, p.1, p.2)
        });
        let pm = |m: f64, s: f64, digits: usize| {
            if rs.len() > 1 {
                format!("{m:.digits$} ± {s:.digits$}")
            } else {
                format!("{m:.digits$}")
            }
        };
        t += &format!(
            "| {dataset} | {model} {latent}D | {recipe} | {} | {steps} | {} | {} | {} | {time} | {paper} |\n",
            seeds.join(", "),
            pm(rec, rec_s, 1),
            pm(ann, ann_s, 2),
            if rs.len() > 1 {
                pm(gen_mean, gen_s, 2)
            } else {
                // One run: the paper's ± (standard deviation over the generation repeats).
                let m = &rs[0].0;
                format!("{gen_mean:.2} ± {:.2}", 100.0 * m.generation_std)
            },
        );
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_std() {
        let (m, s) = mean_std(&[1.0, 2.0, 3.0]);
        assert!((m - 2.0).abs() < 1e-12 && (s - 1.0).abs() < 1e-12);
        assert_eq!(mean_std(&[5.0]), (5.0, 0.0));
    }
}
