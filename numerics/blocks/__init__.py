"""Batched blocks: many independent models as one tensor program, by topic.

* `spec`   the architecture (`BlockSpec`), the names of blocks, variants, activations, inits, targets;
* `init`   initial parameters (CPU generator, then any device);
* `stack`  forward pass and loss with autograd (any block, any device): the reference engine;
* `fused`  the fused CPU engine for dense stacks (loss and gradients in one native call);
* `data`   inputs with an exact covariance, spectra, target maps.

`numerics.models` re-exports the public names, the import surface the experiments use.
"""
