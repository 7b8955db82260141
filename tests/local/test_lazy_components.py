"""local/lazy_components.py: `tfx.components` gives TFX's own classes.

And a local run's imports leave the unused components' libraries unloaded.
"""

import json
import subprocess
import sys

from local import lazy_components
from pipeline import configs

# In a fresh interpreter: this test process has imported tfx.components.
_PROBE = '''
import json, sys
from local import lazy_components
deferred = lazy_components.defer_tfx_components()
from tfx.components import Evaluator, Trainer
from tfx.components.evaluator.component import Evaluator as EvaluatorClass
from tfx.components.trainer.component import Trainer as TrainerClass
import tfx.components
try:
  tfx.components.NoSuchComponent
  missing = 'resolved'
except AttributeError as e:
  missing = str(e)
# What local_runner.py imports before the run.
from tfx.orchestration import metadata
from local import dag_runner, html_report, run_summary
from pipeline import pipeline
print(json.dumps({
    'deferred': deferred,
    'same_classes': Evaluator is EvaluatorClass and Trainer is TrainerClass,
    'all': sorted(tfx.components.__all__),
    'missing': missing,
    'loaded': [m for m in ('keras_tuner', 'kubernetes', 'keras',
                           'tfx.components.tuner.component',
                           'tfx.components.infra_validator.component')
               if m in sys.modules],
}))
'''


def test_components_resolve_on_use_and_the_unused_stay_unloaded():
  found = json.loads(subprocess.run(
      [sys.executable, '-c', _PROBE], cwd=configs.PROJECT_ROOT, check=True,
      capture_output=True, text=True).stdout.splitlines()[-1])
  assert found['deferred']
  assert found['same_classes']
  assert {'Evaluator', 'Trainer', 'Tuner', 'InfraValidator'} <= set(
      found['all'])
  assert found['missing'] == (
      "module 'tfx.components' has no attribute 'NoSuchComponent'")
  assert found['loaded'] == []


def test_an_init_that_does_more_than_import_names_is_left_alone():
  assert lazy_components._names_by_module(
      '"""Doc."""\nfrom a.b import C\nfrom a.d import E as F\n'
      '__all__ = ["C", "F"]\n') == {'C': 'a.b', 'F': 'a.d'}
  assert lazy_components._names_by_module(
      'from a.b import C\nC.register()\n') is None
  assert lazy_components._names_by_module('from . import c\n') is None


def test_nothing_changes_once_the_package_is_imported():
  import tfx.components  # pylint: disable=g-import-not-at-top,unused-import
  assert not lazy_components.defer_tfx_components()
