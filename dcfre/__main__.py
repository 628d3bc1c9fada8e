import os

# The tracking loop is single-threaded by design; BLAS calls in it are tiny and multi-threaded
# BLAS only adds contention. Users can still override these from the environment.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from dcfre.cli import main  # noqa: E402

raise SystemExit(main())
