"""HORM (the HIP paper's data: Transition1x geometries, ωB97X/6-31G(d) energies, forces and Hessians)
into the project's HDF5 dataset format, streaming and without running code from the file.

    python3 datasets/horm.py import SRC.lmdb OUT.h5 [--split test] [--limit N]

HORM's LMDB (`../shared/horm/README.md`): single-file LMDB, keys "0".."N-1" and "length"; each value
a pickled `torch_geometric.data.Data` whose tensors were pickled by torch's legacy storage format.
Decoding needs neither torch nor torch_geometric: `SafeUnpickler` maps exactly the classes and
functions that this structure uses to plain containers and numpy decoders and refuses every other
global (a hostile pickle cannot import or call anything else), and a decoded record must have the
known fields with consistent shapes and finite values. Any problem is one `HormError` naming the
file, the key and what is wrong.

Output: the project's dataset format (`hip_core::io::dataset`): positions Å, energy eV (HORM's
total `energy`; its `ae`, energy minus per-element references, is kept as `energy_atomization`),
forces eV/Å, Hessian eV/Å² symmetrized ((H + Hᵀ)/2; the largest asymmetry before is kept per
sample in `hessian_asymmetry`) and stored as float32 upper triangle, level of theory
ωB97X/6-31G(d). HORM records no split, reaction or kind: every sample gets `--split`, its own
molecule (keyed by its formula and index), and kind `ts` when it has exactly one vibrational
mode below −10 cm⁻¹ (mass-weighted, Eckart-projected), else `path`. Memory is constant in the
file size: one record at a time, appended to resizable HDF5 datasets.
"""
import argparse
import io
import json
import os
import pickle
import sys
import time

import numpy as np

FORMAT_NAME = "hip-hessian-dataset"
FORMAT_VERSION = 1
SPLITS = ["train", "val", "test"]
KINDS = ["minimum", "thermal", "displaced", "ts", "path"]
ELEMENTS = {1: "H", 6: "C", 7: "N", 8: "O", 9: "F"}
ONE_HOT_ORDER = [1, 6, 7, 8, 9]
MASSES = {1: 1.008, 6: 12.011, 7: 14.007, 8: 15.999, 9: 18.998}  # IUPAC conventional (= hip_core)
FREQ_FACTOR = 521.4708983725064  # cm^-1 for lambda = 1 eV/(A^2 amu), CODATA 2018
IMAG_THRESHOLD_CM = -10.0
TORCH_MAGIC = 0x1950A86A20F9469CFC6C
MAX_ATOMS = 200
FIELDS = ("pos", "charges", "energy", "forces", "hessian")


class HormError(Exception):
    """One clear error about the input file."""


# ----------------------------------------------------------------------------------------------
# the restricted unpickler


class _Plain:
    """Stands for the torch_geometric classes: keeps the state it is given, runs nothing."""

    def __init__(self, *args):
        if args:
            raise pickle.UnpicklingError("unexpected constructor arguments")
        self.state = None

    def __setstate__(self, state):
        self.state = state


class _Data(_Plain):
    pass


class _GlobalStorage(_Plain):
    pass


class _Marker:
    """DataEdgeAttr / DataTensorAttr: class references stored in the state; never instantiated."""


class _StorageType:
    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)


STORAGE_TYPES = {
    "FloatStorage": "<f4", "DoubleStorage": "<f8", "HalfStorage": "<f2", "LongStorage": "<i8",
    "IntStorage": "<i4", "ShortStorage": "<i2", "CharStorage": "i1", "ByteStorage": "u1", "BoolStorage": "?",
}


class _Storage:
    def __init__(self, array):
        self.array = array


def _rebuild_tensor_v2(storage, offset, size, stride, requires_grad=False, hooks=None, metadata=None):
    if not isinstance(storage, _Storage):
        raise pickle.UnpicklingError("a tensor without a decoded storage")
    a = storage.array
    if not (isinstance(offset, int) and all(isinstance(x, int) and x >= 0 for x in tuple(size) + tuple(stride))):
        raise pickle.UnpicklingError("bad tensor geometry")
    size, stride = tuple(size), tuple(stride)
    span = offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1 if all(size) else offset
    if offset < 0 or span > a.size:
        raise pickle.UnpicklingError(f"tensor of size {size} outside its storage of {a.size}")
    return np.lib.stride_tricks.as_strided(a[offset:], shape=size,
                                           strides=tuple(s * a.itemsize for s in stride)).copy()


