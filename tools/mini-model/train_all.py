"""`npm run train:mini`: the whole tokenscope-mini pipeline, step by step.

Each step skips itself when its output exists, so the command resumes after an interruption (the
training step resumes from work/run/ckpt.pt). Run one step alone with `--only STEP`; extra
arguments after `--` go to train.py (e.g. `-- --device cuda --hidden 512 --layers 8`).

  corpus     corpus.py          work/corpus/{train,eval}.jsonl + manifest.json
  tokenizer  tokenizer.py       models/tokenscope-mini/tokenizer.json, tokenizer_config.json
  prepare    prepare.py         work/data/{train,eval}.npz, unigram.json
  verify-tok dump_tok_ref.py + verify_tokenizer.mjs (Node == Python token ids on held-out files)
  train      train.py           work/run/ckpt.pt (seed 1234)
  export     export.py          config.json, generation_config.json, onnx/model.onnx
  verify     verify_onnx.mjs    ONNX == PyTorch logits, cached == uncached
  eval       eval.mjs           work/eval.json (bits/byte, single-line FIM vs prefix-only)
  card       card.py            README.md, model-card.json
"""
import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
PY = sys.executable
STEPS = ["corpus", "tokenizer", "prepare", "verify-tok", "train", "export", "verify", "eval", "card"]


def run(cmd, env=None):
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT, env=env)


def main():
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=STEPS, action="append", help="run only these steps (repeatable)")
    args = ap.parse_args(argv)
    steps = args.only or STEPS
    script = lambda name: os.path.join(HERE, name)
    # Under CPU contention, OpenMP threads that spin at barriers waste the cores they share.
    # ORT_DISABLE_TELEMETRY: verify/eval load ONNX Runtime, whose telemetry is on by default.
    env = dict(os.environ, OMP_WAIT_POLICY=os.environ.get("OMP_WAIT_POLICY", "PASSIVE"), ORT_DISABLE_TELEMETRY="1")
    for step in steps:
        if step == "corpus":
            run([PY, script("corpus.py")])
        elif step == "tokenizer":
            run([PY, script("tokenizer.py")])
        elif step == "prepare":
            run([PY, script("prepare.py")])
        elif step == "verify-tok":
            run([PY, script("dump_tok_ref.py")])
            run(["node", script("verify_tokenizer.mjs")])
        elif step == "train":
            run(["nice", "-n", "5", PY, script("train.py"), *extra], env=env)
        elif step == "export":
            run([PY, script("export.py")])
        elif step == "verify":
            run(["node", script("verify_onnx.mjs")], env=env)
        elif step == "eval":
            run(["node", script("eval.mjs")], env=env)
        elif step == "card":
            run([PY, script("card.py")])


if __name__ == "__main__":
    sys.exit(main())
