"""Hugging Face transformers as the reference for gpt2-lab's decoding and ablation (test/reference/*.test.ts).

Reads one JSON request from standard input and writes one JSON answer to standard output:
  {"prepare": {"source": DIR, "out": DIR, "eos_scale": S}}
      copies a model folder with the <|endoftext|> row of wte scaled by S, so that the random model
      ends hypotheses now and then (the embedding is tied: the logit of <|endoftext|> scales too);
  {"model": DIR, "steps": [...], "generations": [...]}
      steps: {"ids": [...], "options": {...}}: one sampling step on the whole of `ids` as the prompt,
        answered with HF's final distribution (softmax of `scores[0]`), float32 as base64;
      generations: {"ids": [...], "max_new_tokens": N, "options": {...}}: `generate` without
        sampling, answered with the new ids of each returned sequence and, for beams, `sequences_scores`;
      head_masks: {"ids": [...], "heads": [[layer, head], ...]}: the last position's logits of a forward
        pass with those heads masked (`head_mask`), float32 as base64.
Options are `generate`'s own keyword arguments (snake_case).
"""

import base64
import json
import shutil
import sys
from pathlib import Path

import warnings

import torch
from safetensors.torch import load_file, save_file
from transformers import GPT2LMHeadModel

EOS = 50256


def prepare(source, out, eos_scale):
    shutil.copytree(source, out)
    weights = load_file(Path(source) / "model.safetensors")
    weights["wte.weight"][EOS] *= eos_scale
    save_file(weights, Path(out) / "model.safetensors", metadata={"format": "pt"})
    return {"ok": True}


def run(request):
    model = GPT2LMHeadModel.from_pretrained(request["model"]).eval()
    special = {"eos_token_id": EOS, "pad_token_id": EOS}
    steps = []
    for case in request.get("steps", []):
        ids = torch.tensor([case["ids"]])
        out = model.generate(
            ids, attention_mask=torch.ones_like(ids), do_sample=True, max_new_tokens=1,
            output_scores=True, return_dict_in_generate=True, **special, **case["options"],
        )
        probs = torch.softmax(out.scores[0][0].float(), dim=-1).numpy().astype("<f4")
        steps.append(base64.b64encode(probs.tobytes()).decode())
    generations = []
    for case in request.get("generations", []):
        ids = torch.tensor([case["ids"]])
        out = model.generate(
            ids, attention_mask=torch.ones_like(ids), do_sample=False, max_new_tokens=case["max_new_tokens"],
            output_scores=True, return_dict_in_generate=True, **special, **case["options"],
        )
        sequences = [row[len(case["ids"]):].tolist() for row in out.sequences]
        scores = out.sequences_scores.tolist() if getattr(out, "sequences_scores", None) is not None else None
        generations.append({"sequences": sequences, "scores": scores})
    head_masks = []
    for case in request.get("head_masks", []):
        # Hugging Face's head_mask: 1 keeps a head, 0 multiplies its attention weights by 0.
        mask = torch.ones(model.config.n_layer, model.config.n_head)
        for layer, head in case["heads"]:
            mask[layer, head] = 0
        logits = model(torch.tensor([case["ids"]]), head_mask=mask).logits[0, -1].float().numpy().astype("<f4")
        head_masks.append(base64.b64encode(logits.tobytes()).decode())
    return {"steps": steps, "generations": generations, "head_masks": head_masks, "versions": {"torch": torch.__version__, "transformers": __import__("transformers").__version__}}


def main():
    warnings.simplefilter("ignore")  # HF warns about lengths the one-step cases set on purpose
    request = json.load(sys.stdin)
    torch.manual_seed(0)
    if "prepare" in request:
        answer = prepare(**request["prepare"])
    else:
        with torch.no_grad():
            answer = run(request)
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
