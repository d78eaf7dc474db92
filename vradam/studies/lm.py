"""Character-level language modelling: a small causal transformer on a shipped corpus.

The corpus (``vradam/assets/corpus.txt.gz``, 270 KB of text, 81 KB compressed) ships
inside the package, so every machine trains on the same characters and nothing is
downloaded. Provenance: the docstrings of 35 modules of the Python 3.11.7 standard
library (:data:`CORPUS_MODULES`), extracted by :func:`extract_corpus`: for each module its
own docstring, then every public class, method and function defined in it, in name order,
each as ``name:`` on one line and the cleaned docstring (``inspect.getdoc``) below;
docstrings with a character outside printable ASCII (or a tab) are skipped, duplicates
kept once. Python's documentation is © Python Software Foundation, under the PSF License
Version 2 (https://docs.python.org/3/license.html), which allows redistribution.

The split is contiguous: the first 90 % trains, the last 10 % validates. Training
examples are windows of ``CONTEXT + 1`` characters (inputs and next-character targets)
cut every ``CONTEXT`` characters from an offset set by the seed; validation windows are
fixed. Attention is written out, softmax(QKᵀ/√d + causal mask)V, so that double backward
(Hessian-vector products, for sharpness) works on every device.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import importlib
import inspect
import math
import string
from importlib import resources

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vradam.studies.threads import one_thread

__all__ = [
    "CONTEXT",
    "CORPUS_MODULES",
    "VOCAB_SIZE",
    "Block",
    "CharTransformer",
    "corpus",
    "evaluate",
    "extract_corpus",
    "from_weights",
    "generate",
    "make_split",
    "objective",
    "outputs",
    "vocabulary",
]

CONTEXT = 32  # characters the model sees
VAL_FRACTION = 0.1
VAL_WINDOWS = 256  # validation: the first 256 windows of the held-out tail (8192 characters)
TRAIN_EVAL_WINDOWS = 64  # train_loss: every k-th training window, 64 of them

CORPUS_MODULES = (
    "argparse", "bisect", "calendar", "collections", "contextlib", "copy", "csv",
    "dataclasses", "datetime", "decimal", "difflib", "enum", "fractions", "functools",
    "heapq", "inspect", "itertools", "json", "logging", "os", "pathlib", "pickle", "queue",
    "random", "shutil", "statistics", "string", "subprocess", "tarfile", "textwrap",
    "threading", "typing", "unittest", "urllib.parse", "zipfile",
)  # fmt: skip
_ALLOWED = set(string.printable) - set("\t\r\x0b\x0c")
VOCAB_SIZE = len(_ALLOWED)  # 96


def extract_corpus(modules=CORPUS_MODULES) -> str:
    """The corpus text, from the running Python's standard library (how the asset was made:
    ``gzip.compress(extract_corpus().encode(), mtime=0)`` on Python 3.11.7)."""
    parts = []
    for name in modules:
        module = importlib.import_module(name)
        seen: set[str] = set()

        def emit(qualname: str, obj, seen=seen) -> None:
            doc = inspect.getdoc(obj)
            if doc and doc not in seen and set(doc) <= _ALLOWED:
                seen.add(doc)
                parts.append(f"{qualname}:\n{doc}\n\n")

        emit(name, module)
        for attr in sorted(vars(module)):
            obj = vars(module)[attr]
            if attr.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isclass(obj):
                emit(f"{name}.{attr}", obj)
                for member in sorted(vars(obj)):
                    value = vars(obj)[member]
                    if member.startswith("_"):
                        continue
                    if isinstance(value, property):
                        value = value.fget
                    elif isinstance(value, classmethod | staticmethod):
                        value = value.__func__
                    elif not inspect.isfunction(value):
                        continue
                    emit(f"{name}.{attr}.{member}", value)
            elif inspect.isfunction(obj) or inspect.isbuiltin(obj):
                emit(f"{name}.{attr}", obj)
    return "".join(parts)


@functools.cache
def corpus() -> str:
    """The shipped corpus text."""
    raw = resources.files("vradam").joinpath("assets/corpus.txt.gz").read_bytes()
    return gzip.decompress(raw).decode("ascii")


def vocabulary() -> str:
    """The 96 characters a token can be (printable ASCII and the newline), sorted: token i is
    ``vocabulary()[i]``. The corpus holds nothing else (:func:`extract_corpus` skips the rest)."""
    return "".join(sorted(_ALLOWED))


def encode(text: str) -> Tensor:
    """Token ids of ``text``; characters outside the vocabulary become spaces."""
    index = {c: i for i, c in enumerate(vocabulary())}
    space = index[" "]
    return torch.tensor([index.get(c, space) for c in text], dtype=torch.long)


def decode(tokens) -> str:
    vocab = vocabulary()
    return "".join(vocab[int(t)] for t in tokens)


@functools.cache
def _tokens() -> Tensor:
    return encode(corpus())


def _windows(tokens: Tensor, offset: int) -> Tensor:
    """Non-overlapping (n, CONTEXT + 1) windows starting at ``offset``, every CONTEXT."""
    n = (tokens.numel() - offset - 1) // CONTEXT
    starts = offset + CONTEXT * torch.arange(n)
    return tokens[starts[:, None] + torch.arange(CONTEXT + 1)]


def make_split(seed: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(x_train, y_train, x_val, y_val): windows of CONTEXT tokens and their next tokens.

    The seed shifts where training windows start (0 … CONTEXT − 1); validation is fixed.
    """
    tokens = _tokens()
    cut = round((1 - VAL_FRACTION) * tokens.numel())
    train = _windows(tokens[:cut], seed % CONTEXT)
    val = _windows(tokens[cut:], 0)[:VAL_WINDOWS]
    return train[:, :-1], train[:, 1:], val[:, :-1], val[:, 1:]


