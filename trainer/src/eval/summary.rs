//! Tables over several runs: metrics grouped by (dataset, model, latent, labels, recipe),
//! as mean ± sample standard deviation over seeds, beside the paper's numbers. A group of
//! one run shows generation accuracy as the paper does: ± over the generation repeats.
//! Groups that differ only in their labels (one-hot against GloVe, the paper's Table 3) are
//! compared with Welch's t-test.

use crate::eval::stats::{mean_std, welch};
use crate::eval::{Metrics, paper_numbers};
use crate::nn::model::Kind;
use crate::train::checkpoint::LabelKind;
use std::collections::BTreeMap;

/// Runs are grouped by dataset, model, latent dimension, recipe name, steps, labels and
/// left-out classes: only seeds differ within a group.
type GroupKey = (String, String, usize, String, u64, String, Vec<String>);

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
                m.labels.name().to_string(),
                m.left_out.clone(),
            ))
            .or_default()
            .push(r);
    }
    let mut t = String::from(
        "| dataset | model | recipe | seeds | steps | reconstruction (nats) | annotation (%) | generation (%) | train time (s) | paper: rec / ann / gen |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for ((dataset, model, latent, recipe, steps, labels, left_out), rs) in &groups {
        let col = |f: fn(&Metrics) -> f64, scale: f64| {
            mean_std(&rs.iter().map(|r| scale * f(&r.0)).collect::<Vec<_>>())
        };
        let (rec, rec_s) = col(|m| m.reconstruction, 1.0);
        // The CVAE annotates nothing.
        let ann = rs
            .iter()
            .map(|r| r.0.annotation_accuracy.map(|a| 100.0 * a))
            .collect::<Option<Vec<f64>>>()
            .map(|a| mean_std(&a));
        let (gen_mean, gen_s) = col(|m| m.generation_accuracy, 100.0);
        let times: Vec<f64> = rs.iter().filter_map(|r| r.1).collect();
        let time = if times.is_empty() {
            "—".to_string()
        } else {
            format!("{:.0}", mean_std(&times).0)
        };
        let seeds: Vec<String> = rs.iter().map(|r| r.0.seed.to_string()).collect();
        let first = &rs.first().expect("non-empty group").0;
        let paper = Kind::from_paper_name(model)
            .and_then(|kind| paper_numbers(first.dataset, kind, *latent, first.labels))
            .filter(|_| left_out.is_empty())
            .map_or("—".to_string(), |p| {
                let a = p.1.map_or("N/A".to_string(), |a| format!("{a:.1}"));
                let g = p.2.map_or("—".to_string(), |g| format!("{g:.1}"));
                format!("{:.1} / {a} / {g}", p.0)
            });
        let mut labels = if first.labels == LabelKind::OneHot {
            String::new()
        } else {
            format!(", {labels}")
        };
        if !left_out.is_empty() {
            labels += &format!(", without {}", left_out.join(", "));
        }
        let pm = |m: f64, s: f64, digits: usize| {
            if rs.len() > 1 {
                format!("{m:.digits$} ± {s:.digits$}")
            } else {
                format!("{m:.digits$}")
            }
        };
        t += &format!(
            "| {dataset} | {model} {latent}D{labels} | {recipe} | {} | {steps} | {} | {} | {} | {time} | {paper} |\n",
            seeds.join(", "),
            pm(rec, rec_s, 1),
            ann.map_or("N/A".to_string(), |(a, s)| pm(a, s, 2)),
            if rs.len() > 1 {
                pm(gen_mean, gen_s, 2)
            } else {
                // One run: the paper's ± (standard deviation over the generation repeats).
                let m = &rs[0].0;
                format!("{gen_mean:.2} ± {:.2}", 100.0 * m.generation_std)
            },
        );
    }
    t + &label_tests(&groups)
}

