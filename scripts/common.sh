# Shared by the scripts/check-*.sh release checks (sourced, not run).
# Expects $repo to be the repository root.

log() { printf '\n=== %s\n' "$*"; }

# copy_tree DEST: a copy of the checkout as a fresh clone would have it
# (tracked files plus new files that are not ignored), so nothing is built
# inside the checkout and no build leftovers leak into an sdist.
copy_tree() {
    local dest=$1
    mkdir -p "$dest"
    if git -C "$repo" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git -C "$repo" ls-files -z --cached --others --exclude-standard \
            | (cd "$repo" && xargs -0 -r sh -c 'for f; do [ -f "$f" ] && printf "%s\0" "$f"; done' sh) \
            | tar -C "$repo" --null -T - -cf - | tar -C "$dest" -xf -
    else
        tar -C "$repo" --exclude=.git --exclude=build --exclude=dist --exclude='*.so' \
            --exclude=.venv --exclude='*.egg-info' --exclude='ringcore/_*.c' -cf - . \
            | tar -C "$dest" -xf -
    fi
}
