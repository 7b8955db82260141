"""Removes the empty "folder/" objects that TensorFlow leaves in GCS.

TensorFlow 2.16's GCS file system makes a folder by writing an empty object
whose name ends in "/" (`CreateDir` in tsl's gcs_file_system.cc), so every
folder TFX makes under an output artifact (`Split-train/`,
`Format-Serving/`, `transform_fn/` ...) leaves one. The open-source KFP
launcher copies each input artifact to the pod's disk before the task runs
(`downloadArtifacts` in `backend/src/v2/component/launcher_v2.go`) and
writes such an object as a file, after which the folder of the same name
cannot be made: the task fails with "mkdir ...: not a directory"
(kubeflow/pipelines#13476). GCS has no folders; reading by prefix needs no
markers, so removing them changes nothing else.
"""

from typing import Iterable, List


def _gcs_location(uri: str):
  """(bucket, object prefix) of a gs:// URI, or None for another scheme."""
  if not uri.startswith('gs://'):
    return None
  bucket, _, prefix = uri[len('gs://'):].partition('/')
  return bucket, prefix.rstrip('/')


def remove(uris: Iterable[str], client=None) -> List[str]:
  """Deletes the empty objects ending in "/" at and under each gs:// URI.

  Args:
    uris: artifact URIs; those not on GCS are skipped.
    client: a google.cloud.storage Client; the default one if None.

  Returns:
    The gs:// names of the objects deleted.
  """
  locations = [loc for loc in map(_gcs_location, uris) if loc]
  if not locations:
    return []
  if client is None:
    from google.cloud import storage  # pylint: disable=g-import-not-at-top
    client = storage.Client()
  removed = []
  for bucket, prefix in locations:
    for blob in client.list_blobs(bucket, prefix=f'{prefix}/'):
      if blob.name.endswith('/') and not blob.size:
        blob.delete()
        removed.append(f'gs://{bucket}/{blob.name}')
  return removed
