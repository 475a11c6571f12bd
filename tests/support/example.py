"""Documents tests add to the example repo (`desired-state/`)."""

# A new occupier moving into Manchester's empty studio, with one internet line.
ZETA = (
    "apiVersion: tenantry.dev/v1alpha1\nkind: Occupier\nmetadata: {name: zeta}\n"
    "spec: {displayName: Zeta Ltd}\n---\n"
    "apiVersion: tenantry.dev/v1alpha1\nkind: Contract\nmetadata: {name: zeta-mw}\n"
    "spec: {occupier: zeta, site: manchester-works, start: 2026-11-01, spaces: [studio-d]}\n"
    "---\napiVersion: tenantry.dev/v1alpha1\nkind: Service\nmetadata: {name: zeta-net}\n"
    "spec: {occupier: zeta, site: manchester-works, definition: internet-lan-100}\n"
)
