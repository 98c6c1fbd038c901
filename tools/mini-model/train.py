"""Step 3: train tokenscope-mini (next-token + fill-in-the-middle), with stop/resume checkpoints.

Training stops at --steps or after --max-minutes of training time, whichever comes first; the
learning-rate schedule runs on progress = max(step/steps, time/max_minutes), so a run cut short by
the time budget still finishes its cosine decay. work/run/ckpt.pt holds model, optimizer, step,
elapsed time and every RNG state: rerunning the same command resumes where it stopped.
"""
import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from bpe import BpeTokenizer
from model import MiniConfig, MiniQwen2

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, "work")
MODEL_DIR = os.path.join(HERE, "..", "..", "models", "tokenscope-mini")


class FimSampler:
    """Draws training sequences of seq+1 tokens: plain windows of the packed corpus, or (with
    probability fim_rate) a window of one file rearranged as prefix-suffix-middle:
    <|fim_prefix|>pre<|fim_suffix|>suf<|fim_middle|>mid<|endoftext|>. Split points are character
    positions (so the prefix may end inside a word, as a cursor does); some are snapped to lines."""

    def __init__(self, data, tok, seq, fim_rate, rng):
        self.ids = data["ids"]
        self.offsets = data["offsets"]
        self.tok = tok
        self.seq = seq
        self.fim_rate = fim_rate
        self.rng = rng
        sp = tok.specials
        self.eot = sp["<|endoftext|>"]
        self.pre, self.suf, self.mid = sp["<|fim_prefix|>"], sp["<|fim_suffix|>"], sp["<|fim_middle|>"]
        # Packed stream: every file followed by <|endoftext|>.
        n = len(self.offsets) - 1
        lens = np.diff(self.offsets)
        self.stream = np.empty(len(self.ids) + n, dtype=np.int64)
        self.stream_off = np.zeros(n + 1, dtype=np.int64)
        pos = 0
        for i in range(n):
            a, b = self.offsets[i], self.offsets[i + 1]
            self.stream[pos:pos + (b - a)] = self.ids[a:b]
            self.stream[pos + (b - a)] = self.eot
            pos += b - a + 1
            self.stream_off[i + 1] = pos
        self.doc_p = lens / lens.sum()

    def plain(self, n):
        start = self.rng.randint(0, len(self.stream) - n)
        return self.stream[start:start + n].tolist()

    def split_points(self, text):
        r = self.rng
        n = len(text)
        mode = r.rand()
        if mode < 0.4:  # anywhere
            i, j = sorted(r.randint(0, n + 1, size=2))
            return i, j
        line_starts = [0] + [k + 1 for k, c in enumerate(text) if c == "\n"]
        li = r.randint(0, len(line_starts))
        start = line_starts[li]
        if mode < 0.7:  # whole lines (1-3), like the single-line eval and a cursor at line start
            end_li = min(li + r.randint(1, 4), len(line_starts))
            end = line_starts[end_li] if end_li < len(line_starts) else n
            return start, end
        # rest of a line from a point inside it (cursor mid-line)
        end = text.find("\n", start)
        end = n if end < 0 else end
        i = r.randint(start, end + 1)
        return i, end

    def fim(self, n):
        doc = self.rng.choice(len(self.doc_p), p=self.doc_p)
        a, b = self.offsets[doc], self.offsets[doc + 1]
        width = n - 8
        s = a if b - a <= width else self.rng.randint(a, b - width + 1)
        text = self.tok.decode(self.ids[s:min(b, s + width)].tolist())
        if len(text) < 2:
            return None
        i, j = self.split_points(text)
        enc = self.tok.encode_ordinary
        seq = [self.pre] + enc(text[:i]) + [self.suf] + enc(text[j:]) + [self.mid] + enc(text[i:j]) + [self.eot]
        return seq

    def batch(self, bs):
        out = []
        n = self.seq + 1
        for _ in range(bs):
            seq = None
            if self.rng.rand() < self.fim_rate:
                seq = self.fim(n)
            if seq is None:
                seq = self.plain(n)
            if len(seq) < n:
                seq = seq + self.plain(n - len(seq))
            out.append(seq[:n])
        return torch.tensor(out, dtype=torch.long)


def eval_windows(data, seq, count, eot):
    """Fixed held-out windows (deterministic): the first `seq+1` tokens of the evenly spaced packed stream."""
    ids = data["ids"].astype(np.int64)
    step = max(1, (len(ids) - seq - 1) // count)
    return torch.tensor(np.stack([ids[k * step:k * step + seq + 1] for k in range(count)]), dtype=torch.long)


@torch.no_grad()
def eval_loss(model, windows, device, bs=8):
    model.eval()
    tot, n = 0.0, 0
    for k in range(0, len(windows), bs):
        x = windows[k:k + bs].to(device)
        logits, _ = model(x[:, :-1])
        tot += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1), reduction="sum").item()
        n += x[:, 1:].numel()
    model.train()
    return tot / n


def lr_at(progress, step, args):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    p = min(1.0, progress)
    return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))


