"""A local run's ML Metadata store, opened for reading only.

A report or a query never changes what a run recorded.
"""

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2


def read_only_store(metadata_path: str) -> metadata_store.MetadataStore:
  """The SQLite store at metadata_path, read-only."""
  config = metadata_store_pb2.ConnectionConfig()
  config.sqlite.filename_uri = str(metadata_path)
  config.sqlite.connection_mode = (
      metadata_store_pb2.SqliteMetadataSourceConfig.READONLY)
  return metadata_store.MetadataStore(config)
