# The image every task of the compiled Kubeflow / Vertex AI pipeline runs.
# Build and push (see docs/kubeflow.md):
#   docker build -t gcr.io/<project>/taxi-tips:<IMAGE_TAG> . && docker push ...
FROM tensorflow/tfx:1.16.0

# Exactly the dependency set the tests ran against (requirements.lock); the
# base image's TFX is the same version, so this mostly aligns transitive pins.
COPY requirements.lock /tmp/requirements.lock
RUN python -m pip install --no-cache-dir --disable-pip-version-check \
      -r /tmp/requirements.lock \
 && python -m pip check \
 && rm /tmp/requirements.lock

# Only what the tasks import: the pipeline (its components, metrics and
# curated schema), the model code and KFP's artifact type names (system.py);
# not local/ or cluster/, which run on
# a person's machine (tests/cluster/test_dockerfile.py checks both ways).
# Must match cluster/settings.py's DEFAULT_CONTAINER_PROJECT_DIR.
WORKDIR /opt/taxi-tips
COPY pipeline/ pipeline/
COPY models/ models/
COPY system.py system.py

# RUN_PYTHON_SDK_IN_DEFAULT_ENVIRONMENT: as a Dataflow SDK container, Beam's
# boot runs this Python instead of creating a virtualenv in the root-owned
# /opt/apache/beam-venv, which user 1000 cannot write.
ENV PYTHONPATH=/opt/taxi-tips \
    TF_USE_LEGACY_KERAS=1 \
    HOME=/tmp \
    RUN_PYTHON_SDK_IN_DEFAULT_ENVIRONMENT=1

# The KFP launcher copies input artifacts to /gcs, /minio and /s3 as the
# container's user; KFP 2.3 and later mount empty volumes there, earlier
# releases do not (kubeflow/pipelines#10857).
RUN mkdir -p /gcs /minio /s3 && chown 1000:1000 /gcs /minio /s3

# A numeric non-root user, so pods started with runAsNonRoot: true run.
USER 1000:1000
