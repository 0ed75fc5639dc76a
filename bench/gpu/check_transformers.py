"""An independent check of gpt2-lab against Hugging Face transformers (PyTorch, float32, CPU).

For each model folder made by `gpt2-lab make-model`, runs `gpt2-lab generate --json --trace full`
(greedy) and compares, step by step, our logits with GPT2LMHeadModel's on the same tokens, and our
greedy tokens with `model.generate(do_sample=False)`. Prints one line per model and exits non-zero
if a difference exceeds the tolerance. Usage: python3 check_transformers.py NODE GPT2LAB_JS DIR...
"""

import json
import subprocess
import sys

import torch
from transformers import GPT2LMHeadModel

PROMPT = "What's the price of a loaf of bread?"
NEW_TOKENS = 12
TOLERANCE = 1e-3  # float32 in two runtimes, summed in different orders


def check(node: str, cli: str, folder: str) -> bool:
    ours = json.loads(
        subprocess.check_output(
            [node, cli, "generate", "--model", folder, "--prompt", PROMPT, "--max-new-tokens", str(NEW_TOKENS),
             "--device", "cpu", "--json", "--trace", "full"]
        )
    )
    prompt_ids = ours["promptIds"]
    new_ids = ours["samples"][0]["ids"]
    model = GPT2LMHeadModel.from_pretrained(folder).float().eval()
    with torch.no_grad():
        logits = model(torch.tensor([prompt_ids + new_ids])).logits[0]  # [T, vocab]
        greedy = model.generate(
            torch.tensor([prompt_ids]), attention_mask=torch.ones(1, len(prompt_ids), dtype=torch.long),
            max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS, do_sample=False, pad_token_id=50256,
        )[0, len(prompt_ids):].tolist()
    worst = 0.0
    for step, traces in enumerate(ours["steps"]):
        mine = torch.tensor(traces[0]["logits"])
        theirs = logits[len(prompt_ids) - 1 + step]
        worst = max(worst, (mine - theirs).abs().max().item())
    same_tokens = greedy == new_ids
    ok = worst < TOLERANCE and same_tokens
    print(f"{folder}: {len(ours['steps'])} steps, max abs logit difference {worst:.3g} (tolerance {TOLERANCE}), "
          f"greedy tokens {'identical' if same_tokens else 'DIFFER'}: ours {new_ids} transformers {greedy} -> {'ok' if ok else 'FAIL'}")
    return ok


if __name__ == "__main__":
    node, cli, *folders = sys.argv[1:]
    import transformers

    print(f"transformers {transformers.__version__}, torch {torch.__version__}")
    results = [check(node, cli, folder) for folder in folders]
    sys.exit(0 if all(results) else 1)
