"""A compact GPT-2 in PyTorch whose state_dict is Hugging Face GPT2Model's, and safetensors I/O.

Matches transformers' GPT2LMHeadModel: pre-LayerNorm blocks (eps 1e-5), Conv1D weights stored
[in, out], c_attn packing query|key|value, GELU with the tanh approximation ("gelu_new"), learned
position embeddings, and the output head tied to wte. Follows nanoGPT's model.py; leaves out HF's
cross-attention, head pruning and KV cache. Runs on torch 1.13 (Debian) and torch 2.x, without numpy.
"""
import ctypes
import json
import math
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB_SIZE = 50257
END_OF_TEXT_ID = 50256


class Conv1D(nn.Module):
    """HF's Conv1D: a linear layer whose weight is stored [in, out] (the transpose of nn.Linear)."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out))
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight).view(*x.shape[:-1], -1)


class Attention(nn.Module):
    def __init__(self, n_embd, n_head, dropout):
        super().__init__()
        self.n_head = n_head
        self.c_attn = Conv1D(n_embd, 3 * n_embd)
        self.c_proj = Conv1D(n_embd, n_embd)
        self.dropout = dropout
        self.resid_dropout = nn.Dropout(dropout)

    def forward(self, x):
        B, T, C = x.shape
        # c_attn's output columns are [query | key | value], each split into heads: (B, nh, T, hs).
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        p = self.dropout if self.training else 0.0
        if hasattr(F, "scaled_dot_product_attention"):
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
        else:
            # torch 1.x: scores scaled by 1/sqrt(head size), future positions masked, softmax in float32.
            att = (q @ k.transpose(-2, -1)) / math.sqrt(k.shape[-1])
            mask = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
            att = F.softmax(att.masked_fill(mask, float("-inf")).float(), dim=-1).to(q.dtype)
            y = F.dropout(att, p, self.training) @ v
        y = y.transpose(1, 2).reshape(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, n_embd, dropout):
        super().__init__()
        self.c_fc = Conv1D(n_embd, 4 * n_embd)
        self.c_proj = Conv1D(4 * n_embd, n_embd)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x), approximate="tanh")))


class Block(nn.Module):
    def __init__(self, n_embd, n_head, dropout):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd, eps=1e-5)
        self.attn = Attention(n_embd, n_head, dropout)
        self.ln_2 = nn.LayerNorm(n_embd, eps=1e-5)
        self.mlp = MLP(n_embd, dropout)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """GPT-2 with `rows` token embeddings; logits = ln_f(h) @ wte.T (+ `row_log_counts`).

    The full model has rows = 50257. For training, a compact model may keep only the ids the corpus
    uses plus one shared last row that stands for every other id: adding log(number of ids it stands
    for) to that row's logit makes its softmax exactly the full one with those rows all equal.
    """

    def __init__(self, n_layer, n_head, n_embd, n_positions, rows=VOCAB_SIZE, shared_row_count=0, dropout=0.0):
        super().__init__()
        self.n_positions = n_positions
        self.wte = nn.Embedding(rows, n_embd)
        self.wpe = nn.Embedding(n_positions, n_embd)
        self.drop = nn.Dropout(dropout)
        self.h = nn.ModuleList(Block(n_embd, n_head, dropout) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(n_embd, eps=1e-5)
        bias = torch.zeros(rows)
        if shared_row_count > 1:
            bias[-1] = math.log(shared_row_count)
        self.register_buffer("row_log_counts", bias, persistent=False)

    def init_weights(self, generator):
        """GPT-2's init: N(0, 0.02), residual projections scaled by 1/sqrt(2 * n_layer), biases 0."""
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif ".ln_" in name or name.startswith("ln_f"):
                nn.init.ones_(p)
            else:
                std = 0.02 / math.sqrt(2 * len(self.h)) if name.endswith("c_proj.weight") else 0.02
                with torch.no_grad():
                    p.copy_(torch.randn(p.shape, generator=generator) * std)

    def forward(self, ids):
        """ids (B, T) -> logits (B, T, rows)."""
        T = ids.shape[1]
        if T > self.n_positions:
            raise ValueError(f"sequence of {T} tokens is longer than n_positions ({self.n_positions})")
        pos = torch.arange(T, device=ids.device)
        x = self.drop(self.wte(ids) + self.wpe(pos))
        for block in self.h:
            x = block(x)
        return self.ln_f(x) @ self.wte.weight.t() + self.row_log_counts


DTYPE_NAMES = {torch.float16: "F16", torch.float32: "F32"}


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: CPU tensor} in the safetensors format: u64 header length, JSON header, raw bytes.

    Tensors are laid out in the given order; the header is padded with spaces to a multiple of 8.
    Bytes are copied straight from memory, so this needs a little-endian machine (x86, ARM).
    """
    assert sys.byteorder == "little", "safetensors stores little-endian data"
    header, offset = {}, 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for name, t in tensors.items():
        size = t.numel() * t.element_size()
        header[name] = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for t in tensors.values():
            t = t.detach().cpu().contiguous()
            f.write(ctypes.string_at(t.data_ptr(), t.numel() * t.element_size()))


def read_safetensors(path):
    """Reads a safetensors file (F16 or F32 tensors) into {name: float32 tensor} and its metadata."""
    with open(path, "rb") as f:
        data = bytearray(f.read())
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    metadata = header.pop("__metadata__", {})
    types = {name: dtype for dtype, name in DTYPE_NAMES.items()}
    tensors = {}
    for name, info in header.items():
        dtype = types[info["dtype"]]
        start, end = info["data_offsets"]
        count = (end - start) // torch.tensor([], dtype=dtype).element_size()
        t = torch.frombuffer(data, dtype=dtype, count=count, offset=8 + n + start) if count else torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(info["shape"]).float()
    return tensors, metadata


def load_model(directory, device="cpu"):
    """Builds a full-vocabulary GPT from a model directory (config.json + model.safetensors)."""
    with open(f"{directory}/config.json") as f:
        config = json.load(f)
    tensors, _ = read_safetensors(f"{directory}/model.safetensors")
    model = GPT(config["n_layer"], config["n_head"], config["n_embd"], config["n_positions"], rows=config["vocab_size"])
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    if missing or unexpected:
        raise ValueError(f"{directory}/model.safetensors: missing {missing}, unexpected {unexpected}")
    return model.to(device).eval(), config
