"""The degradation study (He et al. 2016, Fig. 1/6/7, Table 6; He et al. 2016b, Table 1) as pure pieces.

`data` (the digits, CIFAR-10 from its python batches), `nets` (batched plain/residual MLPs and He et al.'s
CIFAR ResNet, with or without batch norm, shortcut variants), `fit` (the batched SGD loop: curves, plateau,
divergence, gradient norms at initialisation, layer responses), `plateau` and `rates` (the pure rules: when a
run's loss has plateaued; how the learning-rate grid is widened and when the best rate is interior), `summary`
(intervals over seeds, the typed findings that `hfx.evidence` and the published-vs-measured table read).
The named experiment is `numerics.experiments.degradation`.
"""
