#!/usr/bin/env bash
# Install the pinned real ComfyUI server (0.3.64, commit a125cd84) for comicc's
# real-server integration test (tests/backends/test_real_comfyui.py).
#
# Usage: scripts/real-comfyui.sh            install (or reuse) and print the install dir
#        scripts/real-comfyui.sh --check    exit 0 when the install is complete, 1 otherwise
#
# Everything goes OUTSIDE the clone, into $COMICC_COMFYUI_HOME
# (default ~/.cache/comicc/comfyui-0.3.64): src/ (the source tree), venv/ (its own
# Python with torch), and a .complete stamp. A complete install is reused as it is.
#
# Where the source comes from, first found wins:
#   COMICC_COMFYUI_SRC  a directory holding a ComfyUI source tree (main.py at its top),
#                       copied as it is (e.g. a checkout of Comfy-Org/ComfyUI at a125cd84);
#   COMICC_COMFYUI_GIT  a git directory (bare or not) holding commit a125cd84, copied file by
#                       file (blobs that are absent from a partial snapshot are skipped);
#                       default /work/.mirror/Comfy-Org+ComfyUI/repo.
#
# Python: $COMICC_COMFYUI_PYTHON (default python3.11). torch==2.14.1 and
# torchvision==0.29.1 (a CUDA build that runs on the CPU, ~5.5 GB), then ComfyUI's
# requirements.txt without torch/torchvision/torchaudio, plus requests (its server imports it
# but does not list it), constrained to those torch versions. About 6 minutes and 6 GB the
# first time.
set -euo pipefail

COMMIT=a125cd84
HOME_DIR="${COMICC_COMFYUI_HOME:-$HOME/.cache/comicc/comfyui-0.3.64}"
PY="${COMICC_COMFYUI_PYTHON:-python3.11}"
GIT_DIR_SRC="${COMICC_COMFYUI_GIT:-/work/.mirror/Comfy-Org+ComfyUI/repo}"

if [[ "${1:-}" == "--check" ]]; then
    [[ -f "$HOME_DIR/.complete" && -x "$HOME_DIR/venv/bin/python" && -f "$HOME_DIR/src/main.py" ]]
    exit $?
fi

if [[ -f "$HOME_DIR/.complete" ]]; then
    echo "$HOME_DIR"
    exit 0
fi

mkdir -p "$HOME_DIR"
log() { echo "real-comfyui: $*" >&2; }

if [[ ! -f "$HOME_DIR/src/.copied" ]]; then
    rm -rf "$HOME_DIR/src"
    mkdir -p "$HOME_DIR/src"
    if [[ -n "${COMICC_COMFYUI_SRC:-}" ]]; then
        [[ -f "$COMICC_COMFYUI_SRC/main.py" ]] || {
            log "COMICC_COMFYUI_SRC=$COMICC_COMFYUI_SRC has no main.py"; exit 2; }
        log "copying the source from $COMICC_COMFYUI_SRC"
        cp -a "$COMICC_COMFYUI_SRC/." "$HOME_DIR/src/"
    else
        git --git-dir="$GIT_DIR_SRC" cat-file -e "$COMMIT^{commit}" 2>/dev/null || {
            log "no ComfyUI source: $GIT_DIR_SRC does not hold commit $COMMIT."
            log "Set COMICC_COMFYUI_SRC to a source tree of Comfy-Org/ComfyUI at $COMMIT"
            log "(git clone https://github.com/Comfy-Org/ComfyUI && git -C ComfyUI checkout $COMMIT),"
            log "or COMICC_COMFYUI_GIT to a git directory holding that commit."
            exit 2
        }
        log "copying commit $COMMIT from $GIT_DIR_SRC"
        skipped=0
        while IFS=$'\t' read -r meta path; do
            read -r _mode type sha <<<"$meta"
            [[ "$type" == "blob" ]] || continue
            mkdir -p "$HOME_DIR/src/$(dirname "$path")"
            if ! git --git-dir="$GIT_DIR_SRC" cat-file blob "$sha" >"$HOME_DIR/src/$path" 2>/dev/null; then
                rm -f "$HOME_DIR/src/$path"
                log "skipped (absent from the snapshot): $path"
                skipped=$((skipped + 1))
            fi
        done < <(git --git-dir="$GIT_DIR_SRC" ls-tree -r "$COMMIT")
        log "copied; $skipped file(s) skipped"
    fi
    touch "$HOME_DIR/src/.copied"
fi

if [[ ! -x "$HOME_DIR/venv/bin/python" ]]; then
    log "creating the venv with $PY"
    "$PY" -m venv "$HOME_DIR/venv"
fi
VPY="$HOME_DIR/venv/bin/python"
cons="$HOME_DIR/constraints.txt"
printf 'torch==2.14.1\ntorchvision==0.29.1\n' >"$cons"
log "installing torch and torchvision (the long part)"
"$VPY" -m pip install -q torch==2.14.1 torchvision==0.29.1
reqs="$HOME_DIR/requirements-notorch.txt"
grep -v -E '^(torch|torchvision|torchaudio)([<>=~ ].*)?$' "$HOME_DIR/src/requirements.txt" >"$reqs"
echo requests >>"$reqs"
log "installing ComfyUI's requirements"
"$VPY" -m pip install -q -r "$reqs" -c "$cons"
touch "$HOME_DIR/.complete"
log "done"
echo "$HOME_DIR"
