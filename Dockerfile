# klaxon: multi-stage build, small non-root runtime image.
#   docker build -t klaxon .
#   docker run -p 9093:9093 -v klaxon-data:/data \
#     -v $PWD/examples/alertmanager.yml:/etc/klaxon/alertmanager.yml:ro klaxon
# The build context has no .git, so pass the build identity (shown by
# --version and /api/v2/status):
#   docker build --build-arg KLAXON_BUILD_REVISION=$(git rev-parse HEAD) \
#     --build-arg KLAXON_BUILD_BRANCH=$(git rev-parse --abbrev-ref HEAD) -t klaxon .
# KLAXON_BUILD_DATE defaults to the build's time, KLAXON_BUILD_USER to the builder.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
ARG KLAXON_BUILD_REVISION=""
ARG KLAXON_BUILD_BRANCH=""
ARG KLAXON_BUILD_DATE=""
ARG KLAXON_BUILD_USER=""
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY templates ./templates
COPY examples ./examples
COPY tests ./tests
RUN cargo build --release --locked --bin klaxon --bin amctl

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 65532 --home-dir /data --shell /usr/sbin/nologin klaxon \
 && mkdir -p /data /etc/klaxon \
 && chown klaxon /data
COPY --from=build /src/target/release/klaxon /src/target/release/amctl /usr/local/bin/
COPY examples/alertmanager.yml /etc/klaxon/alertmanager.yml
USER klaxon
VOLUME ["/data"]
EXPOSE 9093
ENTRYPOINT ["/usr/local/bin/klaxon"]
CMD ["--config.file=/etc/klaxon/alertmanager.yml", "--storage.path=/data"]
