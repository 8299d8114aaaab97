#!/usr/bin/env bash
# The peers' own environments for sidebyside.py, from the package registry:
#   bash benchmarks/peers/setup.sh             # both
#   bash benchmarks/peers/setup.sh evidently   # one
# Each peer pins its own versions of pandas, numpy and scikit-learn, so each gets a
# virtual environment of its own under benchmarks/.peers/ (ignored by git).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
# Deepchecks 0.19 predates pandas 3, NumPy 2 and scikit-learn 1.6; Evidently 0.7 predates pandas 3.
declare -A spec=(
    [evidently]="evidently==0.7.* pandas<3"
    [deepchecks]="deepchecks==0.19.* pandas<3 numpy<2 pyarrow<20 scikit-learn<1.6 category-encoders<2.7"
)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(evidently deepchecks)
for name in "${names[@]}"; do
    [ -n "${spec[$name]:-}" ] || { echo "unknown peer: $name (evidently or deepchecks)" >&2; exit 2; }
    venv="$here/.peers/$name"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    # shellcheck disable=SC2086
    "$venv/bin/pip" install --quiet ${spec[$name]} pyarrow
    echo "$name: $("$venv/bin/python" -c "from importlib.metadata import version; print(version('$name'))") in $venv"
done
