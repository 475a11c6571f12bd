"""The Kubernetes face of tenantry: a kopf operator and its validating admission webhook.

`reconcile` holds the plain functions (cluster objects → the core → statuses and events);
`admission` the webhook's decision; `handlers` the thin kopf handlers; `metrics` the
Prometheus series. Import `handlers` only to run the operator: it registers with kopf.
"""
