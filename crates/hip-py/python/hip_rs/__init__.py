"""hip_rs: molecular Hessians predicted directly by a HIP equivariant network (hip-rs, Rust).

Units: Å, eV, eV/Å, eV/Å², amu, cm⁻¹. Arrays in and out are numpy float64; Hessians are
``(3N, 3N)``, row-major over (atom, xyz).

>>> import numpy as np, hip_rs
>>> model = hip_rs.Model.load()                  # the embedded default model
>>> numbers = [8, 1, 1]
>>> positions = np.array([[0.0, 0.0, 0.117], [0.0, 0.757, -0.469], [0.0, -0.757, -0.469]])
>>> energy, forces = model.energy_forces(numbers, positions)
>>> hessian = model.hessian(numbers, positions)  # method="direct": one forward pass
>>> vib = hip_rs.vibrations(numbers, positions, hessian)
>>> vib["frequencies_cm"].shape
(3,)

``hip_rs.ase.HIPCalculator`` is an ASE calculator with ``get_hessian(atoms)``.
``hip_rs.Gfn2()`` is GFN2-xTB (tblite, the level the models are trained on) with the same
``energy_forces``/``hessian`` methods, and ``hip_rs.reaction(numbers, R, P, potential)`` runs
``hip reaction``'s pipeline on a ``Model`` or on ``Gfn2``.
"""

import os as _os

# candle computes correct second derivatives (autodiff Hessians) only with this set before the
# first backward pass (docs: shared/design/stack.md, rule 1). Setting it here, before the
# extension is loaded, is the Python equivalent of the `hip` binary's first line; the autodiff
# route also runs a self-test and refuses to return wrong values.
_os.environ.setdefault("CANDLE_GRAD_DO_NOT_DETACH", "1")

from ._hip_rs import DEFAULT_IMAGINARY_THRESHOLD_CM, Gfn2, Model, __version__, reaction, vibrations  # noqa: E402

__all__ = ["Model", "Gfn2", "reaction", "vibrations", "DEFAULT_IMAGINARY_THRESHOLD_CM", "__version__"]
