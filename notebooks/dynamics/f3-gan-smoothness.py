# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # F3 · Which GAN objectives let the generator's gradient descent settle
#
# **The result.** Chu, Minami and Fukumizu asked when gradient descent on a GAN generator, facing an optimal
# discriminator, reaches a stationary point. Their answer is a set of smoothness conditions on the optimal
# discriminator, on how it moves with the input and with the generated distribution. The Wasserstein-1 critic
# is Lipschitz but not smooth and fails them; common stabilisers (gradient penalties, smooth activations) meet
# some; and an inf-convolution of the critic with a quadratic meets all {cite}`chu2020smoothness`. The report
# lists it third {cite}`report001`.
#
# **What we do.** Remove the discriminator's training from the picture by solving it exactly: a *particle
# generator* (m points moved by gradient descent) against the closed-form optimal discriminators of three
# objectives. Then train small torch GANs with three critics on a 2-D mixture and measure how smooth each critic
# really is. Only the paper's abstract and introduction were at hand; the three conditions below are our reading
# of its framework, and the inf-convolved objective is realised in our own way (a Huber transport cost).

# %% tags=["parameters"]
seed = 0
m = 64  # particles (and target points)
steps = 400  # particle gradient-descent steps
lam = 0.1  # inf-convolution (Moreau) parameter: the Huber cost is quadratic below this distance
bandwidth = 1.0  # Gaussian MMD kernel bandwidth
gan_steps = 600  # generator steps of each torch GAN (3 critic steps each)
device = "cpu"

# %%
import numpy as np
import torch

from dltheory import gan, plotting, repro

session = repro.setup(seed, device=device)

# %% [markdown]
# ## Three conditions and three objectives
#
# The generator loss is $J(x) = D(\mu_x, \nu)$, the divergence at the optimal discriminator $f^*_\mu$, and its
# gradient moves each generated point along $\nabla f^*_\mu$. Gradient descent with a fixed step settles when $J$
# is smooth, which asks that $f^*_\mu$ be (i) Lipschitz in $x$, (ii) smooth in $x$ (a Lipschitz gradient) and
# (iii) stable in $\mu$ (its gradient Lipschitz in the generated distribution).
#
# | objective | (i) | (ii) | (iii) | what gradient descent does |
# |---|---|---|---|---|
# | Wasserstein-1 | yes | no: $\lvert\nabla f^*\rvert = 1$ up to the target | no | each particle keeps a gradient of norm $1/m$; never stationary |
# | W1, critic inf-convolved with $\lVert\cdot\rVert^2/2\lambda$ | yes | yes, constant $1/\lambda$ | yes | converges with step below $m\lambda$ |
# | Gaussian MMD | yes | yes | yes | converges with step $1/L$, $L \le 4/(m s^2)$ |
#
# *The inf-convolution in the primal.* Replacing the critic by its Moreau envelope turns the transport cost
# $r = \lVert x - y \rVert$ into the Huber cost, $r^2/2\lambda$ below $\lambda$ and $r - \lambda/2$ above, so the pull
# on a particle fades linearly as it nears its target instead of staying at full strength.
#
# *The MMD constant (our derivation).* The Gaussian kernel's Hessian has norm at most $1/s^2$; the
# particle-particle term of $\mathrm{MMD}^2$ then contributes at most $2/(m s^2)$, and the particle-target term
# at most $2/(m s^2)$.

# %% [markdown]
# ## Particle generators against optimal discriminators
#
# Target: $m$ points of a ring of eight Gaussians. Start: a blob off to the side. Same step for the two W1
# objectives ($m\lambda/2$); step $1/L$ for MMD.

