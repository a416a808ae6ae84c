#!/usr/bin/env python3
"""Pick commit ranges for the detect held-out set (first-parent history; ranges whose diff touches
a Cargo.toml or a .rs file). usage: pick.py GITDIR FROM TO N_CONSEC N_LONG SEED > pairs.txt"""
import random, subprocess, sys
gitdir, frm, to, nc, nl, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
g = lambda *a: subprocess.run(['git', '--git-dir', gitdir, *a], capture_output=True, text=True, check=True).stdout
revs = g('rev-list', '--first-parent', '--reverse', f'{frm}..{to}').split()
def touches(b, h):
    fs = g('diff', '--no-renames', '--name-only', b, h).split('\n')
    return any(f.endswith('Cargo.toml') or f.endswith('.rs') for f in fs if f)
rnd = random.Random(seed)
idx = list(range(1, len(revs)))
rnd.shuffle(idx)
pairs = []
for i in idx:
    if len([p for p in pairs if p[2] == 'c']) >= nc: break
    if touches(revs[i-1], revs[i]): pairs.append((revs[i-1], revs[i], 'c'))
rnd.shuffle(idx)
for i in idx:
    if len([p for p in pairs if p[2] == 'l']) >= nl: break
    k = rnd.choice([3, 5, 8, 13, 21, 40])
    if i - k < 0: continue
    if touches(revs[i-k], revs[i]): pairs.append((revs[i-k], revs[i], 'l'))
for b, h, kind in pairs: print(b, h)
