"""Tests of the Python package `hip_rs` (run by scripts/test-python.sh, which .ci/run calls).

They compare the package with the `hip` binary (target/release/hip, or $HIP_BIN), run ASE's
calculator conventions and a Sella saddle search, and check that bad input raises ValueError.
The dataset is $HIP_TEST_DATA or datasets/gfn2-train.h5.
"""

import json
import os
import pathlib
import re
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pytest

import hip_rs

ROOT = pathlib.Path(__file__).resolve().parents[3]
HIP = os.environ.get("HIP_BIN", str(ROOT / "target" / "release" / "hip"))
DATA = pathlib.Path(os.environ.get("HIP_TEST_DATA", ROOT / "datasets" / "gfn2-train.h5"))

WATER_NUMBERS = [8, 1, 1]
WATER_POSITIONS = np.array([[0.0, 0.0, 0.117], [0.0, 0.757, -0.469], [0.0, -0.757, -0.469]])
SYMBOLS = {1: "H", 6: "C", 7: "N", 8: "O"}


def close(actual, expected, rtol=1e-12):
    """|Δ| ≤ rtol · max(1, |expected|), elementwise: absolute near zero, relative for large values
    (both sides run the same Rust code on the same float64 inputs; only conversions differ)."""
    a, e = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert a.shape == e.shape, (a.shape, e.shape)
    bound = rtol * np.maximum(1.0, np.abs(e))
    worst = np.max(np.abs(a - e) - bound) if a.size else -1.0
    assert worst <= 0.0, f"max |Δ| exceeds the tolerance by {worst:.3e}"


def cli(*args):
    if not pathlib.Path(HIP).exists():
        pytest.fail(f"{HIP} not found: build it with `cargo build --release --bin hip` or set HIP_BIN")
    out = subprocess.run([HIP, *map(str, args)], capture_output=True, text=True)
    assert out.returncode == 0, f"hip {' '.join(map(str, args))}: {out.stderr}"
    return out.stdout


