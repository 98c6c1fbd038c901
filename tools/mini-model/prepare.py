"""Step 2b: tokenize the corpus once (work/data/{train,eval}.npz: ids uint16 + per-file offsets)."""
import argparse
import json
import os
import sys
import time

import numpy as np

from bpe import BpeTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, "work")
MODEL_DIR = os.path.join(HERE, "..", "..", "models", "tokenscope-mini")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    out_dir = os.path.join(WORK, "data")
    if os.path.exists(os.path.join(out_dir, "unigram.json")) and not args.force:
        print("prepare: exists, skipping (--force to redo)")
        return
    os.makedirs(out_dir, exist_ok=True)
    tok = BpeTokenizer.load(os.path.join(MODEL_DIR, "tokenizer.json"))
    for split in ("eval", "train"):
        t0 = time.time()
        ids, offsets, nbytes = [], [0], []
        for line in open(os.path.join(WORK, "corpus", split + ".jsonl"), encoding="utf-8"):
            r = json.loads(line)
            ids.extend(tok.encode_ordinary(r["text"]))  # corpus text is data: no special tokens
            offsets.append(len(ids))
            nbytes.append(len(r["text"].encode("utf-8")))
        arr = np.asarray(ids, dtype=np.uint16)
        np.savez(os.path.join(out_dir, split + ".npz"), ids=arr, offsets=np.asarray(offsets, dtype=np.int64),
                 nbytes=np.asarray(nbytes, dtype=np.int64))
        print(f"prepare: {split}: {len(offsets)-1} files, {len(arr)} tokens, {sum(nbytes)} bytes, "
              f"{sum(nbytes)/len(arr):.2f} bytes/token ({time.time()-t0:.0f}s)", flush=True)
    # Unigram token counts of the training split: the eval's simplest baseline.
    counts = np.bincount(arr.astype(np.int64), minlength=len(tok.vocab) + len(tok.specials))
    counts[tok.specials["<|endoftext|>"]] += len(offsets) - 1
    with open(os.path.join(out_dir, "unigram.json"), "w") as f:
        json.dump({"counts": counts.tolist()}, f)


if __name__ == "__main__":
    sys.exit(main())
