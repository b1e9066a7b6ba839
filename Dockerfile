# The image of every cob service in docker-compose.yml (workers, `cob db upgrade`, the payer
# simulator, the codec server, the API). It copies every package pyproject.toml installs
# (tests/test_compose.py keeps the lists equal) and runs as a user of its own.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY cob cob
COPY contract contract
COPY ledger ledger
COPY payers payers
COPY activities activities
COPY workflows workflows
COPY workers workers
COPY audit audit
COPY console console
COPY cli cli
RUN pip install --no-cache-dir . \
    && useradd --uid 10001 --no-create-home cob \
    && mkdir /data && chown cob /data
USER cob
# cob's local state (statements, the simulator's state): owner-only, in a volume
ENV COB_HOME=/data
