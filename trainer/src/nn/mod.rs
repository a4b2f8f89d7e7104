//! The neural-network machinery every model is built from: layers, losses, the matrix product, Adam, parameters, deterministic random numbers.

pub mod adam;
pub mod dense;
#[cfg(test)]
pub(crate) mod gradcheck;
pub mod loss;
pub mod matmul;
pub mod mlp;
pub mod model;
pub mod params;
pub mod peak;
pub mod rng;
