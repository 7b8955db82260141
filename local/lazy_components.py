"""`tfx.components` with each component imported when first named.

The package's `__init__` imports all sixteen of TFX's components. A local run
uses six, and two of the others load large libraries it never calls: the
Tuner loads KerasTuner and with it Keras 3, the InfraValidator the
Kubernetes client (time and memory in docs/performance.md, "TFX's
components imported on first use"). Any import of a
TFX component module runs that `__init__` first, TFX's own input resolution
included.
"""

import ast
import importlib
import importlib.util
from pathlib import Path
import sys

_PACKAGE = 'tfx.components'


def _is_docstring(node: ast.stmt) -> bool:
  return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
          and isinstance(node.value.value, str))


def _names_by_module(init_source: str):
  """{name: module} from an `__init__` made of `from M import Name` lines.

  Besides those lines it may have its docstring and `__all__`; None if it
  does anything else.
  """
  names = {}
  for node in ast.parse(init_source).body:
    if isinstance(node, ast.ImportFrom) and node.level == 0:
      names.update({alias.asname or alias.name: node.module
                    for alias in node.names})
    elif not (_is_docstring(node) or
              (isinstance(node, ast.Assign) and
               [getattr(t, 'id', None) for t in node.targets] == ['__all__'])):
      return None
  return names


def defer_tfx_components() -> bool:
  """Installs `tfx.components` as a package whose names import on first use.

  It uses PEP 562's module `__getattr__`: `from tfx.components import
  Trainer` gives the same class as before, its submodules import as before.

  Returns:
    Whether it did; not if the package is imported already or its
    `__init__` does more than import names (another TFX version).
  """
  if _PACKAGE in sys.modules:
    return False
  spec = importlib.util.find_spec(_PACKAGE)
  names = _names_by_module(Path(spec.origin).read_text())
  if names is None:
    return False
  package = importlib.util.module_from_spec(spec)

  def __getattr__(name):  # pylint: disable=invalid-name
    if name not in names:
      raise AttributeError(f'module {_PACKAGE!r} has no attribute {name!r}')
    value = getattr(importlib.import_module(names[name]), name)
    setattr(package, name, value)
    return value

  package.__getattr__ = __getattr__
  package.__all__ = list(names)
  sys.modules[_PACKAGE] = package
  setattr(sys.modules['tfx'], 'components', package)
  return True
