"""Writes the model card (README.md) of a trained model directory from its report.json.

Every figure in the card comes from report.json, so the card can be rebuilt after any training run:
    /usr/bin/python3 models/shakespeare/card.py --out models/shakespeare
The fixed text (data, licence, method, limits) lives here; edit this file, not README.md.
"""
import argparse
import json
import math
import os


def fence(text):
    """A Markdown code block that shows `text` as it is (newlines included)."""
    return "```text\n" + text.rstrip("\n") + "\n```"


def fenced_blocks(texts):
    """Card lines for a run of texts: each in its own code block, followed by a blank line."""
    return [line for text in texts for line in (fence(text), "")]


def card(r):
    m, t, e, d = r["model"], r["training"], r["evaluation"], r["data"]
    h = t["hyperparameters"]
    minutes = t["seconds"] / 60
    lines = [
        "# Tiny Shakespeare GPT-2",
        "",
        "<!-- Written by models/shakespeare/card.py from report.json; edit card.py, not this file. -->",
        "",
        f"A {m['n_layer']}-layer GPT-2 ({m['parameters']:,} parameters) trained from scratch on Tiny Shakespeare "
        "with GPT-2's own tokenizer: gpt2-lab's built-in model, small enough to ship and to run anywhere, "
        "and a Hugging Face `GPT2LMHeadModel` checkpoint in every respect.",
        "",
        "| | |",
        "|---|---|",
        f"| Architecture | GPT-2: {m['n_layer']} layers, {m['n_head']} heads, width {m['n_embd']}, "
        f"{m['n_positions']} positions, vocabulary {m['vocab_size']} |",
        f"| Parameters | {m['parameters']:,} (output head tied to `wte`) |",
        f"| Weights | `model.safetensors`, {m['dtype']}, Hugging Face names (`wte.weight`, `h.0.attn.c_attn.weight`, …) |",
        f"| Validation loss | **{e['val_loss']:.3f}** nats/token (perplexity {math.exp(e['val_loss']):.0f}) |",
        f"| Training loss | {e['train_loss']:.3f} nats/token |",
        f"| Mean entropy / top-1 probability | {e['mean_entropy']:.3f} nats / {e['mean_top1_prob']:.3f} (validation) |",
        f"| Training | {t['steps']:,} steps, {minutes:.1f} min on {t['machine']} ({t['device']}), torch {t['torch']} |",
        "",
        "## Data and licence",
        "",
        f"Tiny Shakespeare: `input.txt` of karpathy/char-rnn, {d['inputBytes']:,} bytes of Shakespeare's plays, "
        "public-domain text (the char-rnn repository is MIT-licensed). The file is "
        "`models/shakespeare/data/tinyshakespeare.txt` (sha256 "
        f"`{d['inputSha256']}`).",
        "",
        f"It is tokenized in one piece with GPT-2's tokenizer into {d['totalTokens']:,} tokens; the first "
        f"{d['trainTokens']:,} train the model and the last {d['valTokens']:,} ({d['valFraction']:.0%}) are held "
        f"out for validation. The training tokens use {d['distinctTrainIds']:,} of GPT-2's 50,257 ids.",
        "",
        "## Architecture",
        "",
        "Exactly Hugging Face's GPT-2: learned position embeddings, pre-LayerNorm blocks (epsilon 1e-5), "
        "attention with `c_attn` packing query, key and value, Conv1D weights stored [in, out], an MLP of "
        "4 × width with GELU's tanh approximation (`gelu_new`), a final LayerNorm, and logits from the "
        "token embedding (`lm_head` = `wte`). `config.json` carries GPT2Config's fields, so `transformers` "
        "loads the directory with `GPT2LMHeadModel.from_pretrained`.",
        "",
        f"Rare ids: {m['shared_row']}. Training computes the softmax over the other ids plus that one "
        "shared row, with the log of its number of ids added to its logit; this is the full 50,257-way "
        "softmax of the exported model, in which all those rows of `wte` are equal. It saves most of the "
        "output layer's work and lets the model learn how often an unfamiliar word comes next.",
        "",
        "## Training",
        "",
        f"AdamW ({h['optimizer'].split(', ', 1)[1]}), peak learning rate {h['lr']:g} after {h['warmup']} warmup "
        f"steps, cosine decay to {h['min_lr']:g}, weight decay {h['weight_decay']:g}, dropout {h['dropout']:g}, "
        f"batches of {h['batch_size']} × {m['n_positions']} tokens drawn at seeded random offsets, seed {t['seed']}. "
        f"{t['steps']:,} steps see {t['tokens_seen']:,} tokens ({t['epochs']:.1f} epochs) in {minutes:.1f} minutes "
        f"on {t['machine']}. The size and these settings were chosen by comparing about 35 runs of equal "
        "training compute by their validation loss.",
        "",
        fence(t["command"]),
        "",
        "| step | training loss (running, with dropout) | validation loss (first 8,192 tokens) |",
        "|---:|---:|---:|",
    ]
    every = max(1, len(t["curve"]) // 8)
    for c in t["curve"][::every] + ([t["curve"][-1]] if (len(t["curve"]) - 1) % every else []):
        lines.append(f"| {c['step']} | {c['train_loss_running']:.3f} | {c['val_loss_first_8192']:.3f} |")
    s = e["val_slice"]
    lines += [
        "",
        "## Evaluation",
        "",
        f"Measured on `model.safetensors` as written ({m['dtype']}), read back and computed in float32. "
        f"{e['method']}",
        "",
        "| | loss (nats/token) | predicted tokens |",
        "|---|---:|---:|",
        f"| Validation, all of val.bin | {e['val_loss']:.4f} | {e['val']['predicted_tokens']:,} |",
        f"| Validation, {s['span']} | {s['loss']:.4f} | {s['predicted_tokens']:,} |",
        f"| Training, {e['train']['span']} | {e['train_loss']:.4f} | {e['train']['predicted_tokens']:,} |",
        "",
        f"Over the validation set the mean entropy of the next-token distribution is {e['mean_entropy']:.3f} nats and "
        f"the most likely token gets {e['mean_top1_prob']:.1%} of the probability on average. Through the "
        f"training-time head the validation loss is {e['compact_head_val_loss']:.4f}, the same figure.",
        "",
        "## Greedy continuations",
        "",
        f"{len(r['greedy'][0]['new_ids'])} new tokens, always the most likely one:",
        "",
    ]
    lines += fenced_blocks(g["prompt"] + g["text"] for g in r["greedy"])
    sm = r["samples"]
    lines += [
        "## Samples",
        "",
        f"Temperature {sm['temperature']}, top-k {sm['top_k']}, {sm['max_new_tokens']} new tokens, seed {sm['seed']}:",
        "",
    ]
    lines += fenced_blocks(item["prompt"] + item["text"] for item in sm["items"])
    loops = sum(item["repetition_loop"] for item in sm["items"])
    greedy_loops = sum(g["repetition_loop"] for g in r["greedy"])
    lines += [
        "## Known limits",
        "",
        f"- It has read {d['trainTokens']:,} tokens of one author. Its text has Shakespeare's look (speaker names, "
        "verse lines, thee and thou) without sense beyond a few words, and the gap between training and "
        f"validation loss ({e['train_loss']:.2f} vs {e['val_loss']:.2f}) shows how much it memorised.",
        f"- Words it never saw often enough cost a lot: the validation text has names and words that the "
        "training text lacks, and the model cannot tell the rare ids apart (they share one embedding).",
        f"- It attends over {m['n_positions']} tokens at most and never saw `<|endoftext|>`; "
        "an empty prompt is outside what it was trained on.",
        f"- Repetition loops (a block of up to 32 tokens repeated back to back, covering 12 tokens or more): "
        f"{greedy_loops} of {len(r['greedy'])} greedy continuations and {loops} of {len(sm['items'])} samples above. "
        "Greedy decoding of small models falls into them easily; sampling mostly avoids them.",
        "- The size and training settings were picked by validation loss among about 35 runs, so the "
        "validation figure is slightly optimistic.",
        "",
        "## Reproduce",
        "",
        "```bash",
        "apt-get install -y python3-torch libopenblas0-openmp   # Debian; OpenBLAS makes CPU training ~40x faster",
        "models/shakespeare/train                 # tokenize (Node), train, write this directory",
        "models/shakespeare/train --device cuda   # the same on a GPU",
        "```",
        "",
        "On a machine without Node.js, run `models/shakespeare/train --tokenize-only` elsewhere, copy "
        "`build/shakespeare/` over, and run `python3 models/shakespeare/train.py --data build/shakespeare "
        "--out DIR --device cuda`. `python3 models/shakespeare/evaluate.py --model DIR` measures a trained "
        "directory again and compares it with its report.json.",
        "",
        "Files: `config.json`, `model.safetensors`, `tokenizer.json` and `tokenizer_config.json` (GPT-2's, "
        "from gpt2-lab's `writeTokenizerFiles`), `report.json` (every figure above, the validation slice's "
        "token ids and per-window losses, the greedy token ids with their logit margins).",
        "",
    ]
    return "\n".join(lines)


def write_card(out):
    with open(os.path.join(out, "report.json")) as f:
        report = json.load(f)
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(card(report))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="models/shakespeare", help="model directory holding report.json")
    write_card(parser.parse_args().out)


if __name__ == "__main__":
    main()
