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
# # F3 · Smooth optimal discriminators let the generator's gradient descent settle
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
# objectives, and measure how smooth each objective really is near its minimiser. Then train small torch GANs with
# three critics on a 2-D mixture, over several seeds, and measure how smooth each critic really is. The
# conditions are *sufficient* for convergence: the page tests that they hold where claimed and that descent then
# settles, not that every objective failing them must fail.
#
# **What is ours.** The paper (ICLR 2020, arXiv:2002.04185) proves that the generator's
# gradient flow and descent converge to a stationary point under its conditions, and proposes the inf-convolved
# objective. Our particle setting, the Huber-cost realisation of the inf-convolution in the primal, the MMD
# smoothness constant and the torch GANs with their stand-in for an RKHS-norm penalty are ours.

# %% tags=["parameters"]
seed = 0
m = 64  # particles (and target points)
steps = 400  # particle gradient-descent steps
lam = 0.1  # inf-convolution (Moreau) parameter: the Huber cost is quadratic below this distance
bandwidth = 1.0  # Gaussian MMD kernel bandwidth
gan_steps = 400  # generator steps of each torch GAN (3 critic steps each)
gan_seeds = 3  # independent GAN runs per critic
device = "cpu"

# %%
import numpy as np
import torch

from dltheory import data, gan, plotting, repro, stats

session = repro.setup(seed, device=device)

# %% [markdown]
# ## Three conditions and three objectives
#
# The generator loss is $J(x) = D(\mu_x, \nu)$, the divergence at the optimal discriminator $f^*_\mu$, and its
# gradient moves each generated point along $\nabla f^*_\mu$. Gradient descent with a fixed step settles when $J$
# is smooth, which asks that $f^*_\mu$ be (i) Lipschitz in $x$, (ii) smooth in $x$ (a Lipschitz gradient) and
# (iii) stable in $\mu$ (its gradient Lipschitz in the generated distribution).
#
# What the closed forms say for our three objectives (the smoothness constants are *measured* below):
#
# | objective | (i) | (ii) | (iii) | what gradient descent should do |
# |---|---|---|---|---|
# | Wasserstein-1 | yes | no: $\lvert\nabla f^*\rvert = 1$ up to the target | no | each particle keeps a gradient of norm $1/m$; never stationary |
# | W1, critic inf-convolved with $\lVert\cdot\rVert^2/2\lambda$ | yes | yes, constant $1/\lambda$ | yes, between plan switches | converges with step below $2m\lambda$ |
# | Gaussian MMD | yes | yes | yes | converges with step $1/L$, $L = 6/(m s^2)$ |
#
# *The inf-convolution in the primal.* Replacing the critic by its Moreau envelope turns the transport cost
# $r = \lVert x - y \rVert$ into the Huber cost, $r^2/2\lambda$ below $\lambda$ and $r - \lambda/2$ above, so the pull
# on a particle fades linearly as it nears its target instead of staying at full strength.
#
# *The MMD constant (our derivation).* The Gaussian kernel's Hessian has norm at most $1/s^2$. The
# particle-particle term of $\mathrm{MMD}^2$ has a block-Laplacian Hessian over the $m$ particles, weights
# $2/m^2$, of norm at most $2 (m-1) \cdot 2/(m^2 s^2) < 4/(m s^2)$; the particle-target term adds at most
# $2/(m s^2)$; so $L = 6/(m s^2)$.

# %% [markdown]
# ## Particle generators against optimal discriminators
#
# Target: $m$ points of a ring of eight Gaussians. Start: a blob off to the side. Same step for the two W1
# objectives ($m\lambda/2$); step $1/L$ for MMD.

# %%
rng = session.rng
target = data.gaussian_ring(m, rng)
start = 0.5 * rng.normal(size=(m, 2)) + np.array([3.0, 0.0])
L = gan.mmd_smoothness(m, bandwidth)
losses = {
    "Wasserstein-1": lambda x: gan.w1_loss(x, target),
    "W1, inf-convolved": lambda x: gan.smoothed_w1_loss(x, target, lam),
    "Gaussian MMD": lambda x: gan.mmd_loss(x, target, bandwidth),
}
step_size = {"Wasserstein-1": m * lam / 2, "W1, inf-convolved": m * lam / 2, "Gaussian MMD": 1 / L}
runs = {name: gan.descend(loss, start, step_size[name], steps) for name, loss in losses.items()}


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
# ## How smooth is each objective near its minimiser?
#
# Condition (ii) is measured, not assumed: at the minimiser (every particle on its target, up to $10^{-6}$) we
# perturb the particles by random steps of length $r$ and take the largest change of the gradient per unit step
# (`gan.gradient_lipschitz`). A smooth objective gives a quotient bounded as $r$ shrinks, below its constant; an
# objective whose gradient jumps gives a quotient that grows like $1/r$.

# %%
radii = (1e-2, 1e-4)
near = target + 1e-6 * rng.normal(size=target.shape)
measured_smoothness = {name: [gan.gradient_lipschitz(loss, near, r, rng) for r in radii]
                       for name, loss in losses.items()}
