"""Step 4: export the trained checkpoint to models/tokenscope-mini in the Hugging Face layout.

Writes config.json, generation_config.json and onnx/model.onnx with the transformers.js decoder I/O:
inputs input_ids, attention_mask, position_ids (int64) and past_key_values.{i}.key/value
[batch, kv_heads, past, head_dim] float32; outputs logits and present.{i}.key/value.
Also dumps PyTorch reference logits on held-out sequences (work/onnx_ref.json) for verify_onnx.mjs.
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
import torch

from model import MiniConfig, MiniQwen2

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, "work")
MODEL_DIR = os.path.join(HERE, "..", "..", "models", "tokenscope-mini")


class OnnxWrapper(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model
        self.n = model.config.num_hidden_layers

    def forward(self, input_ids, attention_mask, position_ids, *past_flat):
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(self.n)]
        logits, presents = self.model(input_ids, attention_mask, position_ids, past)
        out = [logits]
        for k, v in presents:
            out += [k, v]
        return tuple(out)


def load_checkpoint(path):
    ck = torch.load(path, map_location="cpu")
    fields = MiniConfig.__dataclass_fields__
    cfg = MiniConfig(**{k: v for k, v in ck["config"].items() if k in fields})
    model = MiniQwen2(cfg)
    model.load_state_dict(ck["model"])
    model.eval()
    return model, cfg, ck


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(WORK, "run", "ckpt.pt"))
    ap.add_argument("--out", default=MODEL_DIR)
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    onnx_path = os.path.join(args.out, "onnx", "model.onnx")
    if (os.path.exists(onnx_path) and os.path.getmtime(onnx_path) >= os.path.getmtime(args.ckpt)
            and not args.force):
        print("export: model.onnx is newer than the checkpoint, skipping (--force to re-export)")
        return
    torch.set_num_threads(2)
    model, cfg, ck = load_checkpoint(args.ckpt)
    state = ck["state"]
    hf = cfg.hf_config()
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(hf, f, indent=2)
    with open(os.path.join(args.out, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": cfg.bos_token_id, "eos_token_id": [cfg.eos_token_id],
                   "pad_token_id": cfg.eos_token_id, "do_sample": False, "max_new_tokens": 64,
                   "transformers_version": "4.45.0"}, f, indent=2)
    # The tokenizer's model_max_length follows the trained context.
    tc_path = os.path.join(args.out, "tokenizer_config.json")
    with open(tc_path) as f:
        tc = json.load(f)
    tc["model_max_length"] = cfg.max_position_embeddings
    with open(tc_path, "w") as f:
        json.dump(tc, f, ensure_ascii=False, indent=2)

    n, kv, hd = cfg.num_hidden_layers, cfg.num_key_value_heads, cfg.head_dim
    b, s, p = 2, 5, 3  # trace with a non-empty past so the concat is in the graph; 0 works at run time
    ids = torch.randint(0, cfg.vocab_size, (b, s))
    mask = torch.ones(b, p + s, dtype=torch.long)
    pos = torch.arange(p, p + s).unsqueeze(0).expand(b, s).contiguous()
    past = []
    in_names, out_names = ["input_ids", "attention_mask", "position_ids"], ["logits"]
    axes = {"input_ids": {0: "batch_size", 1: "sequence_length"},
            "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
            "position_ids": {0: "batch_size", 1: "sequence_length"},
            "logits": {0: "batch_size", 1: "sequence_length"}}
    for i in range(n):
        for kind in ("key", "value"):
            past.append(torch.randn(b, kv, p, hd))
            in_names.append(f"past_key_values.{i}.{kind}")
            out_names.append(f"present.{i}.{kind}")
            axes[in_names[-1]] = {0: "batch_size", 2: "past_sequence_length"}
            axes[out_names[-1]] = {0: "batch_size", 2: "total_sequence_length"}
    os.makedirs(os.path.dirname(onnx_path), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(OnnxWrapper(model), (ids, mask, pos, *past), onnx_path, input_names=in_names,
                          output_names=out_names, dynamic_axes=axes, opset_version=14, do_constant_folding=False)
    m = onnx.load(onnx_path)
    onnx.checker.check_model(m)
    print(f"export: {onnx_path} {os.path.getsize(onnx_path)/1e6:.2f} MB, step {state['step']}, "
          f"{state['tokens']} tokens, {state['train_seconds']/60:.1f} min")

    # Reference logits on held-out text for verify_onnx.mjs (PyTorch == ONNX within 1e-4).
    ev = np.load(os.path.join(WORK, "data", "eval.npz"))
    eids = ev["ids"].astype(np.int64)
    seqs = [eids[1000:1000 + 96].tolist(), eids[50000:50000 + 96].tolist()]
    with torch.no_grad():
        logits, _ = model(torch.tensor(seqs))
    ref = {"input_ids": seqs, "logits": logits.numpy().astype(float).round(6).tolist(),
           "num_layers": n, "kv_heads": kv, "head_dim": hd, "vocab_size": cfg.vocab_size}
    with open(os.path.join(WORK, "onnx_ref.json"), "w") as f:
        json.dump(ref, f)
    with open(os.path.join(WORK, "train_state.json"), "w") as f:
        json.dump({"state": state, "args": ck["args"], "params": model.num_params()}, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
