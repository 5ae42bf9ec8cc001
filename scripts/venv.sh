# Sourced by scripts/start and scripts/test (not run by itself).
#
# Both work on a machine whose only Python is the distribution's: Debian 12 and Ubuntu 24.04
# mark their python3 "externally managed", so pip may not install into it. The project gets
# its own virtual environment, .venv, made once with that python3 (PYTHON overrides it) and
# reused; the packages go in once, pinned by constraints.txt (the set the suite was run with),
# and again only when pyproject.toml, constraints.txt or the extras asked for change.

PYTHON=${PYTHON:-python3}
VENV=.venv
VENV_PY=$VENV/bin/python

say() { printf '==> %s\n' "$*" >&2; }

# apt_install WHY PACKAGE...: Debian's packages, as root or through sudo, with apt's own
# progress shown (a first chromium download is some 100 MB and must not look like a hang).
apt_install() {
    local why=$1; shift
    if ! command -v apt-get >/dev/null 2>&1; then
        say "$why: install $* with your system's package manager, then run this again"
        exit 1
    fi
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null 2>&1; then
            say "$why: as root, run: apt-get install $*   (then run this again)"
            exit 1
        fi
        sudo=(sudo)
    fi
    say "installing $* with ${sudo:+sudo }apt-get: $why"
    "${sudo[@]}" apt-get update
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@"
}

# ensure_venv EXTRAS: .venv exists and holds the project (editable) with those extras ("" or "dev").
ensure_venv() {
    local extras=$1 spec=.
    [ -z "$extras" ] || spec=".[$extras]"
    if ! "$VENV_PY" -c "import pip" >/dev/null 2>&1; then  # a venv with pip in it (importing it is quicker than running it)
        if ! command -v "$PYTHON" >/dev/null 2>&1; then
            say "no $PYTHON found: install Python 3.11 or newer (Debian/Ubuntu: apt-get install python3)"
            exit 1
        fi
        local version
        version=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
        if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
            say "$PYTHON is Python $version; Talking Piece needs 3.11 or newer (set PYTHON=/path/to/python3.X)"
            exit 1
        fi
        # Debian and Ubuntu ship venv's pip bootstrap (ensurepip) in a package of its own.
        if ! "$PYTHON" -c 'import ensurepip' >/dev/null 2>&1; then
            apt_install "$PYTHON -m venv needs it" "python$version-venv"
        fi
        say "making the project's virtual environment in $VENV (with $PYTHON, Python $version)"
        rm -rf "$VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    # One stamp per extra, holding the hash of what it was installed from; the dev extra
    # includes everything, so scripts/start after scripts/test installs nothing.
    local hash stamp=$VENV/.installed-${extras:-base}
    hash=$(cat pyproject.toml constraints.txt | "$VENV_PY" -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')
    if [ "$(cat "$stamp" 2>/dev/null)" = "$hash" ] || [ "$(cat "$VENV/.installed-dev" 2>/dev/null)" = "$hash" ]; then
        return
    fi
    say "installing the Python packages into $VENV (once; versions pinned by constraints.txt)"
    "$VENV_PY" -m pip install --disable-pip-version-check --progress-bar off -c constraints.txt -e "$spec"
    printf '%s\n' "$hash" > "$stamp"
}
