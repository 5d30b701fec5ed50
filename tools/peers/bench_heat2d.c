/* bench_heat2d.c — the hand-written C peer for P3 "heat2d" of PROBLEMS.md (/work/shared/PROBLEMS.md):
 * a hand-written primal (two buffers, Jacobi update), a hand-written adjoint (the forward run stores
 * the whole trajectory, (N+1)·m·m doubles; the reverse loop applies the transposed stencil, which for
 * this periodic 5-point Laplacian is the same stencil) and central finite differences as a check.
 * It is the heat2d counterpart of the shared peers' bench_c.c (lorenz, burgers), with the same JSON
 * lines; tools/peer-benchmark runs it for its "heat2d 256×1e3" case.
 *
 * Build: clang -O2 -std=c11 -o bench_heat2d tools/peers/bench_heat2d.c -lm   (no -ffast-math, no -march,
 *        no FMA contraction: the formulas are evaluated in the order PROBLEMS.md writes them, so the
 *        primal J matches `rewind gradient heat2d` bit for bit)
 * Usage: bench_heat2d heat2d m N primal|grad|fd [reps]
 *   primal  J only (t = the time of the N steps and the objective)
 *   grad    J, dJ/dk and dJ/du0 (m·m values); t = t_rec (forward, storing the trajectory) + t_rev
 *   fd      central differences: dJ/dk (step 1e-6) and dJ/du0 at the first 5 entries and at the
 *           probe entries (step 1e-3; J is quadratic in u0, so the central difference is exact
 *           up to rounding). Costs 2·(1 + 5 + 3) primals; not timed.
 * Prints one JSON line per repetition (times in seconds); gradients with %.17g: "gk" = dJ/dk,
 * "gu0_norm" = the 2-norm of dJ/du0, "gu0_first5", and "gu0_probe" at the indices "probe_index"
 * (row-major i*m + j). */
#define _POSIX_C_SOURCE 199309L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#pragma STDC FP_CONTRACT OFF

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

static const double PI = 3.141592653589793;

static void heat_setup(int m, double *h, double *dt, double *u0) {
  *h = 1.0 / m;
  *dt = 0.2 * *h * *h;
  for (int i = 0; i < m; i++) {
    double x = i * *h;
    for (int j = 0; j < m; j++) {
      double y = j * *h;
      u0[(size_t)i * m + j] = sin(2.0 * PI * x) * sin(2.0 * PI * y) + 0.5 * cos(4.0 * PI * x);
    }
  }
}

/* the 5-point Laplacian at (i, j) as PROBLEMS.md writes it; un = row i+1, us = row i-1, uc = row i */
#define LAP(uc, un, us, j, jp, jm) (((un[j] + us[j]) + (uc[jp] + uc[jm])) - 4.0 * uc[j])

/* one explicit Euler step u -> v with r = dt*k/(h*h) */
static void hstep(int m, const double *u, double *v, double r) {
  for (int i = 0; i < m; i++) {
    const double *uc = u + (size_t)i * m;
    const double *un = u + (size_t)(i == m - 1 ? 0 : i + 1) * m;
    const double *us = u + (size_t)(i == 0 ? m - 1 : i - 1) * m;
    double *vc = v + (size_t)i * m;
    vc[0] = uc[0] + r * LAP(uc, un, us, 0, 1, m - 1);
    for (int j = 1; j < m - 1; j++) vc[j] = uc[j] + r * LAP(uc, un, us, j, j + 1, j - 1);
    vc[m - 1] = uc[m - 1] + r * LAP(uc, un, us, m - 1, 0, m - 2);
  }
}

static double objective(int m, const double *u, double h) {
  double s = 0.0;
  size_t n = (size_t)m * m;
  for (size_t q = 0; q < n; q++) s += u[q] * u[q];
  return 0.5 * h * h * s;
}

static double heat_primal(int m, long N, const double *u0, double k, double h, double dt,
                          double *w1, double *w2) {
  memcpy(w1, u0, (size_t)m * m * sizeof(double));
  for (long n = 0; n < N; n++) {
    double r = dt * k / (h * h);
    hstep(m, w1, w2, r);
    double *t = w1; w1 = w2; w2 = t;
  }
  return objective(m, w1, h);
}

