#!/usr/bin/env bash
# Writes every output geosim makes on the bundled scenarios into DIR and a sha256 list of
# them into DIR.sums, so that a refactor can prove itself byte-identical:
#
#   scripts/outputs.sh /tmp/before BIN_BEFORE   # e.g. a release binary built at HEAD~1
#   scripts/outputs.sh /tmp/after  target/release/geosim
#   diff /tmp/before.sums /tmp/after.sums        # no output: nothing changed
#
# It covers: `run` (text, --json, --report with charts and timeline) of every scenario under
# scenarios/, `explain` with its space-time diagram for every lesson and scenario 04,
# `check`, `hunt --seeds 1..400`, the sweep of scenario 03, `plan`, `schema`, a 40-second
# variant of the 3 x 16-shard reference scenario with a partition, and `validate` on 1,120
# mutated scenario files (seeded, so the same files every time).
set -u
out=${1:?usage: scripts/outputs.sh DIR [BINARY]}
bin=$(realpath "${2:-target/release/geosim}")
cd "$(dirname "$0")/.."
rm -rf "$out" "$out.sums"
mkdir -p "$out"
out=$(realpath "$out")
for f in scenarios/*.toml scenarios/teaching/*.toml scenarios/regressions/*.toml; do
  n=$(echo "$f" | tr '/' '_')
  "$bin" run "$f" --report "$out/rep_$n" > "$out/run_$n.txt" 2>&1; echo "exit $?" >> "$out/run_$n.txt"
  "$bin" run "$f" --json > "$out/json_$n.txt" 2>&1
done
for f in scenarios/teaching/*.toml; do
  n=$(basename "$f" .toml)
  "$bin" explain "$f" --diagram "$out/st_$n.svg" 2>&1 | sed "s#$out#OUT#" > "$out/explain_$n.txt"
done
"$bin" explain scenarios/04-clock-drift-lww.toml > "$out/explain_04.txt" 2>&1
# Wall times vary: they are masked.
"$bin" check scenarios | sed -E 's/[0-9.]+ ?m?s\b/T/g' > "$out/check.txt" 2>&1
"$bin" hunt --seeds 1..400 > "$out/hunt.txt" 2>&1; echo "exit $?" >> "$out/hunt.txt"
"$bin" sweep scenarios/03-backlog-overflow-full-sync.toml --out "$out/sweep03" > "$out/sweep03.txt" 2>&1
"$bin" schema > "$out/schema.json"
"$bin" plan --rate 20k/s --outage 10m --peers 3 --backlog 250MB --dataset 8GB --bandwidth 1Gbit/s > "$out/plan.txt"
sed -e 's/duration = "1h"/duration = "40s"/' -e 's/begin = "20m"/begin = "10s"/' \
    -e 's/duration = "5m"/duration = "15s"/' -e 's/backlog_size = "16MB"/backlog_size = "4MB"/' \
    benches/reference.toml > "$out/ref40.toml"
(cd "$out" && "$bin" run ref40.toml --report ref40 > ref40.txt 2>&1)
mkdir -p "$out/mutants"
python3 - "$out/mutants" <<'PY'
import glob, random, sys
random.seed(5)
files = sorted(glob.glob('scenarios/**/*.toml', recursive=True)) + ['benches/reference.toml']
subs = ['"x"', '-1', '0', '"0s"', '"-5ms"', '1e30', '"250GB"', 'true', '[]', '"nope"', '"1ms"',
        '99999999999', '"aof-sometimes"', '"stall"',
        '{ dist = "pareto", scale = "1ms", shape = -1 }']
n = 0
for f in files:
    lines = open(f).read().split('\n')
    for _ in range(40):
        L = list(lines)
        i = random.randrange(len(L))
        op = random.randrange(4)
        if op == 0:
            del L[i]
        elif op == 1 and '=' in L[i]:
            L[i] = L[i].split('=')[0] + '= ' + random.choice(subs)
        elif op == 2:
            L.insert(i, L[random.randrange(len(L))])
        else:
            j = random.randrange(len(L))
            if '=' in L[j]:
                L[j] = L[j].split('=')[0] + '= ' + random.choice(subs)
            del L[i]
        open(f'{sys.argv[1]}/m{n:05d}.toml', 'w').write('\n'.join(L))
        n += 1
PY
for m in "$out"/mutants/*.toml; do
  echo "== $(basename "$m")"; "$bin" validate "$m" 2>&1 | sed "s#$out#OUT#g"; echo "exit $?"
done > "$out/validate.txt"
rm -rf "$out/mutants"
(cd "$out" && find . -type f | sort | xargs sha256sum) > "$out.sums"
echo "$(wc -l < "$out.sums") files; sums in $out.sums"
