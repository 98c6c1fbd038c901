"""Step 2: train the byte-level BPE tokenizer and write tokenizer.json + tokenizer_config.json.

Merges are learnt on a deterministic sample of the training split (every file whose hash falls in
the sample, up to --sample-mb): pre-token frequencies are counted once, then pairs are merged on
that word-frequency table with incremental pair-count updates and a lazy max-heap.
"""
import argparse
import collections
import heapq
import json
import os
import sys
import time

from bpe import BYTE_TO_CHAR, SPECIAL_TOKENS, QWEN2_PATTERN, pretokenize

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, "work")
OUT = os.path.join(HERE, "..", "..", "models", "tokenscope-mini")

CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if loop.first and message.role != 'system' %}{{- '<|im_start|>system\\nYou are a code completion model.<|im_end|>\\n' }}{%- endif %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


def train_bpe(word_freq, vocab_target):
    vocab = {BYTE_TO_CHAR[b]: b for b in range(256)}
    words = [list(w) for w in word_freq]
    freqs = list(word_freq.values())
    pair_count = collections.Counter()
    where = collections.defaultdict(set)
    for wi, (w, f) in enumerate(zip(words, freqs)):
        for a, b in zip(w, w[1:]):
            pair_count[(a, b)] += f
            where[(a, b)].add(wi)
    # Max-heap on (count, then lexicographically smallest pair) for a deterministic order.
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)
    merges = []
    while len(vocab) < vocab_target and heap:
        negc, pair = heapq.heappop(heap)
        if pair_count.get(pair, 0) != -negc or -negc <= 0:
            continue  # stale entry
        a, b = pair
        new = a + b
        merges.append(pair)
        if new not in vocab:
            vocab[new] = len(vocab)
        changed = collections.Counter()
        for wi in list(where[pair]):
            w = words[wi]
            f = freqs[wi]
            i = 0
            out = []
            # Remove this word's old pairs, merge, add its new pairs.
            for x, y in zip(w, w[1:]):
                changed[(x, y)] -= f
            while i < len(w):
                if i < len(w) - 1 and w[i] == a and w[i + 1] == b:
                    out.append(new)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            for x, y in zip(out, out[1:]):
                changed[(x, y)] += f
                where[(x, y)].add(wi)
            words[wi] = out
        for p, d in changed.items():
            if d == 0:
                continue
            pair_count[p] += d
            if pair_count[p] > 0:
                heapq.heappush(heap, (-pair_count[p], p))
            else:
                del pair_count[p]
        pair_count.pop(pair, None)
        where.pop(pair, None)
    return vocab, merges


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=os.path.join(WORK, "corpus"))
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--vocab-size", type=int, default=8192, help="total, special tokens included")
    ap.add_argument("--sample-mb", type=float, default=8)
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    out_json = os.path.join(args.out, "tokenizer.json")
    if os.path.exists(out_json) and not args.force:
        print("tokenizer: exists, skipping (--force to retrain)")
        return
    t0 = time.time()
    docs = [json.loads(l) for l in open(os.path.join(args.corpus, "train.jsonl"), encoding="utf-8")]
    docs.sort(key=lambda r: r["sha256"])  # hash order = a deterministic shuffle across sources
    word_freq = collections.Counter()
    used = 0
    for r in docs:
        if used >= args.sample_mb * 1e6:
            break
        word_freq.update(pretokenize(r["text"]))
        used += len(r["text"].encode("utf-8"))
    print(f"tokenizer: {used/1e6:.1f} MB sample, {len(word_freq)} distinct pre-tokens ({time.time()-t0:.0f}s)", flush=True)
    n_special = len(SPECIAL_TOKENS)
    vocab, merges = train_bpe(word_freq, args.vocab_size - n_special)
    print(f"tokenizer: {len(merges)} merges, vocab {len(vocab)} + {n_special} special ({time.time()-t0:.0f}s)", flush=True)
    added = [{"id": len(vocab) + i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": s} for i, (c, s) in enumerate(SPECIAL_TOKENS)]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
    tok = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN2_PATTERN}, "behavior": "Isolated", "invert": False},
            byte_level]},
        "post_processor": byte_level, "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": [[a, b] for a, b in merges]},
    }
    config = {
        "add_bos_token": False, "add_prefix_space": False,
        "added_tokens_decoder": {str(a["id"]): {k: v for k, v in a.items() if k != "id"} for a in added},
        "additional_special_tokens": ["<|im_start|>", "<|im_end|>"],
        "bos_token": None, "chat_template": CHAT_TEMPLATE, "clean_up_tokenization_spaces": False,
        "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "errors": "replace",
        "model_max_length": 1024, "split_special_tokens": False, "tokenizer_class": "Qwen2Tokenizer",
        "unk_token": None,
    }
    os.makedirs(args.out, exist_ok=True)
    with open(out_json, "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False, separators=(",", ":"))
    with open(os.path.join(args.out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, ensure_ascii=False, indent=2)
    print(f"tokenizer: wrote {out_json} ({time.time()-t0:.0f}s)")


if __name__ == "__main__":
    sys.exit(main())
