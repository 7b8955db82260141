"""The speed-ups of local runs: three of TFX's Beam steps computed in process.

Each of the three is computed in the step's own process.

On one machine a Beam pipeline costs more than the work it distributes, so a
local run (`create_pipeline(without_beam=True)`, what `local_runner.py`
passes) uses these in place of TFX's executors; Kubeflow and Vertex AI run
TFX's. Each reads and writes exactly what TFX's component does, so every
step downstream is the same. `local_runner.py --with-beam` turns all three
off; docs/performance.md, "Steps computed in the run's process", has what
each gains.

| module | replaces | how | proven equal by |
| --- | --- | --- | --- |
| statistics_gen/ | TFX's StatisticsGen (TFDV on Beam) | TFDV's combiners over record batches | tests/pipeline/test_statistics_gen.py |
| transform/ | TFX's Transform (tf.Transform on Beam) | tf.Transform's analysis graph evaluated batch by batch | tests/pipeline/test_transform.py |
| evaluator/ | TFX's Evaluator (TFMA on Beam) | the histogram metrics per slice over record batches | tests/pipeline/test_evaluator.py |

record_batches.py is how each reads an Examples split. What one of them does
not compute (an analyzer, a metric) it refuses by name when the pipeline is
built or run, pointing to `--with-beam`.
"""
