"""Development tooling, not installed with the package: the development HTCondor pool's
helpers (:mod:`devtools.devpool`) and the checks of an estimator against simulated truth
(:mod:`devtools.validate`), the same flashes in every file format (:mod:`devtools.writers`),
used by ``tests/`` and ``bench/``."""
