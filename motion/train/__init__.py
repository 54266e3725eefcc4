"""Training recipes for the motion prior (``python -m motion.train.prior``)."""
