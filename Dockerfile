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
# curated schema) and the model code; not local/ or cluster/, which run on
# a person's machine (tests/cluster/test_dockerfile.py checks both ways).
# Must match cluster/settings.py's DEFAULT_CONTAINER_PROJECT_DIR.
WORKDIR /opt/taxi-tips
COPY pipeline/ pipeline/
COPY models/ models/

ENV PYTHONPATH=/opt/taxi-tips \
    TF_USE_LEGACY_KERAS=1 \
    HOME=/tmp

# A numeric non-root user, so pods started with runAsNonRoot: true run.
USER 1000:1000