def _load_from_bytes(blob):
    """A storage saved by torch's legacy (non-zip) format: magic, protocol, system info, the
    storage object (a persistent id), its key list, then each storage as 8-byte count + data."""
    if not isinstance(blob, (bytes, bytearray)):
        raise pickle.UnpicklingError("storage bytes expected")
    f = io.BytesIO(blob)
    if _restricted_load(f, {}) != TORCH_MAGIC:
        raise pickle.UnpicklingError("not a torch legacy storage (magic number)")
    _restricted_load(f, {})  # protocol version
    _restricted_load(f, {})  # system info
    found = {}

    def persistent(pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage" and isinstance(pid[1], _StorageType)):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r:.80}")
        key, numel = str(pid[2]), pid[4]
        if not isinstance(numel, int) or numel < 0:
            raise pickle.UnpicklingError("bad storage size")
        found[key] = (pid[1].dtype, numel)
        return key

    root = _restricted_load(f, {"persistent_load": persistent})
    keys = _restricted_load(f, {})
    if not isinstance(keys, list) or set(map(str, keys)) != set(found):
        raise pickle.UnpicklingError("storage key list does not match the storages")
    arrays = {}
    for k in keys:
        dtype, numel = found[str(k)]
        count = int.from_bytes(f.read(8), "little")
        data = f.read(count * dtype.itemsize)
        if count != numel or len(data) != count * dtype.itemsize:
            raise pickle.UnpicklingError("truncated storage data")
        arrays[str(k)] = np.frombuffer(data, dtype=dtype)
    return _Storage(arrays[root])


ALLOWED = {
    ("torch_geometric.data.data", "Data"): _Data,
    ("torch_geometric.data.data", "DataEdgeAttr"): _Marker,
    ("torch_geometric.data.data", "DataTensorAttr"): _Marker,
    ("torch_geometric.data.storage", "GlobalStorage"): _GlobalStorage,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch.storage", "_load_from_bytes"): _load_from_bytes,
    ("collections", "OrderedDict"): dict,
}
ALLOWED.update({("torch", name): _StorageType(dt) for name, dt in STORAGE_TYPES.items()})


class SafeUnpickler(pickle.Unpickler):
    def __init__(self, f, persistent_load=None):
        super().__init__(f)
        self._persistent = persistent_load

    def find_class(self, module, name):
        try:
            return ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing {module}.{name}: not part of HORM's record structure") from None

    def persistent_load(self, pid):
        if self._persistent is None:
            raise pickle.UnpicklingError("unexpected persistent id")
        return self._persistent(pid)


def _restricted_load(f, kw):
    return SafeUnpickler(f, kw.get("persistent_load")).load()


def loads(blob):
    return _restricted_load(io.BytesIO(blob), {})


# ----------------------------------------------------------------------------------------------
# records


def _mapping(obj):
    """The field dict of a decoded Data."""
    if not isinstance(obj, _Data) or not isinstance(obj.state, dict):
        raise ValueError("not a torch_geometric Data record")
    store = obj.state.get("_store")
    if not isinstance(store, _GlobalStorage) or not isinstance(store.state, dict):
        raise ValueError("Data without its field storage")
    m = store.state.get("_mapping")
    if not isinstance(m, dict):
        raise ValueError("Data without a field mapping")
    return m


def _scalar(v, name):
    a = np.asarray(v, dtype=np.float64).ravel()
    if a.size != 1 or not np.isfinite(a[0]):
        raise ValueError(f"{name} is not one finite number")
    return float(a[0])


