#!/usr/bin/env python3
"""extract-score.py LABELS OUTDIR: precision and recall of `ikasq extract`.

LABELS is tests/data/corpus/labels.tsv (FILE<TAB>ORDERS|-[<TAB>note]);
OUTDIR holds FILE.json, the output of `ikasq extract FILE` for each.
Prints one TAP diagnostic per mail that is not exactly right, then
"precision P recall R tp TP fp FP fn FN mails N exact E".
"""
import json
import os
import sys

labels, outdir = sys.argv[1], sys.argv[2]
tp = fp = fn = mails = exact = 0
for line in open(labels, encoding="utf-8"):
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    cols = line.split("\t")
    name, want = cols[0], cols[1].strip()
    want = set() if want == "-" else {w.strip() for w in want.split(",") if w.strip()}
    path = os.path.join(outdir, name + ".json")
    try:
        got = set(json.load(open(path, encoding="utf-8"))["order_numbers"])
    except (OSError, ValueError, KeyError) as e:
        print(f"# {name}: no usable output ({e})")
        got = set()
    mails += 1
    tp += len(got & want)
    fp += len(got - want)
    fn += len(want - got)
    if got == want:
        exact += 1
    else:
        note = cols[2] if len(cols) > 2 else ""
        print(f"# {name}: want {sorted(want) or '-'} got {sorted(got) or '-'}"
              + (f"  ({note})" if note else ""))
precision = tp / (tp + fp) if tp + fp else 1.0
recall = tp / (tp + fn) if tp + fn else 1.0
print(f"precision {precision:.4f} recall {recall:.4f} tp {tp} fp {fp} fn {fn} "
      f"mails {mails} exact {exact}")
