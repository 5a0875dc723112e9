"""PyTorch's side of bench/scaling/run.sh: one model shape trained and run for inference, timed.

Embedding(10000, E) -> nn.RNN(tanh) | nn.LSTM | nn.GRU (batch_first) -> last state ->
Linear(units, 1), initialised as Keras does (embedding uniform +-0.05, input kernels Glorot
uniform, recurrent kernels orthogonal, biases zero but the LSTM's forget gate at 1), trained with
RMSprop(lr=0.001, alpha=0.9, eps=1e-7) on BCEWithLogitsLoss, on random ids in 1..10000 and random
0/1 labels. The protocol is the rnnkit runner's (bench/scaling/runner/src/measure.rs): 3 warm-up
training batches, then training batches until --seconds have passed (at least 2); one warm-up
inference round over the 8 data batches, then rounds until --seconds have passed (at least 2).
Inference is model.eval() under torch.inference_mode(), the sigmoid applied.

--ftz calls torch.set_flush_denormal(True) (flush-to-zero and denormals-are-zero on x86-64);
the output says whether PyTorch accepted it. Prints one `RESULT {json}` line.

    /tmp/rnnkit-torch-venv/bin/python bench/scaling/torch_run.py --cell lstm --units 128 \
        --batch 32 --steps 200 [--embedding 32] [--ftz] [--seconds 3] [--threads 2]
"""

import argparse
import json
import time

import torch
from torch import nn

VOCABULARY = 10_000
DATA_BATCHES = 8
WARMUP_BATCHES = 3
MIN_ROUNDS = 2
CELLS = {"simple_rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class RowModel(nn.Module):
    def __init__(self, cell, units, embedding_dim):
        super().__init__()
        self.embedding = nn.Embedding(VOCABULARY, embedding_dim)
        self.recurrent = CELLS[cell](embedding_dim, units, batch_first=True)
        self.dense = nn.Linear(units, 1)
        nn.init.uniform_(self.embedding.weight, -0.05, 0.05)
        gates = self.recurrent.weight_ih_l0.shape[0] // units
        for gate in range(gates):
            # Keras initialises each gate's slice of the kernels as a whole matrix; the Glorot
            # bound of a (input, gates * units) kernel equals that of PyTorch's stacked one.
            rows = slice(gate * units, (gate + 1) * units)
            nn.init.orthogonal_(self.recurrent.weight_hh_l0.data[rows])
        nn.init.xavier_uniform_(self.recurrent.weight_ih_l0)
        nn.init.zeros_(self.recurrent.bias_ih_l0)
        nn.init.zeros_(self.recurrent.bias_hh_l0)
        if cell == "lstm":
            self.recurrent.bias_ih_l0.data[units:2 * units] = 1.0  # gates i, f, g, o
        nn.init.xavier_uniform_(self.dense.weight)
        nn.init.zeros_(self.dense.bias)

    def forward(self, ids):
        """Logits, shape (batch,)."""
        _, last = self.recurrent(self.embedding(ids))
        if isinstance(last, tuple):  # LSTM: (h, c)
            last = last[0]
        return self.dense(last[0]).squeeze(1)


def timed(seconds, round_fn):
    """Runs round_fn(index) -> samples until `seconds` have passed and MIN_ROUNDS rounds ran."""
    start = time.perf_counter()
    samples, rounds = 0, 0
    while rounds < MIN_ROUNDS or time.perf_counter() - start < seconds:
        samples += round_fn(rounds)
        rounds += 1
    return samples, time.perf_counter() - start, rounds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cell", choices=sorted(CELLS), required=True)
    parser.add_argument("--units", type=int, required=True)
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--embedding", type=int, default=32)
    parser.add_argument("--ftz", action="store_true")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    flush_denormal = torch.set_flush_denormal(True) if args.ftz else False
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    samples = DATA_BATCHES * args.batch
    x = torch.randint(1, VOCABULARY, (samples, args.steps), generator=generator)
    y = torch.randint(0, 2, (samples,), generator=generator).float()

    model = RowModel(args.cell, args.units, args.embedding)
    optimizer = torch.optim.RMSprop(model.parameters(), lr=0.001, alpha=0.9, eps=1e-7)
    loss_fn = nn.BCEWithLogitsLoss()
    last_loss = [float("nan")]

    def train_batch(index):
        start = (index % DATA_BATCHES) * args.batch
        xb, yb = x[start:start + args.batch], y[start:start + args.batch]
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        last_loss[0] = loss.item()
        return args.batch

    def predict(_):
        with torch.inference_mode():
            for start in range(0, samples, args.batch):
                torch.sigmoid(model(x[start:start + args.batch]))
        return samples

    model.train()
    for index in range(WARMUP_BATCHES):
        train_batch(index)
    train_samples, train_s, train_batches = timed(
        args.seconds, lambda r: train_batch(WARMUP_BATCHES + r))
    model.eval()
    predict(0)
    infer_samples, infer_s, infer_rounds = timed(args.seconds, predict)
    print("RESULT " + json.dumps({
        "contender": "torch", "version": f"PyTorch {torch.__version__}",
        "cell": args.cell, "units": args.units, "batch": args.batch, "steps": args.steps,
        "embedding": args.embedding, "threads": torch.get_num_threads(), "ftz": args.ftz,
        "set_flush_denormal": flush_denormal,
        "train_sps": train_samples / train_s, "train_batches": train_batches, "train_s": train_s,
        "infer_sps": infer_samples / infer_s, "infer_rounds": infer_rounds, "infer_s": infer_s,
        "data_batches": DATA_BATCHES, "last_loss": last_loss[0],
    }), flush=True)


if __name__ == "__main__":
    main()
