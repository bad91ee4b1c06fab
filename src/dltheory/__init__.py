"""dltheory: the reusable mathematics behind a reproducible compendium on the theory of deep learning.

Science modules are named after the mathematics (``boltzmann``, ...); ``repro``, ``plotting`` and
``pipeline`` are the plumbing every notebook shares.
"""

__version__ = "0.1.0"
