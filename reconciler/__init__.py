"""tenantry: the reconciler (pure core + thin shells)."""

__version__ = "0.1.0"  # the package's version (pyproject.toml reads it from here)
# The apiVersion of every desired-state document (here, not with the models, so that the
# parser, which runs before pydantic is imported, knows it too).
API_VERSION = "tenantry.dev/v1alpha1"
