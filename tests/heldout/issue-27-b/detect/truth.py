#!/usr/bin/env python3
"""Truth for `freshbin detect` held-out ranges, computed from cargo itself (no freshbin import).

usage: truth.py GITDIR BASE HEAD [BASE HEAD ...]   -> JSON list on stdout

For each range: export BASE and HEAD with `git archive`, run
`cargo metadata --no-deps --offline --format-version 1` at the export root, and take the files
changed in the range from `git diff --no-renames --name-only -z BASE HEAD` (a rename counts as
both its old and its new path).
- A file belongs to the listed package whose manifest dir is the deepest one containing it
  (evaluated in BASE's and in HEAD's package list; a file in no listed package, e.g. a virtual
  root Cargo.toml, Cargo.lock or a nested package cargo does not list, reaches nothing and is
  reported in `unowned_files`).
- A package reaches itself and every listed package that depends on it transitively through
  path dependencies of kind normal or build (`packages`); dev-dependencies do not change a
  package's library or binaries, they are only added in `packages_incl_dev`.
- `binaries`: the bin targets of the packages in `packages` (names as cargo lists them), as
  "package:bin" pairs in `binaries_qualified` too.
The BASE and HEAD answers are united (a package removed or added in the range counts).
"""
import json, os, subprocess, sys, tempfile

def export(gitdir, rev, dest):
    arch = subprocess.run(['git', '--git-dir', gitdir, 'archive', '--format=tar', rev],
                          capture_output=True, check=True).stdout
    subprocess.run(['tar', '-x', '-C', dest], input=arch, check=True)

def metadata(root):
    p = subprocess.run(['cargo', 'metadata', '--no-deps', '--offline', '--format-version', '1'],
                       cwd=root, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(p.stderr.strip().splitlines()[-1] if p.stderr.strip() else 'cargo metadata failed')
    return json.loads(p.stdout)

def graph(meta):
    root = os.path.realpath(meta['workspace_root'])
    pkgs = {}
    for p in meta['packages']:
        d = os.path.relpath(os.path.dirname(os.path.realpath(p['manifest_path'])), root)
        pkgs[p['id']] = {'name': p['name'], 'dir': '' if d == '.' else d,
                         'bins': sorted(t['name'] for t in p['targets'] if 'bin' in t['kind']),
                         'deps': p['dependencies']}
    bydir = {v['dir']: k for k, v in pkgs.items()}
    rev, rev_dev = {k: set() for k in pkgs}, {k: set() for k in pkgs}
    for k, v in pkgs.items():
        for dep in v['deps']:
            if not dep.get('path'):
                continue
            d = os.path.relpath(os.path.realpath(dep['path']), root)
            tgt = bydir.get('' if d == '.' else d)
            if tgt is None or tgt == k:
                continue
            (rev_dev if dep.get('kind') == 'dev' else rev)[tgt].add(k)
    return pkgs, rev, rev_dev

def owner(pkgs, f):
    best = None
    for k, v in pkgs.items():
        d = v['dir']
        if d == '' or f == d or f.startswith(d + '/'):
            if best is None or len(d) > len(pkgs[best]['dir']):
                best = k
    return best

def closure(start, rev):
    seen, todo = set(start), list(start)
    while todo:
        for n in rev[todo.pop()]:
            if n not in seen:
                seen.add(n); todo.append(n)
    return seen

def one(gitdir, base, head):
    files = [f for f in subprocess.run(['git', '--git-dir', gitdir, 'diff', '--no-renames', '--name-only', '-z', base, head],
                                       capture_output=True, check=True).stdout.decode().split('\0') if f]
    out = {'base': base, 'head': head, 'changed_files': sorted(files)}
    pk, pk_dev, bins, qual, unowned = set(), set(), set(), set(), set(files)
    for rev_ in (base, head):
        with tempfile.TemporaryDirectory() as t:
            export(gitdir, rev_, t)
            pkgs, rev, rev_dev = graph(metadata(t))
        owners = {o for o in (owner(pkgs, f) for f in files) if o}
        unowned -= {f for f in files if owner(pkgs, f)}
        reach = closure(owners, rev)
        both = {k: rev[k] | rev_dev[k] for k in rev}
        reach_dev = closure(owners, both)
        pk |= {pkgs[k]['name'] for k in reach}
        pk_dev |= {pkgs[k]['name'] for k in reach_dev}
        for k in reach:
            bins |= set(pkgs[k]['bins'])
            qual |= {pkgs[k]['name'] + ':' + b for b in pkgs[k]['bins']}
    out.update(packages=sorted(pk), binaries=sorted(bins), binaries_qualified=sorted(qual),
               packages_incl_dev=sorted(pk_dev), unowned_files=sorted(unowned))
    return out

if __name__ == '__main__':
    gitdir, revs = sys.argv[1], sys.argv[2:]
    res = []
    for b, h in zip(revs[0::2], revs[1::2]):
        try:
            res.append(one(gitdir, b, h))
        except Exception as e:
            print(f'skip {b}..{h}: {e}', file=sys.stderr)
    json.dump(res, sys.stdout, indent=1)