def decode_record(blob):
    """(numbers, positions, energy, atomization energy or nan, forces, symmetric Hessian, asymmetry)."""
    m = _mapping(loads(blob))
    missing = [k for k in FIELDS if k not in m]
    if missing:
        raise ValueError(f"missing fields {missing}")
    pos = np.asarray(m["pos"], dtype=np.float64)
    if pos.ndim != 2 or pos.shape[1] != 3 or not 1 <= len(pos) <= MAX_ATOMS:
        raise ValueError(f"pos has shape {pos.shape}, expected (N, 3) with 1 <= N <= {MAX_ATOMS}")
    n = len(pos)
    z = np.asarray(m["charges"]).ravel()
    if z.size != n or not np.all(np.isin(z, list(ELEMENTS))):
        raise ValueError(f"charges {z.tolist()[:8]}… are not {n} atomic numbers of {sorted(ELEMENTS)}")
    z = z.astype(np.uint8)
    if "one_hot" in m:
        oh = np.asarray(m["one_hot"])
        if oh.shape != (n, len(ONE_HOT_ORDER)) or not np.array_equal(np.array(ONE_HOT_ORDER)[oh.argmax(1)], z):
            raise ValueError("one_hot disagrees with charges")
    forces = np.asarray(m["forces"], dtype=np.float64)
    if forces.shape != (n, 3):
        raise ValueError(f"forces have shape {forces.shape}, expected ({n}, 3)")
    h = np.asarray(m["hessian"], dtype=np.float64).ravel()
    if h.size != (3 * n) ** 2:
        raise ValueError(f"hessian has {h.size} entries, expected (3N)^2 = {(3 * n) ** 2}")
    h = h.reshape(3 * n, 3 * n)
    for name, a in (("pos", pos), ("forces", forces), ("hessian", h)):
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} has non-finite values")
    energy = _scalar(m["energy"], "energy")
    ae = _scalar(m["ae"], "ae") if "ae" in m else float("nan")
    asym = float(np.abs(h - h.T).max())
    return z, pos, energy, ae, forces, 0.5 * (h + h.T), asym


def n_negative_modes(z, pos, h):
    """Vibrational modes below −10 cm⁻¹ of the mass-weighted, Eckart-projected Hessian."""
    n = len(z)
    m = np.repeat([MASSES[int(a)] for a in z], 3)
    sq = np.sqrt(m)
    hm = h / np.outer(sq, sq)
    com = (pos * m[::3, None]).sum(0) / m[::3].sum()
    r = pos - com
    basis = []
    for k in range(3):
        t = np.zeros((n, 3))
        t[:, k] = 1.0
        basis.append((t.ravel() * sq))
    for k in range(3):
        ax = np.zeros(3)
        ax[k] = 1.0
        basis.append(np.cross(ax, r).ravel() * sq)
    b = np.array(basis).T
    u, s, _ = np.linalg.svd(b, full_matrices=False)
    q = u[:, s > 1e-6 * s.max()]
    p = np.eye(3 * n) - q @ q.T
    lam = np.linalg.eigvalsh(p @ hm @ p)
    lam = np.sort(lam)
    # drop the rigid-body zeros (the ones closest to zero)
    vib = np.delete(lam, np.argsort(np.abs(lam))[: q.shape[1]])
    freqs = np.sign(vib) * np.sqrt(np.abs(vib)) * FREQ_FACTOR
    return int((freqs < IMAG_THRESHOLD_CM).sum())


def formula(z):
    counts = {}
    for a in z:
        counts[ELEMENTS[int(a)]] = counts.get(ELEMENTS[int(a)], 0) + 1
    return "".join(f"{e}{counts[e] if counts[e] > 1 else ''}" for e in ("C", "H", "N", "O", "F") if e in counts)


# ----------------------------------------------------------------------------------------------
# streaming writer


