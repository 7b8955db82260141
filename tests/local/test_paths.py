"""Where a local run writes."""

from local import paths as local_paths


def test_paths_live_under_one_output_root(tmp_path):
  paths = local_paths.LocalPaths(tmp_path)
  for path in (paths.pipeline_root, paths.metadata_path,
               paths.serving_model_dir, paths.log_dir):
    assert tmp_path in path.parents
