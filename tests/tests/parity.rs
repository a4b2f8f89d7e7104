//! The runtime checked against an independent engine (DESIGN §6): every committed blob in
//! `models/` against `tract-onnx` running the float ONNX references beside it, over the
//! whole test set of its dataset.
//!
//! - f32 blobs: `mu`, `logvar` and decoded pixels within 1e-5 absolute; per-label scores
//!   within max(1e-4 absolute, 1e-6 relative).
//! - f16 and i8 blobs: the same annotation (argmax of the scores) on ≥ 99.5 % of images; the
//!   mean absolute pixel difference of generated images (`generate(label, Mean)` and seeded
//!   samples, decoded by tract from the same `z`) reported and bounded.
//! - int4 (MNIST 10D): the committed f32 blob's trunk and decoder re-encoded as int4 by the
//!   exporter's quantiser (the same weights as the ONNX references; the committed int4 blobs
//!   come from another training run), whole and without its decoder (`--part annotate`):
//!   the same annotation on ≥ 98.5 % of images, generated pixels reported and bounded.
//!
//! Figures are printed: one line per blob with every figure goes straight to stderr and
//! shows in normal runs; `--nocapture` adds tract's own figures per model. A failure names
//! the first diverging image and prints the runtime's and tract's values for it.

use pse_runtime::generate::{Sample, sample_latent};
use pse_runtime::{AnnotateOut, Model, Scratch};
use pse_tests::{
    COMMITTED, Committed, Reference, annotate_part, data_dir, generate_part, run_rows,
};
use pse_trainer::data::{self, Split};
use std::io::Write;
use std::time::Instant;

/// Seeded samples per label (besides the mean) in the generation check.
const SEEDS: u64 = 16;
/// f32 blobs: encoder outputs and pixels, absolute.
const F32_TOL: f32 = 1e-5;
/// f32 blobs: scores, absolute ...
const SCORE_ABS: f32 = 1e-4;
/// ... or relative, whichever is looser.
const SCORE_REL: f32 = 1e-6;
/// f16 / i8 blobs: share of images annotated like tract.
const MIN_AGREEMENT: f64 = 0.995;
/// int4 blobs: share of images annotated like tract.
const MIN_AGREEMENT_I4: f64 = 0.985;
/// Bound on the mean absolute pixel difference of generated images, per encoding: about
/// 5× (f32), 10× (f16) and 4× (i8) the largest seen on MNIST 10D / 20D and Fashion 20D
/// development models (1.8e-7, 2.4e-5, 1.3e-3).
fn pixel_bound(encoding: &str) -> f64 {
    match encoding {
        "f32" => 1e-6,
        "f16" => 2.5e-4,
        "i4" => 2.5e-2,
        _ => 5e-3,
    }
}

/// The f32 blob `bytes` with its encoder trunk and decoder re-encoded as int4 (the heads and
/// the label table stay f32, as the exporter keeps them).
fn reencoded_i4(bytes: &[u8]) -> Vec<u8> {
    use pse_runtime::payload::{Chain, Encoding, Layer, Weights};
    let model = Model::from_bytes(bytes).expect("the f32 blob");
    let src = model.payload();
    let encode = |l: &Layer<'_>| -> (Vec<u8>, Vec<u8>) {
        let Weights::F32(w) = l.weights else {
            panic!("an f32 blob has f32 layers")
        };
        let w: Vec<f32> = w
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        let (out, inp) = (l.out_dim as usize, l.in_dim as usize);
        let mut q = vec![0u8; Encoding::I4.weight_bytes(out, inp).unwrap()];
        let mut scales = vec![0u8; 4 * out];
        pse_runtime::quant::quantize_i4(&w, inp, &mut q, &mut scales).expect("quantise");
        (q, scales)
    };
    let src_trunk = src
        .encoder
        .expect("the committed blob has an encoder")
        .trunk;
    let trunk_arrays: Vec<_> = src_trunk.layers().iter().map(encode).collect();
    let decoder_arrays: Vec<_> = src.decoder.layers().iter().map(encode).collect();
    fn relayer<'a>(layers: &[Layer<'a>], arrays: &'a [(Vec<u8>, Vec<u8>)]) -> Vec<Layer<'a>> {
        layers
            .iter()
            .zip(arrays)
            .map(|(l, (q, scales))| Layer {
                in_dim: l.in_dim,
                out_dim: l.out_dim,
                activation: l.activation,
                weights: Weights::I4 { q, scales },
                bias: l.bias,
            })
            .collect()
    }
    let trunk = relayer(src_trunk.layers(), &trunk_arrays);
    let decoder = relayer(src.decoder.layers(), &decoder_arrays);
    let mut p = *src;
    if let Some(e) = p.encoder.as_mut() {
        e.trunk = Chain::new(&trunk);
    }
    p.decoder = Chain::new(&decoder);
    pse_trainer::export::host::encode_blob(&p).expect("a valid payload")
}

