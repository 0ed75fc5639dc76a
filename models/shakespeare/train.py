"""Trains a small GPT-2 from scratch on Tiny Shakespeare and writes a Hugging Face model directory.

Reads train.bin/val.bin from models/shakespeare/tokenize.ts, trains with AdamW, warmup and cosine
decay, dropout, then writes config.json, model.safetensors (F16, HF names), the tokenizer files,
report.json (measured by evaluate.py on the written weights) and README.md (card.py). Seeded.
The loss runs over the ids the training text uses at least --min-count times plus one shared row for
all other ids (see gpt.GPT): the full softmax, once those rows of the exported wte all hold it.
"""
import argparse
import json
import math
import os
import platform
import shlex
import shutil
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    sys.exit(f"{sys.executable} has no PyTorch; on Debian: apt-get install python3-torch, then run /usr/bin/python3")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from card import write_card  # noqa: E402
from evaluate import evaluate, read_tokens, window_stats  # noqa: E402
from gpt import END_OF_TEXT_ID, GPT, VOCAB_SIZE, read_safetensors, write_safetensors  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="build/shakespeare", help="directory with train.bin, val.bin, meta.json, tokenizer.json")
    p.add_argument("--out", default="models/shakespeare", help="model directory to write")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--steps", type=int, default=2333, help="optimizer steps (the LR schedule spans them)")
    p.add_argument("--max-minutes", type=float, default=None,
                   help="stop training after this many minutes; the LR schedule then follows elapsed time")
    p.add_argument("--n-layer", type=int, default=6)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--n-embd", type=int, default=192)
    p.add_argument("--n-positions", type=int, default=256)
    p.add_argument("--batch-size", type=int, default=8, help="sequences of n_positions tokens per step")
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    p.add_argument("--min-lr", type=float, default=1e-4, help="learning rate at the end of the cosine decay")
    p.add_argument("--warmup", type=int, default=100, help="linear warmup steps")
    p.add_argument("--weight-decay", type=float, default=0.1, help="AdamW decay of matrices and embeddings")
    p.add_argument("--dropout", type=float, default=0.05, help="attention, residual and embedding dropout")
    p.add_argument("--min-count", type=int, default=3,
                   help="ids seen fewer times in train.bin share one embedding row (see README: rare ids)")
    p.add_argument("--beta2", type=float, default=0.95, help="AdamW beta2")
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: all this process may use)")
    p.add_argument("--eval-every", type=int, default=100, help="steps between progress lines")
    p.add_argument("--invoked-as", default=None, help="command line to record in report.json (set by ./train)")
    return p.parse_args(argv)


def machine_name(device):
    if device == "cuda":
        return torch.cuda.get_device_name(0)
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor() or platform.machine()
    return f"{model}, {torch.get_num_threads()} threads"


