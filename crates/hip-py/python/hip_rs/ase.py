"""An ASE calculator backed by a HIP model, with analytic-quality Hessians.

``HIPCalculator`` implements ``energy`` and ``forces`` the ASE way, and ``get_hessian(atoms)``
returns the ``(3N, 3N)`` Hessian in eV/Å² (the name and shape of MACE's and ASE's calculators), so
that Sella takes it directly::

    from ase.io import read
    from sella import Sella
    from hip_rs.ase import HIPCalculator

    atoms = read("ts_guess.xyz")
    atoms.calc = calc = HIPCalculator()
    Sella(atoms, order=1, hessian_function=calc.get_hessian).run(fmax=0.01, steps=200)
"""

import numpy as np
from ase.calculators.calculator import Calculator, all_changes

from . import Model

__all__ = ["HIPCalculator"]


class HIPCalculator(Calculator):
    """ASE calculator for a HIP model.

    Parameters
    ----------
    model : hip_rs.Model, str, os.PathLike or None
        A loaded model, a checkpoint path, or None for the embedded default model.
    method : str
        How ``get_hessian`` computes the Hessian: ``"direct"`` (the HIP head, one forward pass;
        default), ``"autodiff"`` or ``"fd"``.
    mode_probes : int
        Refine each Hessian along its this-many lowest modes by the model's own Hessian-vector
        products (2 force calls each; ``Model.hessian``): 0 (default) is the plain Hessian; with a
        direct Hessian, a few probes give a saddle search the surface's curvature where the head
        is least reliable.
    """

    implemented_properties = ["energy", "free_energy", "forces"]

    def __init__(self, model=None, method="direct", mode_probes=0, **kwargs):
        super().__init__(**kwargs)
        if model is None or isinstance(model, (str, bytes)) or hasattr(model, "__fspath__"):
            model = Model.load(model)
        self.model = model
        if method not in ("direct", "autodiff", "ad", "fd", "finite_difference"):
            raise ValueError(f'unknown Hessian method "{method}" (direct, autodiff, fd)')
        self.method = method
        if not isinstance(mode_probes, int) or mode_probes < 0:
            raise ValueError(f"mode_probes = {mode_probes!r}: need a count >= 0")
        self.mode_probes = mode_probes

    @staticmethod
    def _check(atoms):
        if atoms is None:
            raise ValueError("HIPCalculator: no Atoms given")
        if np.any(atoms.pbc):
            raise ValueError("HIPCalculator: periodic systems are not supported (the model is for molecules in vacuum)")

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self._check(self.atoms)
        energy, forces = self.model.energy_forces(self.atoms.numbers, self.atoms.positions)
        self.results = {"energy": energy, "free_energy": energy, "forces": forces}

    def get_hessian(self, atoms=None):
        """The Hessian at ``atoms`` (default: the calculator's atoms), ``(3N, 3N)`` eV/Å²."""
        atoms = self.atoms if atoms is None else atoms
        self._check(atoms)
        return self.model.hessian(atoms.numbers, atoms.positions, method=self.method, mode_probes=self.mode_probes)
