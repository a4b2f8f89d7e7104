//! The smallest `no_std` use of `pse-runtime`: the blob is linked into flash with
//! `include_bytes!`, validated once, and annotation works in scratch the caller owns (a
//! static buffer, or the stack), sized by constants checked against the model at run time.
//! No heap, no allocator, no panics.
//!
//! ```sh
//! cargo build --release --target thumbv7em-none-eabihf    # in this folder
//! ```

#![no_std]

use pse_runtime::{AnnotateOut, Error, Model, Scratch, Verdict};

/// The model, in flash.
static BLOB: &[u8] = include_bytes!("../../../../models/mnist-pse-star-10d-i8.pse");

/// `f32` scratch elements this example provides (`Model::scratch_len().f32s` of the blob
/// above is 1808).
pub const SCRATCH_F32: usize = 2048;
/// `i8` scratch elements this example provides (the blob needs 1592).
pub const SCRATCH_I8: usize = 2048;
/// Pixels of one image (28 × 28).
pub const PIXELS: usize = 784;

/// Working memory for one annotation at a time, owned by the caller.
pub struct Buffers {
    act: [f32; SCRATCH_F32],
    quant: [i8; SCRATCH_I8],
    out: AnnotateOut,
}

impl Buffers {
    /// Zeroed buffers (e.g. in a `static` or on the stack: about 10 KB).
    pub const fn new() -> Self {
        Buffers {
            act: [0.0; SCRATCH_F32],
            quant: [0; SCRATCH_I8],
            out: AnnotateOut::new(),
        }
    }
}

impl Default for Buffers {
    fn default() -> Self {
        Self::new()
    }
}

/// The label the model gives `image` (28 × 28 bytes, white digit on black), `None` for
/// "unknown"; every error is the runtime's typed error (a corrupt blob, buffers too small).
pub fn annotate(image: &[u8; PIXELS], bufs: &mut Buffers) -> Result<Option<usize>, Error> {
    let model = Model::from_bytes(BLOB)?;
    let mut scratch = Scratch::new(&mut bufs.act, &mut bufs.quant);
    match model.annotate(&image[..], &[], &mut scratch, &mut bufs.out)? {
        Verdict::Label(i) => Ok(Some(i)),
        Verdict::Unknown { .. } => Ok(None),
    }
}

/// The name of label `index` of the linked model (`None` out of range or on a bad blob).
pub fn label_name(index: usize) -> Option<&'static str> {
    Model::from_bytes(BLOB).ok()?.label_name(index)
}