BIGRAM_SMOOTHING = 0.1  # add-0.1 on the pair counts (0.01 and 1 give within 0.01 nats)


@functools.cache
def bigram_val_loss() -> float:
    """The validation loss (nats per character) of a character-bigram model: pair counts of
    the training text (the first 90 %), add-:data:`BIGRAM_SMOOTHING`, on the validation
    windows the models are scored on. What the transformer has to beat."""
    tokens = _tokens()
    cut = round((1 - VAL_FRACTION) * tokens.numel())
    counts = torch.full((VOCAB_SIZE, VOCAB_SIZE), BIGRAM_SMOOTHING, dtype=torch.float64)
    train = tokens[:cut]
    ones = torch.ones(train.numel() - 1, dtype=torch.float64)
    counts.index_put_((train[:-1], train[1:]), ones, accumulate=True)
    log_p = (counts / counts.sum(dim=1, keepdim=True)).log()
    *_, x_val, y_val = make_split(0)  # the validation windows do not depend on the seed
    return float(-log_p[x_val.flatten(), y_val.flatten()].mean())


def reference_note() -> str:
    """The bigram baseline in words, for the Networks page."""
    nll = bigram_val_loss()
    return (f"A character-bigram model (pair counts of the training text, add-"
            f"{BIGRAM_SMOOTHING:g}) scores validation loss {nll:.3f} nats per character, "
            f"perplexity {math.exp(nll):.2f}, on the same windows: the transformer's "
            "validation perplexity is worth reading against it.")  # fmt: skip


class Block(nn.Module):
    """Pre-norm transformer block with self-attention written out (softmax(QKᵀ/√d)V, so
    that double backward works on every device); causal when given a mask."""

    def __init__(self, d: int, heads: int):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.norm2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, h: Tensor, mask: Tensor | None = None) -> Tensor:
        """``mask``: True where a position must not attend (None: every position may)."""
        B, T, d = h.shape
        q, k, v = self.qkv(self.norm1(h)).split(d, dim=-1)
        dh = d // self.heads

        def split(t):  # (B, T, d) → (B, heads, T, dh)
            return t.view(B, T, self.heads, dh).transpose(1, 2)

        att = (split(q) @ split(k).transpose(-1, -2)) / math.sqrt(dh)  # (B, heads, T, T)
        if mask is not None:
            att = att.masked_fill(mask[:T, :T], float("-inf"))
        att = att.softmax(dim=-1)
        y = (att @ split(v)).transpose(1, 2).reshape(B, T, d)
        h = h + self.proj(y)
        return h + self.mlp(self.norm2(h))