/* traj: (N+1)*m*m doubles; g: m*m (dJ/du0); returns J, *gk = dJ/dk */
static double heat_grad(int m, long N, const double *u0, double k, double h, double dt, double *traj,
                        double *g, double *gk, double *t_fwd, double *t_rev) {
  const size_t n2 = (size_t)m * m;
  double t0 = now();
  memcpy(traj, u0, n2 * sizeof(double));
  for (long n = 0; n < N; n++) {
    double r = dt * k / (h * h);
    hstep(m, traj + (size_t)n * n2, traj + (size_t)(n + 1) * n2, r);
  }
  const double *uN = traj + (size_t)N * n2;
  double J = objective(m, uN, h);
  double t1 = now();
  /* w = dJ/du_n, starting at dJ/du_N = h*h*u_N */
  double *w = malloc(n2 * sizeof(double)), *wb = g;
  for (size_t q = 0; q < n2; q++) w[q] = h * h * uN[q];
  const double r = dt * k / (h * h), e = dt / (h * h); /* dr/dk = dt/(h*h) */
  double rb = 0.0;
  for (long n = N - 1; n >= 0; n--) {
    const double *u = traj + (size_t)n * n2;
    /* v = u + r*L u with L symmetric (periodic 5-point): ub = w + r*L w, rb += w . (L u)
       (the step's dot product summed in row-major order, then added to rb) */
    double acc = 0.0;
    for (int i = 0; i < m; i++) {
      const double *uc = u + (size_t)i * m;
      const double *un = u + (size_t)(i == m - 1 ? 0 : i + 1) * m;
      const double *us = u + (size_t)(i == 0 ? m - 1 : i - 1) * m;
      const double *wc = w + (size_t)i * m;
      const double *wn = w + (size_t)(i == m - 1 ? 0 : i + 1) * m;
      const double *ws = w + (size_t)(i == 0 ? m - 1 : i - 1) * m;
      double *bc = wb + (size_t)i * m;
      bc[0] = wc[0] + r * LAP(wc, wn, ws, 0, 1, m - 1);
      acc += wc[0] * LAP(uc, un, us, 0, 1, m - 1);
      for (int j = 1; j < m - 1; j++) {
        bc[j] = wc[j] + r * LAP(wc, wn, ws, j, j + 1, j - 1);
        acc += wc[j] * LAP(uc, un, us, j, j + 1, j - 1);
      }
      bc[m - 1] = wc[m - 1] + r * LAP(wc, wn, ws, m - 1, 0, m - 2);
      acc += wc[m - 1] * LAP(uc, un, us, m - 1, 0, m - 2);
    }
    rb += acc;
    memcpy(w, wb, n2 * sizeof(double));
  }
  if (N == 0) memcpy(g, w, n2 * sizeof(double));
  free(w);
  double t2 = now();
  *gk = e * rb;
  *t_fwd = t1 - t0;
  *t_rev = t2 - t1;
  return J;
}

