"""The folder layout is the architecture.

Each layer imports only the layers below it (function-level imports
included).
"""

import ast

from pipeline import configs

# What each top-level package or script may import from this project.
ALLOWED = {
    'system': set(),
    'models': set(),
    'pipeline': {'models', 'system'},
    'local': {'models', 'pipeline'},
    'cluster': {'models', 'pipeline'},
    'serving': {'local', 'models', 'pipeline'},
    'bench': {'local', 'models', 'pipeline'},
    'local_runner': {'local', 'models', 'pipeline'},
    'kubeflow_runner': {'cluster'},
}


def _imports(path) -> set:
  names = set()
  for node in ast.walk(ast.parse(path.read_text())):
    if isinstance(node, ast.Import):
      names.update(alias.name.split('.')[0] for alias in node.names)
    elif isinstance(node, ast.ImportFrom) and node.level == 0:
      names.add(node.module.split('.')[0])
  return names


def test_no_import_runs_back_up():
  broken = []
  for path in sorted(configs.PROJECT_ROOT.glob('**/*.py')):
    relative = path.relative_to(configs.PROJECT_ROOT)
    layer = relative.parts[0] if len(relative.parts) > 1 else relative.stem
    if layer in ('.venv', 'tests', 'outputs'):
      continue
    assert layer in ALLOWED, f'{relative}: a new layer; place it in ALLOWED'
    wrong = (_imports(path) & set(ALLOWED)) - ALLOWED[layer] - {layer}
    broken += [f'{relative} imports {name}' for name in sorted(wrong)]
  assert broken == []
