"""Boltzmann machines: restricted (binary and Gaussian–Bernoulli) and deep, exact by enumeration, mean field with
and without a layer summed out, and layer-wise pretraining.

* ``_rbm``: energies, exact enumeration, variational free energies, exact-gradient fitting;
* ``_mean_field``: naive mean field on the whole model and on the marginal model;
* ``_dbm``: deep Boltzmann machines, their assembly from RBMs, pretraining and its lower bound;
* ``_smci``: spatial Monte Carlo integration for DBMs: pair-statistic estimators and learning loops.

References: takahashi2016meanfield, yasuda2016pretraining, hinton2006fast, salakhutdinov2012better,
yasuda2015smci, yasuda2018smci, yasuda2020smci.
"""

from dltheory.boltzmann._dbm import *  # noqa: F403
from dltheory.boltzmann._dbm import __all__ as _dbm_all
from dltheory.boltzmann._mean_field import *  # noqa: F403
from dltheory.boltzmann._mean_field import __all__ as _mean_field_all
from dltheory.boltzmann._rbm import *  # noqa: F403
from dltheory.boltzmann._rbm import __all__ as _rbm_all
from dltheory.boltzmann._smci import *  # noqa: F403
from dltheory.boltzmann._smci import __all__ as _smci_all

__all__ = [*_rbm_all, *_mean_field_all, *_dbm_all, *_smci_all]
