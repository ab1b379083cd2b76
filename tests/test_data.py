"""minitorch.data: readers on files written here in the real formats, datasets' file search,
the embedded sample, transforms and the DataLoader."""

from __future__ import annotations

import gzip
import io
import os
import pickle
import struct

import numpy as np
import pytest

import minitorch as mt
from minitorch.data import (
    CIFAR10,
    MNIST,
    ArrayDataset,
    DataLoader,
    DatasetFormatError,
    DatasetNotFoundError,
    FashionMNIST,
    MNISTSample,
    random_split,
    read_cifar_batch,
    read_idx,
)
from minitorch.data import transforms as T
from minitorch.data.datasets import DEBIAN_FASHION_MNIST


# ---- writing the real formats (independently of the readers) ---------------------------------
def idx_bytes(arr: np.ndarray) -> bytes:
    """LeCun's IDX: two zero bytes, a type code, ndim, big-endian uint32 dims, big-endian data."""
    code = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D,
            np.float64: 0x0E}[arr.dtype.type]
    head = struct.pack(">BBBB", 0, 0, code, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return head + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write_mnist(folder: str, n_train: int = 20, n_test: int = 8, gz: bool = False,
                seed: int = 0) -> dict:
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    out = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n).astype(np.uint8)
        for stem, arr in ((f"{prefix}-images-idx3-ubyte", images),
                          (f"{prefix}-labels-idx1-ubyte", labels)):
            raw = idx_bytes(arr)
            name = stem + (".gz" if gz else "")
            with open(os.path.join(folder, name), "wb") as f:
                f.write(gzip.compress(raw) if gz else raw)
        out[prefix] = (images, labels)
    return out