def save_atomic(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def build_parser():
    """train.py's options (card.py reads their defaults to record the exact training command)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", default=os.path.join(WORK, "run"))
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--steps", type=int, default=2400)
    ap.add_argument("--max-minutes", type=float, default=110, help="training-time budget (resumes count)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=512)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--fim-rate", type=float, default=0.5)
    ap.add_argument("--hidden", type=int, default=192)
    ap.add_argument("--intermediate", type=int, default=512)
    ap.add_argument("--layers", type=int, default=5)
    ap.add_argument("--heads", type=int, default=6)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--ckpt-minutes", type=float, default=4)
    ap.add_argument("--eval-every", type=int, default=200)
    return ap


def main():
    args = build_parser().parse_args()

    torch.set_num_threads(args.threads)
    os.makedirs(args.run, exist_ok=True)
    ckpt_path = os.path.join(args.run, "ckpt.pt")
    log_path = os.path.join(args.run, "log.jsonl")
    tok = BpeTokenizer.load(os.path.join(MODEL_DIR, "tokenizer.json"))
    eot = tok.specials["<|endoftext|>"]
    cfg = MiniConfig(vocab_size=len(tok.vocab) + len(tok.specials), hidden_size=args.hidden,
                     intermediate_size=args.intermediate, num_hidden_layers=args.layers,
                     num_attention_heads=args.heads, num_key_value_heads=args.kv_heads,
                     max_position_embeddings=args.seq, bos_token_id=eot, eos_token_id=eot)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    model = MiniQwen2(cfg).to(args.device)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    data = dict(np.load(os.path.join(WORK, "data", "train.npz")))
    eval_data = dict(np.load(os.path.join(WORK, "data", "eval.npz")))
    rng = np.random.RandomState(args.seed)
    sampler = FimSampler(data, tok, args.seq, args.fim_rate, rng)
    windows = eval_windows(eval_data, args.seq, 32, eot)

    state = {"step": 0, "train_seconds": 0.0, "tokens": 0, "done": False}
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, map_location=args.device)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        state = ck["state"]
        rng.set_state(ck["np_rng"])
        torch.set_rng_state(ck["torch_rng"])
        random.setstate(ck["py_rng"])
        print(f"resumed at step {state['step']} ({state['train_seconds']/60:.1f} min trained)", flush=True)
    # A finished run continues when its budget was raised (--steps or --max-minutes): the schedule
    # picks up at the new, earlier point of its cosine, a warm restart.
    if max(state["step"] / args.steps, state["train_seconds"] / (args.max_minutes * 60)) >= 1.0:
        print("train: already finished (raise --max-minutes/--steps to continue, or delete work/run to retrain)")
        return
    if state["done"]:
        print(f"train: extending a finished run to a budget of {args.max_minutes:g} min / {args.steps} steps", flush=True)
        state["done"] = False
    print(f"model: {model.num_params()} parameters, config {cfg}", flush=True)
    # Every (re)start and its options, so the model card can say exactly how the weights were made
    # when a run was resumed or extended with other options.
    with open(os.path.join(args.run, "starts.jsonl"), "a") as f:
        f.write(json.dumps({"step": state["step"], "minutes": round(state["train_seconds"] / 60, 2),
                            "options": {k: v for k, v in vars(args).items() if k != "run"}}) + "\n")
    with open(os.path.join(args.run, "args.json"), "w") as f:
        json.dump({"args": vars(args), "config": cfg.hf_config(), "torch": torch.__version__}, f, indent=1)

    def checkpoint():
        save_atomic({"model": model.state_dict(), "opt": opt.state_dict(), "state": state,
                     "np_rng": rng.get_state(), "torch_rng": torch.get_rng_state(), "py_rng": random.getstate(),
                     "config": cfg.hf_config(), "args": vars(args)}, ckpt_path)

    last_ckpt = time.time()
    model.train()
    log = open(log_path, "a")
    while True:
        progress = max(state["step"] / args.steps, state["train_seconds"] / (args.max_minutes * 60))
        if progress >= 1.0:
            break
        t0 = time.time()
        lr = lr_at(progress, state["step"], args)
        for g in opt.param_groups:
            g["lr"] = lr
        x = sampler.batch(args.batch).to(args.device)
        logits, _ = model(x[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, cfg.vocab_size), x[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        state["step"] += 1
        state["tokens"] += x[:, :-1].numel()
        state["train_seconds"] += time.time() - t0
        rec = {"step": state["step"], "loss": round(loss.item(), 4), "lr": round(lr, 6), "gnorm": round(gn.item(), 3),
               "tokens": state["tokens"], "minutes": round(state["train_seconds"] / 60, 2)}
        if state["step"] % args.eval_every == 0:
            rec["eval_loss"] = round(eval_loss(model, windows, args.device), 4)
        if state["step"] % 10 == 0 or "eval_loss" in rec:
            log.write(json.dumps(rec) + "\n")
            log.flush()
            print(json.dumps(rec), flush=True)
        if time.time() - last_ckpt > args.ckpt_minutes * 60:
            checkpoint()
            last_ckpt = time.time()
    state["done"] = True
    state["final_eval_loss"] = eval_loss(model, windows, args.device)
    checkpoint()
    print(json.dumps({"done": True, **state}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
