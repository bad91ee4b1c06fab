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
# three critics on a 2-D mixture, over several seeds side by side, and measure how smooth each critic is. The
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
near_miss_factor = 1.1  # the near-miss control's step, in units of the stability bound 2 m lam
gan_steps = 600  # generator steps of each torch GAN (3 critic steps each)
gan_seeds = 3  # independent GAN runs per critic, trained side by side
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
# objectives ($m\lambda/2$, a quarter of the inf-convolved loss's stability bound $2m\lambda$); step $1/L$ for MMD.

# %%
target = data.gaussian_ring(m, session.rng_for("target"))
start = 0.5 * session.rng_for("start").normal(size=(m, 2)) + np.array([3.0, 0.0])
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
near = target + 1e-6 * session.rng_for("near").normal(size=target.shape)
measured_smoothness = {name: [gan.gradient_lipschitz(loss, near, r, session.rng_for("probes", i))
                              for i, r in enumerate(radii)] for name, loss in losses.items()}
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
# points $10^{-2}$ apart, which sees ReLU kinks), the generator's late-phase gradient norm (mean over the last
# fifth of the steps), and the W2 distance to the target with POT {cite}`flamary2021pot`. GAN training is chaotic
# in float32, so each figure is a mean over `gan_seeds` independent runs with a 95% interval. The runs of one critic
# train side by side (`gan.train_gans`: stacked parameters and batched products; each run draws everything from its
# own stream, and Adam acts elementwise, so each trains exactly as it would alone); the $i$-th run of every critic
# starts from the same generator network. That is what buys {glue:text}`gan_steps` generator steps over
# {glue:text}`gan_seeds` seeds inside the page's budget of 120 s of CPU (the table is reported, not graded, so its
# size is set by the budget, not by a power rule).
#
# *Condition (iii) is not measured for the stabilisers, and here is why.* It asks how the **optimal** critic's
# gradient moves when the generated distribution moves, $\lVert\nabla f^*_\mu - \nabla f^*_{\mu'}\rVert \le
# C\,W(\mu, \mu')$. For the three trained critics the optimum has no closed form: measuring (iii) would mean
# training a critic to optimality at two nearby generated distributions and differencing their gradients. A few
# hundred Adam steps on a non-convex critic do not reach a unique optimum, so that difference would measure where
# the optimiser stopped, not how the optimum moves. Doing it honestly needs a critic whose optimum is unique and
# computable, such as a kernel critic with an explicit RKHS-norm penalty (the optimum then solves a linear system),
# which is the paper's smooth construction rather than the stabilisers as trained here. For the particle objectives
# (iii) follows from the closed forms in the table above.

# %%
ring = torch.tensor(data.gaussian_ring(2000, session.rng_for("ring"), sd=0.05), dtype=torch.float32,
                    device=session.device)
