"""Measures a GPT-2 model directory the way report.json records it: full 50257-way softmax losses,
entropy and top-1 probability over windows of validation text, greedy continuations, and samples.

Every figure is computed in float32 from the weights as stored in model.safetensors (F16), read back
from disk. Run alone to re-check a trained model against its report:
    /usr/bin/python3 models/shakespeare/evaluate.py --model models/shakespeare --data build/shakespeare
"""
import argparse
import json
import math
import os

import torch
import torch.nn.functional as F

from gpt import END_OF_TEXT_ID, load_model

WINDOWS_METHOD = (
    "Non-overlapping windows of n_positions tokens starting at the first token of the span (the last "
    "window may be shorter); each window is one forward pass from scratch, and every token except a "
    "window's first is predicted from the tokens before it in the same window. Loss is the mean "
    "natural-log cross-entropy of the full 50257-way softmax over all predicted tokens, in float32."
)


def read_tokens(path):
    """A file of little-endian uint16 token ids as an int64 tensor (torch 1.x has no uint16)."""
    with open(path, "rb") as f:
        data = bytearray(f.read())
    return torch.frombuffer(data, dtype=torch.int16).long() & 0xFFFF


@torch.no_grad()
def window_stats(model, tokens, n_positions, device, batch=8):
    """Means over every predicted token of `tokens` (see WINDOWS_METHOD), plus each window's mean loss.

    The loss is the full-vocabulary one for a compact model too; entropy and top-1 probability are
    only meaningful for a full (50257-row) model.
    """
    starts = list(range(0, len(tokens) - 1, n_positions))
    windows = [tokens[s : s + n_positions] for s in starts]
    windows = [w for w in windows if len(w) > 1]
    nll = entropy = top1 = 0.0
    window_losses = []
    # Windows of one length go through together; only the last may be shorter.
    for i in range(0, len(windows), batch):
        group = windows[i : i + batch]
        for length in sorted({len(w) for w in group}):
            x = torch.stack([w for w in group if len(w) == length]).to(device)
            logp = F.log_softmax(model(x[:, :-1]).float(), dim=-1)  # (B, T-1, 50257)
            # A compact model's shared row stands for many ids: the full softmax gives the target id
            # its row's probability divided by their number (row_log_counts is zero in a full model).
            token_nll = -logp.gather(-1, x[:, 1:, None]).squeeze(-1) + model.row_log_counts[x[:, 1:]]  # (B, T-1)
            probs = logp.exp()
            entropy += float(-(probs * logp).sum(-1).sum())
            top1 += float(probs.max(-1).values.sum())
            nll += float(token_nll.sum())
            window_losses += token_nll.mean(-1).tolist()
    count = sum(len(w) - 1 for w in windows)
    return {"loss": nll / count, "mean_entropy": entropy / count, "mean_top1_prob": top1 / count,
            "predicted_tokens": count, "windows": len(windows), "window_losses": window_losses}


@torch.no_grad()
def greedy(model, prompt_ids, new_tokens, device):
    """Argmax continuation; also each step's gap between the best and second-best logit."""
    ids = list(prompt_ids)
    margins = []
    for _ in range(new_tokens):
        logits = model(torch.tensor([ids[-model.n_positions:]], device=device))[0, -1].float()
        top = logits.topk(2)
        margins.append(float(top.values[0] - top.values[1]))
        ids.append(int(top.indices[0]))
    return ids[len(prompt_ids):], margins


@torch.no_grad()
def last_logits(model, prompt_ids, device, k=10):
    """The k largest next-token logits after the prompt, as [id, logit] pairs."""
    logits = model(torch.tensor([list(prompt_ids)], device=device))[0, -1].float().cpu()
    top = logits.topk(k)
    return [[int(i), float(v)] for i, v in zip(top.indices, top.values)]


@torch.no_grad()
def sample(model, prompt_ids, new_tokens, temperature, top_k, generator, device):
    """Temperature then top-k (ties at the k-th logit kept, as in Hugging Face), one draw per step."""
    ids = list(prompt_ids)
    for _ in range(new_tokens):
        logits = model(torch.tensor([ids[-model.n_positions:]], device=device))[0, -1].float().cpu() / temperature
        kth = logits.topk(top_k).values[-1]
        probs = F.softmax(logits.masked_fill(logits < kth, float("-inf")), dim=-1)
        ids.append(int(torch.multinomial(probs, 1, generator=generator)))
    return ids[len(prompt_ids):]


def repetition_loop(ids, min_span=12, min_repeats=3):
    """True when some block of 1-32 tokens repeats back to back at least `min_repeats` times, covering
    at least `min_span` tokens: the degenerate loop small models fall into."""
    for period in range(1, 33):
        run = 0
        for i in range(period, len(ids)):
            run = run + 1 if ids[i] == ids[i - period] else 0
            if run + period >= max(min_span, period * min_repeats):
                return True
    return False