def lr_at(progress, step, args):
    """Linear warmup over `warmup` steps, then cosine from `lr` to `min_lr` as progress goes 0 -> 1."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * min(progress, 1.0)))


def compact_vocabulary(train_ids, min_count):
    """The ids that occur at least `min_count` times in train.bin (sorted), and a map from every GPT-2
    id to its compact row; all other ids map to the last row, which they share."""
    used = (torch.bincount(train_ids, minlength=VOCAB_SIZE) >= min_count).nonzero()[:, 0]
    compact_of = torch.full((VOCAB_SIZE,), len(used), dtype=torch.long)
    compact_of[used] = torch.arange(len(used))
    return used, compact_of


def train(args):
    torch.manual_seed(args.seed)
    device = args.device
    train_ids, val_ids = read_tokens(f"{args.data}/train.bin"), read_tokens(f"{args.data}/val.bin")
    used, compact_of = compact_vocabulary(train_ids, args.min_count)
    shared = len(used)
    train_c, val_c = compact_of[train_ids].to(device), compact_of[val_ids].to(device)

    model = GPT(args.n_layer, args.n_head, args.n_embd, args.n_positions, rows=shared + 1,
                shared_row_count=VOCAB_SIZE - shared, dropout=args.dropout)
    model.init_weights(torch.Generator().manual_seed(args.seed))
    model.to(device)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, args.beta2))

    # Deterministic data order: random window starts from a seeded generator, drawn on the CPU.
    batches = torch.Generator().manual_seed(args.seed + 1)
    T, start, curve, running = args.n_positions, time.time(), [], None
    step = 0
    while step < args.steps:
        elapsed = time.time() - start
        if args.max_minutes is not None and elapsed > 60 * args.max_minutes:
            break
        progress = step / args.steps
        if args.max_minutes is not None:
            progress = max(progress, elapsed / (60 * args.max_minutes))
        for group in optimizer.param_groups:
            group["lr"] = lr_at(progress, step, args)
        offsets = torch.randint(len(train_c) - T - 1, (args.batch_size,), generator=batches).tolist()
        x = torch.stack([train_c[o : o + T] for o in offsets])
        y = torch.stack([train_c[o + 1 : o + T + 1] for o in offsets])
        model.train()
        loss = F.cross_entropy(model(x).view(-1, shared + 1), y.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        running = loss.item() if running is None else 0.95 * running + 0.05 * loss.item()
        if step % args.eval_every == 0 or step == args.steps:
            model.eval()
            # Progress check on the first 8192 validation tokens, with the compact (equivalent) head.
            val = window_stats(model, val_c[:8192], T, device, batch=8)["loss"]
            curve.append({"step": step, "train_loss_running": round(running, 4), "val_loss_first_8192": round(val, 4),
                          "seconds": round(time.time() - start, 1)})
            print(f"step {step:5d}  train {running:.3f}  val(8k) {val:.3f}  lr {optimizer.param_groups[0]['lr']:.2e}"
                  f"  {time.time() - start:6.0f}s", flush=True)
    return model, used, step, time.time() - start, running, curve


def export(model, used, steps, args):
    """Writes config.json and model.safetensors (F16): wte's unused rows all copy the shared row."""
    os.makedirs(args.out, exist_ok=True)
    state = {k: v.detach().float().cpu() for k, v in model.state_dict().items()}
    compact = state.pop("wte.weight")
    wte = compact[-1].repeat(VOCAB_SIZE, 1)
    wte[used] = compact[:-1]
    tensors = {"wte.weight": wte, "wpe.weight": state.pop("wpe.weight")}
    # The HF order (gpt.GPT registers modules in it): blocks, then ln_f.
    tensors.update(state)
    tensors = {k: v.half() for k, v in tensors.items()}
    if any(not torch.isfinite(t).all() for t in tensors.values()):
        raise ValueError("a weight is outside float16's range; export would lose it")
    config = {
        "n_layer": args.n_layer, "n_head": args.n_head, "n_embd": args.n_embd, "n_positions": args.n_positions,
        "n_ctx": args.n_positions, "n_inner": None, "vocab_size": VOCAB_SIZE, "layer_norm_epsilon": 1e-5,
        "activation_function": "gelu_new", "resid_pdrop": args.dropout, "embd_pdrop": args.dropout,
        "attn_pdrop": args.dropout, "initializer_range": 0.02, "scale_attn_weights": True, "use_cache": True,
        "bos_token_id": END_OF_TEXT_ID, "eos_token_id": END_OF_TEXT_ID, "model_type": "gpt2",
        "architectures": ["GPT2LMHeadModel"], "torch_dtype": "float16",
    }
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    tmp = os.path.join(args.out, "model.safetensors.tmp")
    write_safetensors(tmp, tensors, {"format": "pt", "seed": args.seed, "steps": steps})
    os.replace(tmp, os.path.join(args.out, "model.safetensors"))
    return sum(t.numel() for t in tensors.values())


