FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY cob cob
COPY ledger ledger
COPY cli cli
COPY workflows workflows
COPY activities activities
COPY payers payers
COPY workers workers
RUN pip install --no-cache-dir .
