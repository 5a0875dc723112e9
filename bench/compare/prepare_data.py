"""The lesson's data pipeline in Python, timed; writes the token ids every contender trains on.

Reads the 50,000 labeled reviews of aclImdb_v1.tar.gz (per split: negative then positive, each in
lexicographic order of file name), strips the `<br />` line breaks, fits Keras' legacy
Tokenizer(num_words=10000) on the 25,000 training reviews, maps both splits to ids and pads them
with Keras' pad_sequences(maxlen=500) ('pre' padding, 'pre' truncating). It prints one line
`RESULT {...}` with the time of each phase.

With --out it also writes, into that folder (int32 ids, float32 labels):
  keras_text_train.npy, keras_text_test.npy   the padded ids in file order (checked against rnnkit)
  x_train.npy y_train.npy x_val.npy y_val.npy  the 25,000 training reviews shuffled with
                                               numpy.random.RandomState(seed), split 20,000 / 5,000
  x_test.npy y_test.npy                        the 25,000 test reviews, in file order
  order.npy                                    the shuffle

Run with the Keras venv (bash ../shared/tools/keras-venv.sh /tmp/keras-venv):
    /tmp/keras-venv/bin/python bench/compare/prepare_data.py --data PATH [--out DIR]
"""

import argparse
import json
import os
import tarfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from keras.utils import pad_sequences  # noqa: E402
from keras_preprocessing.text import Tokenizer  # noqa: E402

GROUPS = [("train", "neg"), ("train", "pos"), ("test", "neg"), ("test", "pos")]


def read_archive(path):
    """Returns {(split, label): [(file name, text), ...]} sorted by file name."""
    groups = {group: [] for group in GROUPS}
    with tarfile.open(path, "r:gz") as archive:
        for member in archive:
            if not member.isfile():
                continue
            parts = member.name.split("/")
            if len(parts) != 4 or parts[0] != "aclImdb" or not parts[3].endswith(".txt"):
                continue
            group = (parts[1], parts[2])
            if group in groups:
                text = archive.extractfile(member).read().decode("utf-8")
                groups[group].append((parts[3], text))
    for reviews in groups.values():
        reviews.sort()
    return groups


def split_of(groups, split):
    negative, positive = groups[(split, "neg")], groups[(split, "pos")]
    texts = [text for _, text in negative] + [text for _, text in positive]
    labels = np.array([0.0] * len(negative) + [1.0] * len(positive), dtype=np.float32)
    return texts, labels


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="aclImdb_v1.tar.gz")
    parser.add_argument("--out", help="folder to write the ids into")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--num-words", type=int, default=10_000)
    parser.add_argument("--maxlen", type=int, default=500)
    parser.add_argument("--validation", type=int, default=5_000)
    args = parser.parse_args()

    times = {}
    start = time.perf_counter()
    groups = read_archive(args.data)
    train_texts, y_all = split_of(groups, "train")
    test_texts, y_test = split_of(groups, "test")
    del groups
    times["read_s"] = time.perf_counter() - start

    mark = time.perf_counter()
    train_texts = [text.replace("<br />", " ") for text in train_texts]
    test_texts = [text.replace("<br />", " ") for text in test_texts]
    times["clean_s"] = time.perf_counter() - mark

    mark = time.perf_counter()
    tokenizer = Tokenizer(num_words=args.num_words)
    tokenizer.fit_on_texts(train_texts)
    times["fit_s"] = time.perf_counter() - mark

    mark = time.perf_counter()
    train_sequences = tokenizer.texts_to_sequences(train_texts)
    test_sequences = tokenizer.texts_to_sequences(test_texts)
    times["map_s"] = time.perf_counter() - mark

    mark = time.perf_counter()
    x_all = pad_sequences(train_sequences, maxlen=args.maxlen, padding="pre", truncating="pre")
    x_test = pad_sequences(test_sequences, maxlen=args.maxlen, padding="pre", truncating="pre")
    times["pad_s"] = time.perf_counter() - mark
    times["total_s"] = time.perf_counter() - start

    reviews = len(train_texts) + len(test_texts)
    print("RESULT " + json.dumps({"kind": "text", "contender": "keras", "reviews": reviews,
                                  "vocabulary": len(tokenizer.word_index), **times}), flush=True)

    if args.out:
        os.makedirs(args.out, exist_ok=True)
        order = np.random.RandomState(args.seed).permutation(len(x_all))
        split_at = len(x_all) - args.validation
        arrays = {
            "keras_text_train": x_all.astype(np.int32),
            "keras_text_test": x_test.astype(np.int32),
            "x_train": x_all[order[:split_at]].astype(np.int32),
            "y_train": y_all[order[:split_at]],
            "x_val": x_all[order[split_at:]].astype(np.int32),
            "y_val": y_all[order[split_at:]],
            "x_test": x_test.astype(np.int32),
            "y_test": y_test,
            "order": order.astype(np.int32),
        }
        for name, array in arrays.items():
            np.save(os.path.join(args.out, name + ".npy"), array)
        print(f"ids written to {args.out}: {split_at} training, {args.validation} validation, "
              f"{len(x_test)} test reviews", flush=True)


if __name__ == "__main__":
    main()
