#!/usr/bin/env bash
# Seed each fuzz target's corpus directory (fuzz/corpus/<target>, ignored by
# git) from the shared corpus beside the checkout and from the small
# hand-written seeds in fuzz/hand/<target>. Corpus data is copied, never
# committed. Usage: fuzz/seed.sh [target...]   (default: every target)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
corpus="${VIGIL_CORPUS:-$here/../../shared/corpus}"
[ -d "$corpus" ] || { echo "seed.sh: no shared corpus at $corpus (set VIGIL_CORPUS)" >&2; exit 1; }
repo="$here/.."
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=($(sed -n 's/^name = "\(.*\)"$/\1/p' "$here/Cargo.toml" | grep -v '^vigil-fuzz$'))

# One JSON document per line, compact: the Sigma regression events.
compact_json() {
  python3 -c 'import json,sys
for p in sys.argv[1:]:
    try: print(json.dumps(json.load(open(p)), separators=(",", ":")))
    except Exception: pass' "$@"
}

seed() {
  local t="$1" dir="$here/corpus/$1" n=0
  mkdir -p "$dir"
  [ -d "$here/hand/$t" ] && cp "$here/hand/$t"/* "$dir"/ 2>/dev/null || true
  case "$t" in
    evtx_bytes)
      # Whole samples are 1 MiB of mostly empty chunks: header + first chunk.
      find "$corpus/evtx-attack-samples" -name '*.evtx' | sort | awk 'NR%10==1' |
        while read -r f; do n=$((n+1)); head -c 69632 "$f" > "$dir/sample-$n.evtx"; done ;;
    flatten_json)
      find "$corpus/sigma/regression_data" -name '*.json' | sort | head -400 > /tmp/vigil-seed-list.$$
      compact_json $(cat /tmp/vigil-seed-list.$$) | split -l 1 - "$dir/reg-" ;;
    jsonl)
      find "$corpus/sigma/regression_data" -name '*.json' | sort | head -400 > /tmp/vigil-seed-list.$$
      compact_json $(cat /tmp/vigil-seed-list.$$) | split -l 4 - "$dir/reg-" ;;
    sigma_rule)
      find "$corpus/sigma/rules" -name '*.yml' | sort | awk 'NR%4==1' |
        while read -r f; do n=$((n+1)); cp "$f" "$dir/rule-$n.yml"; done ;;
    decode_record|decode_shape)
      # Every shape's decoder fixtures (in the repo), one record per file.
      for f in "$repo"/crates/formats/tests/fixtures/*.jsonl; do
        split -l 1 "$f" "$dir/$(basename "$f" .jsonl)-"
      done
      cp "$repo/crates/formats/tests/fixtures/cloudtrail.json" "$dir/" ;;
    intake_bodies)
      find "$corpus/sigma/regression_data" -name '*.json' | sort | head -200 > /tmp/vigil-seed-list.$$
      compact_json $(cat /tmp/vigil-seed-list.$$) | split -l 8 - "$dir/ndjson-"
      for f in "$repo"/crates/formats/tests/fixtures/*.jsonl; do cp "$f" "$dir/"; done ;;
    kql_query)
      # The hunting query corpus (crates/hunt/tests/queries), one query a file.
      for f in "$repo"/crates/hunt/tests/queries/*.kql; do cp "$f" "$dir/"; done ;;
    readiness_catalogue)
      cp "$repo/crates/readiness/catalogue.toml" "$dir/builtin.toml" ;;
  esac
  rm -f /tmp/vigil-seed-list.$$
  echo "$t: $(ls "$dir" | wc -l) seeds in fuzz/corpus/$t"
}

for t in "${targets[@]}"; do seed "$t"; done
