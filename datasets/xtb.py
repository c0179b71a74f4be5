"""GFN2-xTB through tblite's own interface: energy (eV), forces (eV/Å) and the Hessian (eV/Å²).

The Hessian is a central difference of analytic gradients (step 0.005 bohr), each displaced SCF
restarted from the converged density of the reference point (about 3× faster than a cold start,
same converged result within the SCF tolerance). The asymmetry of the raw difference matrix is a
measure of its numerical noise; it is returned with the symmetrized Hessian.
"""
import numpy as np

BOHR = 0.529177210903  # Å
HARTREE_EV = 27.211386245988
FD_STEP_BOHR = 0.005
ACCURACY = 0.1  # tblite "accuracy": 10x tighter SCF/integral thresholds than the default 1.0


class XtbError(RuntimeError):
    pass


def _calculator(numbers, pos_bohr):
    from tblite.interface import Calculator
    calc = Calculator("GFN2-xTB", np.asarray(numbers), np.asarray(pos_bohr))
    calc.set("verbosity", 0)
    calc.set("accuracy", ACCURACY)
    calc.set("max-iter", 250)
    return calc


def _singlepoint(calc, guess=None):
    try:
        return calc.singlepoint(guess) if guess is not None else calc.singlepoint()
    except Exception as e:  # tblite raises RuntimeError/TBLiteRuntimeError on SCF failure
        raise XtbError(f"GFN2-xTB SCF failed: {e}") from e


def energy_forces(numbers, pos):
    """(energy eV, forces (N,3) eV/Å) at `pos` in Å."""
    calc = _calculator(numbers, np.asarray(pos) / BOHR)
    r = _singlepoint(calc)
    return float(r.get("energy")) * HARTREE_EV, -np.array(r.get("gradient")) * HARTREE_EV / BOHR


def hessian(numbers, pos, step_bohr=FD_STEP_BOHR):
    """(energy eV, forces eV/Å, symmetrized Hessian (3N,3N) eV/Å², max |H − Hᵀ|/2 of the raw
    difference matrix eV/Å²)."""
    x0 = np.asarray(pos, dtype=float) / BOHR
    n = len(numbers)
    calc = _calculator(numbers, x0)
    ref = _singlepoint(calc)
    e = float(ref.get("energy")) * HARTREE_EV
    f = -np.array(ref.get("gradient")) * HARTREE_EV / BOHR
    h = np.zeros((3 * n, 3 * n))
    for k in range(3 * n):
        g = []
        for sgn in (1.0, -1.0):
            x = x0.copy()
            x[k // 3, k % 3] += sgn * step_bohr
            calc.update(x)
            g.append(np.array(_singlepoint(calc, ref).get("gradient")).ravel())
        h[:, k] = (g[0] - g[1]) / (2 * step_bohr)
    calc.update(x0)
    h *= HARTREE_EV / BOHR**2
    asym = float(np.abs(h - h.T).max()) / 2
    return e, f, 0.5 * (h + h.T), asym


class TbliteAse:
    """A minimal ASE calculator on the same settings (for BFGS, Sella, IRC)."""

    def __new__(cls):
        from ase.calculators.calculator import Calculator, all_changes

        class _Calc(Calculator):
            implemented_properties = ["energy", "forces"]

            def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
                super().calculate(atoms, properties, system_changes)
                e, f = energy_forces(self.atoms.numbers, self.atoms.positions)
                self.results = {"energy": e, "forces": f}

        return _Calc()


def hessian_function(atoms):
    """Sella's `hessian_function`: the FD Hessian in eV/Å²."""
    return hessian(atoms.numbers, atoms.positions)[2]
