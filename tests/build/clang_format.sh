#!/usr/bin/env bash
# Every C source and header is clang-format clean.
set -euo pipefail
cd "$1"
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
clang-format --dry-run --Werror $files
