# The healthscore worker image, for docker-compose.yml.
# The wheel is built with a C compiler (mypyc compiles the scoring core, setup.py); the image
# that runs it has none.
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.py README.md LICENSE ./
COPY scoring ./scoring
COPY stream ./stream
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
COPY config ./config
ENV HEALTHSCORE_WEB_HOST=0.0.0.0
ENV HEALTHSCORE_CONFIG_DIR=/app/config
EXPOSE 6066
ENTRYPOINT ["healthscore"]
CMD ["worker"]
