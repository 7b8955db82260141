"""The folder markers TensorFlow leaves in GCS, removed from a task's outputs.

Tested on a local GCS emulator (gcp-storage-emulator, JSON API).
"""

import os
import socket

from gcp_storage_emulator.server import create_server
import pytest

from pipeline import directory_markers


@pytest.fixture
def gcs(monkeypatch):
  """A google.cloud.storage client of an in-memory GCS on loopback."""
  with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
  server = create_server('127.0.0.1', port, in_memory=True)
  server.start()
  monkeypatch.setenv('STORAGE_EMULATOR_HOST', f'http://127.0.0.1:{port}')
  from google.cloud import storage  # pylint: disable=g-import-not-at-top
  try:
    yield storage.Client()
  finally:
    server.stop()


def test_markers_go_files_stay_other_artifacts_are_untouched(gcs):
  bucket = gcs.create_bucket('bucket')
  model = 'root/run/Trainer/1/model'
  # What tf.io.gfile.makedirs and a SavedModel export leave (CreateDir
  # writes "<folder>/" with no content).
  for name, content in [
      (f'{model}/', b''), (f'{model}/Format-Serving/', b''),
      (f'{model}/Format-Serving/variables/', b''),
      (f'{model}/Format-Serving/saved_model.pb', b'graph'),
      (f'{model}/Format-Serving/variables/variables.index', b'index'),
      ('root/run/Other/1/examples/', b''),
      (f'{model}-run/', b'')]:
    bucket.blob(name).upload_from_string(content)
  removed = directory_markers.remove([f'gs://bucket/{model}', '/local/path'])
  assert sorted(removed) == [
      f'gs://bucket/{model}/', f'gs://bucket/{model}/Format-Serving/',
      f'gs://bucket/{model}/Format-Serving/variables/']
  assert sorted(b.name for b in gcs.list_blobs('bucket')) == sorted([
      f'{model}-run/', f'{model}/Format-Serving/saved_model.pb',
      f'{model}/Format-Serving/variables/variables.index',
      'root/run/Other/1/examples/'])


def test_no_gcs_uri_needs_no_client():
  assert directory_markers.remove(['/data/examples', 'minio://b/x']) == []
  assert 'STORAGE_EMULATOR_HOST' not in os.environ
