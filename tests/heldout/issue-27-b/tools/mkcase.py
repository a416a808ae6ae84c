#!/usr/bin/env python3
"""Make one held-out doctor case from a fetched git dir (no freshbin involved).

usage: mkcase.py GITDIR REPO COMMIT DOCKERFILE CONTEXT CASE SHAPE[,SHAPE..] [EXTRA_FILE ...]
DOCKERFILE and CONTEXT are repo-relative; files are stored relative to CONTEXT.
Stores: the Dockerfile, <Dockerfile>.dockerignore / .dockerignore, every Cargo.toml under the
context (skipping target/ and vendor/), .cargo/config(.toml), rust-toolchain*, and EMPTY
placeholders for the source layout (src/main.rs, src/lib.rs, src/bin/*.rs, build.rs and the
paths named by [lib]/[[bin]]) as they exist at that commit. EXTRA_FILE: further repo files,
stored with their content (prefix 'empty:' to store as an empty placeholder).
"""
import json, os, posixpath, subprocess, sys, tomllib

gitdir, repo, commit, dockerfile, context, case, shape, *extra = sys.argv[1:]
out = os.path.join(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'doctor'), case)
ctx = '' if context in ('.', '') else context.rstrip('/') + '/'
ls = subprocess.run(['git', '--git-dir', gitdir, 'ls-tree', '-r', '--name-only', commit],
                    capture_output=True, text=True, check=True).stdout.splitlines()
tree = set(ls)
def show(path):
    return subprocess.run(['git', '--git-dir', gitdir, 'show', f'{commit}:{path}'],
                          capture_output=True, check=True).stdout
files, empties = {}, set()
def keep(path, empty=False):
    if not path.startswith(ctx):
        raise SystemExit(f'{path} outside context')
    rel = path[len(ctx):]
    files[rel] = b'' if empty else show(path)
    if empty:
        empties.add(rel)
keep(dockerfile)
for cand in (dockerfile + '.dockerignore', ctx + '.dockerignore'):
    if cand in tree:
        keep(cand)
skip = ('target/', 'vendor/', '.git/')
manifests = [p for p in ls if p.startswith(ctx) and posixpath.basename(p) == 'Cargo.toml'
             and not any(('/' + s) in ('/' + p) for s in skip)]
for m in manifests:
    keep(m)
    d = posixpath.dirname(m)
    pre = d + '/' if d else ''
    for name in ('build.rs', 'src/main.rs', 'src/lib.rs'):
        if pre + name in tree:
            keep(pre + name, empty=True)
    for p in ls:
        if p.startswith(pre + 'src/bin/') and p.endswith('.rs'):
            rest = p[len(pre + 'src/bin/'):]
            if '/' not in rest or rest.endswith('/main.rs') and rest.count('/') == 1:
                keep(p, empty=True)
    try:
        t = tomllib.loads(show(m).decode())
    except Exception as e:
        print('warn: cannot parse', m, e, file=sys.stderr); continue
    pkg = t.get('package', {})
    tl = [t.get('lib')] if isinstance(t.get('lib'), dict) else []
    for tgt in tl + list(t.get('bin', []) or []):
        if tgt and tgt.get('path'):
            p = posixpath.normpath(posixpath.join(d, tgt['path']))
            if p in tree:
                keep(p, empty=True)
            else:
                print('note: target path missing', p, file=sys.stderr)
    if isinstance(pkg.get('build'), str):
        p = posixpath.normpath(posixpath.join(d, pkg['build']))
        if p in tree:
            keep(p, empty=True)
for p in ls:
    if not p.startswith(ctx):
        continue
    rel = p[len(ctx):]
    base = posixpath.basename(p)
    if base.startswith('rust-toolchain') or (posixpath.basename(posixpath.dirname(p)) == '.cargo' and base in ('config', 'config.toml')):
        if not any(('/' + s) in ('/' + p) for s in skip):
            keep(p)
for e in extra:
    empty = e.startswith('empty:')
    keep(e[6:] if empty else e, empty=empty)
for rel, data in files.items():
    dst = os.path.join(out, rel)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    with open(dst, 'wb') as f:
        f.write(data)
src = {'repo': repo, 'commit': commit, 'dockerfile': dockerfile[len(ctx):], 'context': context or '.',
       'files': sorted(files), 'empty_placeholders': sorted(empties), 'shape': shape.split(',')}
if ctx:
    src['dockerfile_repo_path'] = dockerfile
with open(os.path.join(out, 'SOURCE.json'), 'w') as f:
    json.dump(src, f, indent=2); f.write('\n')
print(out, len(files), 'files')