reference = ring[:1000]
rows, samples = {}, {}
for variant in gan.VARIANTS:
    trained = gan.train_gans(ring, variant, [session.generator_for("gan", s) for s in range(gan_seeds)],
                             steps=gan_steps)
    rows[variant] = []
    for s, (gen, critic) in enumerate(zip(trained.generators, trained.critics, strict=True)):
        probe = session.generator_for(f"probe {variant}", s)
        with torch.no_grad():
            fake = repro.to_numpy(gen(torch.randn(1000, 2, generator=probe, device=session.device)))
        consts = gan.critic_constants(critic, reference, generator=probe)
        rows[variant].append([consts.lipschitz, consts.smoothness, trained.norms[s, -gan_steps // 5:].mean(),
                              gan.w2_distance(fake, repro.to_numpy(reference))])
        samples.setdefault(variant, fake)

# %%
figures = ("lipschitz", "smoothness", "late_gradient", "w2")
table = {v: {f: stats.mean_interval(np.array(r)[:, k]) for k, f in enumerate(figures)} for v, r in rows.items()}
print(f"{'critic':>17} " + " ".join(f"{f:>22}" for f in figures) + "   (mean over seeds, [min, max])")
for variant, r in rows.items():
    r = np.array(r)
    print(f"{variant:>17} " + " ".join(f"{mu:9.2g} [{lo:5.2g}, {hi:5.2g}]"
                                      for mu, lo, hi in zip(r.mean(0), r.min(0), r.max(0), strict=True)))

# %%
fig, axes = plotting.subplots(1, 3, width=8.5, height=2.9, sharex=True, sharey=True)
for ax, (variant, fake) in zip(axes, samples.items(), strict=True):
    ax.plot(*repro.to_numpy(reference).T, ".", color="0.8", ms=2)
    ax.plot(*fake.T, ".", ms=2, color=plotting.COLORS[1])
    ax.set(title=f"{variant} (W2 {table[variant]['w2'].value:.2g})", aspect="equal")
plotting.plt.show()

# %% [markdown]
# *What to see:* generated points (orange) against the target ring (grey) after the same number of steps, first
# seed; titles give the mean W2 over seeds. The table is the measured counterpart of conditions (i) and (ii) for
# each stabiliser: Lipschitz constant and smoothness constant of the trained critic. Condition (iii) is not
# measured for them (see above), so this part of the claim's table stays open.
#
# ## The check, and its controls
#
# From the [catalogue](../catalogue.md), for the particle generators: with W1 alone the gradient norm never drops below
# $0.5/\sqrt m$; with the inf-convolved loss it ends below $10^{-6}$; with MMD and step $1/L$ it ends below
# $10^{-2}$. Beside them we measured condition (ii) near the minimiser.
#
# **Evidence** (what descent could fail to do): the inf-convolved loss settles below $10^{-6}$, and MMD with step
# $1/L$ ends below $10^{-2}$.
#
# **Sanity** (true by construction of the closed forms): W1's gradient never drops below $0.5/\sqrt m$ (every
# particle off its target feels a unit vector over $m$, so the norm is exactly $1/\sqrt m$ until a particle lands
# exactly); W1's quotient grows at least tenfold as the probe shrinks a hundredfold (those unit vectors flip
# across the target); the inf-convolved quotient is at most $1/(m\lambda)$ (our probes stay inside the quadratic
# zone, where the gradient is exactly $(x - y)/(m\lambda)$, so the quotient *equals* the constant; outside it the
# Huber gradient's Jacobian is smaller, $1/(m r)$ with $r > \lambda$); and the MMD quotient is at most $L$, a bound
# we proved (and unit-test against the exact Hessian), loose by the factor printed above because it covers
# clustered particles. A measured quotient that broke either bound would mean a bug, not a false claim.
#
# *Sizes.* The particle runs are deterministic given the seed; 400 steps take the inf-convolved loss to rounding
# level with a margin of six orders of magnitude, and MMD's final gradient norm sits well inside $10^{-2}$; the
# robustness page shows both margins at seeds 1 to 3.
#
# **Controls**, the same checks on a run that breaks the step condition:
#
# - *Near miss:* the inf-convolved loss with the step {glue:text}`near_miss_factor` $\times 2m\lambda$, just
#   above the stability bound. Inside its quadratic zone a particle's offset from its target is multiplied by
#   $1 - \text{step}/(m\lambda) < -1$ each step, so no particle can settle on its target: the convergence check
#   must fail, while every sanity check (the other objectives) holds.
# - *Far:* the inf-convolved loss with $\lambda/100$ at the main step, 25 times the bound.

# %%
def f3_checks(norms, quotients, bounds, m):
    """The page's checks from the gradient norms per step of the three particle runs (W1, inf-convolved, MMD), the
    measured smoothness quotients at the two radii, and the constants of the two smooth objectives."""
    (w1, huber, mmd), (w1_q, huber_q, mmd_q) = norms, quotients
    return {
        "inf_convolved_converges": repro.evidence(huber[-1], "<", 1e-6),
        "mmd_converges": repro.evidence(mmd[-1], "<", 1e-2),
        "w1_not_stationary": repro.sanity(w1.min() * np.sqrt(m), ">=", 0.5),
        "w1_gradient_jumps": repro.sanity(w1_q[1] / w1_q[0], ">=", 10),
        "inf_convolved_smooth": repro.sanity(max(huber_q) / bounds[0], "<=", 1 + 1e-6),
        "mmd_smooth": repro.sanity(max(mmd_q) / bounds[1], "<=", 1),
    }

# %%
norms = [r[2] for r in runs.values()]
quotients, bounds = list(measured_smoothness.values()), (1 / (m * lam), L)
checks = f3_checks(norms, quotients, bounds, m)
near_step = near_miss_factor * 2 * m * lam
_, _, near_norms = gan.descend(losses["W1, inf-convolved"], start, near_step, steps)
_, _, far_norms = gan.descend(lambda x: gan.smoothed_w1_loss(x, target, lam / 100), start, m * lam / 2, steps)
control_near = f3_checks([norms[0], near_norms, norms[2]], quotients, bounds, m)
control_far = f3_checks([norms[0], far_norms, norms[2]], quotients, bounds, m)
repro.glue("near_miss_factor", near_miss_factor)

# %%
# The particle checks grade the claim; the stabilisers' table lacks condition (iii), so at best it is partial.
verdict = repro.grade(checks, cap="partially reproduced",
                      reason="condition (iii) of the trained stabilisers' critics is not measured")
controls = {
    "step_just_above_bound": repro.control(
        f"inf-convolved W1 with step {near_miss_factor} x 2 m lambda, just above the stability bound", control_near,
        {"final_gradient_norm_times_sqrt_m": near_norms[-1] * np.sqrt(m)}, kind="near miss"),
    "step_25x_bound": repro.control(
        "inf-convolved W1 with lambda/100 at the same step (25 x the stability bound)", control_far,
        {"final_gradient_norm_times_sqrt_m": far_norms[-1] * np.sqrt(m)}, kind="far"),
}

# %%
repro.record_claim(
    "F3",
    title="Smooth optimal discriminators let the generator's gradient descent settle",
    status=verdict,
    criterion="particle generator: W1 gradient norm never below 0.5/sqrt(m); inf-convolved W1 ends below 1e-6; "
              "Gaussian MMD with step 1/L ends below 1e-2 (added: measured smoothness near the minimiser, W1's "
              "quotient grows >= 10x as the probe shrinks 100x, the others stay below their constants)",
    checks=checks,
    measured={
        "w1_min_gradient_norm_times_sqrt_m": checks["w1_not_stationary"].value,
        "inf_convolved_final_below_1e-6": int(checks["inf_convolved_converges"].passed),
        "mmd_final_gradient_norm": checks["mmd_converges"].value,
        "w1_quotient_growth": checks["w1_gradient_jumps"].value,
        "inf_convolved_quotient_over_constant": checks["inf_convolved_smooth"].value,
        "mmd_quotient_over_constant": checks["mmd_smooth"].value,
        **{f"gan_{v.split()[0]}_{f}": repro.measure(i.value, tol=2 * i.sem,
                                                    basis=f"2 standard errors, {gan_seeds} seeds")
           for v, row in table.items() for f, i in row.items()},
        "gan_seeds": gan_seeds,
        "gan_steps": gan_steps,
    },
    controls=controls,
)

# %% [markdown]
# What the verdict rests on: the checks, and the near miss failing the evidence while passing every sanity check.

# %%
assert all(c.passed for c in checks.values()), checks
near = controls["step_just_above_bound"]
assert near.sanity_passed and not near.passed_check, near

# %% [markdown]
# ## What we found
#
# Status: **{glue:md}`status`**: every check of the particle generators holds, but the claim's table of which
# condition each stabiliser meets is only measured for conditions (i) and (ii); condition (iii) of the trained
# critics is not measured (why, above), so that part is not reproduced. With the discriminator solved exactly,
# the picture is as the paper describes.
# Under W1 the generator's gradient never shrinks (its smallest norm is
# {glue:text}`w1_min_gradient_norm_times_sqrt_m:.3f` $/\sqrt m$): every particle is pulled by a unit vector until
# it lands exactly on its target, which a fixed step never achieves, and near the minimiser its gradient quotient
# grew {glue:text}`w1_quotient_growth:.0f`-fold as the probe shrank a hundredfold, the signature of a gradient that
# jumps. Inf-convolving the critic makes the pull fade near the target: its measured quotient is
# {glue:text}`inf_convolved_quotient_over_constant:.3f` of the constant $1/(m\lambda)$ (equal by construction
# inside the quadratic zone), and descent converges to rounding level. Gaussian MMD measured
# {glue:text}`mmd_quotient_over_constant:.3f` of our constant $L$, and descent with step $1/L$ became stationary
# (final norm {glue:text}`mmd_final_gradient_norm:.1e`), although at a point that does not match the target.
#
# The step condition is sharp. With the step only {glue:text}`near_miss_factor` times the bound $2m\lambda$ (near
# miss), the inf-convolved loss did not settle: its final gradient norm was
# {glue:text}`step_just_above_bound.final_gradient_norm_times_sqrt_m:.2f` $/\sqrt m$, and at 25 times the bound
# (far) {glue:text}`step_25x_bound.final_gradient_norm_times_sqrt_m:.2f` $/\sqrt m$. Smoothness is what lets
# descent settle, given a step that respects it.
#
# The torch GANs add a measured counterpart and a caution. Over {glue:text}`gan_seeds` seeds of
# {glue:text}`gan_steps` generator steps, the gradient-penalty ReLU critic's gradient jumps between points
# $10^{-2}$ apart (smoothness constant {glue:text}`gan_gradient_smoothness:.3g`) while the softplus critic's
# smoothness constant is {glue:text}`gan_smooth_smoothness:.2g`; the weight-clipped ReLU critic is nearly flat
# (Lipschitz constant {glue:text}`gan_plain_lipschitz:.2g`), so its kinks are small in absolute terms. Mean W2 to
# the target: {glue:text}`gan_smooth_w2:.2f` (smooth), {glue:text}`gan_gradient_w2:.2f` (gradient penalty) and
# {glue:text}`gan_plain_w2:.2f` (plain); late gradient norms {glue:text}`gan_smooth_late_gradient:.2g`,
# {glue:text}`gan_gradient_late_gradient:.2g` and {glue:text}`gan_plain_late_gradient:.2g` (intervals in the table
# above). The theory is about stationarity under an optimal discriminator; a trained critic, a finite budget and
# our stand-in for the RKHS penalty are outside it, and we do not claim the GANs confirm it. Stationarity is also
# not success: MMD's descent became stationary with particles stranded far from the target.
