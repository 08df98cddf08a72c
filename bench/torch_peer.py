#!/usr/bin/python3
"""PyTorch CPU peer of leaf's benchmark (bench/run.ts spawns it).

A plain-torch Llama (no transformers) with SmolLM2-135M's shapes and random float32 weights (or, with
"dtype": "bf16" in the config, the whole model and its activations in bfloat16, as model.to(torch.bfloat16)):
embedding, RMSNorm, RoPE (rotate_half), grouped-query attention with a causal mask in eager math,
SwiGLU MLP, lm_head tied to the embedding. It times the same four measurements as leaf, batch 1:

  forward          logits for all positions (no autograd graph)
  backward-input   forward + mean next-token CE + backward to inputs_embeds only (params frozen)
  backward-params  forward + loss + backward to every parameter (.grad = None before each rep, untimed)
  decode           greedy decoding with a preallocated KV cache under torch.no_grad()

and torch.mm GFLOP/s on the GEMM shapes of bench/gemm-probe.ts. Every measurement runs in a fresh
subprocess so that its peak RSS (getrusage ru_maxrss) is its own. One JSON object goes to stdout.

Usage: torch_peer.py --config JSON [--phase NAME | --gemm | --profile | --info]
(no mode: everything, each measurement in its own subprocess; bench/run.ts calls the modes one by
one instead, interleaved with leaf's measurements.)
"""
import argparse
import json
import math
import os
import resource
import subprocess
import sys

from torch_common import cpu_ms, median, now_ms, peak_mib, repeat_kv, rms_norm as rms_norm_eps, rotate_half, torch  # sets OMP_WAIT_POLICY first
import torch.nn.functional as F  # noqa: E402

PHASES = ["forward", "backward-input", "backward-params", "decode"]


def rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1024.0 * 1024.0)


def minor_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def time_it(fn, reps, before=None):
    """One warm-up call, then reps timed calls (before() runs untimed ahead of each)."""
    if before:
        before()
    t0 = now_ms()
    fn()
    warm = now_ms() - t0
    peak_warm = peak_mib()
    samples = []
    for _ in range(reps):
        if before:
            before()
        t0 = now_ms()
        fn()
        samples.append(now_ms() - t0)
    return {
        "warmupMs": warm, "samplesMs": samples, "medianMs": median(samples), "minMs": min(samples),
        "peakAfterWarmupMiB": peak_warm, "peakMiB": peak_mib(),
    }


# ---------------------------------------------------------------- model

HID, INTER, HEADS, KV_HEADS, HEAD_DIM, VOCAB = 576, 1536, 9, 3, 64, 49152
THETA, EPS = 100000.0, 1e-5


def rms_norm(x, w):
    return rms_norm_eps(x, w, EPS)


class KVCache:
    def __init__(self, layers, batch, capacity, dtype=torch.float32):
        self.k = [torch.zeros(batch, KV_HEADS, capacity, HEAD_DIM, dtype=dtype) for _ in range(layers)]
        self.v = [torch.zeros(batch, KV_HEADS, capacity, HEAD_DIM, dtype=dtype) for _ in range(layers)]
        self.length = 0


