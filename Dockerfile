# The healthscore worker image, for docker-compose.yml.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY scoring ./scoring
COPY stream ./stream
COPY config ./config
RUN pip install --no-cache-dir .
ENV HEALTHSCORE_WEB_HOST=0.0.0.0
ENV HEALTHSCORE_CONFIG_DIR=/app/config
EXPOSE 6066
ENTRYPOINT ["healthscore"]
CMD ["worker"]
