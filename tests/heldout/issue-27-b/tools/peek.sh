#!/bin/bash
# peek.sh OWNER+NAME [pathregex]: Dockerfile history + manifests at HEAD
G=/work/.mirror/$1/repo
echo "### $1 HEAD=$(git --git-dir $G rev-parse HEAD)"
git --git-dir $G ls-tree -r --name-only HEAD | grep -iE "${2:-dockerfile|containerfile}" 
for f in $(git --git-dir $G ls-tree -r --name-only HEAD | grep -iE "${2:-dockerfile|containerfile}" | grep -v dockerignore); do
  echo "--- $f commits:"; git --git-dir $G log --format='%h %ad %s' --date=short -- "$f" | head -8
  git --git-dir $G show HEAD:"$f" | cat -n
done
echo "--- manifests/sources"
git --git-dir $G ls-tree -r --name-only HEAD | grep -E "Cargo.toml$|src/(main|lib).rs$|src/bin/|build.rs$|\.cargo/|toolchain|dockerignore" | head -60
