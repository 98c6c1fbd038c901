"""Step 6: write models/tokenscope-mini/README.md (model card) and model-card.json from the
pipeline's own records: the data manifest, the training state and log, config.json and eval.json."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, "work")
MODEL_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "models", "tokenscope-mini"))
COMMAND = "npm run train:mini"
REFERENCES = os.path.normpath(os.path.join(HERE, "..", "..", "src", "core", "models", "referenceModels.json"))


def training_command(targs):
    """`npm run train:mini` plus every train.py option the run used that differs from its default."""
    sys.path.insert(0, HERE)
    from train import build_parser  # noqa: E402 (imports torch: only when writing the card)
    defaults = vars(build_parser().parse_args([]))
    extra = [f"--{k.replace('_', '-')} {v:g}" if isinstance(v, float) else f"--{k.replace('_', '-')} {v}"
             for k, v in targs.items() if k != "run" and k in defaults and v != defaults[k]]
    return COMMAND + (" -- -- " + " ".join(extra) if extra else "")


def count(n):
    for size, unit in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
        if n >= size:
            v = n / size
            return f"{v:.{0 if v >= 100 else 1 if v >= 10 else 2}f}".rstrip("0").rstrip(".") + f" {unit}"
    return f"{n:,}"


def comparison_table(cfg, params, tokens):
    """The built-in model next to the real models of referenceModels.json (the same data as the
    editor's Show Model Architecture command and `tokenscope model-info`)."""
    refs = sorted(load(REFERENCES)["models"], key=lambda m: m["parameters"])
    rows = ["| model | layers | hidden | heads q/kv | vocabulary | context | parameters | embedding share | trained on |",
            "|---|---|---|---|---|---|---|---|---|"]

    def row(name, c, p, trained):
        share = c["vocab_size"] * c["hidden_size"] / p
        rows.append(f"| {name} | {c['num_hidden_layers']} | {c['hidden_size']} | {c['num_attention_heads']}/{c['num_key_value_heads']} | "
                    f"{c['vocab_size']:,} | {c['max_position_embeddings']:,} | {count(p)} | {share:.0%} | {count(trained) if trained else '—'} |")
    row("**tokenscope-mini**", cfg, params, tokens)
    for m in refs:
        row(f"[{m['label']}](https://huggingface.co/{m['repo']})", m["config"], m["parameters"], m.get("trainingTokens"))
    return "\n".join(rows)


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def folder_files(root):
    out = {}
    for dirpath, _, files in os.walk(root):
        for fn in files:
            p = os.path.join(dirpath, fn)
            out[os.path.relpath(p, root)] = os.path.getsize(p)
    return out


def fence(text):
    return "```\n" + text.replace("```", "ʼʼʼ") + "\n```"


def main():
    global MODEL_DIR
    if "--dir" in sys.argv:  # trial runs on another folder
        MODEL_DIR = sys.argv[sys.argv.index("--dir") + 1]
    manifest = load(os.path.join(WORK, "corpus", "manifest.json"))
    ts = load(os.path.join(WORK, "train_state.json"))
    ev = load(os.path.join(WORK, "eval.json"))
    cfg = load(os.path.join(MODEL_DIR, "config.json"))
    log = [json.loads(l) for l in open(os.path.join(WORK, "run", "log.jsonl"))]
    notes_path = os.path.join(WORK, "run", "notes.txt")
    notes = open(notes_path).read().strip() if os.path.exists(notes_path) else ""
    starts_path = os.path.join(WORK, "run", "starts.jsonl")
    starts = [json.loads(l) for l in open(starts_path)] if os.path.exists(starts_path) else []
    # Consecutive starts with the same options are one segment (a plain resume changes nothing).
    segments = [s for i, s in enumerate(starts) if i == 0 or s["options"] != starts[i - 1]["options"]]
    fim_rates = [(s["step"], s["options"]["fim_rate"]) for i, s in enumerate(segments)
                 if i == 0 or s["options"]["fim_rate"] != segments[i - 1]["options"]["fim_rate"]]
    state, targs = ts["state"], ts["args"]
    heads, kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    py, npm = manifest["sources"]
    fim = ev["fim"]
    finished = state["step"] >= targs["steps"]
    stop_reason = ("reached --steps" if finished else
                   f"stopped by the --max-minutes {targs['max_minutes']:g} training-time budget")
    evals = [r for r in log if "eval_loss" in r]

    card = {
        "id": "mini", "name": "tokenscope-mini", "model_type": cfg["model_type"],
        "architecture": {k: cfg[k] for k in ("num_hidden_layers", "hidden_size", "intermediate_size",
                                             "num_attention_heads", "num_key_value_heads", "head_dim",
                                             "vocab_size", "max_position_embeddings", "rope_theta",
                                             "tie_word_embeddings")},
        "parameters": ts["params"],
        "training": {"tokens": state["tokens"], "steps": state["step"], "planned_steps": targs["steps"],
                     "stop_reason": stop_reason, "training_minutes": round(state["train_seconds"] / 60, 1),
                     "batch": targs["batch"], "sequence_length": targs["seq"], "fim_rate": targs["fim_rate"],
                     "learning_rate": targs["lr"], "seed": targs["seed"], "device": targs["device"],
                     "threads": targs["threads"], "command": training_command(targs),
                     "runs": [{"from_step": s["step"], "from_minute": s["minutes"], "command": training_command(s["options"])}
                              for s in segments]},
        "data": {"train_files": manifest["train"]["files"], "train_bytes": manifest["train"]["bytes"],
                 "eval_files": manifest["eval"]["files"], "eval_bytes": manifest["eval"]["bytes"],
                 "sources": [{"name": py["name"], "licences": [py["licence"]], "files": py["files"], "bytes": py["bytes"]},
                             {"name": npm["name"], "licences": npm["licences"], "files": npm["files"],
                              "bytes": npm["bytes"], "packages": len(npm["packages"])}]},
        "metrics": {"heldout_bits_per_byte": round(ev["heldout"]["bits_per_byte"], 4),
                    "heldout_nats_per_token": round(ev["heldout"]["nats_per_token"], 4),
                    "unigram_bits_per_byte": round(ev["heldout"]["unigram_bits_per_byte"], 4),
                    "fim_cases": fim["cases"],
                    "fim_exact_match": round(fim["fim_exact_match"], 4),
                    "fim_edit_similarity": round(fim["fim_edit_similarity"], 4),
                    "prefix_only_exact_match": round(fim["prefix_only_exact_match"], 4),
                    "prefix_only_edit_similarity": round(fim["prefix_only_edit_similarity"], 4),
                    "generation_tokens_per_second": round(ev["generation_tokens_per_second"]),
                    "generation_threads": ev["threads"]},
        "limits": "Completes code (Python, TypeScript, JavaScript). It cannot chat, follow instructions or explain.",
        "inspection": {"graph": "built in memory from onnx/model.onnx at run time (no extra file)",
                       "attention": f"{cfg['num_hidden_layers']} layers x {cfg['num_attention_heads']} heads (Softmax outputs)",
                       "hidden_states": f"{cfg['num_hidden_layers']} layers x {cfg['hidden_size']}",
                       "logit_lens": "final norm + tied output head on each layer's hidden state",
                       "embedding": f"model.embed_tokens.weight, {cfg['vocab_size']} x {cfg['hidden_size']}, float32"},
    }
    with open(os.path.join(MODEL_DIR, "model-card.json"), "w") as f:
        json.dump(card, f, indent=2)
    # The data manifest ships with the model: which packages and licences the weights come from.
    with open(os.path.join(MODEL_DIR, "data-manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)

    res = ev["fim_results"]
    good = [r for r in res if r["fim_exact"]][:3]
    bad = sorted((r for r in res if not r["fim_exact"]), key=lambda r: r["fim_edit_sim"])[:3]
    m = card["metrics"]
    L = []
    w = L.append
    w("---\nlicense: mit\nlibrary_name: onnxruntime\npipeline_tag: text-generation\ntags: [code, fill-in-the-middle, qwen2, tiny]\n---\n")
    w("# tokenscope-mini\n")
    w("Tokenscope's built-in code model: a tiny Qwen2-architecture decoder trained from scratch on this "
      "project's machines, small enough to ship inside the extension (no download, works offline) and to "
      "look through. It completes code at the cursor (fill-in-the-middle). **It cannot chat, follow "
      "instructions or explain code**: it is a learning tool and a fallback, far below real models.\n")
    w("## Architecture\n")
    w("| | |\n|---|---|")
    w(f"| parameters | {ts['params']:,} ({ts['params']/1e6:.2f} M, embeddings tied with the output layer) |")
    w(f"| layers | {cfg['num_hidden_layers']} |")
    w(f"| hidden size / MLP size | {cfg['hidden_size']} / {cfg['intermediate_size']} (SwiGLU) |")
    w(f"| attention | {heads} query heads, {kv} key/value heads (grouped-query), head dim {cfg['head_dim']} |")
    w(f"| position | RoPE, theta {cfg['rope_theta']:g}; context {cfg['max_position_embeddings']} tokens |")
    w(f"| norm | RMSNorm, eps {cfg['rms_norm_eps']:g} |")
    w(f"| vocabulary | {cfg['vocab_size']} (byte-level BPE with the Qwen2 pre-tokenizer; Qwen2.5 special tokens) |")
    w(f"| format | `onnx/model.onnx`, float32, transformers.js decoder I/O with KV cache |\n")
    w("### Next to real models\n")
    w("Real models have the same kind of blocks, many more of them, and far more training: "
      "the embedding table is a fixed cost that dominates a tiny model.\n")
    w(comparison_table(cfg, ts["params"], state["tokens"]) + "\n")
    w("In the editor: **Tokenscope: Show Model Architecture**; in a terminal: `tokenscope model-info`.\n")
    w("Prompt formats are those of Qwen2.5-Coder: `<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>` "
      "for fill-in-the-middle, stop at `<|endoftext|>`; ChatML `chat_template` (present for compatibility only).\n")
    w("## Training data\n")
    w(f"{manifest['train']['files']:,} files ({manifest['train']['bytes']/1e6:.1f} MB) for training, "
      f"{manifest['eval']['files']} files ({manifest['eval']['bytes']/1e6:.2f} MB) held out for evaluation "
      "(chosen by content hash, by file). Built by `tools/mini-model/corpus.py`:\n")
    w("| source | licence | files | MB |\n|---|---|---|---|")
    w(f"| {py['name']} (`{py['root']}`) | {py['licence']} | {py['files']:,} | {py['bytes']/1e6:.1f} |")
    w(f"| {npm['name']}: {', '.join('`'+p+'`' for p in npm['install'])} | {', '.join(npm['licences'])} | "
      f"{npm['files']:,} | {npm['bytes']/1e6:.1f} |\n")
    w(f"npm files come from {len(npm['packages'])} packages whose own `package.json` licence is permissive "
      f"(MIT, ISC, BSD, Apache-2.0, or an OR-expression with one of them); {len(npm['rejected_packages'])} "
      "installed packages with other licences were left out. Per-package names, licences and counts are in "
      "`data-manifest.json` next to this card. Minified and generated files (lines over "
      f"{manifest['filters']['max_line_chars']} characters, `.min.` files, source maps) are skipped "
      f"({manifest['filters']['skipped_generated']}), contents deduplicated by SHA-256 "
      f"({manifest['filters']['skipped_duplicate']} duplicates), and each source capped in size.\n")
    w("## Training\n")
    fim_share = f"{fim_rates[0][1]*100:.0f}%" + "".join(f" ({rate*100:.0f}% from step {step:,})" for step, rate in fim_rates[1:]) \
        if fim_rates else f"{targs['fim_rate']*100:.0f}%"
    w(f"- Objective: next-token prediction; {fim_share} of sequences are rearranged as "
      "prefix-suffix-middle with split points at character positions (anywhere, whole lines, or the rest of a line).")
    w(f"- {state['step']:,} steps of {targs['batch']} x {targs['seq']} tokens = **{state['tokens']/1e6:.2f} M tokens** "
      f"(about {state['tokens']/ (manifest['train']['bytes']/3.73):.2f} epochs), AdamW (0.9, 0.95), peak learning rate "
      f"{targs['lr']:g}, {targs['warmup']} warm-up steps, cosine decay to 10%, weight decay {targs['weight_decay']:g}, "
      f"gradient clip 1.0, seed {targs['seed']}.")
    w(f"- **Wall time: {state['train_seconds']/60:.0f} minutes** on {targs['threads']} shared CPU threads "
      f"(PyTorch {('1.13.1, Debian python3-torch')}); {stop_reason}.")
    if evals:
        w(f"- Held-out loss during training (nats/token, {len(evals)} checks): " +
          ", ".join(f"step {r['step']}: {r['eval_loss']:.2f}" for r in evals) + ".")
    rates = []
    marks = [r for r in log if r["step"] % 100 == 0]
    for a, b in zip(marks, marks[1:]):
        if b["minutes"] > a["minutes"] and b["tokens"] > a["tokens"]:
            rates.append((b["tokens"] - a["tokens"]) / ((b["minutes"] - a["minutes"]) * 60))
    if rates:
        w(f"- Throughput averaged {state['tokens'] / state['train_seconds']:,.0f} tokens/s, between {min(rates):,.0f} and "
          f"{max(rates):,.0f} tokens/s per 100 steps: the 2 cores are shared with other jobs, and the machine's load sets the pace.")
    if len(segments) > 1:
        w("- The run was extended with other options; each segment continued from the previous one's checkpoint:")
        for seg in segments:
            w(f"  - from step {seg['step']:,} ({seg['minutes']:g} min trained): `{training_command(seg['options'])}`")
    if notes:
        w(f"- Run notes: {notes}")
    how = (f"`{card['training']['command']}`" if len(segments) <= 1 else
           "the segments' commands above, in order (each resumes from `work/run/ckpt.pt`; a segment that did not end "
           "at its time budget was stopped after a checkpoint)")
    w(f"\nReproduce: {how}. `npm run train:mini` = `/usr/bin/python3 tools/mini-model/train_all.py`; it needs Debian's "
      "`python3-torch python3-onnx python3-numpy python3-regex libopenblas0-pthread`. Every file in this folder "
      "was written by it. `-- --device cuda --hidden 512 --layers 8 ...` trains a larger model on a GPU "
      "with no other change. Timing-based stopping makes reruns close, not bit-identical.\n")
    w("## Evaluation\n")
    w("Run `node tools/mini-model/eval.mjs` (uses the shipped ONNX file through onnxruntime-node and the "
      "shipped tokenizer; the held-out files are rebuilt by `corpus.py`).\n")
    w("| metric | tokenscope-mini | baseline |\n|---|---|---|")
    w(f"| held-out bits per byte ({ev['heldout']['files']} files, {ev['heldout']['bytes']:,} bytes) | "
      f"**{m['heldout_bits_per_byte']:.3f}** | {m['unigram_bits_per_byte']:.3f} (unigram of training tokens) |")
    w(f"| single-line FIM exact match ({fim['cases']} held-out lines) | **{100*m['fim_exact_match']:.1f}%** | "
      f"{100*m['prefix_only_exact_match']:.1f}% (same model, prefix only) |")
    w(f"| single-line FIM edit similarity | **{m['fim_edit_similarity']:.3f}** | {m['prefix_only_edit_similarity']:.3f} (same model, prefix only) |")
    w(f"| greedy generation speed | {m['generation_tokens_per_second']} tokens/s ({ev['threads']} threads, onnxruntime-node, KV cache) | |\n")
    if m["fim_edit_similarity"] < m["prefix_only_edit_similarity"]:
        w("**Verdict, plainly:** at this training budget the fill-in-the-middle objective has not paid off: "
          "given prefix and suffix, the model does worse than the same model completing from the prefix alone. "
          "It has learnt the look of code (far below the unigram's bits per byte) but not to use the suffix. "
          "So Tokenscope's editor asks this model with the prefix alone (`<|endoftext|>{prefix}`) and lets "
          "post-processing stop at the text after the cursor; a unit test keeps that choice equal to these "
          "figures. More tokens (the same command with `--device cuda`, or a longer `--max-minutes`) are what "
          "its FIM lacks.\n")
    else:
        w("**Verdict:** with the suffix the model does better than from the prefix alone, so the "
          "fill-in-the-middle objective pays off even at this size, and the editor uses the FIM prompt.\n")
    per_file = fim.get("lines_per_file", 1)
    w(f"Single-line FIM: in each held-out file {'one line' if per_file == 1 else f'up to {per_file} distinct lines'} "
      f"(4-100 characters, picked by a hash of the path) {'is' if per_file == 1 else 'are'} removed, one at a time "
      f"({fim['cases']} cases from {fim.get('files', fim['cases'])} files); the model gets up to {fim['prefix_tokens']} tokens before and {fim['suffix_tokens']} after, decodes "
      "greedily to the first newline, and the trimmed line is compared with the original. The baseline is "
      "plain next-token completion from the same prefix.\n")
    w("### Sample completions (held-out files, greedy)\n")
    w("From the prefix alone (what the editor asks this model), exact matches:\n")
    plain_good = [r for r in res if r["prefix_only_exact"]][:4]
    for r in plain_good:
        w(f"- `{r['path']}` line {r['line']}: `{r['target'].strip()}`")
    if not plain_good:
        w("- (no exact match)")
    w("\nWith prefix and suffix (FIM), exact matches:\n")
    for r in good:
        w(f"- `{r['path']}` line {r['line']}: expected `{r['target'].strip()}`, got `{r['fim'].strip()}`")
    if not good:
        w("- (no exact match)")
    w("\nFIM, the furthest off:\n")
    for r in bad:
        w(f"- `{r['path']}` line {r['line']}: expected `{r['target'].strip()}`, got `{r['fim'].strip()}`")
    w("\nFree generation (greedy, 48 tokens at most):\n")
    for s in ev["samples"]:
        w(fence(s["prompt"] + s["completion"]))
    w("## Inspection outputs\n")
    w("Tokenscope looks inside this model without a second file: when asked (*Show Attention at Cursor*, the "
      "*Inside the Model* page, `tokenscope attention | lens | neighbours`), it patches the loaded `onnx/model.onnx` "
      "graph in memory (`src/core/runtime/inspectGraph.ts`) so that one forward pass also returns, at a chosen position:\n")
    w(f"- each of the {cfg['num_hidden_layers']} layers' attention probabilities (the outputs of its Softmax node: "
      f"{cfg['num_attention_heads']} heads, over every earlier token);")
    w(f"- each layer's hidden state (the residual stream after the layer, {cfg['hidden_size']} numbers);")
    w("- the logit lens: the final RMSNorm and the tied output head applied to each layer's hidden state (the graph's "
      "own nodes, copied per layer and reading the same weights). The last layer's lens equals the model's logits (tested).\n")
    w(f"The embedding matrix ({cfg['vocab_size']:,} x {cfg['hidden_size']}, float32) is read from the "
      "`model.embed_tokens.weight` initializer for the embedding hover and nearest-token search. Nothing is added to "
      "the shipped files, which stay under the 16 MB budget.\n")
    w("\n## Limits\n")
    w("- Completes code; cannot chat, answer questions, follow instructions or explain. The chat template exists "
      "only so that every prompt path matches real Qwen2.5 models.")
    w(f"- Trained on {state['tokens']/1e6:.1f} M tokens of Python standard library and npm package code: it "
      "knows common idioms and names from those, repeats itself, and often produces plausible but wrong code.")
    w(f"- Context {cfg['max_position_embeddings']} tokens; longer prompts must be cut to fit.")
    w("- Use a real model from the catalog (e.g. Qwen2.5-Coder-0.5B/1.5B) for useful completions.\n")
    w("## Files\n")
    for name, size in sorted(folder_files(MODEL_DIR).items()):
        if name != "README.md":
            w(f"- `{name}`: {size:,} bytes")
    with open(os.path.join(MODEL_DIR, "README.md"), "w") as f:
        f.write("\n".join(L) + "\n")
    print("card: wrote README.md and model-card.json")


if __name__ == "__main__":
    sys.exit(main())