class Llama:
    def __init__(self, layers, seed, dtype=torch.float32):
        g = torch.Generator().manual_seed(seed)
        self.dtype = dtype

        def mat(*shape):
            return torch.randn(*shape, generator=g).mul_(0.02).to(dtype)

        qw, kw = HEADS * HEAD_DIM, KV_HEADS * HEAD_DIM
        self.embed = mat(VOCAB, HID)
        self.layers = []
        for _ in range(layers):
            self.layers.append({
                "ln1": torch.ones(HID, dtype=dtype), "wq": mat(qw, HID), "wk": mat(kw, HID), "wv": mat(kw, HID),
                "wo": mat(HID, qw), "ln2": torch.ones(HID, dtype=dtype),
                "wg": mat(INTER, HID), "wu": mat(INTER, HID), "wd": mat(HID, INTER),
            })
        self.norm = torch.ones(HID, dtype=dtype)
        self.inv_freq = 1.0 / (THETA ** (torch.arange(0, HEAD_DIM, 2, dtype=torch.int64).float() / HEAD_DIM))

    def parameters(self):
        ps = [self.embed, self.norm]
        for p in self.layers:
            ps.extend(p.values())
        return ps

    def requires_grad_(self, on):
        for p in self.parameters():
            p.requires_grad_(on)
            p.grad = None

    def forward(self, ids=None, inputs_embeds=None, cache=None, last_only=False):
        x = F.embedding(ids, self.embed) if inputs_embeds is None else inputs_embeds
        B, T, _ = x.shape
        past = cache.length if cache is not None else 0
        S = past + T
        pos = torch.arange(past, S, dtype=torch.float32)
        freqs = pos[:, None] * self.inv_freq[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)  # [T, D], broadcast over batch and heads
        mask = torch.full((T, S), float("-inf"), dtype=x.dtype).triu(past + 1) if T > 1 else None
        scale = 1.0 / math.sqrt(HEAD_DIM)
        n_rep = HEADS // KV_HEADS
        for l, p in enumerate(self.layers):
            h = rms_norm(x, p["ln1"])
            q = F.linear(h, p["wq"]).view(B, T, HEADS, HEAD_DIM).transpose(1, 2)
            k = F.linear(h, p["wk"]).view(B, T, KV_HEADS, HEAD_DIM).transpose(1, 2)
            v = F.linear(h, p["wv"]).view(B, T, KV_HEADS, HEAD_DIM).transpose(1, 2)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            if cache is not None:
                cache.k[l][:, :, past:S] = k
                cache.v[l][:, :, past:S] = v
                k, v = cache.k[l][:, :, :S], cache.v[l][:, :, :S]
            k, v = repeat_kv(k, n_rep), repeat_kv(v, n_rep)
            scores = torch.matmul(q, k.transpose(2, 3)) * scale
            if mask is not None:
                scores = scores + mask
            probs = torch.softmax(scores, dim=-1)
            a = torch.matmul(probs, v).transpose(1, 2).reshape(B, T, HEADS * HEAD_DIM)
            x = x + F.linear(a, p["wo"])
            h = rms_norm(x, p["ln2"])
            x = x + F.linear(F.silu(F.linear(h, p["wg"])) * F.linear(h, p["wu"]), p["wd"])
        if cache is not None:
            cache.length = S
        if last_only:
            x = x[:, -1:, :]
        return F.linear(rms_norm(x, self.norm), self.embed)


def loss_of(logits, ids):
    # Mean next-token cross-entropy: row t predicts ids[t+1] (the last row has no target).
    return F.cross_entropy(logits[0, :-1].float(), ids[0, 1:])


