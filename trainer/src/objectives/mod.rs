//! The paper's objectives (PSE, PSE*) and its baselines (CVAE, JMVAE, TrELBO, SCAN), forward and backward, behind one call.

pub mod batch;
pub mod cvae;
pub mod jmvae;
pub mod multimodal;
pub mod objective;
pub mod pse;
pub mod scan;
pub mod trelbo;
pub mod vae;