class _Py2Pickler(pickle._Pickler):
    """Writes bytes as Python 2 str opcodes (BINSTRING), as CIFAR's own files hold them."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_bytes(self, obj: bytes) -> None:
        self.write(pickle.BINSTRING + struct.pack("<I", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_bytes


def cifar_batch_bytes(data: np.ndarray, labels: list, style: str) -> bytes:
    if style == "py2":  # Python 2 cPickle of numpy 1.x: str keys/data, numpy.core globals
        batch = {b"batch_label": b"training batch 1 of 5", b"labels": labels, b"data": data,
                 b"filenames": [b"x%d.png" % i for i in range(len(labels))]}
        buf = io.BytesIO()
        _Py2Pickler(buf, protocol=2).dump(batch)
        return buf.getvalue().replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    batch = {"batch_label": "training batch 1 of 5", "labels": labels, "data": data}
    return pickle.dumps(batch, protocol=2 if style == "py3-protocol2" else 5)


def write_cifar(folder: str, per_batch: int = 6, style: str = "py2", seed: int = 0) -> tuple:
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        lab = [int(v) for v in rng.integers(0, 10, per_batch)]
        with open(os.path.join(folder, name), "wb") as f:
            f.write(cifar_batch_bytes(data, lab, style))
        images.append(data)
        labels.append(lab)
    return images, labels


# ---- IDX --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_all_types(tmp_path, dtype, gz):
    arr = (np.arange(2 * 3 * 4) - 7).astype(dtype).reshape(2, 3, 4)
    if dtype == np.uint8:
        arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4) * 10
    raw = idx_bytes(arr)
    path = tmp_path / ("a.idx.gz" if gz else "a.idx")
    path.write_bytes(gzip.compress(raw) if gz else raw)
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, arr)


def test_read_idx_rejects_bad_files(tmp_path):
    good = idx_bytes(np.zeros((4, 2), np.uint8))
    cases = {"magic": b"\x01" + good[1:], "type": good[:2] + b"\x07" + good[3:],
             "truncated": good[:-1], "header": good[:6]}
    for name, raw in cases.items():
        p = tmp_path / name
        p.write_bytes(raw)
        with pytest.raises(DatasetFormatError, match=name if name != "truncated" else "holds"):
            read_idx(p)
    p = tmp_path / "bad.gz"
    p.write_bytes(b"\x1f\x8b" + b"garbage")
    with pytest.raises(DatasetFormatError, match="gzip"):
        read_idx(p)


@pytest.mark.parametrize("layout", ["flat", "torchvision"])
@pytest.mark.parametrize("gz", [False, True])
def test_mnist_reads_files_in_both_layouts(tmp_path, layout, gz):
    folder = tmp_path if layout == "flat" else tmp_path / "MNIST" / "raw"
    written = write_mnist(str(folder), gz=gz)
    for train, prefix in ((True, "train"), (False, "t10k")):
        ds = MNIST(tmp_path, train=train)
        images, labels = written[prefix]
        assert ds.data.dtype == np.uint8 and ds.targets.dtype == np.int64
        np.testing.assert_array_equal(ds.data, images)
        np.testing.assert_array_equal(ds.targets, labels)
        assert ds.source == str(folder) and len(ds) == len(labels)


def test_fashion_mnist_uses_its_torchvision_folder(tmp_path):
    write_mnist(str(tmp_path / "FashionMNIST" / "raw"), gz=True)
    ds = FashionMNIST(tmp_path, train=False)
    assert len(ds) == 8 and ds.classes[9] == "Ankle boot"
    with pytest.raises(DatasetNotFoundError, match="MNIST"):
        MNIST(tmp_path)  # the Fashion folder is not MNIST's


def test_kaggle_dot_names_are_found(tmp_path):
    written = write_mnist(str(tmp_path))
    for name in os.listdir(tmp_path):
        os.rename(tmp_path / name, tmp_path / name.replace("-idx", ".idx"))
    np.testing.assert_array_equal(MNIST(tmp_path).data, written["train"][0])


def test_missing_dataset_message_says_where_and_how(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        MNIST(tmp_path)
    msg = str(info.value)
    assert str(tmp_path) in msg and "train-images-idx3-ubyte" in msg and "download" in msg
    with pytest.raises(DatasetNotFoundError, match="cifar-10-python"):
        CIFAR10(tmp_path, train=False)


def test_download_without_torchvision_fails_clearly(tmp_path, monkeypatch):
    import importlib

    real = importlib.import_module

    def no_torchvision(name, *a, **k):
        if name.startswith("torchvision"):
            raise ImportError("No module named 'torchvision'")
        return real(name, *a, **k)

    monkeypatch.setattr(importlib, "import_module", no_torchvision)
    with pytest.raises(DatasetNotFoundError, match="pip install torchvision"):
        MNIST(tmp_path, download=True)
    with pytest.raises(DatasetNotFoundError, match="pip install torchvision"):
        CIFAR10(tmp_path, download=True)


def test_mismatched_label_count_is_an_error(tmp_path):
    write_mnist(str(tmp_path))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(3, np.uint8)))
    with pytest.raises(DatasetFormatError, match="3 labels for 20 images"):
        MNIST(tmp_path)


def test_default_roots_follow_env(tmp_path, monkeypatch):
    written = write_mnist(str(tmp_path / "MNIST" / "raw"))
    monkeypatch.setenv("MINITORCH_DATA", str(tmp_path))
    np.testing.assert_array_equal(MNIST().targets, written["train"][1])


# ---- CIFAR-10 ---------------------------------------------------------------------------------
@pytest.mark.parametrize("style", ["py2", "py3-protocol2", "py3-protocol5"])
@pytest.mark.parametrize("layout", ["flat", "torchvision"])
def test_cifar10_reads_python_batches(tmp_path, style, layout):
    folder = tmp_path if layout == "flat" else tmp_path / "cifar-10-batches-py"
    images, labels = write_cifar(str(folder), style=style)
    train, test = CIFAR10(tmp_path, train=True), CIFAR10(tmp_path, train=False)
    assert train.data.shape == (30, 3, 32, 32) and train.data.dtype == np.uint8
    np.testing.assert_array_equal(train.data, np.concatenate(images[:5]).reshape(-1, 3, 32, 32))
    np.testing.assert_array_equal(train.targets, np.concatenate(labels[:5]))
    np.testing.assert_array_equal(test.targets, labels[5])
    assert train.targets.dtype == np.int64
    # channel-major rows: the first 1024 values are the red plane
    np.testing.assert_array_equal(test.data[2, 0].ravel(), images[5][2, :1024])


def test_cifar_reader_refuses_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    p = tmp_path / "data_batch_1"
    p.write_bytes(pickle.dumps({"data": Evil(), "labels": []}, protocol=2))
    with pytest.raises(DatasetFormatError, match="refusing to load global"):
        read_cifar_batch(p)
    assert not (tmp_path / "pwned").exists()


def test_cifar_reader_refuses_non_latin1_codecs(tmp_path):
    # _codecs.encode is allowed only as latin-1 (how protocol 2 stores bytes)
    payload = (b"\x80\x02c_codecs\nencode\nq\x00X\x01\x00\x00\x00aq\x01X\x05\x00\x00\x00"
               b"rot13q\x02\x86q\x03Rq\x04.")
    p = tmp_path / "b"
    p.write_bytes(payload)
    with pytest.raises(DatasetFormatError, match="rot13"):
        read_cifar_batch(p)


def test_cifar_reader_rejects_wrong_contents(tmp_path):
    p = tmp_path / "b"
    p.write_bytes(pickle.dumps([1, 2, 3], protocol=2))
    with pytest.raises(DatasetFormatError, match="expected a pickled dict"):
        read_cifar_batch(p)
    p.write_bytes(b"not a pickle at all")
    with pytest.raises(DatasetFormatError, match=str(p)):
        read_cifar_batch(p)
    p.write_bytes(pickle.dumps({"data": np.zeros((2, 10), np.uint8), "labels": [0, 1]}))
    os.makedirs(tmp_path / "c", exist_ok=True)
    for n in [f"data_batch_{i}" for i in range(1, 6)]:
        os.link(p, tmp_path / "c" / n)
    with pytest.raises(DatasetFormatError, match=r"\(N, 3072\)"):
        CIFAR10(tmp_path / "c")


def test_no_plain_unpickling_in_the_package():
    """The hooks flag plain pickle loads in minitorch/: only the restricted reader unpickles."""
    root = os.path.dirname(mt.__file__)
    for folder, _, names in os.walk(root):
        for name in names:
            if name.endswith(".py"):
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    text = f.read()
                assert "pickle.load(" not in text and "pickle.loads(" not in text, name


# ---- the embedded sample and the Debian Fashion-MNIST -----------------------------------------
def test_embedded_sample_is_real_balanced_mnist():
    train, test = MNISTSample(train=True), MNISTSample(train=False)
    assert (len(train), len(test)) == (4000, 1000)
    assert train.data.shape == (4000, 28, 28) and train.data.dtype == np.uint8
    assert np.bincount(train.targets).tolist() == [400] * 10
    assert np.bincount(test.targets).tolist() == [100] * 10
    # MNIST digits: dark background, centred strokes, mean intensity ~33/255
    assert 25 < train.data.mean() < 40 and train.data[:, 14].mean() > 40
    assert train.data[:, 0].max() == 0 and train.data[:, :, 0].max() == 0  # empty border
    assert os.path.getsize(train.source) < 2_000_000
    licence = os.path.join(os.path.dirname(train.source), "mnist_sample.LICENSE.txt")
    with open(licence, encoding="utf-8") as f:
        text = f.read()
    assert "LeCun" in text and "CC BY-SA 3.0" in text and "BSD 3-Clause" in text


@pytest.mark.skipif(not os.path.isdir(DEBIAN_FASHION_MNIST), reason="dataset-fashion-mnist "
                    "not installed (apt-get install dataset-fashion-mnist)")
def test_fashion_mnist_from_debian_package():
    import time

    start = time.perf_counter()
    train, test = FashionMNIST(train=True), FashionMNIST(train=False)
    assert time.perf_counter() - start < 5  # NumPy reads, not Python loops (~0.4 s here)
    assert train.data.shape == (60000, 28, 28) and test.data.shape == (10000, 28, 28)
    assert np.bincount(train.targets).tolist() == [6000] * 10
    assert abs(train.data.mean() / 255 - FashionMNIST.mean[0]) < 1e-3


# ---- transforms -------------------------------------------------------------------------------
def test_transforms_on_batches():
    x = np.arange(2 * 3 * 2 * 2, dtype=np.uint8).reshape(2, 3, 2, 2)
    f = T.ToFloat()(x)
    assert f.dtype == np.float32 and np.allclose(f, x / 255)
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 2.0)
    n = T.Normalize(mean, std)(f)
    expect = (x / 255 - np.array(mean)[None, :, None, None]) / np.array(std)[None, :, None, None]
    np.testing.assert_allclose(n, expect, rtol=1e-6)
    assert n.dtype == np.float32
    np.testing.assert_allclose(T.Normalize(0.5, 0.25)(f), (x / 255 - 0.5) / 0.25, rtol=1e-6)
    assert T.Compose([T.ToFloat(), T.Flatten()])(x).shape == (2, 12)
    with pytest.raises(ValueError, match="3 channel statistics"):
        T.Normalize(mean, std)(np.zeros((2, 4, 2), np.float32))
    with pytest.raises(ValueError, match="positive"):
        T.Normalize(0.0, 0.0)
    with pytest.raises(TypeError, match="ToFloat first"):
        T.Normalize(0.5, 0.5)(x)


def test_random_horizontal_flip(device):
    x = mt.randn(200, 3, 4, 5, device=device).data
    mt.manual_seed(7)
    out = T.RandomHorizontalFlip()(x)
    out_np, x_np = mt.backend.to_numpy(out), mt.backend.to_numpy(x)
    flipped = np.array([np.array_equal(o, i[..., ::-1]) for o, i in zip(out_np, x_np, strict=True)])
    kept = np.array([np.array_equal(o, i) for o, i in zip(out_np, x_np, strict=True)])
    assert np.all(flipped ^ kept) and 60 < flipped.sum() < 140
    mt.manual_seed(7)
    np.testing.assert_array_equal(mt.backend.to_numpy(T.RandomHorizontalFlip()(x)), out_np)
    np.testing.assert_array_equal(mt.backend.to_numpy(T.RandomHorizontalFlip(0.0)(x)), x_np)
    with pytest.raises(ValueError, match="p must be in"):
        T.RandomHorizontalFlip(1.5)


# ---- the loader -------------------------------------------------------------------------------
def _toy(n: int = 10) -> ArrayDataset:
    return ArrayDataset(np.arange(n * 2, dtype=np.float32).reshape(n, 2),
                        np.arange(n, dtype=np.int64))


def test_loader_batches_cover_the_data(device):
    ds = _toy(10)
    dl = DataLoader(ds, batch_size=4, device=device)
    batches = list(dl)
    assert len(dl) == 3 and [len(b[1]) for b in batches] == [4, 4, 2]
    assert all(x.device == mt.backend.parse_device(device) for x, _ in batches)
    np.testing.assert_array_equal(np.concatenate([y.numpy() for _, y in batches]), np.arange(10))
    dl = DataLoader(ds, batch_size=4, drop_last=True)
    assert len(dl) == 2 and [len(b[1]) for b in dl] == [4, 4]


def test_loader_shuffles_reproducibly_per_epoch(device):
    ds = _toy(50)
    a = DataLoader(ds, batch_size=7, shuffle=True, seed=3, device=device)
    b = DataLoader(ds, batch_size=7, shuffle=True, seed=3, device=device)
    ya = [np.concatenate([y.numpy() for _, y in a]) for _ in range(3)]
    yb = [np.concatenate([y.numpy() for _, y in b]) for _ in range(3)]
    for e in range(3):
        np.testing.assert_array_equal(ya[e], yb[e])
        assert sorted(ya[e]) == list(range(50))
    assert not np.array_equal(ya[0], ya[1])  # a new order each epoch
    # inputs stay paired with their labels
    for x, y in DataLoader(ds, batch_size=7, shuffle=True, seed=3, device=device):
        np.testing.assert_array_equal(x.numpy()[:, 0], 2 * y.numpy())
    # resuming from a state dict continues with the same order
    c = DataLoader(ds, batch_size=7, shuffle=True, seed=0)
    c.load_state_dict({"seed": 3, "epoch": 2})
    np.testing.assert_array_equal(np.concatenate([y.numpy() for _, y in c]), ya[2])
    assert DataLoader(ds, shuffle=True, seed=4).order(0).tolist() != ya[0].tolist()


def test_loader_does_not_draw_from_the_framework_rng():
    mt.manual_seed(5)
    state = mt.get_rng_state()
    list(DataLoader(_toy(20), batch_size=3, shuffle=True))
    assert mt.get_rng_state() == state


def test_loader_applies_transforms_and_keeps_int64_labels():
    ds = MNISTSample(train=False, transform=T.Compose([T.ToFloat(), T.Flatten()]))
    x, y = next(iter(DataLoader(ds, batch_size=32)))
    assert x.shape == (32, 784) and x.dtype == np.float32 and y.dtype == np.int64
    assert 0.0 <= float(x.min().item()) and float(x.max().item()) <= 1.0
    one_x, one_y = ds[0]
    assert one_x.shape == (784,) and int(one_y) == int(y.numpy()[0])


def test_loader_moves_the_dataset_once(monkeypatch):
    from minitorch import backend

    calls = []
    real = backend.to_device
    monkeypatch.setattr(backend, "to_device", lambda a, d: calls.append(a.shape) or real(a, d))
    dl = DataLoader(_toy(30), batch_size=4)
    for _ in range(3):
        list(dl)
    assert calls == [(30, 2), (30,)]


def test_loader_generic_map_dataset():
    class Squares:
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.array([i, i * i], np.float32), i

    batches = list(DataLoader(Squares(), batch_size=2))
    assert [b[1].numpy().tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    assert batches[1][0].numpy().tolist() == [[2, 4], [3, 9]]


def test_loader_rejects_bad_batch_size():
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="batch_size"):
            DataLoader(_toy(), batch_size=bad)


def test_random_split_is_disjoint_and_seeded():
    ds = _toy(20)
    a, b = random_split(ds, [15, 5], seed=1)
    ys = sorted(a.arrays[1].tolist() + b.arrays[1].tolist())
    assert ys == list(range(20)) and len(b) == 5
    a2, _ = random_split(ds, [15, 5], seed=1)
    np.testing.assert_array_equal(a.arrays[1], a2.arrays[1])
    with pytest.raises(ValueError, match="add up"):
        random_split(ds, [10, 5])


def test_array_dataset_checks_lengths_and_indices():
    with pytest.raises(ValueError, match="array 1 has 3"):
        ArrayDataset(np.zeros(4), np.zeros(3))
    with pytest.raises(IndexError, match="out of range"):
        _toy(4)[4]
    assert _toy(4)[-1][1] == 3
