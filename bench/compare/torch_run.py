"""PyTorch on the lesson's model, timed, with 2 threads: the comparison's second contender.

Embedding(10000, 32) -> nn.RNN(32, 32, tanh) -> last state -> Linear(32, 1) -> sigmoid, initialised
as Keras does (embedding uniform +-0.05, input kernel Glorot uniform, recurrent kernel orthogonal,
biases zero), trained with RMSprop(lr=0.001, alpha=0.9, eps=1e-7) on binary cross-entropy, batch
32, reshuffled each epoch, the validation reviews scored after each epoch, then the test reviews.

Differences from Keras that the timings live with:
- PyTorch's RMSprop puts eps outside the square root (g / (sqrt(v) + eps)); Keras puts it inside
  (g / sqrt(v + eps)). Same hyper-parameters, slightly different steps while v is tiny.
- nn.RNN has two bias vectors (b_ih and b_hh): 322,145 parameters instead of Keras' 322,113.
- The loss is computed from the logit (BCEWithLogitsLoss), which is what Keras' fit does for a
  sigmoid output; the sigmoid is applied for the predictions and the accuracy.

    /tmp/rnnkit-torch-venv/bin/python bench/compare/torch_run.py --ids bench/compare/out/ids
"""

import argparse
import json
import os
import time

import numpy as np
import torch
from torch import nn


class LessonModel(nn.Module):
    def __init__(self, num_words=10_000, embedding_dim=32, units=32):
        super().__init__()
        self.embedding = nn.Embedding(num_words, embedding_dim)
        self.rnn = nn.RNN(embedding_dim, units, nonlinearity="tanh", batch_first=True)
        self.dense = nn.Linear(units, 1)
        nn.init.uniform_(self.embedding.weight, -0.05, 0.05)
        nn.init.xavier_uniform_(self.rnn.weight_ih_l0)
        nn.init.orthogonal_(self.rnn.weight_hh_l0)
        nn.init.zeros_(self.rnn.bias_ih_l0)
        nn.init.zeros_(self.rnn.bias_hh_l0)
        nn.init.xavier_uniform_(self.dense.weight)
        nn.init.zeros_(self.dense.bias)

    def forward(self, ids):
        """Logits, shape (batch,)."""
        _, last = self.rnn(self.embedding(ids))  # last: (1, batch, units)
        return self.dense(last[0]).squeeze(1)


def score(model, loss_fn, x, y, batch_size):
    """Mean loss and accuracy over (x, y), in batches, without gradients."""
    model.eval()
    total_loss, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            logits = model(x[start:start + batch_size])
            target = y[start:start + batch_size]
            total_loss += loss_fn(logits, target).item() * len(target)
            correct += ((torch.sigmoid(logits) > 0.5).float() == target).sum().item()
    model.train()
    return total_loss / len(x), correct / len(x)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ids", required=True)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    def load(name, dtype):
        return torch.from_numpy(np.load(os.path.join(args.ids, name + ".npy"))).to(dtype)

    x_train, y_train = load("x_train", torch.long), load("y_train", torch.float32)
    x_val, y_val = load("x_val", torch.long), load("y_val", torch.float32)
    x_test, y_test = load("x_test", torch.long), load("y_test", torch.float32)

    model = LessonModel()
    optimizer = torch.optim.RMSprop(model.parameters(), lr=0.001, alpha=0.9, eps=1e-7)
    loss_fn = nn.BCEWithLogitsLoss()
    generator = torch.Generator().manual_seed(args.seed)
    epoch_s = []
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        order = torch.randperm(len(x_train), generator=generator)
        total_loss, correct = 0.0, 0
        for begin in range(0, len(order), args.batch_size):
            rows = order[begin:begin + args.batch_size]
            x, y = x_train[rows], y_train[rows]
            optimizer.zero_grad()
            logits = model(x)
            loss = loss_fn(logits, y)
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(rows)
            correct += ((logits.detach() > 0).float() == y).sum().item()
        val_loss, val_accuracy = score(model, loss_fn, x_val, y_val, args.batch_size)
        seconds = time.perf_counter() - start
        epoch_s.append(seconds)
        print("RESULT " + json.dumps({
            "kind": "epoch", "contender": "torch", "epoch": epoch, "seconds": seconds,
            "loss": total_loss / len(order), "accuracy": correct / len(order),
            "val_loss": val_loss, "val_accuracy": val_accuracy,
        }), flush=True)

    start = time.perf_counter()
    test_loss, test_accuracy = score(model, loss_fn, x_test, y_test, args.batch_size)
    evaluate_s = time.perf_counter() - start
    print("RESULT " + json.dumps({
        "kind": "train", "contender": "torch", "version": f"PyTorch {torch.__version__}",
        "threads": torch.get_num_threads(), "epochs": args.epochs, "batch_size": args.batch_size,
        "train_samples": len(x_train), "test_samples": len(x_test),
        "epoch_s": epoch_s, "evaluate_s": evaluate_s,
        "test_loss": test_loss, "test_accuracy": test_accuracy,
    }), flush=True)


if __name__ == "__main__":
    main()