bound = {"W1, inf-convolved": 1 / (m * lam), "Gaussian MMD": L}
for name, q in measured_smoothness.items():
    print(f"{name:>18}: quotient {q[0]:.3g} at r = {radii[0]:g}, {q[1]:.3g} at r = {radii[1]:g}; "
          f"constant {bound.get(name, float('inf')):.3g}")

# %% [markdown]
# ## Small GANs with three critics, over seeds
#
# A generator and a critic (two hidden layers of 64) on 2000 samples of the same ring: a *plain* WGAN critic
# (ReLU, weights clipped), a *gradient-penalty* critic (ReLU), and a *smooth* critic (softplus, gradient penalty,
# squared-norm penalty on the weights standing in for the RKHS-norm penalty). After training we measure each
# critic's Lipschitz constant (largest gradient norm) and its smoothness (largest change of gradient between
# points $10^{-2}$ apart, which sees ReLU kinks), the generator's late-phase gradient norm, and the W2 distance to
# the target with POT {cite}`flamary2021pot`. GAN training is chaotic in float32, so each figure is a mean over
# `gan_seeds` independent runs with a 95% interval. Condition (iii), how the *optimal* critic moves with the
# generated distribution, is not measured for these trained critics: it would need optimal critics at two nearby
# distributions, which a few hundred training steps do not deliver.