# %%
rng = session.rng
angles = rng.integers(0, 8, m) * np.pi / 4
target = np.c_[2 * np.cos(angles), 2 * np.sin(angles)] + 0.1 * rng.normal(size=(m, 2))
start = 0.5 * rng.normal(size=(m, 2)) + np.array([3.0, 0.0])
L = gan.mmd_smoothness(m, bandwidth)
runs = {
    "Wasserstein-1": gan.descend(lambda x: gan.w1_loss(x, target), start, m * lam / 2, steps),
    "W1, inf-convolved": gan.descend(lambda x: gan.smoothed_w1_loss(x, target, lam), start, m * lam / 2, steps),
    "Gaussian MMD": gan.descend(lambda x: gan.mmd_loss(x, target, bandwidth), start, 1 / L, steps),
}


def shown(v: float) -> str:
    """Rounding-level values print as a bound, so that printed figures are the same on every machine."""
    return f"{v:.3e}" if v >= 1e-12 else "< 1e-12"


for name, (_, values, norms) in runs.items():
    print(f"{name:>18}: final loss {shown(values[-1])}, gradient norm: smallest {shown(norms.min())}, "
          f"final {shown(norms[-1])}")

# %%
fig, axes = plotting.subplots(1, 2, width=8.5, height=3.4)
for name, (final, _, norms) in runs.items():
    axes[0].semilogy(np.maximum(norms, 1e-17), label=name)
axes[0].axhline(1 / np.sqrt(m), color="k", ls=":", lw=1, label=r"$1/\sqrt{m}$")
axes[0].set(xlabel="gradient-descent step", ylabel="generator gradient norm")
axes[0].legend(fontsize=8)
axes[1].plot(*target.T, "k+", ms=6, label="target")
for i, (name, (final, _, _)) in enumerate(runs.items()):
    axes[1].plot(*final.T, "o", ms=3, alpha=0.7, color=plotting.COLORS[i], label=name)
axes[1].set(aspect="equal", xlabel="$x_1$", ylabel="$x_2$")
plotting.plt.show()

# %% [markdown]
# *What to see:* left, the Wasserstein-1 gradient norm sits on $1/\sqrt m$ for ever (each particle jitters
# around its target, overshooting by the step), while the inf-convolved loss drops to rounding level once every
# particle is inside its quadratic zone, and MMD decays steadily. Right, both W1 variants end on the target
# points; MMD, smooth but not convex in the particles, ends at a stationary point that is not the target: the
# particles that started far away are stranded where the Gaussian kernel's pull has faded to nothing.
#
# ## Small GANs with three critics
#
# A generator and a critic (two hidden layers of 64) on 2000 samples of the same ring: a *plain* WGAN critic
# (ReLU, weights clipped), a *gradient-penalty* critic (ReLU), and a *smooth* critic (softplus, gradient penalty,
# squared-norm penalty on the weights standing in for the RKHS-norm penalty). After training we measure each
# critic's Lipschitz constant (largest gradient norm) and its smoothness (largest change of gradient between
# points $10^{-2}$ apart, which sees ReLU kinks), the generator's late-phase gradient norm, and the W2 distance to
# the target with POT {cite}`flamary2021pot`.

# %%
angles = rng.integers(0, 8, 2000) * np.pi / 4
ring = torch.tensor(np.c_[2 * np.cos(angles), 2 * np.sin(angles)] + 0.05 * rng.normal(size=(2000, 2)),
                    dtype=torch.float32)
