"""tenantry: the reconciler (pure core + thin shells)."""