def token_ids(n, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(1, VOCAB, (1, n), generator=g)


# ---------------------------------------------------------------- measurements

def run_phase(phase, cfg):
    t0 = now_ms()
    model = Llama(cfg["layers"], cfg["seed"], torch.bfloat16 if cfg.get("dtype") == "bf16" else torch.float32)
    init_ms = now_ms() - t0
    rss_init = rss_mib()
    T = cfg["seqLen"]
    ids = token_ids(T, cfg["seed"])
    extra = {}
    if phase == "forward":
        model.requires_grad_(False)

        def fn():
            with torch.no_grad():
                model.forward(ids)

        timing = time_it(fn, cfg["reps"])
    elif phase == "backward-input":
        model.requires_grad_(False)
        embeds = F.embedding(ids, model.embed).detach().requires_grad_()
        box = {}

        def before():
            embeds.grad = None

        def fn():
            loss = loss_of(model.forward(inputs_embeds=embeds), ids)
            loss.backward()
            box["loss"] = loss.item()

        timing = time_it(fn, cfg["reps"], before)
        extra["loss"] = box["loss"]
    elif phase == "backward-params":
        model.requires_grad_(True)
        params = model.parameters()
        box = {}

        def before():
            for p in params:
                p.grad = None

        def fn():
            loss = loss_of(model.forward(ids), ids)
            loss.backward()
            box["loss"] = loss.item()

        timing = time_it(fn, cfg["reps"], before)
        extra["loss"] = box["loss"]
    elif phase == "decode":
        model.requires_grad_(False)
        prompt = token_ids(cfg["promptLen"], cfg["seed"] + 1)
        n_new = cfg["newTokens"]
        box = {"prefill": []}

        def fn():
            # Mirrors leaf's generate(): prefill, argmax, then n_new - 1 one-token steps.
            start = now_ms()
            with torch.no_grad():
                cache = KVCache(cfg["layers"], 1, prompt.shape[1] + n_new, model.dtype)
                logits = model.forward(prompt, cache=cache, last_only=True)
                tok = int(torch.argmax(logits[0, -1]))
                box["prefill"].append(now_ms() - start)
                out = [tok]
                for _ in range(n_new - 1):
                    logits = model.forward(torch.tensor([[tok]]), cache=cache, last_only=True)
                    tok = int(torch.argmax(logits[0, -1]))
                    out.append(tok)
            box["made"] = len(out)

        timing = time_it(fn, cfg["decodeReps"])
        made = box["made"]
        pre = median(box["prefill"][1:] or box["prefill"])
        extra.update({
            "newTokens": made, "tokensPerSec": made / timing["medianMs"] * 1000.0, "prefillMs": pre,
            "decodeOnlyTokensPerSec": (made - 1) / (timing["medianMs"] - pre) * 1000.0,
        })
    else:
        raise SystemExit("unknown phase " + phase)
    return {
        "phase": phase, "kernels": "torch", "timing": timing, "initMs": init_ms, "rssAfterInitMiB": rss_init,
        "peakMiB": peak_mib(), "cpuMs": cpu_ms(), "extra": extra,
    }


def gemm_shapes(N):
    hid, qw, kw, I, V = 576, 576, 192, 1536, 49152
    s = lambda name, ta, tb, m, n, k: {"name": name, "transA": ta, "transB": tb, "m": m, "n": n, "k": k}
    # Keep in step with gemmShapes() in bench/gemm-probe.ts.
    return [
        s("square 512³ (NN)", False, False, 512, 512, 512),
        s("q/o_proj fwd x·Wᵀ", False, True, N, qw, hid),
        s("k/v_proj fwd x·Wᵀ", False, True, N, kw, hid),
        s("gate/up fwd x·Wᵀ", False, True, N, I, hid),
        s("down fwd x·Wᵀ", False, True, N, hid, I),
        s("lm_head fwd x·Eᵀ", False, True, N, V, hid),
        s("lm_head bwd dX = dL·E", False, False, N, hid, V),
        s("lm_head bwd dE = dLᵀ·x", True, False, V, hid, N),
        s("gate/up bwd dX = dY·W", False, False, N, hid, I),
        s("gate/up bwd dW = dYᵀ·x", True, False, I, hid, N),
        s("down bwd dW = dYᵀ·a", True, False, hid, I, N),
        s("decode gate/up (1 token)", False, True, 1, I, hid),
        s("decode lm_head (1 token)", False, True, 1, V, hid),
    ]


def run_gemm(cfg):
    out = []
    shapes = gemm_shapes(cfg["seqLen"])
    # The same untimed ~200 ms warm-up as bench/gemm-probe.ts (thread pools, page faults).
    w = shapes[0]
    wa, wb, wc = torch.rand(w["m"], w["k"]), torch.rand(w["k"], w["n"]), torch.empty(w["m"], w["n"])
    t0 = now_ms()
    while now_ms() - t0 < 200:
        torch.mm(wa, wb, out=wc)
    for s in shapes:
        m, n, k = s["m"], s["n"], s["k"]
        a = (torch.rand(k, m) - 0.5).mul_(0.1).t() if s["transA"] else (torch.rand(m, k) - 0.5).mul_(0.1)
        b = (torch.rand(n, k) - 0.5).mul_(0.1).t() if s["transB"] else (torch.rand(k, n) - 0.5).mul_(0.1)
        c = torch.empty(m, n)
        t0 = now_ms()
        torch.mm(a, b, out=c)
        once = max(now_ms() - t0, 1e-3)
        inner = max(1, min(1000, math.ceil(25 / once)))
        per = []
        for _ in range(cfg["gemmReps"]):
            t0 = now_ms()
            for _ in range(inner):
                torch.mm(a, b, out=c)
            per.append((now_ms() - t0) / inner)
        ms = median(per)
        out.append(dict(s, ms=ms, minMs=min(per), gflops=2.0 * m * n * k / (ms * 1e6)))
    return out


def run_profile(cfg):
    """One forward+backward to all parameters: wall time per part, then the same step under the autograd profiler."""
    model = Llama(cfg["layers"], cfg["seed"])
    model.requires_grad_(True)
    params = model.parameters()
    ids = token_ids(cfg["seqLen"], cfg["seed"])
    if cfg.get("profileTarget") == "input":
        model.requires_grad_(False)
        embeds = F.embedding(ids, model.embed).detach().requires_grad_()
        params = [embeds]
        fwd = lambda: model.forward(inputs_embeds=embeds)
    else:
        fwd = lambda: model.forward(ids)

    def step(parts):
        for p in params:
            p.grad = None
        t0 = now_ms()
        logits = fwd()
        t1 = now_ms()
        loss = loss_of(logits, ids)
        t2 = now_ms()
        loss.backward()
        t3 = now_ms()
        parts.update(forward=t1 - t0, loss=t2 - t1, backward=t3 - t2, total=t3 - t0)

    step({})
    parts = {}
    f0 = minor_faults()
    step(parts)
    faults = minor_faults() - f0
    with torch.autograd.profiler.profile() as prof:
        step({})
    ops = []
    for e in prof.key_averages():
        ops.append({"name": e.key, "calls": e.count, "selfMs": e.self_cpu_time_total / 1000.0})
    ops.sort(key=lambda o: -o["selfMs"])
    return {"torch": torch.__version__, "threads": torch.get_num_threads(), "partsMs": parts, "minorFaults": faults,
            "ompWaitPolicy": os.environ.get("OMP_WAIT_POLICY", ""),
            "peakMiB": peak_mib(), "ops": ops}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--phase")
    ap.add_argument("--gemm", action="store_true")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--info", action="store_true")
    args = ap.parse_args()
    cfg = json.loads(args.config)
    torch.set_num_threads(int(cfg.get("threads", 2)))
    torch.manual_seed(0)
    if args.phase:
        res = run_phase(args.phase, cfg)
    elif args.gemm:
        gemm = run_gemm(cfg)
        res = {"gemm": gemm, "peakMiB": peak_mib(), "cpuMs": cpu_ms()}
    elif args.profile:
        res = run_profile(cfg)
    elif args.info:
        res = {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_info(),
               "ompWaitPolicy": os.environ.get("OMP_WAIT_POLICY", ""), "cpuMs": cpu_ms()}
    else:
        res = {"torch": torch.__version__, "threads": torch.get_num_threads(), "phases": {}, "gemm": [],
               "blas": blas_info(), "ompWaitPolicy": os.environ.get("OMP_WAIT_POLICY", "")}
        me = [sys.executable, os.path.abspath(__file__), "--config", args.config]
        for phase in PHASES:
            res["phases"][phase] = child(me + ["--phase", phase])
        res["gemm"] = child(me + ["--gemm"])["gemm"]
    print(json.dumps(res))


def child(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, check=True)
    lines = [l for l in r.stdout.decode().splitlines() if l.startswith("{")]
    return json.loads(lines[-1])


def blas_info():
    """The BLAS library actually mapped into this process (Debian's torch links libblas.so.3, an alternative)."""
    libs = set()
    try:
        torch.mm(torch.ones(64, 64), torch.ones(64, 64))
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                if "blas" in path.lower() or "mkl" in path.lower():
                    libs.add(os.path.realpath(path))
    except OSError:
        pass
    return ", ".join(sorted(libs)) or "unknown"


if __name__ == "__main__":
    main()
