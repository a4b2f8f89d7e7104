//! The encoders the multimodal baselines (JMVAE, TrELBO) share: the joint encoder
//! `q(z|x,l)`, the image encoder `q(z|x)` and the label encoder `q(z|l)`, run forward on a
//! batch and backward from the gradients of their Gaussians.

use crate::nn::dense::Dense;
use crate::nn::mlp::MlpCache;
use crate::nn::model::Net;
use crate::objectives::batch::Batch;
use crate::objectives::vae::{Encoder, Gaussians, concat, gather, scatter_add};
use ndarray::Array2;

/// The three encoders and the label decoder of a JMVAE or TrELBO network.
pub struct Multimodal<'n> {
    /// `q(z|x,l)` on `[x, l]`.
    pub joint: Encoder<'n>,
    /// `q(z|x)`.
    pub image: Encoder<'n>,
    /// `q(z|l)` (no trunk: one dense layer per head).
    pub label: Encoder<'n>,
    /// `p(l|z)`.
    pub lab_dec: &'n Dense,
}

/// What a forward pass of [`Multimodal`] leaves for its backward pass.
pub struct Posteriors {
    /// Each image concatenated with its label vector.
    xl: Array2<f32>,
    joint_cache: MlpCache,
    image_cache: MlpCache,
    /// The label table's Gaussians.
    table: Gaussians,
    /// `q(z|x,l)` per example.
    pub joint: Gaussians,
    /// `q(z|x)` per example.
    pub image: Gaussians,
    /// `q(z|l)` per example (the table's rows of each example's class).
    pub label: Gaussians,
}

impl<'n> Multimodal<'n> {
    /// The multimodal parts of `net`.
    ///
    /// # Panics
    /// If `net` is not a JMVAE or TrELBO network.
    pub fn of(net: &'n Net) -> Multimodal<'n> {
        let joint = net.joint.as_ref().expect("a joint encoder (JMVAE, TrELBO)");
        let lab = net.lab.as_ref().expect("a label encoder (JMVAE, TrELBO)");
        Multimodal {
            joint: Encoder {
                trunk: Some(&joint.trunk),
                mu: &joint.mu,
                lv: &joint.lv,
            },
            image: Encoder {
                trunk: Some(&net.enc),
                mu: &net.enc_mu,
                lv: &net.enc_lv,
            },
            label: Encoder {
                trunk: None,
                mu: &lab.mu,
                lv: &lab.lv,
            },
            lab_dec: net
                .lab_dec
                .as_ref()
                .expect("a label decoder (JMVAE, TrELBO)"),
        }
    }

    /// The three posteriors of every example of `b`.
    pub fn forward(&self, p: &[f32], b: &Batch) -> Posteriors {
        let xl = concat(b.x, gather(b.labels, b.y).view());
        let (mut joint_cache, mut image_cache) = (MlpCache::default(), MlpCache::default());
        let joint = self.joint.forward(p, xl.view(), &mut joint_cache);
        let image = self.image.forward(p, b.x, &mut image_cache);
        let table = self.label.forward(p, b.labels, &mut MlpCache::default());
        let label = table.gather(b.y);
        Posteriors {
            xl,
            joint_cache,
            image_cache,
            table,
            joint,
            image,
            label,
        }
    }

    /// Backward pass of [`Multimodal::forward`] from the gradients with respect to the
    /// three posteriors (`d_label` per example: scattered into the label table's rows).
    pub fn backward(
        &self,
        p: &[f32],
        g: &mut [f32],
        b: &Batch,
        post: &mut Posteriors,
        [d_joint, d_image, d_label]: [&Gaussians; 3],
    ) {
        self.joint
            .backward(p, g, post.xl.view(), &mut post.joint_cache, d_joint);
        self.image
            .backward(p, g, b.x, &mut post.image_cache, d_image);
        let mut dtable = post.table.zeros_like();
        scatter_add(dtable.mu.view_mut(), d_label.mu.view(), b.y);
        scatter_add(dtable.lv.view_mut(), d_label.lv.view(), b.y);
        self.label
            .backward(p, g, b.labels, &mut MlpCache::default(), &dtable);
    }
}
