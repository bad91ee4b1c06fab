r"""Fisher information of wide random networks: its spectrum from order parameters, its empirical spectrum through
the dual (neural tangent kernel) Gram matrix, and natural-gradient steps with exact and approximate Fisher matrices.

The network is a fully connected net :math:`u^l = W^l h^{l-1} + b^l`, :math:`h^l = \varphi(u^l)`, ``h^0 = x``, with a
linear output :math:`f = u^L \in \mathbb R^C`, weights :math:`W^l_{ij} \sim \mathcal N(0, \sigma_w^2/M_{l-1})` and
biases :math:`b^l_i \sim \mathcal N(0, \sigma_b^2)`. Its Fisher matrix for unit-variance Gaussian output noise on
``T`` inputs is :math:`F = J^\top J / T`, with ``J`` the (TC, P) Jacobian of the outputs; its nonzero eigenvalues
are those of the (TC, TC) Gram matrix :math:`J J^\top / T`.

References: karakida2019universal (order parameters, m, s, lambda_max), karakida2019pathological (finite T),
amari2019fisher (unit-wise blocks, diagonal plus rank 2), karakida2020understanding (approximate natural gradient
in the NTK regime, one-step learning rates).

* ``network``: the network, its signals and Gram matrices, the empirical spectrum, the module for curvlinops;
* ``theory``: order parameters by Gaussian quadrature and the predicted spectrum;
* ``training``: gradient descent and natural-gradient steps, their one-step rates, checks of the approximations;
* ``unit``: the Fisher block of a single unit, diagonal plus rank 2.
"""

from dltheory.fisher.network import *  # noqa: F403
from dltheory.fisher.network import __all__ as _network_all
from dltheory.fisher.theory import *  # noqa: F403
from dltheory.fisher.theory import __all__ as _theory_all
from dltheory.fisher.training import *  # noqa: F403
from dltheory.fisher.training import __all__ as _training_all
from dltheory.fisher.unit import *  # noqa: F403
from dltheory.fisher.unit import __all__ as _unit_all

__all__ = [*_network_all, *_theory_all, *_training_all, *_unit_all]
