//! Enrollment on the device: a new label from the first five 7s, then every image annotated
//! again with it (`ENROLL`, `COST ENROLL`, `ANNX`, `ACCX`). Not in the `annotate-only` build.

use pse_runtime::enroll::DEFAULT_VAR_FLOOR;
use pse_runtime::{AnnotateOut, Enroller, LabelTable, Model, Scratch};

use crate::line::Line;
use crate::{
    Buffers, Failure, LATENT, class_of, cost_start, cost_stop, ctx, image, image_count,
    push_annotation_head, push_f32s, truth,
};

/// The enrolled label: the first `ENROLL_SHOTS` images of class `ENROLL_CLASS` (in index
/// order), with the host command's defaults (`pse-trainer enroll`): variance floor
/// `DEFAULT_VAR_FLOOR`, variance shrunk toward the model's mean label variance with the
/// weight of `PRIOR_WEIGHT` images.
const ENROLL_CLASS: u8 = 7;
const ENROLL_SHOTS: usize = 5;
const PRIOR_WEIGHT: f32 = 10.0;

/// Enrolls a label from a few images, then annotates every image with it (`ENROLL`,
/// `COST ENROLL`, `ANNX`, `ACCX`). The table holding it is the only extra memory that stays.
#[inline(never)]
pub fn enroll(line: &mut Line, model: &Model<'_>, bufs: &mut Buffers) -> Result<(), Failure> {
    let mut table = LabelTable::<1>::new();
    enroll_label(line, model, bufs, &mut table)?;
    annotate_extra(line, model, bufs, &table)
}

/// Enrolls the first `ENROLL_SHOTS` images of class `ENROLL_CLASS` into a label Gaussian and
/// adds it to `table`: `ENROLL` and `COST ENROLL`.
///
/// The enroller stays in this frame; encoding ([`enroll_images`]) and finishing
/// ([`finish_label`]) run in frames of their own, so the encoder's deep stack and the ~1.9 KB
/// of temporaries of `finish_with_prior` are never on the stack at the same time.
#[inline(never)]
fn enroll_label(
    line: &mut Line,
    model: &Model<'_>,
    bufs: &mut Buffers,
    table: &mut LabelTable<1>,
) -> Result<(), Failure> {
    let mut used = [0usize; ENROLL_SHOTS];
    let mut count = 0;
    for i in 0..image_count()? {
        if truth(i) != ENROLL_CLASS {
            continue;
        }
        let Some(slot) = used.get_mut(count) else {
            break;
        };
        *slot = i;
        count += 1;
    }
    let used = used.get(..count).unwrap_or_default();
    let mut enroller = model.enroller();
    // Measured: encoding and accumulating the images, the prior, the label Gaussian.
    let t0 = cost_start();
    enroll_images(model, bufs, &mut enroller, used)?;
    finish_label(model, &enroller, table)?;
    let t = cost_stop(t0);
    let label = table
        .get(0)
        .ok_or(Failure("enrolled label missing", None))?;
    // ENROLL <count> <indices used> mu <d hex> logvar <d hex>
    line.push_str("ENROLL");
    line.push_dec(enroller.count() as u64);
    used.iter().for_each(|&i| line.push_dec(i as u64));
    push_f32s(line, " mu", label.mu());
    push_f32s(line, " logvar", label.logvar());
    line.flush();
    // COST ENROLL <count> <ticks>
    line.push_str("COST ENROLL");
    line.push_dec(enroller.count() as u64);
    line.push_dec(u64::from(t));
    line.flush();
    Ok(())
}

/// Encodes test images `used` and adds them to `enroller`.
#[inline(never)]
fn enroll_images(
    model: &Model<'_>,
    bufs: &mut Buffers,
    enroller: &mut Enroller,
    used: &[usize],
) -> Result<(), Failure> {
    let mut scratch = Scratch::new(&mut bufs.act, &mut bufs.quant);
    for &i in used {
        model
            .enroll_image(enroller, image(i)?, &mut scratch)
            .map_err(ctx("enroll_image"))?;
    }
    Ok(())
}

/// The label Gaussian of `enroller`, its variance shrunk toward the model's mean label
/// variance, appended to `table`.
#[inline(never)]
fn finish_label(
    model: &Model<'_>,
    enroller: &Enroller,
    table: &mut LabelTable<1>,
) -> Result<(), Failure> {
    let mut prior = [0.0f32; LATENT];
    model
        .mean_label_variance(&mut prior)
        .map_err(ctx("mean_label_variance"))?;
    match enroller.finish_with_prior(DEFAULT_VAR_FLOOR, &prior, PRIOR_WEIGHT) {
        Ok(label) => table.push(label).map_err(ctx("LabelTable::push"))?,
        Err(e) => return Err(Failure("finish_with_prior", Some(e))),
    };
    Ok(())
}

/// Annotates every image against the model's labels and the enrolled one (label
/// `model.label_count()`): `ANNX` per image, then `ACCX`.
#[inline(never)]
fn annotate_extra(
    line: &mut Line,
    model: &Model<'_>,
    bufs: &mut Buffers,
    table: &LabelTable<1>,
) -> Result<(), Failure> {
    let mut scratch = Scratch::new(&mut bufs.act, &mut bufs.quant);
    let mut ann = AnnotateOut::new();
    let enrolled = model.label_count();
    let (mut correct, mut wins, mut class_images) = (0u64, 0u64, 0u64);
    for i in 0..image_count()? {
        let truth = truth(i);
        let verdict = model
            .annotate(image(i)?, table.as_slice(), &mut scratch, &mut ann)
            .map_err(ctx("annotate with the enrolled label"))?;
        // The enrolled label stands for class ENROLL_CLASS.
        let best = ann.best();
        let best_class = if best == Some(enrolled) {
            Some(usize::from(ENROLL_CLASS))
        } else {
            best.and_then(|l| class_of(model, l))
        };
        if best_class == Some(usize::from(truth)) {
            correct += 1;
        }
        if truth == ENROLL_CLASS {
            class_images += 1;
            if best == Some(enrolled) {
                wins += 1;
            }
        }
        // ANNX <i> <truth> <verdict> ll <n+1 hex>
        push_annotation_head(line, "ANNX", i, truth, verdict);
        push_f32s(line, " ll", ann.log_likelihoods());
        line.flush();
    }
    // ACCX <correct> <enrolled label best among class ENROLL_CLASS> <images of that class>
    line.push_str("ACCX");
    line.push_dec(correct);
    line.push_dec(wins);
    line.push_dec(class_images);
    line.flush();
    Ok(())
}
