"""Compiles, deploys, runs and schedules the taxi-tips pipeline on a cluster.

It compiles the pipeline for Kubeflow Pipelines 2.x or Vertex AI, and
deploys, runs and schedules it on a Kubeflow Pipelines cluster.

The file `tfx pipeline create --engine=vertex --pipeline_path=...` loads:
with no command it compiles for Vertex AI. The commands are in
cluster/commands.py; `python kubeflow_runner.py --help` lists them.
"""

import os
import sys

# TFT and TFMA need Keras 2; this must be set before TensorFlow first loads.
os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from cluster import commands  # pylint: disable=g-import-not-at-top

if __name__ == '__main__':
  sys.exit(commands.main())
