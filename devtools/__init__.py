"""Development tooling, not installed with the package: the development HTCondor pool's
helpers (:mod:`devtools.devpool`) and the checks of an estimator against simulated truth
(:mod:`devtools.validate`), used by ``tests/`` and ``bench/``."""
