# The tenantry operator image (charts/tenantry): slim, non-root, with the extras a cluster
# needs — [operator] (kopf), [devices] (SSH drivers), [postgres] (the shared ledger).
#   docker build -t ghcr.io/tenantry/tenantry:0.1.0 .
# Checked by hadolint (tests/test_dockerfile.py).

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/tenantry
COPY pyproject.toml README.md ./
COPY reconciler ./reconciler
COPY drivers ./drivers
RUN /opt/tenantry/bin/pip install ".[operator,devices,postgres]"

FROM python:3.11-slim-bookworm
# openssh-client: the Open vSwitch driver and scrapli's system transport run `ssh`. Debian's
# security updates move the exact versions, so they are not pinned.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends openssh-client \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 tenantry \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /var/lib/tenantry tenantry \
    && mkdir -p /var/lib/tenantry \
    && chown 10001:10001 /var/lib/tenantry
COPY --from=build /opt/tenantry /opt/tenantry
ENV PATH=/opt/tenantry/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    TENANTRY_LEDGER=/var/lib/tenantry/state.db TENANTRY_RENDER_DIR=/var/lib/tenantry/rendered
WORKDIR /var/lib/tenantry
# the chart's runAsUser/runAsGroup
USER 10001:10001
EXPOSE 9443 9090 8080
ENTRYPOINT ["tenantry"]
CMD ["operator", "--standalone", "--liveness=http://0.0.0.0:8080/healthz"]
