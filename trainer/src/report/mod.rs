//! Pictures: PNG canvases, the sample grids, interpolations and latent-space plots.

pub mod picture;
pub mod plot;
pub mod samples;