class CharTransformer(nn.Module):
    """Tokens (B, T ≤ CONTEXT) → next-character logits (B, T, vocabulary)."""

    def __init__(self, vocab: int | None = None, d: int = 64, heads: int = 4, layers: int = 2):
        super().__init__()
        vocab = vocab or VOCAB_SIZE
        self.embed = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(0.02 * torch.randn(CONTEXT, d))
        self.blocks = nn.ModuleList(Block(d, heads) for _ in range(layers))
        self.norm = nn.LayerNorm(d)
        self.out = nn.Linear(d, vocab)
        mask = torch.ones(CONTEXT, CONTEXT, dtype=torch.bool).triu(1)  # True: a future position
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, tokens: Tensor) -> Tensor:
        h = self.embed(tokens) + self.pos[: tokens.shape[1]]
        for block in self.blocks:
            h = block(h, self.mask)
        return self.out(self.norm(h))


def objective(model: nn.Module, xb: Tensor, yb: Tensor, generator=None) -> Tensor:
    """Mean next-character cross-entropy (nats per character) over the batch."""
    logits = model(xb)
    return F.cross_entropy(logits.flatten(0, 1), yb.flatten())


def evaluate(model: nn.Module, data) -> dict:
    """train_loss (64 training windows spread over the set), val_loss and val_ppl = e^val_loss."""
    stride = max(1, data.x_train.shape[0] // TRAIN_EVAL_WINDOWS)
    with torch.no_grad():
        train = objective(model, data.x_train[::stride][:TRAIN_EVAL_WINDOWS],
                          data.y_train[::stride][:TRAIN_EVAL_WINDOWS])  # fmt: skip
        val = float(objective(model, data.x_val, data.y_val))
    ppl = math.exp(min(val, 700.0)) if math.isfinite(val) else val  # (no overflow)
    return dict(train_loss=float(train), val_loss=val, val_ppl=ppl)


def outputs(model: nn.Module, data) -> dict:
    """At the end of a run: the trained weights on the CPU, so that text can be generated
    later (:func:`from_weights`, :func:`generate`)."""
    return dict(weights={k: v.detach().cpu().clone() for k, v in model.state_dict().items()})


def from_weights(weights: dict[str, Tensor]) -> CharTransformer:
    """A CharTransformer holding ``weights`` (as :func:`outputs` records them)."""
    model = CharTransformer()
    model.load_state_dict(weights)
    return model


def generate(
    model: nn.Module, prompt: str = "", n_chars: int = 200, temperature: float = 0.8, seed: int = 0
) -> str:
    """``n_chars`` new characters sampled after ``prompt`` (0 temperature: the likeliest).

    Characters of the prompt outside the vocabulary become spaces; an empty prompt starts
    from a newline. Sampling uses its own generator, so a seed gives the same text.
    """
    if n_chars < 0:
        raise ValueError(f"n_chars must be ≥ 0, got {n_chars}")
    if not temperature >= 0 or not math.isfinite(temperature):
        raise ValueError(f"temperature must be a finite number ≥ 0, got {temperature}")
    device = next(model.parameters()).device
    tokens = encode(prompt or "\n").tolist()
    gen = torch.Generator().manual_seed(seed)
    out: list[int] = []
    was_training = model.training
    model.eval()
    # one intra-op thread on the CPU: a (1, ≤ 32) forward pass gains nothing from more
    with torch.no_grad(), one_thread() if device.type == "cpu" else contextlib.nullcontext():
        for _ in range(n_chars):
            context = torch.tensor([tokens[-CONTEXT:]], dtype=torch.long, device=device)
            logits = model(context)[0, -1].double().cpu()
            if not torch.isfinite(logits).all():  # a diverged model: keep to the vocabulary
                logits = torch.zeros_like(logits)
            if temperature == 0:
                token = int(logits.argmax())
            else:
                probs = (logits / temperature).softmax(-1)
                token = int(torch.multinomial(probs, 1, generator=gen))
            tokens.append(token)
            out.append(token)
    model.train(was_training)
    return decode(out)
