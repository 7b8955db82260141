"""Kubeflow Pipelines' `system` artifact types that this project outputs.

The KFP dashboard and Vertex AI display an artifact of type `system.HTML` on
the run's page. TFX's V2 compiler writes a custom artifact type's TYPE_NAME
as its schema title, and TFX's container entrypoint imports the type by that
title as a module path (kubeflow_v2_entrypoint_utils._retrieve_class_path):
so the type must be `HTML` in a top-level module named `system`, this one.
"""

from tfx.types import artifact


class HTML(artifact.Artifact):
  """A web page, written at the artifact's URI (a file, not a folder)."""
  TYPE_NAME = 'system.HTML'
