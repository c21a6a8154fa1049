"""publisher: a multi-channel publishing and media-matrix scheduler for newsrooms with a review chain."""

__version__ = "0.1.0"
