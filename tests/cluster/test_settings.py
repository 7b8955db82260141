"""The cluster settings reject what Kubeflow would."""

import pytest

from cluster import settings
from pipeline import configs


def test_pipeline_name_is_valid_for_kubeflow():
  assert settings.check_kubeflow_pipeline_name(
      configs.PIPELINE_NAME) == configs.PIPELINE_NAME
  with pytest.raises(ValueError, match="'Taxi_Tips': Kubeflow accepts only"):
    settings.check_kubeflow_pipeline_name('Taxi_Tips')


def test_every_component_gets_its_resources_or_the_default():
  ids = ['CsvExampleGen', 'Transform', 'Trainer', 'Evaluator']
  resources = settings.resources_by_component(ids)
  assert resources == {'CsvExampleGen': settings.DEFAULT_RESOURCES,
                       **settings.COMPONENT_RESOURCES}


def test_a_misspelt_component_in_the_resource_table_is_rejected(monkeypatch):
  monkeypatch.setitem(settings.COMPONENT_RESOURCES, 'Trainr',
                      settings.Resources(cpu=4, memory_gb=16))
  with pytest.raises(ValueError, match='names no component of the pipeline: '
                     'Trainr'):
    settings.resources_by_component(['Transform', 'Trainer', 'Evaluator'])
