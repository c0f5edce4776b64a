"""Reading and writing results (h5py is imported on first use)."""


def load(path):
    """Open a neurosim result file lazily; see :class:`neurosim.io.hdf5.Results`."""
    from .hdf5 import load as _load

    return _load(path)
