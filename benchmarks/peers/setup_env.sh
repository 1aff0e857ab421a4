#!/usr/bin/env bash
# Build the peers' virtual env at benchmarks/peers/.venv (idempotent: re-running only
# installs what is missing; pass --fresh to delete and rebuild it).
#
# Peers: torch 2.13.0 (CPU), pgmpy 0.1.25, flyingsquid 0.0.0a0, snorkel 0.10.0, crowd-kit,
# hyperlm 0.0.5, plus our own package (editable) so the runners always use the current src/tripletws.
#
# Install notes / workarounds:
#   * torch is installed FIRST and pinned to 2.13.0 through a constraints file that is passed to
#     every later pip call: it is the CPU wheel cached on this machine; any other torch spec makes
#     pip pull a multi-GB CUDA build.
#   * flyingsquid 0.0.0a0 declares no dependencies at all. What it really imports: pgmpy (the
#     MarkovModel class, still present in 0.1.25), numpy, tqdm; torch only for pytorch_loss.
#   * crowd-kit declares transformers, nltk and pyarrow as hard deps. Only `crowdkit.aggregation` is
#     used here, which imports numpy, pandas, scipy, scikit-learn, attrs, tqdm and nltk
#     (via aggregation/embeddings/hrrasa.py), never transformers or pyarrow. So crowd-kit is
#     installed with --no-deps plus exactly those imports (saves transformers + tokenizers +
#     huggingface-hub + pyarrow). On the first install pip prints "ERROR: ... crowd-kit requires
#     transformers / pyarrow, which is not installed": expected, harmless (exit status 0).
#   * hyperlm 0.0.5 (Hyper Label Model, Wu et al., VLDB 2023) ships its pre-trained checkpoint in
#     the wheel and imports only torch, numpy and scipy; it is installed with --no-deps so that its
#     unpinned torch requirement cannot pull another torch build.
#   * snorkel 0.10.0 pins nothing old (numpy>=1.24, torch>=1.2); it is installed with its declared
#     deps (tensorboard, protobuf, munkres, networkx, ...) under the torch constraint.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="$HERE/.venv"
PY="${PYTHON:-python3}"

if [[ "${1:-}" == "--fresh" ]]; then
    rm -rf "$VENV"
fi

if [[ ! -x "$VENV/bin/python" ]]; then
    "$PY" -m venv "$VENV"
fi
VPY="$VENV/bin/python"

CONSTRAINTS="$VENV/torch-constraint.txt"
echo "torch==2.13.0" > "$CONSTRAINTS"
PIP=("$VPY" -m pip install --disable-pip-version-check -q -c "$CONSTRAINTS")

# 1. torch first, exactly this version (cached CPU wheel).
"${PIP[@]}" "torch==2.13.0"

# 2. pgmpy (FlyingSquid's graph backend).
"${PIP[@]}" "pgmpy==0.1.25"

# 3. FlyingSquid: no declared deps; its real imports are already satisfied by pgmpy's deps.
"${PIP[@]}" --no-deps "flyingsquid==0.0.0a0"
"${PIP[@]}" numpy tqdm

# 4. Snorkel 0.10.0 with its declared deps (torch held at 2.13.0 by the constraint).
"${PIP[@]}" "snorkel==0.10.0"

# 5. crowd-kit without transformers/pyarrow (see note above).
"${PIP[@]}" --no-deps crowd-kit
"${PIP[@]}" attrs nltk "pandas>=1.1.0" scikit-learn scipy tqdm

# 6. hyperlm without deps (torch, numpy, scipy are already there).
"${PIP[@]}" --no-deps "hyperlm==0.0.5"

# 7. Our package, editable (depends only on numpy/scipy).
if [[ -f "$ROOT/pyproject.toml" || -f "$ROOT/setup.py" ]]; then
    "${PIP[@]}" -e "$ROOT"
else
    echo "setup_env.sh: $ROOT has no pyproject.toml yet; skipping 'pip install -e' of tripletws" >&2
fi

# 8. Guard: nothing above may have replaced the cached CPU torch.
"$VPY" -c "import torch, sys; v = torch.__version__; sys.exit(0 if v.startswith('2.13.0') else f'torch {v} != 2.13.0')"

# 9. Smoke test: every peer imports and fits a tiny synthetic problem.
"$VPY" "$HERE/smoke_peers.py"
