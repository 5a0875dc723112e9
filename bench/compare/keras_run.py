"""Keras (TensorFlow backend) on the lesson's model, timed: the comparison's reference contender.

Trains Embedding(10000, 32) -> SimpleRNN(32) -> Dense(1, sigmoid) with RMSprop(learning_rate=0.001),
binary cross-entropy and accuracy, batch 32, on the ids that prepare_data.py wrote, with the
validation reviews evaluated after each epoch (as `fit(validation_data=...)` does), then evaluates
the test reviews. Prints `RESULT {...}` lines: one per epoch, then the totals.

    /tmp/keras-venv/bin/python bench/compare/keras_run.py --ids bench/compare/out/ids
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


class EpochTimer(keras.callbacks.Callback):
    """Wall time of each epoch: training plus the validation pass, which ends before on_epoch_end."""

    def __init__(self):
        super().__init__()
        self.seconds = []
        self.start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self.start
        self.seconds.append(seconds)
        logs = logs or {}
        print("RESULT " + json.dumps({
            "kind": "epoch", "contender": "keras", "epoch": epoch + 1, "seconds": seconds,
            "loss": logs.get("loss"), "accuracy": logs.get("acc"),
            "val_loss": logs.get("val_loss"), "val_accuracy": logs.get("val_acc"),
        }), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ids", required=True)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    def load(name):
        return np.load(os.path.join(args.ids, name + ".npy"))

    x_train, y_train = load("x_train"), load("y_train")
    x_val, y_val = load("x_val"), load("y_val")
    x_test, y_test = load("x_test"), load("y_test")

    keras.utils.set_random_seed(args.seed)
    model = keras.Sequential([
        keras.Input(shape=(x_train.shape[1],)),
        keras.layers.Embedding(10_000, 32),
        keras.layers.SimpleRNN(32),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.001),
                  loss="binary_crossentropy", metrics=["acc"])
    timer = EpochTimer()
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
              validation_data=(x_val, y_val), callbacks=[timer], verbose=0)

    start = time.perf_counter()
    test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=args.batch_size,
                                              verbose=0)
    evaluate_s = time.perf_counter() - start
    print("RESULT " + json.dumps({
        "kind": "train", "contender": "keras",
        "version": f"Keras {keras.__version__}, TensorFlow {tf.__version__}",
        "threads": os.cpu_count(), "epochs": args.epochs, "batch_size": args.batch_size,
        "train_samples": int(x_train.shape[0]), "test_samples": int(x_test.shape[0]),
        "epoch_s": timer.seconds, "evaluate_s": evaluate_s,
        "test_loss": float(test_loss), "test_accuracy": float(test_accuracy),
    }), flush=True)


if __name__ == "__main__":
    main()
