#!/usr/bin/python3
"""PyTorch CPU peer of leaf's training benchmark line (bench/training.ts spawns it).

One distillation optimizer step in plain torch (no transformers), float32, with the shapes of
bench/training.ts: a SmolLM2-135M-shaped student and a SmolLM2-360M-shaped teacher (random weights,
Llama layout: embedding, RMSNorm, RoPE rotate_half, grouped-query attention in eager math with a
causal mask, SwiGLU, tied lm_head). One step, micro-batch 1:

  online  teacher forward under no_grad → student forward → forward KL(p_T ‖ p_S) at temperature T
          averaged over the response positions → backward → clip_grad_norm_(1.0) → AdamW.step()
  cached  the same with the teacher replaced by precomputed top-K log-probabilities + remaining mass
          (the K+1-outcome KL that leaf's teacher cache uses), computed once outside the timed region
  mining  (no optimizer) per problem, for the student and then the teacher: forward on inputs_embeds,
          mean next-token cross-entropy over the response rows, backward to the input embeddings only,
          per-token L2 norm of that gradient (leaf mine's gradient saliency); the config's promptLen and
          seqLen give the prompt and total length, reps the problems timed after one warm-up problem

With "dtype": "bf16" in the config both models are bfloat16 throughout (weights, activations, the AdamW
state: model.to(torch.bfloat16)); the losses are taken on the logits cast to float32.

Logits are computed only for the response rows in both models (hidden states sliced before the
lm_head), as leaf does. One warm-up step, then `reps` timed steps; prints one JSON object.

Usage: torch_train_peer.py --config JSON --mode online|cached|mining
"""
import argparse
import json
import math

from torch_common import cpu_ms, median, now_ms, peak_mib, repeat_kv, rms_norm, rotate_half, torch  # sets OMP_WAIT_POLICY first
import torch.nn.functional as F  # noqa: E402


