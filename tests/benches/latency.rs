//! Batch-1 latency of the runtime against tract on the same model, in one process:
//! `cargo bench -p pse-tests --bench latency`.
//!
//! Model: `models/mnist-pse-star-10d` (or `$PSE_BENCH_STEM`, one of the committed stems);
//! input: the first image of its test set. tract runs the float ONNX references with the
//! batch fixed to 1, optimised; the runtime runs each committed blob (f32, f16, i8).
//! Criterion measures every case; a table at the end gives medians and the ratio
//! tract / runtime per encoding (> 1: the runtime is faster).

use criterion::{Criterion, criterion_group, criterion_main};
use pse_runtime::{AnnotateOut, Model, Sample, Scratch};
use pse_tests::{COMMITTED, Committed, data_dir, load_tract_fixed};
use pse_trainer::data::{self, Split};
use pse_trainer::export::onnx::files;
use std::hint::black_box;
use std::time::Instant;
use tract_onnx::prelude::*;

fn committed() -> Committed {
    let stem = std::env::var("PSE_BENCH_STEM").unwrap_or_else(|_| COMMITTED[0].stem.into());
    let m = *COMMITTED
        .iter()
        .find(|m| m.stem == stem)
        .unwrap_or_else(|| panic!("PSE_BENCH_STEM={stem} is not a committed model"));
    m.require();
    m
}

/// Median seconds per call of `f` over 11 rounds of about 20 ms each, after a warm-up.
fn per_call(mut f: impl FnMut()) -> f64 {
    let t = Instant::now();
    let mut warm = 0u32;
    while t.elapsed().as_secs_f64() < 0.2 {
        f();
        warm += 1;
    }
    let calls = ((0.02 / (0.2 / warm as f64)) as u32).max(1);
    let mut rounds: Vec<f64> = (0..11)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..calls {
                f();
            }
            t.elapsed().as_secs_f64() / calls as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[rounds.len() / 2]
}

fn bench(c: &mut Criterion) {
    let m = committed();
    let test = data::load(&data_dir(), m.dataset, Split::Test)
        .unwrap_or_else(|e| panic!("the benchmark reads the first test image: {e}"));
    let image: Vec<f32> = test.x.row(0).to_vec();
    let pixels = image.len();
    let dir = m.reference_dir();

    let blobs: Vec<(&str, Vec<u8>)> = m
        .encodings
        .iter()
        .map(|e| (*e, std::fs::read(m.blob(e)).expect("blob")))
        .collect();
    let models: Vec<(&str, Model)> = blobs
        .iter()
        .map(|(e, b)| (*e, Model::from_bytes(b).expect("valid blob")))
        .collect();
    let d = models[0].1.latent_dim();

    let annotator = load_tract_fixed(&dir.join(files::ANNOTATOR), 1).expect("tract");
    let encoder = load_tract_fixed(&dir.join(files::ENCODER), 1).expect("tract");
    let decoder = load_tract_fixed(&dir.join(files::DECODER), 1).expect("tract");
    let img_t: TValue = Tensor::from_shape(&[1, pixels], &image)
        .expect("tensor")
        .into();
    let z: Vec<f32> = models[0].1.label(0).expect("label 0").mu().to_vec();
    let z_t: TValue = Tensor::from_shape(&[1, d], &z).expect("tensor").into();

    let need = models
        .iter()
        .map(|(_, m)| m.scratch_len())
        .fold((0, 0), |(a, q), n| (a.max(n.f32s), q.max(n.i8s)));
    let (mut act, mut quant) = (vec![0f32; need.0], vec![0i8; need.1]);
    let mut out = AnnotateOut::new();
    let mut img_out = vec![0f32; pixels];

    let mut ann_state = annotator.spawn().expect("spawn");
    let mut enc_state = encoder.spawn().expect("spawn");
    let mut dec_state = decoder.spawn().expect("spawn");
    let mut tract_annotate = || {
        black_box(ann_state.run(tvec![img_t.clone()]).expect("run"));
    };
    let mut tract_encode = || {
        black_box(enc_state.run(tvec![img_t.clone()]).expect("run"));
    };
    let mut tract_decode = || {
        black_box(dec_state.run(tvec![z_t.clone()]).expect("run"));
    };

    let mut g = c.benchmark_group(format!("annotate-{}", m.stem));
    g.bench_function("tract-annotator", |b| b.iter(&mut tract_annotate));
    g.bench_function("tract-encoder", |b| b.iter(&mut tract_encode));
    for (e, model) in &models {
        let mut s = Scratch::new(&mut act, &mut quant);
        g.bench_function(format!("runtime-{e}"), |b| {
            b.iter(|| {
                model
                    .annotate(black_box(&image[..]), &[], &mut s, &mut out)
                    .expect("annotate")
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group(format!("generate-{}", m.stem));
    g.bench_function("tract-decoder", |b| b.iter(&mut tract_decode));
    for (e, model) in &models {
        let mut s = Scratch::new(&mut act, &mut quant);
        g.bench_function(format!("runtime-{e}-mean"), |b| {
            b.iter(|| {
                model
                    .generate(black_box(0), Sample::Mean, &mut s, &mut img_out)
                    .expect("generate")
            })
        });
        g.bench_function(format!("runtime-{e}-seeded"), |b| {
            let mut seed = 0u64;
            b.iter(|| {
                seed += 1;
                model
                    .generate(black_box(3), Sample::Seed(seed), &mut s, &mut img_out)
                    .expect("generate")
            })
        });
    }
    g.finish();

    // The summary: medians measured here, in the same process, one after the other.
    let us = |s: f64| s * 1e6;
    let t_ann = per_call(&mut tract_annotate);
    let t_enc = per_call(&mut tract_encode);
    let t_dec = per_call(&mut tract_decode);
    println!("\nbatch-1 latency, {} (median of 11 rounds)", m.stem);
    println!(
        "  tract: annotator {:.1} us, encoder {:.1} us, decoder {:.1} us",
        us(t_ann),
        us(t_enc),
        us(t_dec)
    );
    println!(
        "  {:<8} {:>13} {:>15} {:>15} {:>16}",
        "encoding", "annotate (us)", "tract/runtime", "generate (us)", "tract/runtime"
    );
    for (e, model) in &models {
        let mut s = Scratch::new(&mut act, &mut quant);
        let r_ann = per_call(|| {
            black_box(
                model
                    .annotate(black_box(&image[..]), &[], &mut s, &mut out)
                    .expect("annotate"),
            );
        });
        let r_gen = per_call(|| {
            model
                .generate(black_box(0), Sample::Mean, &mut s, &mut img_out)
                .expect("generate");
        });
        println!(
            "  {e:<8} {:>13.1} {:>15.2} {:>15.1} {:>16.2}",
            us(r_ann),
            t_ann / r_ann,
            us(r_gen),
            t_dec / r_gen
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