class Writer:
    """Appends samples to resizable datasets of the project's format."""

    def __init__(self, path, split, source):
        import h5py
        self.h5 = h5py
        self.f = h5py.File(path, "w")
        self.n = 0
        self.atoms = 0
        self.hess = 0
        self.mol_ids = []
        z = dict(compression="gzip", compression_opts=4, shuffle=True)

        def grow(name, dtype, tail=(), chunk=4096, comp=True):
            self.f.create_dataset(name, shape=(0,) + tail, maxshape=(None,) + tail, dtype=dtype,
                                  chunks=(chunk,) + tail, **(z if comp else {}))

        for name, dt in (("n_atoms", np.int32), ("atom_offset", np.int64), ("hessian_offset", np.int64),
                         ("split", np.uint8), ("kind", np.uint8), ("molecule_index", np.int32),
                         ("reaction_index", np.int32), ("energy", np.float64), ("energy_atomization", np.float64),
                         ("hessian_asymmetry", np.float64), ("n_negative_modes", np.int32),
                         ("source_index", np.int64)):
            grow(name, dt, comp=False)
        grow("atomic_numbers", np.uint8, chunk=1 << 14)
        grow("positions", np.float64, (3,), chunk=1 << 14)
        grow("forces", np.float64, (3,), chunk=1 << 14)
        grow("hessian_triu", np.float32, chunk=1 << 18)
        self.split = SPLITS.index(split)
        f = self.f
        f.attrs["format_name"] = FORMAT_NAME
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["data_version"] = 1
        f.attrs["level_of_theory"] = "wB97X/6-31G(d)"
        f.attrs["level_details"] = ("HORM (Cui et al., arXiv:2505.12447): wB97X/6-31G(d) energies, forces and "
                                    "Hessians at Transition1x geometries; Hessians symmetrized on import")
        f.attrs["units"] = json.dumps({"positions": "Angstrom", "energy": "eV", "forces": "eV/Angstrom",
                                       "hessian": "eV/Angstrom^2"})
        f.attrs["hessian_storage"] = "upper triangle (row-major, diagonal included) of the symmetric 3N x 3N Hessian, float32"
        f.attrs["generator"] = "datasets/horm.py"
        f.attrs["source"] = source
        f.attrs["kind_rule"] = "ts: exactly one vibrational mode below -10 cm^-1 (mass-weighted, Eckart-projected); else path"
        f.attrs["split_names"] = json.dumps(SPLITS)
        f.attrs["kind_names"] = json.dumps(KINDS)
        f.attrs["created"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    def _append(self, name, values):
        d = self.f[name]
        old = d.shape[0]
        d.resize(old + len(values), axis=0)
        d[old:] = values

    def add(self, key, z, pos, energy, ae, forces, h, asym):
        n = len(z)
        iu = np.triu_indices(3 * n)
        tri = h[iu].astype(np.float32)
        neg = n_negative_modes(z, pos, h)
        self.mol_ids.append(f"horm-{key}-{formula(z)}")
        for name, v in (("n_atoms", n), ("atom_offset", self.atoms), ("hessian_offset", self.hess),
                        ("split", self.split), ("kind", KINDS.index("ts" if neg == 1 else "path")),
                        ("molecule_index", self.n), ("reaction_index", -1), ("energy", energy),
                        ("energy_atomization", ae), ("hessian_asymmetry", asym), ("n_negative_modes", neg),
                        ("source_index", int(key))):
            self._append(name, [v])
        self._append("atomic_numbers", z)
        self._append("positions", pos)
        self._append("forces", forces)
        self._append("hessian_triu", tri)
        self.n += 1
        self.atoms += n
        self.hess += len(tri)

    def close(self):
        s = self.h5.string_dtype("utf-8")
        self.f.create_dataset("molecule_id", data=np.array(self.mol_ids, dtype=object), dtype=s)
        self.f.create_dataset("molecule_smiles", data=np.array([""] * len(self.mol_ids), dtype=object), dtype=s)
        self.f.close()


LMDB_MAGIC = 0xBEEFC0DE


def check_lmdb_header(src):
    """LMDB maps the file into memory, and a read past its end kills the process (SIGBUS): so
    first the two meta pages (magic, page size, last page of the newest one) against the size."""
    size = os.path.getsize(src)
    with open(src, "rb") as f:
        head = f.read(1 << 17)

    def meta(off):
        """(page size, last page, transaction id) of the meta page at byte `off`."""
        m = head[off + 16: off + 152]
        if len(m) < 136 or int.from_bytes(m[0:4], "little") != LMDB_MAGIC:
            raise HormError(f"{src}: not an LMDB file (no meta page at byte {off})")
        page = int.from_bytes(m[24:28], "little")
        if page not in (1 << k for k in range(9, 17)):
            raise HormError(f"{src}: LMDB meta page with page size {page}")
        return page, int.from_bytes(m[120:128], "little"), int.from_bytes(m[128:136], "little")

    first = meta(0)
    page, last, _ = max(first, meta(first[0]), key=lambda t: t[2])  # the second meta page is one page in
    if (last + 1) * page > size:
        raise HormError(f"{src}: truncated: {size} bytes, the LMDB needs {(last + 1) * page}")


def import_lmdb(src, out, split="test", limit=0):
    """Streams `src` into `out` (written to `out.tmp`, renamed at the end). Returns the count.
    The reading runs in a child process, so that a corrupt file that still crashes LMDB's
    memory-mapped reader becomes this error and not the caller's death."""
    import multiprocessing as mp
    if not os.path.isfile(src):
        raise HormError(f"{src}: no such file")
    check_lmdb_header(src)
    # spawn, not fork: a caller that imported a multithreaded library (JAX, through Sella) must
    # not fork its threads' locks into the reader
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, src, out, split, limit))
    proc.start()
    child.close()
    try:
        result = parent.recv()
    except EOFError:
        result = None
    proc.join()
    if result is None or proc.exitcode != 0:
        if os.path.exists(out + ".tmp"):
            os.remove(out + ".tmp")
        how = f"signal {-proc.exitcode}" if proc.exitcode and proc.exitcode < 0 else f"status {proc.exitcode}"
        raise HormError(f"{src}: corrupt LMDB (the reader died with {how})")
    kind, value = result
    if kind == "error":
        if os.path.exists(out + ".tmp"):
            os.remove(out + ".tmp")
        raise HormError(value)
    return value


