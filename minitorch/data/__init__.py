"""minitorch.data: dataset readers (IDX, CIFAR python batches), the embedded MNIST sample,
batch transforms and a device-aware DataLoader."""

from . import transforms
from .datasets import (
    CIFAR10,
    MNIST,
    ArrayDataset,
    DatasetNotFoundError,
    FashionMNIST,
    ImageClassification,
    MNISTSample,
    random_split,
)
from .formats import DatasetFormatError, read_cifar_batch, read_idx
from .loader import DataLoader

__all__ = [
    "CIFAR10", "MNIST", "ArrayDataset", "DataLoader", "DatasetFormatError",
    "DatasetNotFoundError", "FashionMNIST", "ImageClassification", "MNISTSample",
    "random_split", "read_cifar_batch", "read_idx", "transforms",
]