/// Welch's t-test between each pair of groups that differ only in their labels (GloVe
/// against one-hot), on annotation accuracy and reconstruction; empty when there is none.
fn label_tests(groups: &BTreeMap<GroupKey, Vec<&(Metrics, Option<f64>)>>) -> String {
    let mut t = String::new();
    for (key, glove) in groups {
        if key.5 != LabelKind::Glove.name() {
            continue;
        }
        let mut one_hot_key = key.clone();
        one_hot_key.5 = LabelKind::OneHot.name().to_string();
        let Some(one_hot) = groups.get(&one_hot_key) else {
            continue;
        };
        if t.is_empty() {
            t += "\n| GloVe against one-hot labels (Welch's t-test) | annotation: difference, p | reconstruction: difference, p |\n|---|---|---|\n";
        }
        let test = |f: fn(&Metrics) -> Option<f64>, scale: f64, digits: usize| {
            let a: Vec<f64> = glove
                .iter()
                .filter_map(|r| f(&r.0))
                .map(|v| scale * v)
                .collect();
            let b: Vec<f64> = one_hot
                .iter()
                .filter_map(|r| f(&r.0))
                .map(|v| scale * v)
                .collect();
            let diff = mean_std(&a).0 - mean_std(&b).0;
            match welch(&a, &b) {
                Some(w) => format!("{diff:+.digits$}, p = {:.3}", w.p),
                None if a.len() < 2 || b.len() < 2 => {
                    format!("{diff:+.digits$}, p: needs ≥ 2 seeds each")
                }
                None => format!("{diff:+.digits$}, p: undefined (no spread over seeds)"),
            }
        };
        t += &format!(
            "| {} {} {}D, {} recipe, {} steps | {} | {} |\n",
            key.0,
            key.1,
            key.2,
            key.3,
            key.4,
            test(|m| m.annotation_accuracy, 100.0, 2),
            test(|m| Some(m.reconstruction), 1.0, 1)
        );
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Dataset;

    fn run(seed: u64, labels: LabelKind, ann: f64, left_out: &[&str]) -> (Metrics, Option<f64>) {
        let m = Metrics {
            dataset: Dataset::Fashion,
            model: "PSE*".into(),
            latent: 10,
            recipe: "default".into(),
            labels,
            left_out: left_out.iter().map(|s| s.to_string()).collect(),
            steps: 30000,
            seed,
            reconstruction: 220.0 + seed as f64,
            annotation_accuracy: Some(ann),
            shifted: Vec::new(),
            annotation_per_class: vec![ann; 10],
            generation_accuracy: 0.75,
            generation_std: 0.001,
            generation_repeats: 10,
            generation_samples_per_label: 10000,
            judge_train_accuracy: 0.9,
            judge_test_accuracy: 0.89,
        };
        (m, Some(100.0))
    }

    #[test]
    fn groups_by_labels_and_left_out_and_tests_glove_against_one_hot() {
        let runs = vec![
            run(0, LabelKind::OneHot, 0.800, &[]),
            run(1, LabelKind::OneHot, 0.802, &[]),
            run(2, LabelKind::OneHot, 0.804, &[]),
            run(0, LabelKind::Glove, 0.810, &[]),
            run(1, LabelKind::Glove, 0.812, &[]),
            run(2, LabelKind::Glove, 0.814, &[]),
            run(0, LabelKind::OneHot, 0.7, &["Bag"]),
        ];
        let t = table(&runs);
        let rows: Vec<&str> = t.lines().filter(|l| l.starts_with("| fashion")).collect();
        assert_eq!(rows.len(), 4, "{t}");
        assert!(
            t.contains(
                "| fashion | PSE* 10D | default | 0, 1, 2 | 30000 | 221.0 ± 1.0 | 80.20 ± 0.20 |"
            ),
            "{t}"
        );
        assert!(t.contains("PSE* 10D, GloVe | default | 0, 1, 2"), "{t}");
        // A run trained without a class is its own row, without the paper's numbers.
        assert!(t.contains("PSE* 10D, without Bag | default | 0 |"), "{t}");
        assert!(t.contains("| 219.6 / 81.3 / 76.1 |"), "{t}");
        assert!(t.contains("| 218.8 / 81.9 / — |"), "{t}");
        let bag_row = rows.iter().find(|r| r.contains("without Bag")).unwrap();
        assert!(bag_row.ends_with("| — |"), "{bag_row}");
        // Welch: +1.00 points with equal spreads of 0.2 → t = 1 / sqrt(2·0.04/3) ≈ 6.12,
        // df = 4, two-sided p ≈ 0.0036.
        let w = welch(&[81.0, 81.2, 81.4], &[80.0, 80.2, 80.4]).unwrap();
        assert!(
            (w.df - 4.0).abs() < 1e-9 && (w.p - 0.0036).abs() < 2e-4,
            "{w:?}"
        );
        assert!(
            t.contains(&format!("| +1.00, p = {:.3} | +0.0, p = 1.000 |", w.p)),
            "{t}"
        );
    }
}