# %%
ring = torch.tensor(data.gaussian_ring(2000, rng, sd=0.05), dtype=torch.float32)
rows = {v: [] for v in gan.VARIANTS}
samples = {}
for s in range(gan_seeds):
    for variant in gan.VARIANTS:
        gen, critic, norms = gan.train_gan(ring, variant, steps=gan_steps, generator=session.generator)
        with torch.no_grad():
            fake = gen(torch.randn(1000, 2, generator=session.generator, device=session.device)).cpu().numpy()
        consts = gan.critic_constants(critic, ring[:1000].to(session.device), generator=session.generator)
        rows[variant].append([consts.lipschitz, consts.smoothness, norms[-gan_steps // 5:].mean(),
                              gan.w2_distance(fake, ring[:1000].numpy())])
        samples.setdefault(variant, fake)
figures = ("lipschitz", "smoothness", "late_gradient", "w2")
table = {v: {f: stats.mean_interval(np.array(r)[:, k]) for k, f in enumerate(figures)} for v, r in rows.items()}
print(f"{'critic':>17} " + " ".join(f"{f:>22}" for f in figures) + "   (mean over seeds, [min, max])")
for variant, r in rows.items():
    r = np.array(r)
    print(f"{variant:>17} " + " ".join(f"{m:9.2g} [{lo:5.2g}, {hi:5.2g}]"
                                      for m, lo, hi in zip(r.mean(0), r.min(0), r.max(0), strict=True)))

# %%
fig, axes = plotting.subplots(1, 3, width=8.5, height=2.9, sharex=True, sharey=True)
for ax, (variant, fake) in zip(axes, samples.items(), strict=True):
    ax.plot(*ring[:1000].numpy().T, ".", color="0.8", ms=2)
    ax.plot(*fake.T, ".", ms=2, color=plotting.COLORS[1])
    ax.set(title=f"{variant} (W2 {table[variant]['w2'].value:.2g})", aspect="equal")
plotting.plt.show()

# %% [markdown]
# *What to see:* generated points (orange) against the target ring (grey) after the same number of steps, first
# seed; titles give the mean W2 over seeds. The table is the measured counterpart of conditions (i) and (ii) for
# each stabiliser: Lipschitz constant and smoothness constant of the trained critic. Condition (iii) is not
# measured for them (see above), so this part of the claim's table stays open.
#
# ## The check, and its control
#
# From `CLAIMS.md`, for the particle generators: with W1 alone the gradient norm never drops below
# $0.5/\sqrt m$; with the inf-convolved loss it ends below $10^{-6}$; with MMD and step $1/L$ it ends below
# $10^{-2}$. The first is true by construction (every particle off its target feels a unit vector over $m$): a
# sanity check, not evidence. The evidence is the other two together with the measured conditions: W1's gradient
# quotient grows at least tenfold as the probe shrinks a hundredfold (it jumps), while the inf-convolved and MMD
# quotients stay below their constants. The control breaks the step condition: the inf-convolved loss with
# $\lambda$ a hundred times smaller at the same step, far above $2m\lambda$, must not settle.

# %%
w1_q, huber_q, mmd_q = measured_smoothness.values()
checks = {
    "w1_not_stationary": bool(runs["Wasserstein-1"][2].min() >= 0.5 / np.sqrt(m)),
    "inf_convolved_converges": bool(runs["W1, inf-convolved"][2][-1] < 1e-6),
    "mmd_converges": bool(runs["Gaussian MMD"][2][-1] < 1e-2),
    "w1_gradient_jumps": bool(w1_q[1] >= 10 * w1_q[0]),
    "inf_convolved_smooth": bool(max(huber_q) <= bound["W1, inf-convolved"] * (1 + 1e-6)),
    "mmd_smooth": bool(max(mmd_q) <= L),
}
_, _, control_norms = gan.descend(lambda x: gan.smoothed_w1_loss(x, target, lam / 100), start, m * lam / 2, steps)
control_checks = {"inf_convolved_converges": bool(control_norms[-1] < 1e-6)}
print(checks, control_checks)

# %%
# The particle criteria decide the grade; the stabilisers' table lacks condition (iii), so at best this part is
# partial: we say so rather than grade a table we could not complete.
status = "partially reproduced" if all(checks.values()) else repro.grade(checks)
repro.record_claim(
    "F3",
    title="Smooth optimal discriminators let the generator's gradient descent settle",
    status=status,
    criterion="particle generator: W1 gradient norm never below 0.5/sqrt(m); inf-convolved W1 ends below 1e-6; "
              "Gaussian MMD with step 1/L ends below 1e-2 (added: measured smoothness near the minimiser, W1's "
              "quotient grows >= 10x as the probe shrinks 100x, the others stay below their constants)",
    checks=checks,
    measured={
        "w1_min_gradient_norm_times_sqrt_m": runs["Wasserstein-1"][2].min() * np.sqrt(m),
        "inf_convolved_final_below_1e-6": int(runs["W1, inf-convolved"][2][-1] < 1e-6),
        "mmd_final_gradient_norm": runs["Gaussian MMD"][2][-1],
        "w1_quotient_growth": w1_q[1] / w1_q[0],
        "inf_convolved_quotient_over_constant": max(huber_q) * m * lam,
        "mmd_quotient_over_constant": max(mmd_q) / L,
        **{f"gan_{v.split()[0]}_{f}": repro.measure(i.value, tol=2 * i.sem, basis=f"2 standard errors, {gan_seeds} seeds")
           for v, row in table.items() for f, i in row.items()},
        "gan_seeds": gan_seeds,
    },
    controls={"step_too_large": repro.control(
        "inf-convolved W1 with lambda/100 at the same step (step condition broken)", control_checks,
        {"final_gradient_norm_times_sqrt_m": control_norms[-1] * np.sqrt(m)})},
)

# %% [markdown]
# What the verdict rests on: the checks, and the control failing.

# %%
assert all(checks.values()), checks
assert not all(control_checks.values()), "descent settled although the step condition was broken"

# %% [markdown]
# ## What we found
#
# Status: **{glue:md}`status`**: every check of the particle generators holds, but the claim's table of which
# condition each stabiliser meets is only measured for conditions (i) and (ii); condition (iii) of the trained
# critics is not measured, so that part is not reproduced. With the discriminator solved exactly, the picture is as
# the paper describes.
# Under W1 the generator's gradient never shrinks (its smallest norm is {glue:text}`w1_min_gradient_norm_times_sqrt_m:.3f`
# $/\sqrt m$): every particle is pulled by a unit vector until it lands exactly on its target, which a fixed step
# never achieves, and near the minimiser its gradient quotient grew {glue:text}`w1_quotient_growth:.0f`-fold as the
# probe shrank a hundredfold, the signature of a gradient that jumps. Inf-convolving the critic makes the pull
# fade near the target: its measured quotient stays at {glue:text}`inf_convolved_quotient_over_constant:.3f` of
# the constant $1/(m\lambda)$, and descent converges to rounding level. Gaussian MMD measured
# {glue:text}`mmd_quotient_over_constant:.3f` of our constant $L$, and descent with step $1/L$ became stationary
# (final norm {glue:text}`mmd_final_gradient_norm:.1e`), although at a point that does not match the target.
# With the step condition broken (control), the smooth objective did not settle either: its final gradient norm
# was {glue:text}`step_too_large.final_gradient_norm_times_sqrt_m:.2f` $/\sqrt m$. Smoothness is what lets
# descent settle, given a step that respects it.
#
# The torch GANs add a measured counterpart and a caution. Over {glue:text}`gan_seeds` seeds, the
# gradient-penalty ReLU critic's gradient jumps between points $10^{-2}$ apart (smoothness constant
# {glue:text}`gan_gradient_smoothness:.3g`) while the softplus critic's does not
# ({glue:text}`gan_smooth_smoothness:.2g`); the weight-clipped ReLU critic is nearly flat (Lipschitz constant
# {glue:text}`gan_plain_lipschitz:.2g`), so its kinks are small in absolute terms. But smoothness did not
# make the smooth GAN the best: its mean W2 is {glue:text}`gan_smooth_w2:.2f` against
# {glue:text}`gan_gradient_w2:.2f` (gradient penalty) and {glue:text}`gan_plain_w2:.2f` (plain), and its late
# gradient norm {glue:text}`gan_smooth_late_gradient:.2g` against {glue:text}`gan_gradient_late_gradient:.2g` and
# {glue:text}`gan_plain_late_gradient:.2g` (intervals in the table above). The theory is about stationarity under
# an optimal discriminator; a trained critic, a finite budget and our stand-in for the RKHS penalty are outside
# it, and we do not claim the GANs confirm it. Stationarity is also not success: MMD's descent became stationary
# with particles stranded far from the target.