def _child(conn, src, out, split, limit):
    try:
        conn.send(("ok", _import(src, out, split, limit)))
    except HormError as e:
        conn.send(("error", str(e)))
    except Exception as e:  # noqa: BLE001  anything else is still the file's problem
        conn.send(("error", f"{src}: {type(e).__name__}: {e}"))
    conn.close()


def _import(src, out, split, limit):
    import lmdb
    try:
        env = lmdb.open(src, subdir=False, readonly=True, lock=False, readahead=False)
    except lmdb.Error as e:
        raise HormError(f"{src}: not a single-file LMDB ({e})") from None
    tmp = out + ".tmp"
    count = 0
    try:
        with env.begin() as txn:
            raw = txn.get(b"length")
            if raw is None:
                raise HormError(f"{src}: no 'length' key (not a HORM file)")
            try:
                length = loads(raw)
            except Exception as e:  # noqa: BLE001  any decoding problem is the file's
                raise HormError(f"{src}: key 'length': {e}") from None
            if not isinstance(length, int) or length < 0:
                raise HormError(f"{src}: key 'length' is {length!r:.40}, not a count")
            w = Writer(tmp, split, f"{os.path.basename(src)} ({length} records)")
            try:
                for k in range(length if not limit else min(limit, length)):
                    blob = txn.get(str(k).encode())
                    if blob is None:
                        raise HormError(f"{src}: key '{k}' is missing (length says {length})")
                    try:
                        rec = decode_record(blob)
                    except Exception as e:  # noqa: BLE001
                        raise HormError(f"{src}: key '{k}': {e}") from None
                    w.add(k, *rec)
                    count += 1
            finally:
                w.close()
    except lmdb.Error as e:
        raise HormError(f"{src}: corrupt LMDB ({e})") from None
    finally:
        env.close()
    os.replace(tmp, out)
    return count


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    im = sub.add_parser("import", help="LMDB -> the project's HDF5")
    im.add_argument("src")
    im.add_argument("out")
    im.add_argument("--split", default="test", choices=SPLITS)
    im.add_argument("--limit", type=int, default=0, help="only the first N records (0: all)")
    a = ap.parse_args(argv)
    try:
        n = import_lmdb(a.src, a.out, a.split, a.limit)
    except HormError as e:
        tmp = a.out + ".tmp"
        if os.path.exists(tmp):
            os.remove(tmp)
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"{a.out}: {n} samples")
    return 0


if __name__ == "__main__":
    sys.exit(main())