def write_xyz(path, numbers, positions):
    lines = [str(len(numbers)), "test"]
    # repr of a Python float round-trips exactly, so the CLI reads the same float64 values
    lines += [f"{SYMBOLS[int(z)]} " + " ".join(repr(float(c)) for c in p) for z, p in zip(numbers, positions)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def model():
    return hip_rs.Model.load()


@pytest.fixture(scope="module")
def data():
    h5py = pytest.importorskip("h5py")
    if not DATA.exists():
        pytest.fail(f"{DATA} not found")
    return h5py.File(DATA, "r")


def sample(f, i):
    n, a0, h0 = int(f["n_atoms"][i]), int(f["atom_offset"][i]), int(f["hessian_offset"][i])
    numbers = f["atomic_numbers"][a0 : a0 + n].astype(np.int64)
    positions = f["positions"][a0 : a0 + n].astype(np.float64)
    d = 3 * n
    packed = f["hessian_triu"][h0 : h0 + d * (d + 1) // 2].astype(np.float64)
    h = np.zeros((d, d))
    h[np.triu_indices(d)] = packed
    h = h + np.triu(h, 1).T
    return numbers, positions, h


def names(f, attr):
    return json.loads(f.attrs[attr])


def first_of(f, split=None, kind=None, reaction=None):
    mask = np.ones(len(f["n_atoms"]), dtype=bool)
    if split is not None:
        mask &= f["split"][:] == names(f, "split_names").index(split)
    if kind is not None:
        mask &= f["kind"][:] == names(f, "kind_names").index(kind)
    if reaction is not None:
        ids = [r.decode() if isinstance(r, bytes) else r for r in f["reaction_id"][:]]
        if reaction not in ids:
            pytest.fail(f"{DATA} has no reaction {reaction}")
        mask &= f["reaction_index"][:] == ids.index(reaction)
    idx = np.flatnonzero(mask)
    assert idx.size, f"no sample with split={split} kind={kind} reaction={reaction}"
    return int(idx[0])


def check_against_cli(model, tmp_path, numbers, positions, target):
    for method in ("direct", "autodiff"):
        out = json.loads(cli("hessian", target, "--method", method, "--json", "-o", tmp_path / f"h-{method}.npy"))
        energy, forces, hessian = model.predict(numbers, positions, method=method)
        close(energy, out["energy_ev"])
        close(forces, out["forces_ev_a"])
        close(hessian, np.load(tmp_path / f"h-{method}.npy"))
        close(model.hessian(numbers, positions, method=method), hessian)
    e, f = model.energy_forces(numbers, positions)
    close(e, out["energy_ev"])
    close(f, out["forces_ev_a"])


def test_water_equals_the_cli(model, tmp_path):
    xyz = write_xyz(tmp_path / "water.xyz", WATER_NUMBERS, WATER_POSITIONS)
    check_against_cli(model, tmp_path, WATER_NUMBERS, WATER_POSITIONS, xyz)
    # vibrations of the direct Hessian = `hip freq` with the embedded model
    freq = json.loads(cli("freq", xyz, "--json"))
    vib = hip_rs.vibrations(WATER_NUMBERS, WATER_POSITIONS, model.hessian(WATER_NUMBERS, WATER_POSITIONS))
    for key in ("frequencies_cm", "reduced_masses_amu", "masses_amu", "zpe_ev", "zpe_kcal_mol"):
        close(vib[key], freq[key])
    for key in ("n_imaginary", "classification", "rotor", "mass_convention"):
        assert vib[key] == freq[key], key
    assert vib["modes"].shape == (len(vib["frequencies_cm"]), 3, 3)


def test_dataset_sample_equals_the_cli(model, data, tmp_path):
    i = first_of(data, split="test")
    numbers, positions, h_ref = sample(data, i)
    check_against_cli(model, tmp_path, numbers, positions, f"{DATA}:{i}")
    # `hip freq FILE:INDEX` analyses the sample's own (reference) Hessian
    freq = json.loads(cli("freq", f"{DATA}:{i}", "--json", "--masses", "paper"))
    vib = hip_rs.vibrations(numbers, positions, h_ref, masses="paper")
    close(vib["frequencies_cm"], freq["frequencies_cm"], rtol=1e-9)  # f32-stored Hessian, same f64 path
    assert vib["n_imaginary"] == freq["n_imaginary"]


def test_batched_hessians_equal_single_calls(model, data):
    from ase import Atoms

    idx = [first_of(data, split=s) for s in ("train", "val", "test")]
    structures = [sample(data, i)[:2] for i in idx] + [(WATER_NUMBERS, WATER_POSITIONS)]
    structures.append(Atoms(numbers=WATER_NUMBERS, positions=WATER_POSITIONS + 0.01))
    batched = model.hessians(structures)
    assert len(batched) == len(structures)
    for s, h in zip(structures, batched):
        z, x = (s.numbers, s.positions) if hasattr(s, "numbers") else s
        single = model.hessian(z, x)
        # one batched pass sums in a different order than single passes: 1e-12 relative to the
        # largest entry of the Hessian
        assert np.max(np.abs(h - single)) <= 1e-12 * max(1.0, np.max(np.abs(single)))
    assert model.hessians([]) == []


def test_calculator_follows_ase_conventions(model):
    from ase import Atoms
    from ase.calculators.calculator import Calculator
    from ase.calculators.fd import calculate_numerical_forces

    from hip_rs.ase import HIPCalculator

    atoms = Atoms(numbers=WATER_NUMBERS, positions=WATER_POSITIONS)
    atoms.positions += np.array([[0.01, -0.02, 0.03], [0.0, 0.02, 0.0], [-0.03, 0.0, 0.01]])
    calc = HIPCalculator(model=model)
    atoms.calc = calc
    assert isinstance(calc, Calculator)
    e = atoms.get_potential_energy()
    f = atoms.get_forces()
    assert f.shape == (3, 3)
    # ASE's own numerical forces: central differences of get_potential_energy, d = 1e-4 Å.
    # Truncation error ~d²·|∂³E| ~ 1e-7 eV/Å and round-off ~1e-16·|E|/d ~ 1e-10 eV/Å, so 1e-5 eV/Å
    # holds, while a wrong sign or unit would miss by the size of the forces (~0.1–1 eV/Å).
    numerical = calculate_numerical_forces(atoms, eps=1e-4)
    assert np.max(np.abs(f - numerical)) <= 1e-5, np.max(np.abs(f - numerical))
    # results follow the atoms: moving them recomputes
    atoms.positions[0, 0] += 0.05
    assert atoms.get_potential_energy() != e
    # get_hessian is the model's Hessian, (3N, 3N)
    close(calc.get_hessian(atoms), model.hessian(atoms.numbers, atoms.positions))
    close(HIPCalculator(model=model, method="autodiff").get_hessian(atoms), model.hessian(atoms.numbers, atoms.positions, method="autodiff"))


def test_sella_finds_a_first_order_saddle_from_a_shipped_transition_state(model, data):
    sella = pytest.importorskip("sella")
    from ase import Atoms

    from hip_rs.ase import HIPCalculator

    numbers, positions, _ = sample(data, first_of(data, kind="ts", reaction="hcn_to_hnc"))
    atoms = Atoms(numbers=numbers, positions=positions)
    atoms.calc = calc = HIPCalculator(model=model)
    opt = sella.Sella(atoms, order=1, internal=True, hessian_function=calc.get_hessian, logfile=None)
    assert opt.run(fmax=0.01, steps=200), "Sella did not converge in 200 steps"
    assert np.max(np.linalg.norm(atoms.get_forces(), axis=1)) <= 0.01
    # The order of the saddle is a property of the surface Sella searched: it is graded by the
    # exact curvature of that surface, the model's autodiff Hessian.
    h = model.hessian(atoms.numbers, atoms.positions, method="autodiff")
    vib = hip_rs.vibrations(atoms.numbers, atoms.positions, h)
    assert vib["n_imaginary"] == 1, vib["frequencies_cm"]


def test_mode_probes_refine_the_direct_hessian_toward_the_surface(model, data):
    # At a shipped TS: the direct Hessian refined along its k lowest modes by the model's own
    # Hessian-vector products. 0 probes is the plain Hessian; with probes the matrix stays
    # symmetric, changes, and its curvature along the probed lowest mode moves to the surface's
    # (the autodiff Hessian's) within the probes' central-difference error (1e-3 relative to the
    # largest entry: ε = 1e-3 Å, ε²/6 · ∂⁴E). The calculator passes the setting through.
    from ase import Atoms

    from hip_rs.ase import HIPCalculator

    numbers, positions, _ = sample(data, first_of(data, kind="ts", reaction="hcn_to_hnc"))
    plain = model.hessian(numbers, positions)
    assert np.array_equal(model.hessian(numbers, positions, mode_probes=0), plain)
    refined = model.hessian(numbers, positions, mode_probes=4)
    assert np.array_equal(refined, refined.T) and not np.array_equal(refined, plain)
    exact = model.hessian(numbers, positions, method="autodiff")
    # the lowest mode of the refined matrix is among the probed directions: there H_r u = A u
    w, v = np.linalg.eigh(refined)
    scale = np.abs(exact).max()
    internal = [k for k in range(len(w)) if abs(w[k]) > 1e-6 * scale]
    u = v[:, internal[0]]
    assert abs(u @ refined @ u - u @ exact @ u) < 1e-3 * scale, (u @ refined @ u, u @ exact @ u)
    atoms = Atoms(numbers=numbers, positions=positions)
    calc = HIPCalculator(model=model, mode_probes=4)
    assert np.array_equal(calc.get_hessian(atoms), refined)
    with pytest.raises(ValueError, match="mode_probes"):
        HIPCalculator(model=model, mode_probes=-1)
    with pytest.raises(ValueError, match="mode_probes"):
        model.hessian(numbers, positions, mode_probes=-2)


def one_line_value_error(fn):
    with pytest.raises(ValueError) as err:
        fn()
    message = str(err.value)
    assert message and "\n" not in message
    return message


def test_bad_input_raises_value_error(model):
    z, x = WATER_NUMBERS, WATER_POSITIONS
    assert "positions" in one_line_value_error(lambda: model.hessian([8, 1], x))
    assert "positions" in one_line_value_error(lambda: model.hessian(z, x[:, :2]))
    assert "positions" in one_line_value_error(lambda: model.energy_forces(z, x.ravel()))
    assert "numbers" in one_line_value_error(lambda: model.hessian([[8, 1, 1]], x))
    assert "numbers" in one_line_value_error(lambda: model.hessian([8.5, 1, 1], x))
    assert "unknown atomic number" in one_line_value_error(lambda: model.hessian([200, 1, 1], x))
    assert "non-finite" in one_line_value_error(lambda: model.hessian(z, np.where(x == 0.757, np.nan, x)))
    assert "non-finite" in one_line_value_error(lambda: model.predict(z, np.where(x == 0.757, np.inf, x)))
    assert "method" in one_line_value_error(lambda: model.hessian(z, x, method="magic"))
    one_line_value_error(lambda: model.hessian([9, 1, 1], x))  # F: not a species of the model
    one_line_value_error(lambda: model.hessian(z, np.zeros((3, 3))))  # coincident atoms
    one_line_value_error(lambda: model.hessians([(z, x), (z,)]))
    one_line_value_error(lambda: model.hessians([(z, x[:2])]))
    assert "hessian" in one_line_value_error(lambda: hip_rs.vibrations(z, x, np.zeros((9, 8))))
    assert "hessian" in one_line_value_error(lambda: hip_rs.vibrations(z, x, np.zeros(81)))
    one_line_value_error(lambda: hip_rs.vibrations(z, x, np.full((9, 9), np.nan)))
    one_line_value_error(lambda: hip_rs.vibrations(z, x, np.eye(9), masses="heavy"))
    with pytest.raises(FileNotFoundError):
        hip_rs.Model.load("/nonexistent/model.safetensors")

    from ase import Atoms

    from hip_rs.ase import HIPCalculator

    periodic = Atoms(numbers=z, positions=x, cell=[5, 5, 5], pbc=True)
    periodic.calc = HIPCalculator(model=model)
    assert "periodic" in one_line_value_error(periodic.get_potential_energy)
    one_line_value_error(lambda: HIPCalculator(model=model, method="magic"))


def test_f32_agrees_with_f64_and_bad_device_or_dtype_raise(model):
    z, x = np.array([8, 1, 1]), np.array([[0.0, 0.0, 0.117], [0.0, 0.757, -0.469], [0.0, -0.757, -0.469]])
    m32 = hip_rs.Model.load(dtype="f32", device="cpu")
    e64, f64 = model.energy_forces(z, x)
    e32, f32 = m32.energy_forces(z, x)
    h64, h32 = model.hessian(z, x), m32.hessian(z, x)
    assert h32.dtype == np.float64  # the interface stays float64
    # f32 rounding through the network: 1e-4 of each output's scale, the f32 tolerance of
    # `hip device-check` (measured with the default model: up to 6e-6 for forces, 5e-7 for H)
    for a, b in [(f32, f64), (h32, h64), (np.array([e32]), np.array([e64]))]:
        assert np.max(np.abs(a - b)) <= 1e-4 * max(1.0, np.max(np.abs(b)))
    assert not np.array_equal(h32, h64)
    assert "f64 or f32" in one_line_value_error(lambda: hip_rs.Model.load(dtype="f16"))
    assert "cpu, cuda or cuda:N" in one_line_value_error(lambda: hip_rs.Model.load(device="tpu"))


def test_domain_warnings_are_python_warnings(model):
    far = WATER_POSITIONS.copy()
    far[2] += [0.0, -50.0, 0.0]  # an H with no neighbour within the cutoff
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.energy_forces(WATER_NUMBERS, far)
    assert any(issubclass(w.category, UserWarning) for w in caught), [str(w.message) for w in caught]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.energy_forces(WATER_NUMBERS, WATER_POSITIONS)  # in the domain: no warning


def test_the_gil_is_released_during_model_evaluation(model):
    # A Python thread counts while the main thread is inside a long model call (finite-difference
    # Hessian of a 12-atom chain: 72 force evaluations). If the call held the GIL, the counter
    # could not move until it returned.
    n = 12
    numbers = [6 if k % 3 == 0 else 1 for k in range(n)]
    positions = np.array([[1.1 * k, 0.3 * (k % 2), 0.0] for k in range(n)])
    count, stop = [0], threading.Event()

    def spin():
        while not stop.is_set():
            count[0] += 1

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = threading.Thread(target=spin)
        t.start()
        time.sleep(0.05)
        before = count[0]
        start = time.perf_counter()
        model.hessian(numbers, positions, method="fd")
        elapsed = time.perf_counter() - start
        during = count[0] - before
        stop.set()
        t.join()
    assert elapsed > 0.01, "the call was too short to tell"
    assert during > 1000, f"the counter advanced only {during} times in {elapsed:.3f} s"


def readme_python_example():
    text = (ROOT / "README.md").read_text()
    section = text.split("## From Python", 1)
    assert len(section) == 2, "README.md has no '## From Python' section"
    blocks = re.findall(r"```python\n(.*?)```", section[1].split("\n## ", 1)[0], re.S)
    assert blocks, "the 'From Python' section has no python code block"
    return blocks[0]


def test_readme_example_runs_as_written(tmp_path):
    script = tmp_path / "example.py"
    script.write_text(readme_python_example())
    out = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "converged: True" in out.stdout, out.stdout
    assert "autodiff  transition_state" in out.stdout, out.stdout


# ---------------------------------------------------------------------------------------------
# GFN2-xTB and the reaction pipeline

REACTBENCH = ROOT / "datasets" / "reactbench" / "ts1x.tar.gz"
# a reaction of the validation part of ReactBench's train half (datasets/reactbench/val.txt):
# never one of the test half
VAL_REACTION = "rxn160"


def reactbench_frames(name):
    import io
    import tarfile

    from ase.io import read

    with tarfile.open(REACTBENCH) as t:
        text = t.extractfile(f"ts1x/{name}.xyz").read().decode()
    r, p = read(io.StringIO(text), index=":", format="xyz")
    return text, r.numbers, r.positions, p.positions


@pytest.fixture(scope="module")
def gfn2():
    return hip_rs.Gfn2()


def test_gfn2_equals_tblites_python_interface(gfn2):
    # the same library through two interfaces: equal to round-off (one thread on both sides)
    from tblite.interface import Calculator

    bohr, hartree = 0.529177210903, 27.211386245988
    _, numbers, positions, _ = reactbench_frames(VAL_REACTION)
    calc = Calculator("GFN2-xTB", np.asarray(numbers), positions / bohr)
    calc.set("verbosity", 0)
    calc.set("accuracy", 0.1)
    res = calc.singlepoint()
    e, f = gfn2.energy_forces(numbers, positions)
    close(e, res.get("energy") * hartree, rtol=1e-12)
    close(f, -res.get("gradient") * hartree / bohr, rtol=1e-9)
    h = gfn2.hessian(numbers, positions)
    assert h.shape == (3 * len(numbers),) * 2 and np.array_equal(h, h.T)


def test_reaction_on_gfn2_equals_the_cli(gfn2, tmp_path):
    text, numbers, r, p = reactbench_frames(VAL_REACTION)
    out = hip_rs.reaction(numbers, r, p, gfn2)
    f = tmp_path / f"{VAL_REACTION}.xyz"
    f.write_text(text)
    ref = json.loads(cli("reaction", f, "--potential", "gfn2", "-o", tmp_path / "out", "--json"))
    assert out["ts_success"] == ref["ts_success"] and out["intended"] == ref["intended"]
    close(out["ts_energy"], ref["ts"]["energy"], rtol=1e-12)
    # this reaction is one GFN2-xTB connects (its TS search converges in a few steps)
    assert out["ts_success"] and out["intended"], out["summary"][:300]


def test_reaction_bad_input_raises_value_error(gfn2, model):
    _, numbers, r, p = reactbench_frames(VAL_REACTION)
    with pytest.raises(ValueError, match="same geometry"):
        hip_rs.reaction(numbers, r, r, gfn2)
    with pytest.raises(ValueError, match="expected a hip_rs.Model or a hip_rs.Gfn2"):
        hip_rs.reaction(numbers, r, p, "gfn2")
    with pytest.raises(ValueError, match="method applies to a Model"):
        hip_rs.reaction(numbers, r, p, gfn2, method="autodiff")
