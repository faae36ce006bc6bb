"""The demos, each the same shape: a typed config with ``validate()``, ``run(config, log) -> Result``
and ``write_outputs(result, out)``.

* :mod:`~mxdl.demos.toy_demo` -- circles and diamonds: w = 2 by GD, SGD and mini-batch SGD;
* :mod:`~mxdl.demos.mnist_demo` -- the talk's closing MNIST demo;
* :mod:`~mxdl.demos.batch_size_study` -- one net trained with many batch sizes, side by side.
"""