int main(int argc, char **argv) {
  if (argc < 5 || strcmp(argv[1], "heat2d")) {
    fprintf(stderr, "usage: bench_heat2d heat2d m N primal|grad|fd [reps]\n");
    return 2;
  }
  int m = atoi(argv[2]);
  long N = (long)atof(argv[3]);
  const char *mode = argv[4];
  int reps = argc > 5 ? atoi(argv[5]) : 1;
  if (m < 3 || N < 0) { fprintf(stderr, "need m >= 3 and N >= 0\n"); return 2; }
  const size_t n2 = (size_t)m * m;
  double h, dt, k = 1.0;
  double *u0 = malloc(n2 * sizeof(double));
  heat_setup(m, &h, &dt, u0);
  const long probe[3] = {(long)(m / 4) * m + m / 4, (long)(m / 2) * m + 3, (long)n2 - 1};
  if (!strcmp(mode, "primal")) {
    double *w1 = malloc(n2 * sizeof(double)), *w2 = malloc(n2 * sizeof(double));
    for (int rep = 0; rep < reps; rep++) {
      double t0 = now();
      double J = heat_primal(m, N, u0, k, h, dt, w1, w2);
      double t1 = now();
      printf("{\"impl\":\"c\",\"problem\":\"heat2d\",\"m\":%d,\"N\":%ld,\"mode\":\"primal\",\"t\":%.6g,\"J\":%.17g,\"dt\":%.17g}\n",
             m, N, t1 - t0, J, dt);
    }
  } else if (!strcmp(mode, "fd")) {
    double *w1 = malloc(n2 * sizeof(double)), *w2 = malloc(n2 * sizeof(double)), *v = malloc(n2 * sizeof(double));
    const double hk = 1e-6, hu = 1e-3;
    double gk = (heat_primal(m, N, u0, k + hk, h, dt, w1, w2) - heat_primal(m, N, u0, k - hk, h, dt, w1, w2)) / (2 * hk);
    long idx[8];
    double gi[8];
    for (int q = 0; q < 5; q++) idx[q] = q;
    for (int q = 0; q < 3; q++) idx[5 + q] = probe[q];
    memcpy(v, u0, n2 * sizeof(double));
    for (int q = 0; q < 8; q++) {
      long i = idx[q];
      v[i] = u0[i] + hu; double Jp = heat_primal(m, N, v, k, h, dt, w1, w2);
      v[i] = u0[i] - hu; double Jm = heat_primal(m, N, v, k, h, dt, w1, w2);
      v[i] = u0[i];
      gi[q] = (Jp - Jm) / (2 * hu);
    }
    printf("{\"impl\":\"c-fd\",\"problem\":\"heat2d\",\"m\":%d,\"N\":%ld,\"mode\":\"fd\",\"J\":%.17g,\"gk\":%.17g,"
           "\"gu0_first5\":[%.17g,%.17g,%.17g,%.17g,%.17g],\"probe_index\":[%ld,%ld,%ld],\"gu0_probe\":[%.17g,%.17g,%.17g]}\n",
           m, N, heat_primal(m, N, u0, k, h, dt, w1, w2), gk, gi[0], gi[1], gi[2], gi[3], gi[4],
           probe[0], probe[1], probe[2], gi[5], gi[6], gi[7]);
  } else if (!strcmp(mode, "grad")) {
    double *traj = malloc(sizeof(double) * n2 * (size_t)(N + 1)), *g = malloc(n2 * sizeof(double)), gk;
    if (!traj) { fprintf(stderr, "cannot allocate the trajectory (%zu bytes)\n", sizeof(double) * n2 * (size_t)(N + 1)); return 1; }
    for (int rep = 0; rep < reps; rep++) {
      double tf, tr;
      double t0 = now();
      double J = heat_grad(m, N, u0, k, h, dt, traj, g, &gk, &tf, &tr);
      double t1 = now();
      double g2 = 0;
      for (size_t q = 0; q < n2; q++) g2 += g[q] * g[q];
      printf("{\"impl\":\"c\",\"problem\":\"heat2d\",\"m\":%d,\"N\":%ld,\"mode\":\"grad\",\"t\":%.6g,\"t_rec\":%.6g,\"t_rev\":%.6g,\"J\":%.17g,\"gk\":%.17g,\"gu0_norm\":%.17g,"
             "\"gu0_first5\":[%.17g,%.17g,%.17g,%.17g,%.17g],\"probe_index\":[%ld,%ld,%ld],\"gu0_probe\":[%.17g,%.17g,%.17g]}\n",
             m, N, t1 - t0, tf, tr, J, gk, sqrt(g2), g[0], g[1], g[2], g[3], g[4],
             probe[0], probe[1], probe[2], g[probe[0]], g[probe[1]], g[probe[2]]);
    }
  } else {
    fprintf(stderr, "mode must be primal, grad or fd\n");
    return 2;
  }
  return 0;
}
