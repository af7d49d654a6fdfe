# The platform's image: the Dagster code server and every run (an ECS task, a Kubernetes Job),
# and on ECS the webserver and the daemon too (docs/deployment.md, "The image").
# Build from the repository root:
#   docker build -f deploy/platform.Dockerfile -t refill-platform:$(git rev-parse --short HEAD) .
# Not built by CI: the machines the tests run on have no Docker engine.
FROM python:3.11-slim

# Dagster's bookkeeping (docs/architecture.md, "Bookkeeping"), for whichever of the webserver,
# daemon and runs this image runs
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DAGSTER_HOME=/opt/refill/deploy/ecs REFILL_HOME=/mnt/refill \
    DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS=true DAGSTER_EVENT_BATCH_SIZE=1000

# LightGBM and XGBoost load OpenMP at import
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/refill
COPY . .
# editable, as the Makefile installs it: refill_assets/lib/dbt.py finds dbt_project/ two
# folders above itself, which a wheel in site-packages would not have beside it; the k8s
# extra: a run pod loads the instance, whose launcher is dagster_k8s
RUN pip install -e ".[k8s]" \
    && dagster-dbt project prepare-and-package --file refill_assets/lib/dbt.py

# the uid that owns the EFS access point's root folder (deploy/ecs/dagster.yaml); dbt writes
# its parse cache beside the project, Dagster its local artifacts under DAGSTER_HOME
RUN useradd --uid 1000 --create-home refill \
    && chown -R refill /opt/refill/dbt_project /opt/refill/deploy/ecs
USER refill

# DAGSTER_HOME: deploy/ecs here; the Helm chart mounts its own instance and sets its own
EXPOSE 4000
CMD ["dagster", "api", "grpc", "-m", "refill_assets.definitions", "-h", "0.0.0.0", "-p", "4000"]