table, samples = {}, {}
for variant in ("plain", "gradient penalty", "smooth"):
    gen, critic, norms = gan.train_gan(ring, variant, steps=gan_steps, generator=session.generator)
    with torch.no_grad():
        fake = gen(torch.randn(1000, 2, generator=session.generator)).numpy()
    consts = gan.critic_constants(critic, ring[:1000], generator=session.generator)
    # float32 GAN training is chaotic: two significant digits are what reproduces across machines
    row = dict(lipschitz=consts.lipschitz, smoothness=consts.smoothness, late_gradient=norms[-gan_steps // 5:].mean(),
               w2=gan.w2_distance(fake, ring[:1000].numpy()))
    table[variant] = {k: repro.significant(v, 2) for k, v in row.items()}
    samples[variant] = fake
print(f"{'critic':>17} {'Lipschitz':>10} {'smoothness':>11} {'late grad':>10} {'W2':>7}")
for variant, row in table.items():
    print(f"{variant:>17} {row['lipschitz']:10.2g} {row['smoothness']:11.2g} {row['late_gradient']:10.2g} "
          f"{row['w2']:7.2g}")

# %%
fig, axes = plotting.subplots(1, 3, width=8.5, height=2.9, sharex=True, sharey=True)
for ax, (variant, fake) in zip(axes, samples.items(), strict=True):
    ax.plot(*ring[:1000].numpy().T, ".", color="0.8", ms=2)
    ax.plot(*fake.T, ".", ms=2, color=plotting.COLORS[1])
    ax.set(title=f"{variant} (W2 {table[variant]['w2']:.2g})", aspect="equal")
plotting.plt.show()

# %% [markdown]
# *What to see:* generated points (orange) against the target ring (grey) after the same number of steps. The
# table above is the measured counterpart of the conditions: the ReLU critics have gradients that jump between
# nearby points (large smoothness constants), the softplus critic's gradient changes slowly.
#
# ## The check
#
# From `CLAIMS.md`, for the particle generators: with W1 alone the gradient norm never drops below
# $0.5/\sqrt m$; with the inf-convolved loss it ends below $10^{-6}$; with MMD and step $1/L$ it ends below
# $10^{-2}$. The torch GANs are reported, not asserted.

# %%
w1_min = runs["Wasserstein-1"][2].min()
smooth_final = runs["W1, inf-convolved"][2][-1]
mmd_final = runs["Gaussian MMD"][2][-1]
checks = dict(w1_not_stationary=bool(w1_min >= 0.5 / np.sqrt(m)), inf_convolved_converges=bool(smooth_final < 1e-6),
              mmd_converges=bool(mmd_final < 1e-2))
print(checks)
repro.record_claim(
    "F3",
    title="Generator gradient descent settles only when the optimal discriminator is smooth",
    status="reproduced" if all(checks.values()) else "not reproduced",
    criterion="particle generator: W1 gradient norm never below 0.5/sqrt(m); inf-convolved W1 ends below 1e-6; "
              "Gaussian MMD with step 1/L ends below 1e-2",
    measured={
        "w1_min_gradient_norm_times_sqrt_m": w1_min * np.sqrt(m),
        "inf_convolved_final_below_1e-6": int(smooth_final < 1e-6),
        "mmd_final_gradient_norm": mmd_final,
        **{f"gan_{v.split()[0]}_w2": row["w2"] for v, row in table.items()},
        **{f"gan_{v.split()[0]}_critic_smoothness": row["smoothness"] for v, row in table.items()},
    },
)
assert all(checks.values()), checks

# %% [markdown]
# ## What we found
#
# With the discriminator solved exactly, the picture is as the paper describes. Under W1 the generator's gradient
# never shrinks: every particle is pulled by a unit vector until it lands exactly on its target, which a fixed
# step never achieves, so the norm stays at $1/\sqrt m$ and the particles jitter for ever. Inf-convolving the
# critic makes the pull fade near the target, and descent converges to rounding level; Gaussian MMD is smooth with
# the constant we derived, and descent with step $1/L$ becomes stationary, although at a point that does not
# match the target exactly.
#
# The torch GANs add a measured counterpart and a caution. Measured on the trained critics, the ReLU critics
# are far from smooth while the softplus critic is smooth, in line with the conditions. But smoothness did not
# make the smooth GAN the best here: with its heavily penalised critic it learns slowest, is still diffuse after
# 600 steps, and has the largest late gradient norm and W2 distance of the three, while the gradient-penalty GAN
# fits the ring best. The theory is about stationarity under an optimal discriminator; a trained critic, a finite
# budget and our stand-in for the RKHS penalty are outside it. Stationarity is also not success: MMD's descent
# became stationary with particles stranded far from the target.
