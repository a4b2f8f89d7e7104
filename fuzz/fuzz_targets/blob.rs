//! `Model::from_bytes` on arbitrary bytes, twice: as given (the envelope's checks see the
//! mutation) and resealed (payload length and CRC recomputed, so the mutation reaches
//! postcard's decoder and the validator). Every accepted model runs every operation with
//! valid arguments, which must all succeed: "after `from_bytes`, nothing can fail on a
//! shape". A panic anywhere is a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pse_runtime::blob::{self, HEADER_LEN};
use pse_runtime::{AnnotateOut, LabelTable, MAX_LABELS, Model, Sample, Scratch};

fuzz_target!(|data: &[u8]| {
    if let Ok(model) = Model::from_bytes(data) {
        exercise(&model);
    }
    if let Some(sealed) = reseal(data)
        && let Ok(model) = Model::from_bytes(&sealed)
    {
        exercise(&model);
    }
});

/// `data` with the header's payload length and CRC made to match what follows it.
fn reseal(data: &[u8]) -> Option<Vec<u8>> {
    let payload = data.len().checked_sub(HEADER_LEN)?;
    let mut b = data.to_vec();
    b[6..10].copy_from_slice(&u32::try_from(payload).ok()?.to_le_bytes());
    blob::fix_crc(&mut b);
    (b != data).then_some(b)
}

fn exercise(model: &Model<'_>) {
    let need = model.scratch_len();
    let (mut act, mut quant) = (vec![0f32; need.f32s], vec![0i8; need.i8s]);
    let mut s = Scratch::new(&mut act, &mut quant);
    // What decodes succeeds, or, on a blob for annotation only, says the decoder is missing;
    // what reads an image likewise on a blob for generation only.
    let must = |present: bool, r: Result<(), pse_runtime::Error>| {
        if present {
            r.unwrap();
        } else {
            assert!(
                matches!(r, Err(pse_runtime::Error::MissingLayers { .. })),
                "{r:?}"
            );
        }
    };
    let (encodes, decodes) = (model.has_encoder(), model.has_decoder());
    let decoding = |r: Result<(), pse_runtime::Error>| must(decodes, r);
    let encoding = |r: Result<(), pse_runtime::Error>| must(encodes, r);
    let (d, n, labels) = (model.latent_dim(), model.pixels(), model.label_count());
    let _ = (model.kind(), model.image_size(), model.unknown_threshold());

    let floats: Vec<f32> = (0..n).map(|i| (i % 11) as f32 / 10.0).collect();
    let dark = vec![0u8; n];
    let bright = vec![255u8; n];
    let pattern: Vec<u8> = (0..n).map(|i| (i * 37) as u8).collect();
    let (mut mu, mut lv, mut pix) = (vec![0f32; d], vec![0f32; d], vec![0f32; n]);

    // encode, decode
    encoding(model.encode(&floats[..], &mut s, &mut mu, &mut lv));
    decoding(model.decode(&mu, &mut s, &mut pix));

    // enroll a label from two images, then annotate with it as an extra label
    let mut e = model.enroller();
    encoding(model.enroll_image(&mut e, &floats[..], &mut s));
    encoding(model.enroll_image(&mut e, &pattern[..], &mut s));
    let mut table = LabelTable::<1>::new();
    if encodes {
        table.push(e.finish(1e-3).unwrap()).unwrap();
    }
    // the same label shrunk toward the model's mean label variance: a blob whose label
    // variances overflow or vanish gives an `InvalidPrior`, never a panic
    let mut prior = vec![0f32; d];
    match model.mean_label_variance(&mut prior) {
        Ok(()) if !encodes => {}
        Ok(()) => match e.finish_with_prior(1e-3, &prior, 10.0) {
            Ok(g) => assert_eq!(g.dim(), d),
            Err(err) => assert_eq!(err, pse_runtime::Error::InvalidPrior),
        },
        Err(err) => assert!(labels == 0 && err == pse_runtime::Error::NoSamples),
    }
    let extra = if labels < MAX_LABELS {
        table.as_slice()
    } else {
        &[]
    };
    let mut out = AnnotateOut::new();
    for img in [&dark, &bright, &pattern] {
        encoding(
            model
                .annotate(&img[..], extra, &mut s, &mut out)
                .map(|_| ()),
        );
        let _ = (
            out.best(),
            out.log_likelihoods(),
            out.posteriors(),
            out.mu(),
        );
    }
    encoding(
        model
            .annotate(&floats[..], &[], &mut s, &mut out)
            .map(|_| ()),
    );
    let _ = (out.unknown_reason(), out.image_scores(), model.open_world());
    // the open-world scores of the same image, on any blob
    let mut recon = vec![0.0f32; n];
    let scores = model.image_scores(&floats[..], &mut s, &mut recon);
    must(encodes && decodes, scores.map(|_| ()));
    if let (Some(inside), Ok(scores)) = (out.image_scores(), scores) {
        assert_eq!(
            inside.reconstruction.to_bits(),
            scores.reconstruction.to_bits()
        );
    }

    // generate, interpolate, per label
    for l in 0..labels {
        let name = model.label_name(l).unwrap();
        let _ = model.label_index(name);
        let g = model.label(l).unwrap();
        decoding(model.generate(l, Sample::Mean, &mut s, &mut pix));
        decoding(model.generate(l, Sample::Seed(l as u64), &mut s, &mut pix));
        for t in [0.0, 0.5, 1.0] {
            decoding(model.interpolate(0, l, t, &mut s, &mut pix));
        }
        decoding(model.generate_from_gaussian(&g, Sample::Seed(7), &mut s, &mut pix));
    }
    if let Some(g) = table.get(0) {
        decoding(model.interpolate_gaussians(g, g, 0.25, &mut s, &mut pix));
    }

    // the label encoder (word vectors)
    if let Some(k) = model.word_dim() {
        let w: Vec<f32> = (0..k).map(|i| (i as f32 - 2.0) * 0.25).collect();
        decoding(model.generate_from_vector(&w, Sample::Seed(1), &mut s, &mut pix));
        decoding(model.generate_from_vector(&w, Sample::Mean, &mut s, &mut pix));
    }
}
