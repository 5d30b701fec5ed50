"""JAX (CPU, float64) peer for P3 heat2d (see /work/shared/PROBLEMS.md).

The heat2d counterpart of the shared peers' bench_jax.py (lorenz, burgers), next to the C peer
bench_heat2d.c; tools/peer-benchmark runs its grad_ckpt mode for the "heat2d 256×1e3" case.
Needs `pip install "jax[cpu]"`.

Usage: python3 tools/peers/bench_heat2d_jax.py heat2d m N primal|grad|grad_ckpt [reps]
primal    = a jit-compiled lax.scan over the N steps, then J
grad      = jax.value_and_grad (w.r.t. u0 and k) of the same
grad_ckpt = same with jax.checkpoint on the scan body (step recomputed in reverse)
Compile time (lower+compile) is reported separately from run time (t). The state is an m×m
array (row-major, index i*m + j), periodic neighbours by jnp.roll; u0 is computed with libm
(Python's math.sin/cos) exactly as PROBLEMS.md writes it. XLA may differ from C in the last bits
(its reduction order for J and its instruction selection), so J is not expected bit for bit.
Prints one JSON line per repetition with the fields of bench_heat2d.c ("gk" = dJ/dk,
"gu0_norm", "gu0_first5", "gu0_probe" at "probe_index").
"""
import json
import math
import os
import sys
import time

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=1")
import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platform_name", "cpu")
import jax.numpy as jnp
import numpy as np
from jax import lax

PI = 3.141592653589793


def heat_setup(m):
    h = 1.0 / m
    dt = 0.2 * h * h
    u0 = np.empty((m, m), dtype=np.float64)
    for i in range(m):
        x = i * h
        sx = math.sin(2.0 * PI * x)
        cx = 0.5 * math.cos(4.0 * PI * x)
        for j in range(m):
            y = j * h
            u0[i, j] = sx * math.sin(2.0 * PI * y) + cx
    return h, dt, jnp.asarray(u0)


def heat_loss(m, N, ckpt):
    h = 1.0 / m
    dt = 0.2 * h * h

    def step(carry, _):
        u, k = carry
        r = dt * k / (h * h)
        lap = ((jnp.roll(u, -1, axis=0) + jnp.roll(u, 1, axis=0))
               + (jnp.roll(u, -1, axis=1) + jnp.roll(u, 1, axis=1))) - 4.0 * u
        u = u + r * lap
        return (u, k), None

    body = jax.checkpoint(step) if ckpt else step

    def loss(u0, k):
        (u, _), _ = lax.scan(body, (u0, k), None, length=N)
        return (0.5 * h * h) * jnp.sum(u * u)

    return loss


def timed(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    jax.block_until_ready(out)
    return time.perf_counter() - t0, out


def main():
    if len(sys.argv) < 5 or sys.argv[1] != "heat2d":
        sys.exit("usage: bench_heat2d_jax.py heat2d m N primal|grad|grad_ckpt [reps]")
    m = int(sys.argv[2])
    N = int(float(sys.argv[3]))
    mode = sys.argv[4]
    if mode not in ("primal", "grad", "grad_ckpt"):
        sys.exit("mode must be primal, grad or grad_ckpt")
    reps = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    _, _, u0 = heat_setup(m)
    k = jnp.array(1.0)
    probe = [(m // 4) * m + m // 4, (m // 2) * m + 3, m * m - 1]
    loss = heat_loss(m, N, mode == "grad_ckpt")
    fn = jax.jit(loss) if mode == "primal" else jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))
    t0 = time.perf_counter()
    comp = fn.lower(u0, k).compile()
    tc = time.perf_counter() - t0
    for _ in range(reps):
        t, out = timed(comp, u0, k)
        rec = {"impl": "jax", "problem": "heat2d", "m": m, "N": N, "mode": mode, "t": t, "t_compile": tc}
        if mode == "primal":
            rec["J"] = float(out)
        else:
            J, (gu, gk) = out
            g = np.asarray(gu).reshape(-1)
            rec.update(J=float(J), gk=float(gk), gu0_norm=float(np.sqrt(np.sum(g * g))),
                       gu0_first5=[float(a) for a in g[:5]], probe_index=probe,
                       gu0_probe=[float(g[q]) for q in probe])
        print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
