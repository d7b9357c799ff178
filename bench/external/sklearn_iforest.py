#!/usr/bin/python3
"""scikit-learn's IsolationForest on the same data as Vigil's anomaly benchmark and evaluation.

Run with /usr/bin/python3 (Debian's python3-sklearn). Prints one JSON object.

  sklearn_iforest.py eval FILE.csv [--seeds N] [--trees T] [--psi P]
      unsupervised ROC AUC: fit on the whole table (last column = 0/1 label, unseen), score
      every row; seeds 1..N (random_state); {"aucs": [...], "auc_mean", "auc_sd"}
  sklearn_iforest.py bench FILE.f64 ROWS COLS [--trees T] [--psi P]
      FILE.f64: ROWS x COLS float64 little-endian, row-major (written by bench/anomaly.ts);
      fit time and scoring points/s on one core (n_jobs=1); {"fit_s", "score_s", "points_per_s", "scores_head"}
"""
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from sklearn.ensemble import IsolationForest  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402


def opt(args, name, default):
    if name in args:
        return int(args[args.index(name) + 1])
    return default


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    mode, path = argv[0], argv[1]
    trees = opt(argv, "--trees", 100)
    psi = opt(argv, "--psi", 256)
    if mode == "eval":
        seeds = opt(argv, "--seeds", 10)
        data = np.loadtxt(path, delimiter=",", skiprows=1)
        X, y = data[:, :-1], data[:, -1].astype(int)
        aucs = []
        for s in range(1, seeds + 1):
            m = IsolationForest(n_estimators=trees, max_samples=min(psi, len(X)), random_state=s, n_jobs=1).fit(X)
            aucs.append(float(roc_auc_score(y, -m.score_samples(X))))
        sd = float(np.std(aucs, ddof=1)) if len(aucs) > 1 else 0.0
        print(json.dumps({"aucs": aucs, "auc_mean": float(np.mean(aucs)), "auc_sd": sd}))
        return 0
    if mode == "bench":
        rows, cols = int(argv[2]), int(argv[3])
        X = np.fromfile(path, dtype="<f8").reshape(rows, cols)
        t0 = time.perf_counter()
        m = IsolationForest(n_estimators=trees, max_samples=psi, random_state=1, n_jobs=1).fit(X)
        t1 = time.perf_counter()
        s = -m.score_samples(X)
        t2 = time.perf_counter()
        print(json.dumps({"fit_s": t1 - t0, "score_s": t2 - t1, "points_per_s": rows / (t2 - t1), "scores_head": [float(v) for v in s[:5]]}))
        return 0
    print(f"unknown mode {mode!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
