#!/usr/bin/env bash
# Code lines outside tasks/ and nn/ (the registries' homes) that name a task family or a model
# family as a string: the knowledge that should live in the family (issue 31's grep). Comments
# are skipped; the names come from the registries' .def files.
set -euo pipefail
cd "$(dirname "$0")/.."
names=$(sed -nE 's/^GRADSCOPE_(TASK|MODEL)\(([a-z_]+)\).*/\2/p' \
  src/gradscope/tasks/task_registry.def src/gradscope/nn/model_registry.def | sort -u)
pattern=$(printf '"%s"|' $names)
grep -rnE --include='*.cpp' --include='*.h' "${pattern%|}" src/gradscope \
  | grep -vE '^src/gradscope/(tasks|nn)/' | grep -vE '^[^:]+:[0-9]+: *//' || true
