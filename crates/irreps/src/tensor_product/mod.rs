//! Tensor products as data (cuEquivariance-style): [`instruction`] defines paths and modes,
//! [`descriptor`] resolves them into a [`TensorProduct`] with e3nn's normalization factors and
//! weight layout, [`reference`] evaluates one on plain slices.

pub mod descriptor;
pub mod instruction;
pub mod reference;

pub use descriptor::TensorProduct;
pub use instruction::{ConnectionMode, Instruction, InstructionSpec, IrrepNormalization, PathNormalization};
