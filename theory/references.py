"""Citation keys of `references.bib` (the repository's one bibliography), one name per work.

A derivation cites a work in a step's `citation` (``HE_2016 + ", Eq. (1)"``), in its `references`
(``(HE_2016,)``) or in prose (``[@he2016deep, §3.1]``); the entries themselves (authors, title, venue,
year, arXiv id) live only in `references.bib`.  A test checks that every key here is defined there.
"""

from __future__ import annotations

HE_2016 = "@he2016deep"  # He, Zhang, Ren, Sun, Deep Residual Learning for Image Recognition, CVPR 2016
HE_2016B = "@he2016identity"  # He, Zhang, Ren, Sun, Identity Mappings in Deep Residual Networks, ECCV 2016
HE_2015 = "@he2015delving"  # He, Zhang, Ren, Sun, Delving Deep into Rectifiers, ICCV 2015
SAXE_2014 = "@saxe2014exact"  # Saxe, McClelland, Ganguli, Exact solutions … deep linear networks, ICLR 2014
ARORA_2018 = "@arora2018optimization"  # Arora, Cohen, Hazan, On the Optimization of Deep Networks, ICML 2018
HARDT_MA_2017 = "@hardt2017identity"  # Hardt, Ma, Identity Matters in Deep Learning, ICLR 2017
KAWAGUCHI_2016 = "@kawaguchi2016deep"  # Kawaguchi, Deep Learning without Poor Local Minima, NeurIPS 2016
GOYAL_2017 = "@goyal2017accurate"  # Goyal et al., Accurate, Large Minibatch SGD, 2017
GOH_2017 = "@goh2017momentum"  # Goh, Why Momentum Really Works, Distill 2017
LOSHCHILOV_2019 = "@loshchilov2019decoupled"  # Loshchilov, Hutter, Decoupled Weight Decay Regularization, ICLR 2019
ESL_2009 = "@hastie2009elements"  # Hastie, Tibshirani, Friedman, The Elements of Statistical Learning, 2009
GOLUB_VAN_LOAN = "@golub2013matrix"  # Golub, Van Loan, Matrix Computations, 4th ed., 2013
DL_BOOK = "@goodfellow2016deep"  # Goodfellow, Bengio, Courville, Deep Learning, 2016
GLOROT_2010 = "@glorot2010understanding"  # Glorot, Bengio, Understanding the difficulty …, AISTATS 2010
GELU_2016 = "@hendrycks2016gelu"  # Hendrycks, Gimpel, Gaussian Error Linear Units (GELUs), 2016
IOFFE_2015 = "@ioffe2015batch"  # Ioffe, Szegedy, Batch Normalization, ICML 2015