def compact_head_val_loss(args):
    """Validation loss of the written weights through the training-time compact head: it must equal
    the full-softmax loss, which shows the shared-row shortcut changed nothing."""
    tensors, _ = read_safetensors(os.path.join(args.out, "model.safetensors"))
    train_ids, val_ids = read_tokens(f"{args.data}/train.bin"), read_tokens(f"{args.data}/val.bin")
    used, compact_of = compact_vocabulary(train_ids, args.min_count)
    wte = tensors["wte.weight"]
    unused = (compact_of == len(used)).nonzero()[:, 0]
    if not (wte[unused] == wte[unused[0]]).all():
        raise ValueError("the unused rows of wte differ; the compact head would not be exact")
    tensors["wte.weight"] = torch.cat([wte[used], wte[unused[0]][None]])
    model = GPT(args.n_layer, args.n_head, args.n_embd, args.n_positions, rows=len(used) + 1,
                shared_row_count=len(unused))
    model.load_state_dict(tensors)
    model.to(args.device).eval()
    return window_stats(model, compact_of[val_ids], args.n_positions, args.device)["loss"]


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads or len(os.sched_getaffinity(0)))
    if args.device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False  # float32 maths on both devices
    with open(os.path.join(args.data, "meta.json")) as f:
        meta = json.load(f)
    model, used, steps_done, seconds, running, curve = train(args)
    parameters = export(model, used, steps_done, args)
    # Tokenizer files come from tokenize.ts (lib/tokenizer/files.ts writeTokenizerFiles) via the data dir.
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(os.path.join(args.data, name), os.path.join(args.out, name))
    evaluation, greedy_rows, samples = evaluate(args.out, args.data, args.device, seed=args.seed)
    evaluation["compact_head_val_loss"] = compact_head_val_loss(args)
    command = args.invoked_as or " ".join(shlex.quote(a) for a in [os.path.relpath(sys.argv[0])] + sys.argv[1:])
    report = {
        "model": {"n_layer": args.n_layer, "n_head": args.n_head, "n_embd": args.n_embd,
                  "n_positions": args.n_positions, "vocab_size": VOCAB_SIZE, "parameters": parameters,
                  "trained_rows_of_wte": len(used) + 1, "dtype": "F16",
                  "shared_row": f"the {VOCAB_SIZE - len(used)} ids seen fewer than {args.min_count} times in train.bin share one wte row"},
        "data": {k: meta[k] for k in ("inputSha256", "inputBytes", "tokenizer", "totalTokens", "trainTokens",
                                      "valTokens", "valFraction", "distinctTrainIds", "format")}
        | {"source": "Tiny Shakespeare (input.txt of karpathy/char-rnn), public-domain text"},
        "training": {
            "command": command, "seed": args.seed, "steps": steps_done, "steps_planned": args.steps,
            "tokens_seen": steps_done * args.batch_size * args.n_positions,
            "epochs": steps_done * args.batch_size * args.n_positions / meta["trainTokens"],
            "seconds": round(seconds, 1), "device": args.device, "machine": machine_name(args.device),
            "torch": torch.__version__, "python": platform.python_version(),
            "hyperparameters": {k: getattr(args, k) for k in ("batch_size", "lr", "min_lr", "warmup", "weight_decay",
                                                              "dropout", "beta2", "min_count", "max_minutes")}
            | {"optimizer": f"AdamW, betas (0.9, {args.beta2}), grad-norm clip 1.0, no decay on biases and LayerNorm",
               "schedule": "linear warmup, cosine decay to min_lr", "init": "N(0, 0.02); c_proj / sqrt(2 n_layer)"},
            "final_train_loss_running": running,
            "loss_note": "training losses run with dropout, on the compact head (ids in train.bin + one shared row)",
            "curve": curve,
        },
        "evaluation": evaluation,
        "greedy": greedy_rows,
        "samples": samples,
    }
    with open(os.path.join(args.out, "report.json"), "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    write_card(args.out)
    print(f"val loss {evaluation['val_loss']:.4f}  train loss {evaluation['train_loss']:.4f}  "
          f"({steps_done} steps, {seconds / 60:.1f} min) -> {args.out}", flush=True)


if __name__ == "__main__":
    main()