class Llama:
    def __init__(self, c, seed, dtype=torch.float32):
        g = torch.Generator().manual_seed(seed)
        self.c = c
        hid, inter, H, KVH, D, V = c["hidden"], c["intermediate"], c["heads"], c["kvHeads"], c["headDim"], c["vocab"]

        def mat(*shape):
            return torch.randn(*shape, generator=g).mul_(0.02).to(dtype)

        def ones(n):
            return torch.ones(n, dtype=dtype)

        self.embed = mat(V, hid)
        self.layers = []
        for _ in range(c["layers"]):
            self.layers.append({
                "ln1": ones(hid), "wq": mat(H * D, hid), "wk": mat(KVH * D, hid), "wv": mat(KVH * D, hid),
                "wo": mat(hid, H * D), "ln2": ones(hid),
                "wg": mat(inter, hid), "wu": mat(inter, hid), "wd": mat(hid, inter),
            })
        self.norm = ones(hid)
        self.inv_freq = 1.0 / (c["ropeTheta"] ** (torch.arange(0, D, 2, dtype=torch.int64).float() / D))

    def parameters(self):
        ps = [self.embed, self.norm]
        for p in self.layers:
            ps.extend(p.values())
        return ps

    def requires_grad_(self, on):
        for p in self.parameters():
            p.requires_grad_(on)

    def forward(self, ids, rows, inputs_embeds=None):
        c = self.c
        H, KVH, D, eps = c["heads"], c["kvHeads"], c["headDim"], c["rmsNormEps"]
        x = F.embedding(ids, self.embed) if inputs_embeds is None else inputs_embeds
        B, T, _ = x.shape
        pos = torch.arange(0, T, dtype=torch.float32)
        freqs = pos[:, None] * self.inv_freq[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        mask = torch.full((T, T), float("-inf"), dtype=x.dtype).triu(1)
        scale = 1.0 / math.sqrt(D)
        n_rep = H // KVH
        for p in self.layers:
            h = rms_norm(x, p["ln1"], eps)
            q = F.linear(h, p["wq"]).view(B, T, H, D).transpose(1, 2)
            k = F.linear(h, p["wk"]).view(B, T, KVH, D).transpose(1, 2)
            v = F.linear(h, p["wv"]).view(B, T, KVH, D).transpose(1, 2)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            k, v = repeat_kv(k, n_rep), repeat_kv(v, n_rep)
            probs = torch.softmax(torch.matmul(q, k.transpose(2, 3)) * scale + mask, dim=-1)
            a = torch.matmul(probs, v).transpose(1, 2).reshape(B, T, H * D)
            x = x + F.linear(a, p["wo"])
            h = rms_norm(x, p["ln2"], eps)
            x = x + F.linear(F.silu(F.linear(h, p["wg"])) * F.linear(h, p["wu"]), p["wd"])
        x = x.reshape(B * T, -1)[rows]
        return F.linear(rms_norm(x, self.norm, eps), self.embed).float()


def fkl_online(t_logits, s_logits, T):
    p_t = F.softmax(t_logits / T, dim=-1)
    log_p_t = F.log_softmax(t_logits / T, dim=-1)
    log_p_s = F.log_softmax(s_logits / T, dim=-1)
    return (p_t * (log_p_t - log_p_s)).sum(-1).mean() * T * T


def fkl_cached(top_lp, top_ids, log_rest, s_logits, T):
    log_p_s = F.log_softmax(s_logits / T, dim=-1)
    ls_k = log_p_s.gather(1, top_ids)
    s_rest = (1.0 - ls_k.exp().sum(-1)).clamp_min(1e-30)
    rest = log_rest.exp()
    kl = (top_lp.exp() * (top_lp - ls_k)).sum(-1) + rest * (log_rest - s_rest.log())
    return kl.mean() * T * T


def train_step_fn(args, cfg, student, teacher):
    """The timed optimizer step of modes online and cached (a top-K cache built first, untimed)."""
    student.requires_grad_(True)
    teacher.requires_grad_(False)
    params = student.parameters()
    opt = torch.optim.AdamW(params, lr=1e-5, weight_decay=0.0)
    T = cfg["temperature"]
    g = torch.Generator().manual_seed(cfg["seed"])
    ids = torch.randint(1, cfg["student"]["vocab"], (1, cfg["seqLen"]), generator=g)
    # Rows that predict response tokens: positions promptLen-1 .. seqLen-2.
    rows = torch.arange(cfg["promptLen"] - 1, cfg["seqLen"] - 1)
    cache = None
    if args.mode == "cached":
        with torch.no_grad():
            lp = F.log_softmax(teacher.forward(ids, rows) / T, dim=-1)
            top_lp, top_ids = lp.topk(cfg["topK"], dim=-1)
            log_rest = torch.log((1.0 - top_lp.exp().sum(-1)).clamp_min(1e-30))
        cache = (top_lp, top_ids, log_rest)
        teacher = None  # the closure below must not keep it alive (main drops its own reference)
    box = {}

    def step():
        if cache is None:
            with torch.no_grad():
                t_logits = teacher.forward(ids, rows)
            loss = fkl_online(t_logits, student.forward(ids, rows), T)
        else:
            loss = fkl_cached(cache[0], cache[1], cache[2], student.forward(ids, rows), T)
        loss.backward()
        box["gradNorm"] = float(torch.nn.utils.clip_grad_norm_(params, 1.0))
        opt.step()
        opt.zero_grad(set_to_none=True)
        box["loss"] = loss.item()

    return step, box


def saliency(model, ids, rows):
    """Gradient saliency of one model: ‖d CE / d e_i‖₂ per input position (parameters frozen)."""
    embeds = F.embedding(ids, model.embed).detach().requires_grad_()
    loss = F.cross_entropy(model.forward(ids, rows, inputs_embeds=embeds), ids[0, rows + 1])
    loss.backward()
    return loss.item(), embeds.grad[0].float().norm(dim=-1)


def mining_step_fn(cfg, student, teacher):
    """One problem of mode mining: a fresh random prompt + response, the saliency of both models."""
    student.requires_grad_(False)
    teacher.requires_grad_(False)
    g = torch.Generator().manual_seed(cfg["seed"])
    rows = torch.arange(cfg["promptLen"] - 1, cfg["seqLen"] - 1)
    box = {}

    def step():
        ids = torch.randint(1, cfg["student"]["vocab"], (1, cfg["seqLen"]), generator=g)
        ls, ns = saliency(student, ids, rows)
        lt, nt = saliency(teacher, ids, rows)
        d = nt / nt.max() - ns / ns.max()
        box["loss"] = ls + lt
        box["gradNorm"] = float(d.abs().sum())

    return step, box


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--mode", choices=["online", "cached", "mining", "info"], required=True)
    args = ap.parse_args()
    cfg = json.loads(args.config)
    torch.set_num_threads(int(cfg.get("threads", 2)))
    if args.mode == "info":
        print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}))
        return
    dtype = torch.bfloat16 if cfg.get("dtype") == "bf16" else torch.float32
    t0 = now_ms()
    student = Llama(cfg["student"], cfg["seed"], dtype)
    teacher = Llama(cfg["teacher"], cfg["seed"] + 1, dtype)
    init_ms = now_ms() - t0
    if args.mode == "mining":
        step, box = mining_step_fn(cfg, student, teacher)
    else:
        step, box = train_step_fn(args, cfg, student, teacher)
        if args.mode == "cached":
            del teacher

    t0 = now_ms()
    step()
    warm = now_ms() - t0
    samples = []
    for _ in range(cfg["reps"]):
        t0 = now_ms()
        step()
        samples.append(now_ms() - t0)
    tokens = cfg["seqLen"]
    print(json.dumps({
        "mode": args.mode, "dtype": "bf16" if dtype == torch.bfloat16 else "f32", "torch": torch.__version__,
        "threads": torch.get_num_threads(), "initMs": init_ms, "warmupMs": warm, "samplesMs": samples,
        "medianMs": median(samples), "minMs": min(samples), "tokensPerSec": tokens / median(samples) * 1000.0,
        "loss": box["loss"], "gradNorm": box["gradNorm"], "peakMiB": peak_mib(), "cpuMs": cpu_ms(),
    }))


if __name__ == "__main__":
    main()
