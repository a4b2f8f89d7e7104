//! The networks: PSE / PSE* (image encoder with Gaussian heads, label encoder, decoder and,
//! for PSE*, the classifier on the reconstruction) and the paper's baselines over the same
//! layers (CVAE, JMVAE, TrELBO, SCAN). Shapes follow the paper's appendix A.

use crate::nn::dense::Dense;
use crate::nn::mlp::Mlp;
use crate::nn::params::Layout;
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
    /// Baseline, eq. 4: encoder `q(z|x,l)`, decoder `p(x|z,l)`, prior `N(0, I)`; no
    /// label encoder, so no annotation.
    Cvae,
    /// Baseline, eq. 5: joint encoder `q(z|x,l)` pulled towards the prior and, with weight
    /// α, towards the image and label encoders; image and label decoders.
    Jmvae,
    /// Baseline, eq. 6: three ELBOs (joint, image only, label only) sharing the decoders.
    Trelbo,
    /// Baseline: a β-VAE (β = 10) whose posteriors the label encoder fits without moving
    /// them (`KL(q(z|x) ‖ q(z|l))` with the image side held fixed).
    Scan,
}

impl Kind {
    /// The paper's name for the model.
    pub fn paper_name(self) -> &'static str {
        match self {
            Kind::Pse => "PSE",
            Kind::PseStar => "PSE*",
            Kind::Cvae => "CVAE",
            Kind::Jmvae => "JMVAE",
            Kind::Trelbo => "TrELBO",
            Kind::Scan => "SCAN",
        }
    }

    /// Every kind, in the paper's table order (baselines first).
    pub const ALL: [Kind; 6] = [
        Kind::Cvae,
        Kind::Jmvae,
        Kind::Trelbo,
        Kind::Scan,
        Kind::Pse,
        Kind::PseStar,
    ];

    /// The kind whose [`Kind::paper_name`] is `name`.
    pub fn from_paper_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.paper_name() == name)
    }

    /// Whether this is one of the paper's baselines (trained for `compare`, not exported).
    pub fn is_baseline(self) -> bool {
        !matches!(self, Kind::Pse | Kind::PseStar)
    }

    /// Whether the model has a label encoder `q(z|l)`, so it can annotate images and
    /// generate from label Gaussians (every kind but the CVAE).
    pub fn has_label_encoder(self) -> bool {
        self != Kind::Cvae
    }

    /// Independent standard-normal draws per example and step (TrELBO samples three
    /// posteriors).
    pub fn noise_draws(self) -> usize {
        if self == Kind::Trelbo { 3 } else { 1 }
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

/// A Gaussian encoder of labels, `q(z|l)`: one dense layer per head (appendix A).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelEncoder {
    /// Mean `label_dim → d`.
    pub mu: Dense,
    /// Log-variance `label_dim → d`.
    pub lv: Dense,
}

/// The JMVAE / TrELBO joint encoder `q(z|x,l)`: `[x, l] → 512 → 64` and Gaussian heads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JointEncoder {
    /// Trunk on the image concatenated with its label vector (ReLU after each layer).
    pub trunk: Mlp,
    /// Mean head `64 → d`.
    pub mu: Dense,
    /// Log-variance head `64 → d`.
    pub lv: Dense,
}

/// The network's layers, as places in one parameter buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Net {
    /// The sizes it was built from.
    pub arch: Arch,
    /// Where every tensor lives.
    pub layout: Layout,
    /// Image encoder trunk `pixels → 512 → 64` (ReLU after each); the CVAE's takes the
    /// image concatenated with its label vector.
    pub enc: Mlp,
    /// Mean head `64 → d`.
    pub enc_mu: Dense,
    /// Log-variance head `64 → d`.
    pub enc_lv: Dense,
    /// Label encoder `q(z|l)` (every kind but the CVAE).
    pub lab: Option<LabelEncoder>,
    /// Decoder `d → 64 → 512 → pixels` (logits; sigmoid applied by the loss); the CVAE's
    /// takes `z` concatenated with the label vector.
    pub dec: Mlp,
    /// PSE* classifier `pixels → 512 → 64 → classes` on the reconstruction.
    pub cla: Option<Mlp>,
    /// JMVAE / TrELBO joint encoder `q(z|x,l)`.
    pub joint: Option<JointEncoder>,
    /// JMVAE / TrELBO label decoder `p(l|z)`: one dense layer `d → classes` (softmax), the
    /// mirror of the one-layer label encoder.
    pub lab_dec: Option<Dense>,
}

impl Net {
    /// Lays out the network for `arch`.
    pub fn new(arch: Arch) -> Net {
        let mut l = Layout::default();
        let [h1, h2] = arch.hidden;
        let (kind, d) = (arch.kind, arch.latent);
        // The CVAE conditions both of its networks on the label vector.
        let cond = if kind == Kind::Cvae {
            arch.label_dim
        } else {
            0
        };
        let enc = Mlp::new(&mut l, "enc", &[arch.pixels + cond, h1, h2], true);
        let enc_mu = Dense::new(&mut l, "enc_mu", h2, d);
        let enc_lv = Dense::new(&mut l, "enc_lv", h2, d);
        let lab = kind.has_label_encoder().then(|| LabelEncoder {
            mu: Dense::new(&mut l, "lab_mu", arch.label_dim, d),
            lv: Dense::new(&mut l, "lab_lv", arch.label_dim, d),
        });
        let dec = Mlp::new(&mut l, "dec", &[d + cond, h2, h1, arch.pixels], false);
        let cla = (kind == Kind::PseStar)
            .then(|| Mlp::new(&mut l, "cla", &[arch.pixels, h1, h2, arch.classes], false));
        let multimodal = matches!(kind, Kind::Jmvae | Kind::Trelbo);
        let joint = multimodal.then(|| JointEncoder {
            trunk: Mlp::new(
                &mut l,
                "joint",
                &[arch.pixels + arch.label_dim, h1, h2],
                true,
            ),
            mu: Dense::new(&mut l, "joint_mu", h2, d),
            lv: Dense::new(&mut l, "joint_lv", h2, d),
        });
        let lab_dec = multimodal.then(|| Dense::new(&mut l, "lab_dec", d, arch.classes));
        Net {
            arch,
            layout: l,
            enc,
            enc_mu,
            enc_lv,
            lab,
            dec,
            cla,
            joint,
            lab_dec,
        }
    }

    /// Total parameter count.
    pub fn n_params(&self) -> usize {
        self.layout.len
    }
}
