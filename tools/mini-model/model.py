"""A Qwen2-architecture decoder (RMSNorm, RoPE, grouped-query attention, SwiGLU, tied embeddings).

Parameter names follow Hugging Face's Qwen2ForCausalLM so the weights map one to one. The forward
pass takes the transformers.js ONNX inputs (input_ids, attention_mask, position_ids, past key/values)
so the same code is trained and exported.
"""
import json
import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class MiniConfig:
    vocab_size: int = 8192
    hidden_size: int = 192
    intermediate_size: int = 512
    num_hidden_layers: int = 5
    num_attention_heads: int = 6
    num_key_value_heads: int = 2
    max_position_embeddings: int = 512
    rope_theta: float = 10000.0
    rms_norm_eps: float = 1e-6
    bos_token_id: int = 8181
    eos_token_id: int = 8181

    @property
    def head_dim(self):
        return self.hidden_size // self.num_attention_heads

    def hf_config(self):
        """config.json in the Hugging Face Qwen2 format."""
        c = asdict(self)
        c.update({
            "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_act": "silu",
            "tie_word_embeddings": True, "torch_dtype": "float32", "use_cache": True,
            "attention_dropout": 0.0, "initializer_range": 0.02, "use_sliding_window": False,
            "sliding_window": None, "max_window_layers": self.num_hidden_layers,
            "head_dim": self.head_dim, "transformers_version": "4.45.0",
        })
        return c


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        var = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + self.eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.h, self.kv, self.d = c.num_attention_heads, c.num_key_value_heads, c.head_dim
        self.q_proj = nn.Linear(c.hidden_size, self.h * self.d, bias=True)
        self.k_proj = nn.Linear(c.hidden_size, self.kv * self.d, bias=True)
        self.v_proj = nn.Linear(c.hidden_size, self.kv * self.d, bias=True)
        self.o_proj = nn.Linear(self.h * self.d, c.hidden_size, bias=False)

    def forward(self, x, cos, sin, bias, past_k=None, past_v=None):
        b, s, _ = x.shape
        q = self.q_proj(x).view(b, s, self.h, self.d).transpose(1, 2)
        k = self.k_proj(x).view(b, s, self.kv, self.d).transpose(1, 2)
        v = self.v_proj(x).view(b, s, self.kv, self.d).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past_k is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        present = (k, v)
        rep = self.h // self.kv
        # GQA: each kv head serves `rep` query heads (same as repeat_interleave, exports as Expand).
        t = k.shape[2]
        kk = k.unsqueeze(2).expand(b, self.kv, rep, t, self.d).reshape(b, self.h, t, self.d)
        vv = v.unsqueeze(2).expand(b, self.kv, rep, t, self.d).reshape(b, self.h, t, self.d)
        att = torch.matmul(q, kk.transpose(2, 3)) / math.sqrt(self.d) + bias
        att = torch.softmax(att, dim=-1)
        y = torch.matmul(att, vv).transpose(1, 2).reshape(b, s, self.h * self.d)
        return self.o_proj(y), present


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.gate_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.up_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.down_proj = nn.Linear(c.intermediate_size, c.hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.mlp = MLP(c)

    def forward(self, x, cos, sin, bias, past_k=None, past_v=None):
        a, present = self.self_attn(self.input_layernorm(x), cos, sin, bias, past_k, past_v)
        x = x + a
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x, present


class MiniQwen2(nn.Module):
    def __init__(self, c: MiniConfig):
        super().__init__()
        self.config = c
        self.embed_tokens = nn.Embedding(c.vocab_size, c.hidden_size)
        self.layers = nn.ModuleList(Layer(c) for _ in range(c.num_hidden_layers))
        self.norm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        inv = 1.0 / (c.rope_theta ** (torch.arange(0, c.head_dim, 2, dtype=torch.float32) / c.head_dim))
        self.register_buffer("inv_freq", inv, persistent=False)
        self.apply(self._init)
        for layer in self.layers:  # GPT-2 style scaled init of residual projections
            nn.init.normal_(layer.self_attn.o_proj.weight, std=0.02 / math.sqrt(2 * c.num_hidden_layers))
            nn.init.normal_(layer.mlp.down_proj.weight, std=0.02 / math.sqrt(2 * c.num_hidden_layers))

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)

    def num_params(self):
        return sum(p.numel() for p in self.parameters())

    def forward(self, input_ids, attention_mask=None, position_ids=None, past=None):
        """Returns logits [b,s,V] and presents [(k,v)] with k,v [b,kv_heads,past+s,head_dim]."""
        b, s = input_ids.shape
        dev = input_ids.device
        past_len = past[0][0].shape[2] if past is not None else 0
        if position_ids is None:
            position_ids = torch.arange(past_len, past_len + s, dtype=torch.long, device=dev).unsqueeze(0).expand(b, s)
        freqs = position_ids.unsqueeze(-1).to(torch.float32) * self.inv_freq  # [b,s,d/2]
        emb = torch.cat([freqs, freqs], dim=-1).unsqueeze(1)                 # [b,1,s,d]
        cos, sin = emb.cos(), emb.sin()
        total = past_len + s
        # Additive mask: causal over absolute key positions, plus padding from attention_mask.
        q_pos = torch.arange(s, device=dev).unsqueeze(1) + past_len
        k_pos = torch.arange(total, device=dev).unsqueeze(0)
        allowed = (k_pos <= q_pos).unsqueeze(0).unsqueeze(0)                 # [1,1,s,total]
        if attention_mask is not None:
            allowed = allowed & attention_mask[:, None, None, :].to(torch.bool)
        bias = torch.zeros(allowed.shape, dtype=torch.float32, device=dev).masked_fill(~allowed, -1e9)
        x = self.embed_tokens(input_ids)
        presents = []
        for i, layer in enumerate(self.layers):
            pk, pv = (past[i] if past is not None else (None, None))
            x, present = layer(x, cos, sin, bias, pk, pv)
            presents.append(present)
        x = self.norm(x)
        logits = F.linear(x, self.embed_tokens.weight)  # tied lm_head
        return logits, presents


def load_config(path):
    with open(path) as f:
        c = json.load(f)
    fields = MiniConfig.__dataclass_fields__
    return MiniConfig(**{k: v for k, v in c.items() if k in fields})
