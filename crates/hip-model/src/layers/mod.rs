//! Equivariant layers, each executing an `irreps` descriptor on candle tensors:
//! [`linear::EquiLinear`] (e3nn `Linear`), [`conv::TpConv`] (a `uvu` tensor-product convolution
//! with radial-MLP weights), [`gate::Gate`], [`pair_tp::PairTp`] (a weighted elementwise product of two atoms' features).

pub mod conv;
pub mod gate;
pub mod linear;
pub mod pair_tp;
