# syntax=docker/dockerfile:1
# Baton: build a wheel in one stage, run it as a non-root user in a slim one.
FROM python:3.11-slim AS build
WORKDIR /src
RUN pip install --no-cache-dir --upgrade pip build
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY store ./store
COPY adapters ./adapters
COPY jobs ./jobs
COPY baton ./baton
RUN python -m build --wheel --outdir /wheels .

FROM python:3.11-slim AS run
# The code is the installed wheel (site-packages); /var/lib/baton holds only Baton's data (the
# SQLite file, the weekly charts), so a volume mounted there hides nothing of the image.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    BATON_HOST=0.0.0.0 \
    BATON_PORT=3000 \
    BATON_DATABASE_URL=sqlite+aiosqlite:////var/lib/baton/baton.db \
    BATON_DATA_DIR=/var/lib/baton
RUN groupadd --system --gid 10001 baton \
 && useradd --system --uid 10001 --gid baton --home-dir /home/baton --create-home baton \
 && install -d -o baton -g baton -m 0750 /var/lib/baton
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
WORKDIR /home/baton
USER baton
VOLUME ["/var/lib/baton"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('BATON_PORT', '3000'), timeout=4)"]
ENTRYPOINT ["baton"]
CMD ["serve"]
