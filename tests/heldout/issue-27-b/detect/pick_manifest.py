#!/usr/bin/env python3
"""Extra ranges for the detect held-out set: consecutive first-parent ranges whose diff touches a
Cargo.toml, seeded, skipping pairs already picked. usage: pick_manifest.py GITDIR FROM TO N SEED EXISTING_PAIRS"""
import random, subprocess, sys
gitdir, frm, to, n, seed, existing = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
g = lambda *a: subprocess.run(['git', '--git-dir', gitdir, *a], capture_output=True, text=True, check=True).stdout
have = set(tuple(l.split()) for l in open(existing) if l.strip())
revs = g('rev-list', '--first-parent', '--reverse', f'{frm}..{to}').split()
idx = list(range(1, len(revs))); random.Random(seed).shuffle(idx)
out = []
for i in idx:
    if len(out) >= n: break
    b, h = revs[i-1], revs[i]
    if (b, h) in have: continue
    if any(f.endswith('Cargo.toml') for f in g('diff', '--no-renames', '--name-only', b, h).split('\n') if f):
        out.append((b, h))
for b, h in out: print(b, h)