class Decoder:
    """GPT-2 byte-level decoding from tokenizer.json: each vocabulary character stands for one byte."""

    def __init__(self, tokenizer_json):
        with open(tokenizer_json, encoding="utf-8") as f:
            vocab = json.load(f)["model"]["vocab"]
        printable = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
        byte_of = {chr(b): b for b in printable}
        byte_of.update({chr(256 + n): b for n, b in enumerate(b for b in range(256) if b not in printable)})
        self.token_bytes = {i: bytes(byte_of[c] for c in token) for token, i in vocab.items()}
        self.token_bytes[END_OF_TEXT_ID] = b"<|endoftext|>"

    def decode(self, ids):
        return b"".join(self.token_bytes[i] for i in ids).decode("utf-8", errors="replace")


def evaluate(model_dir, data_dir, device="cpu", seed=1337, slice_tokens=2048, sample_tokens=100,
             temperature=0.8, top_k=40, greedy_tokens=30, train_eval_tokens=None):
    """Every measured figure of report.json's "evaluation", "greedy" and "samples" sections."""
    model, config = load_model(model_dir, device)
    T = config["n_positions"]
    with open(os.path.join(data_dir, "meta.json")) as f:
        prompts = json.load(f)["prompts"]
    decoder = Decoder(os.path.join(data_dir, "tokenizer.json"))
    train, val = read_tokens(os.path.join(data_dir, "train.bin")), read_tokens(os.path.join(data_dir, "val.bin"))
    train_eval_tokens = train_eval_tokens or len(val)
    batch = 32 if device == "cuda" else 4

    full = window_stats(model, val, T, device, batch)
    fixed = window_stats(model, val[:slice_tokens], T, device, batch)
    train_part = window_stats(model, train[:train_eval_tokens], T, device, batch)
    evaluation = {
        "weights": "model.safetensors as written (F16), read back from disk and computed in float32",
        "method": WINDOWS_METHOD,
        "val_loss": full["loss"],
        "val": {k: full[k] for k in ("loss", "mean_entropy", "mean_top1_prob", "predicted_tokens", "windows")}
        | {"span": f"all {len(val):,} tokens of val.bin", "window": T},
        "mean_entropy": full["mean_entropy"],
        "mean_top1_prob": full["mean_top1_prob"],
        "train_loss": train_part["loss"],
        "train": {k: train_part[k] for k in ("loss", "predicted_tokens", "windows")}
        | {"span": f"the first {train_eval_tokens:,} tokens of train.bin", "window": T},
        "val_slice": {
            "span": f"the first {slice_tokens:,} tokens of val.bin, in {fixed['windows']} windows of {T}",
            "start": 0, "length": slice_tokens, "window": T,
            "loss": fixed["loss"], "mean_entropy": fixed["mean_entropy"], "mean_top1_prob": fixed["mean_top1_prob"],
            "predicted_tokens": fixed["predicted_tokens"], "window_losses": fixed["window_losses"],
            "token_ids": val[:slice_tokens].tolist(),
        },
    }
    greedy_rows = []
    for p in prompts:
        new_ids, margins = greedy(model, p["ids"], greedy_tokens, device)
        greedy_rows.append({"prompt": p["text"], "prompt_ids": p["ids"], "new_ids": new_ids,
                            "text": decoder.decode(new_ids), "repetition_loop": repetition_loop(new_ids), "top2_logit_margins": margins,
                            "next_token_top10": last_logits(model, p["ids"], device)})
    generator = torch.Generator().manual_seed(seed)
    sample_rows = []
    for p in prompts:
        new_ids = sample(model, p["ids"], sample_tokens, temperature, top_k, generator, device)
        sample_rows.append({"prompt": p["text"], "new_ids": new_ids, "text": decoder.decode(new_ids),
                            "repetition_loop": repetition_loop(new_ids)})
    samples = {"temperature": temperature, "top_k": top_k, "seed": seed, "max_new_tokens": sample_tokens,
               "generator": "torch.Generator().manual_seed(seed), one torch.multinomial draw per token, prompts in order",
               "items": sample_rows}
    return evaluation, greedy_rows, samples


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="models/shakespeare", help="model directory with report.json")
    parser.add_argument("--data", default="build/shakespeare", help="directory with train.bin, val.bin, meta.json")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = parser.parse_args()
    with open(os.path.join(args.model, "report.json")) as f:
        report = json.load(f)
    evaluation, greedy_rows, samples = evaluate(args.model, args.data, args.device, seed=report["samples"]["seed"])
    recorded = report["evaluation"]
    for key in ("val_loss", "train_loss", "mean_entropy", "mean_top1_prob"):
        print(f"{key}: {evaluation[key]:.6f} (report.json: {recorded[key]:.6f})")
    print(f"val_slice.loss: {evaluation['val_slice']['loss']:.6f} (report.json: {recorded['val_slice']['loss']:.6f})")
    same = all(g["new_ids"] == r["new_ids"] for g, r in zip(greedy_rows, report["greedy"]))
    print(f"greedy continuations identical: {same}")
    ok = same and all(math.isclose(evaluation[k], recorded[k], rel_tol=1e-4) for k in ("val_loss", "train_loss"))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
