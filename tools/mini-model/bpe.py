"""Byte-level BPE in the Qwen2 style: the same pre-tokenizer regex, NFC normalisation, GPT-2 byte map.

Shared by the tokenizer trainer, the data pipeline and the evaluation, so that every step encodes
text exactly as `@huggingface/tokenizers` does with the tokenizer.json written here (checked by
verify_tokenizer.mjs).
"""
import json
import unicodedata

import regex

# Copied verbatim from Qwen2.5's tokenizer.json (pre_tokenizer.pretokenizers[0].pattern.Regex).
QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+")
PRETOKENIZE = regex.compile(QWEN2_PATTERN)

# Qwen2.5's special-token strings; (content, special) where special=False mirrors Qwen, whose FIM
# and think markers are "added" but not "special" (decode keeps them).
SPECIAL_TOKENS = [
    ("<|endoftext|>", True), ("<|im_start|>", True), ("<|im_end|>", True),
    ("<|fim_prefix|>", False), ("<|fim_middle|>", False), ("<|fim_suffix|>", False),
    ("<|fim_pad|>", False), ("<|repo_name|>", False), ("<|file_sep|>", False),
    ("<think>", False), ("</think>", False),
]


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable character map used by ByteLevel."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


BYTE_TO_CHAR = bytes_to_unicode()
CHAR_TO_BYTE = {c: b for b, c in BYTE_TO_CHAR.items()}


def pretokenize(text):
    """NFC, then the Split(Isolated) regex, then byte-level characters: the words BPE merges within."""
    text = unicodedata.normalize("NFC", text)
    out = []
    pos = 0
    for m in PRETOKENIZE.finditer(text):
        if m.start() > pos:  # Isolated keeps unmatched gaps as their own pieces
            out.append(text[pos:m.start()])
        out.append(m.group())
        pos = m.end()
    if pos < len(text):
        out.append(text[pos:])
    return ["".join(BYTE_TO_CHAR[b] for b in piece.encode("utf-8")) for piece in out if piece]


class BpeTokenizer:
    def __init__(self, vocab, merges, specials):
        self.vocab = vocab                      # token string -> id
        self.id_to_token = {i: t for t, i in vocab.items()}
        self.ranks = {tuple(m): r for r, m in enumerate(merges)}
        self.specials = specials                # content -> id
        self.id_to_token.update({i: t for t, i in specials.items()})
        self.special_re = regex.compile("|".join(regex.escape(s) for s in sorted(specials, key=len, reverse=True)))
        self.cache = {}

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            t = json.load(f)
        merges = [m.split(" ") if isinstance(m, str) else m for m in t["model"]["merges"]]
        specials = {a["content"]: a["id"] for a in t["added_tokens"]}
        return cls(t["model"]["vocab"], merges, specials)

    def _bpe(self, word):
        ids = self.cache.get(word)
        if ids is not None:
            return ids
        parts = list(word)
        ranks = self.ranks
        while len(parts) > 1:
            best = None
            best_rank = None
            for i in range(len(parts) - 1):
                r = ranks.get((parts[i], parts[i + 1]))
                if r is not None and (best_rank is None or r < best_rank):
                    best_rank, best = r, (parts[i], parts[i + 1])
            if best is None:
                break
            merged = []
            i = 0
            while i < len(parts):
                if i < len(parts) - 1 and parts[i] == best[0] and parts[i + 1] == best[1]:
                    merged.append(parts[i] + parts[i + 1])
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        ids = [self.vocab[p] for p in parts]
        if len(self.cache) < 2_000_000:
            self.cache[word] = ids
        return ids

    def encode_ordinary(self, text):
        """Encode text, treating special-token strings as plain text (for training data)."""
        out = []
        for w in pretokenize(text):
            out.extend(self._bpe(w))
        return out

    def encode(self, text):
        """Encode like @huggingface/tokenizers: special-token strings become their ids."""
        out = []
        pos = 0
        for m in self.special_re.finditer(text):
            out.extend(self.encode_ordinary(text[pos:m.start()]))
            out.append(self.specials[m.group()])
            pos = m.end()
        out.extend(self.encode_ordinary(text[pos:]))
        return out

    def decode_bytes(self, ids):
        out = bytearray()
        for i in ids:
            t = self.id_to_token[i]
            if t in self.specials:
                out += t.encode("utf-8")
            else:
                out += bytes(CHAR_TO_BYTE[c] for c in t)
        return bytes(out)

    def decode(self, ids):
        return self.decode_bytes(ids).decode("utf-8", errors="replace")
