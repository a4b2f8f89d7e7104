//! The PSE / PSE* network: image encoder with Gaussian heads, label encoder, decoder and
//! (for PSE*) the classifier on the reconstruction. Shapes follow the paper's appendix A.

use crate::dense::Dense;
use crate::mlp::Mlp;
use crate::params::Layout;
use serde::{Deserialize, Serialize};

/// Which objective a model is trained with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Reconstruction + KL(q(z|x) ‖ q(z|l)).
    Pse,
    /// PSE plus a classifier's cross-entropy on the reconstructed image.
    #[value(name = "pse-star")]
    PseStar,
}

impl Kind {
    /// The paper's name for the model.
    pub fn paper_name(self) -> &'static str {
        match self {
            Kind::Pse => "PSE",
            Kind::PseStar => "PSE*",
        }
    }
}

/// The sizes that fix a network's parameter layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arch {
    /// Objective (decides whether a classifier exists).
    pub kind: Kind,
    /// Latent dimension `d`.
    pub latent: usize,
    /// Width of a label vector (classes for one-hot, 100 for GloVe).
    pub label_dim: usize,
    /// Number of classes.
    pub classes: usize,
    /// Pixels per image.
    pub pixels: usize,
    /// Hidden widths of the encoder (reversed for the decoder) and of the classifier:
    /// [`PAPER_HIDDEN`] except in tiny test models.
    pub hidden: [usize; 2],
}

/// The paper's hidden widths (appendix A): 512 and 64.
pub const PAPER_HIDDEN: [usize; 2] = [512, 64];

/// The network's layers, as places in one parameter buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Net {
    /// The sizes it was built from.
    pub arch: Arch,
    /// Where every tensor lives.
    pub layout: Layout,
    /// Image encoder trunk `pixels → 512 → 64` (ReLU after each).
    pub enc: Mlp,
    /// Mean head `64 → d`.
    pub enc_mu: Dense,
    /// Log-variance head `64 → d`.
    pub enc_lv: Dense,
    /// Label encoder mean `label_dim → d`.
    pub lab_mu: Dense,
    /// Label encoder log-variance `label_dim → d`.
    pub lab_lv: Dense,
    /// Decoder `d → 64 → 512 → pixels` (logits; sigmoid applied by the loss).
    pub dec: Mlp,
    /// PSE* classifier `pixels → 512 → 64 → classes` on the reconstruction.
    pub cla: Option<Mlp>,
}

impl Net {
    /// Lays out the network for `arch`.
    pub fn new(arch: Arch) -> Net {
        let mut l = Layout::default();
        let [h1, h2] = arch.hidden;
        let enc = Mlp::new(&mut l, "enc", &[arch.pixels, h1, h2], true);
        let enc_mu = Dense::new(&mut l, "enc_mu", h2, arch.latent);
        let enc_lv = Dense::new(&mut l, "enc_lv", h2, arch.latent);
        let lab_mu = Dense::new(&mut l, "lab_mu", arch.label_dim, arch.latent);
        let lab_lv = Dense::new(&mut l, "lab_lv", arch.label_dim, arch.latent);
        let dec = Mlp::new(&mut l, "dec", &[arch.latent, h2, h1, arch.pixels], false);
        let cla = (arch.kind == Kind::PseStar)
            .then(|| Mlp::new(&mut l, "cla", &[arch.pixels, h1, h2, arch.classes], false));
        Net {
            arch,
            layout: l,
            enc,
            enc_mu,
            enc_lv,
            lab_mu,
            lab_lv,
            dec,
            cla,
        }
    }

    /// Total parameter count.
    pub fn n_params(&self) -> usize {
        self.layout.len
    }
}
