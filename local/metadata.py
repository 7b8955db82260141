"""A local run's ML Metadata store, opened for reading only.

A report or a query never changes what a run recorded.
"""

import os
from typing import List

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2


def read_only_store(metadata_path: str) -> metadata_store.MetadataStore:
  """The SQLite store at metadata_path, read-only."""
  config = metadata_store_pb2.ConnectionConfig()
  config.sqlite.filename_uri = str(metadata_path)
  config.sqlite.connection_mode = (
      metadata_store_pb2.SqliteMetadataSourceConfig.READONLY)
  return metadata_store.MetadataStore(config)


def run_ids(metadata_path: str) -> List[str]:
  """Every run's id in the store, oldest first."""
  if not os.path.exists(metadata_path):
    return []
  runs = read_only_store(metadata_path).get_contexts_by_type('pipeline_run')
  return [c.name for c in sorted(runs, key=lambda c: c.create_time_since_epoch)]