/// Written straight to stderr, past the test harness's capture (which only takes the
/// `print!` / `eprint!` macros), so it shows in normal runs as well as with `--nocapture`.
fn summary(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

struct TractOut {
    mu: Vec<f32>,
    logvar: Vec<f32>,
    scores: Vec<f32>,
    /// Decoder output at z = tract's mu of each image.
    recon: Vec<f32>,
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn row(v: &[f32], i: usize, w: usize) -> &[f32] {
    &v[i * w..(i + 1) * w]
}

fn argmax(v: &[f32]) -> usize {
    pse_runtime::gaussian::argmax(v).expect("scores are not NaN")
}

/// First row `i` where `ok(row_runtime, row_tract)` fails; panics naming it and the values.
fn check_rows(what: &str, runtime: &[f32], tract: &[f32], w: usize, ok: impl Fn(f32, f32) -> bool) {
    assert_eq!(runtime.len(), tract.len(), "{what}: lengths");
    for i in 0..runtime.len() / w {
        let (a, b) = (row(runtime, i, w), row(tract, i, w));
        if let Some(j) = (0..w).find(|&j| !ok(a[j], b[j])) {
            panic!(
                "{what}: first divergence at image {i}, element {j}: runtime {} vs tract {} \
                 (diff {:e})\n  runtime: {a:?}\n  tract:   {b:?}",
                a[j],
                b[j],
                (a[j] - b[j]).abs()
            );
        }
    }
}

fn check_model(m: &Committed) {
    m.require();
    let t0 = Instant::now();
    let test = data::load(&data_dir(), m.dataset, Split::Test).unwrap_or_else(|e| {
        panic!(
            "{}: the {} test set is needed for the parity tests: {e}",
            m.stem, m.dataset
        )
    });
    let n = test.len();
    let x = test.x.as_slice().expect("contiguous");
    let pixels = test.x.ncols();

    // Tract on the float references, whole test set.
    let reference = Reference::load(&m.reference_dir()).expect("tract loads the references");
    let enc = run_rows(&reference.encoder, x, pixels).expect("tract encoder");
    let (mu, logvar) = (enc[0].clone(), enc[1].clone());
    let d = mu.len() / n;
    let scores = run_rows(&reference.annotator, x, pixels)
        .expect("tract annotator")
        .remove(0);
    let c = scores.len() / n;
    let recon = run_rows(&reference.decoder, &mu, d)
        .expect("tract decoder")
        .remove(0);
    let tract = TractOut {
        mu,
        logvar,
        scores,
        recon,
    };
    let tract_best: Vec<usize> = (0..n).map(|i| argmax(row(&tract.scores, i, c))).collect();
    let tract_acc = tract_best
        .iter()
        .zip(&test.y)
        .filter(|(a, y)| **a == **y as usize)
        .count() as f64
        / n as f64;
    println!(
        "{}: tract on {n} {} test images in {:.1} s, annotation accuracy {:.2} %",
        m.stem,
        m.dataset,
        t0.elapsed().as_secs_f64(),
        100.0 * tract_acc
    );

    // The committed blobs, and for MNIST 10D the int4 re-encodings of its f32 blob.
    let mut blobs: Vec<(String, &str, Vec<u8>)> = m
        .encodings
        .iter()
        .map(|&enc| {
            let path = m.blob(enc);
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (format!("{}-{enc}", m.stem), enc, bytes)
        })
        .collect();
    if m.stem == "mnist-pse-star-10d" {
        let f32_blob = std::fs::read(m.blob("f32")).expect("the committed f32 blob");
        let whole = reencoded_i4(&f32_blob);
        let part = annotate_part(&whole);
        let generate = generate_part(&whole);
        blobs.push((format!("{}-i4 (re-encoded f32)", m.stem), "i4", whole));
        blobs.push((
            format!("{}-i4-generate (re-encoded f32)", m.stem),
            "i4",
            generate,
        ));
        blobs.push((
            format!("{}-i4-annotate (re-encoded f32)", m.stem),
            "i4",
            part,
        ));
    }
    for (name, enc, bytes) in &blobs {
        check_blob(
            name,
            enc,
            bytes,
            x,
            pixels,
            &tract,
            &tract_best,
            &reference,
            (d, c),
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn check_blob(
    name: &str,
    encoding: &str,
    bytes: &[u8],
    images: &[f32],
    pixels: usize,
    tract: &TractOut,
    tract_best: &[usize],
    reference: &Reference,
    (d, c): (usize, usize),
) {
    let t0 = Instant::now();
    let model =
        Model::from_bytes(bytes).unwrap_or_else(|e| panic!("{name}: the runtime refuses it: {e}"));
    assert_eq!(model.latent_dim(), d, "{name}: latent size vs ONNX");
    assert_eq!(model.label_count(), c, "{name}: label count vs ONNX");
    let n = images.len() / pixels;
    assert_eq!(model.pixels(), pixels, "{name}: pixels");
    let need = model.scratch_len();
    let (mut act, mut q) = (vec![0f32; need.f32s], vec![0i8; need.i8s]);
    let mut s = Scratch::new(&mut act, &mut q);

    // Annotation over the whole test set.
    let mut out = AnnotateOut::new();
    let mut scores = Vec::with_capacity(n * c);
    let mut mu = Vec::with_capacity(n * d);
    let mut agree = 0usize;
    let mut first_disagreement = None;
    // (Nothing to annotate with for a blob without an encoder.)
    let annotated = if model.has_encoder() { n } else { 0 };
    for (i, img) in images.chunks(pixels).take(annotated).enumerate() {
        model
            .annotate(img, &[], &mut s, &mut out)
            .expect("annotate");
        scores.extend_from_slice(out.log_likelihoods());
        mu.extend_from_slice(out.mu());
        let best = out.best().expect("a best label");
        if best == tract_best[i] {
            agree += 1;
        } else if first_disagreement.is_none() {
            first_disagreement = Some((i, best, out.log_likelihoods().to_vec()));
        }
    }
    let agreement = if annotated == 0 {
        1.0
    } else {
        agree as f64 / n as f64
    };
    let mu_diff = max_abs_diff(&mu, &tract.mu);
    let score_diff = max_abs_diff(&scores, &tract.scores);
    let score_rel = scores
        .iter()
        .zip(&tract.scores)
        .map(|(a, b)| (a - b).abs() / b.abs().max(f32::MIN_POSITIVE))
        .fold(0.0, f32::max);

    // Generation: each label's mean and SEEDS seeded samples, decoded by both engines
    // from the same z.
    let mut zs = Vec::new();
    let mut gen_rt = Vec::new();
    let mut img = vec![0f32; pixels];
    // (None for a blob without a decoder.)
    let generating = if model.has_decoder() { c } else { 0 };
    for label in 0..generating {
        let g = model.label(label).expect("label");
        for sample in std::iter::once(Sample::Mean).chain((0..SEEDS).map(Sample::Seed)) {
            let mut z = vec![0f32; d];
            sample_latent(g.mu(), g.logvar(), sample, &mut z);
            zs.extend_from_slice(&z);
            model
                .generate(label, sample, &mut s, &mut img)
                .expect("generate");
            gen_rt.extend_from_slice(&img);
        }
    }
    let gen_tract = if zs.is_empty() {
        Vec::new()
    } else {
        run_rows(&reference.decoder, &zs, d)
            .expect("tract decoder")
            .remove(0)
    };
    let gen_count = gen_rt.len() / pixels;
    let gen_mean = gen_rt
        .iter()
        .zip(&gen_tract)
        .map(|(a, b)| (a - b).abs() as f64)
        .sum::<f64>()
        / gen_rt.len().max(1) as f64;
    let gen_max = max_abs_diff(&gen_rt, &gen_tract);

    let generated = if gen_count == 0 {
        "no generation (no decoder)".to_string()
    } else {
        format!(
            "generated pixels ({gen_count} images) mean |diff| {gen_mean:.2e} max {gen_max:.2e}"
        )
    };
    let mut line = if annotated == 0 {
        format!("parity {name}: no annotation (no encoder), {generated}")
    } else {
        format!(
            "parity {name}: annotation agrees with tract on {agree}/{n} ({:.2} %), \
             max |mu| diff {mu_diff:.2e}, max |score| diff {score_diff:.2e} (rel \
             {score_rel:.2e}), {generated}",
            100.0 * agreement
        )
    };

    if encoding == "f32" {
        // logvar and reconstructions need the encoder and decoder on every image.
        let (mut m1, mut lv1) = (vec![0f32; d], vec![0f32; d]);
        let mut logvar = Vec::with_capacity(n * d);
        for img in images.chunks(pixels) {
            model
                .encode(img, &mut s, &mut m1, &mut lv1)
                .expect("encode");
            logvar.extend_from_slice(&lv1);
        }
        let mut recon = Vec::with_capacity(n * pixels);
        for z in tract.mu.chunks(d) {
            model.decode(z, &mut s, &mut img).expect("decode");
            recon.extend_from_slice(&img);
        }
        let lv_diff = max_abs_diff(&logvar, &tract.logvar);
        let recon_diff = max_abs_diff(&recon, &tract.recon);
        line += &format!(
            ", max |logvar| diff {lv_diff:.2e}, decoded test-set pixels max |diff| {recon_diff:.2e}"
        );
        summary(&format!("{line} [{:.1} s]", t0.elapsed().as_secs_f64()));
        let close = |a: f32, b: f32| (a - b).abs() <= F32_TOL;
        check_rows(&format!("{name} mu"), &mu, &tract.mu, d, close);
        check_rows(&format!("{name} logvar"), &logvar, &tract.logvar, d, close);
        check_rows(
            &format!("{name} scores"),
            &scores,
            &tract.scores,
            c,
            |a, b| (a - b).abs() <= SCORE_ABS.max(SCORE_REL * b.abs()),
        );
        check_rows(
            &format!("{name} decoded pixels (z = mu of the test image)"),
            &recon,
            &tract.recon,
            pixels,
            close,
        );
        check_rows(
            &format!(
                "{name} generated pixels (row = label * {} + sample)",
                SEEDS + 1
            ),
            &gen_rt,
            &gen_tract,
            pixels,
            close,
        );
    } else {
        summary(&format!("{line} [{:.1} s]", t0.elapsed().as_secs_f64()));
    }

    let min_agreement = if encoding == "i4" {
        MIN_AGREEMENT_I4
    } else {
        MIN_AGREEMENT
    };
    if let Some((i, best, s)) = first_disagreement.filter(|_| agreement < min_agreement) {
        panic!(
            "{name}: annotation agrees with tract on only {:.2} % (< {:.1} %); first \
             disagreement at image {i}: runtime says {best}, tract says {}\n  runtime scores: \
             {s:?}\n  tract scores:   {:?}",
            100.0 * agreement,
            100.0 * min_agreement,
            tract_best[i],
            row(&tract.scores, i, c)
        );
    }
    assert!(
        gen_mean <= pixel_bound(encoding),
        "{name}: mean |pixel diff| of generated images {gen_mean:.3e} exceeds {:.0e}",
        pixel_bound(encoding)
    );
}

#[test]
fn mnist_pse_star_10d() {
    check_model(&COMMITTED[0]);
}

#[test]
fn mnist_pse_star_20d() {
    check_model(&COMMITTED[1]);
}

#[test]
fn fashion_pse_star_20d() {
    check_model(&COMMITTED[2]);
}
