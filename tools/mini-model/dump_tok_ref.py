"""Dump Python encodings of held-out files (work/tokenizer_ref.json) for verify_tokenizer.mjs."""
import json
import os

from bpe import BpeTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
tok = BpeTokenizer.load(os.path.join(HERE, "..", "..", "models", "tokenscope-mini", "tokenizer.json"))
docs = [json.loads(l) for l in open(os.path.join(HERE, "work", "corpus", "eval.jsonl"), encoding="utf-8")]
cases = [{"path": d["path"], "text": d["text"], "ids": tok.encode(d["text"])} for d in docs]
extra = "<|fim_prefix|>def f(x):\n    <|fim_suffix|>\n    return y<|fim_middle|>y = x * 2<|endoftext|> ünïcödé 12345 don't\r\n\t\t  "
cases.append({"path": "special", "text": extra, "ids": tok.encode(extra)})
with open(os.path.join(HERE, "work", "tokenizer_ref.json"), "w") as f:
    json.dump(cases, f)
print(len(cases), "cases", sum(len(c["ids"]) for c in cases), "tokens", sum(len(c["text"].encode()) for c in cases), "bytes")
