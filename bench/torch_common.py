"""Shared pieces of the PyTorch peers (torch_peer.py, torch_train_peer.py): clocks, memory readings and the
plain-torch Llama building blocks (RMSNorm, rotate_half RoPE, grouped-query key/value repetition)."""
import os
import resource
import time

# Debian's torch runs its own ops on libgomp threads and its GEMMs on OpenBLAS's pthreads; with libgomp's
# default (active) wait policy the OpenMP workers spin after every parallel region while OpenBLAS wants the
# same cores (measured here: torch 2-6x slower and erratic). PASSIVE must be set before libgomp loads, i.e.
# before torch is imported; an OMP_WAIT_POLICY set by the caller wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402


def now_ms():
    return time.perf_counter() * 1000.0


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cpu_ms():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return (r.ru_utime + r.ru_stime) * 1000.0


def median(xs):
    s = sorted(xs)
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2


def rms_norm(x, w, eps):
    var = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def repeat_kv(x, n_rep):
    if n_rep == 1:
        return x
    b, kvh, s, d = x.shape
    return x[:, :, None, :, :].expand(b, kvh, n_rep, s, d).reshape(b, kvh * n_rep, s, d)
