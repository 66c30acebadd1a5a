# syntax=docker/dockerfile:1
#
# gatehouse in a container: a static binary (CGO_ENABLED=0, -trimpath, version stamped)
# on distroless's static image, which has CA certificates, time zones and a passwd entry
# for its non-root user (65532) and no shell or package manager.
#
#   docker build --build-arg VERSION=v1.2.3 -t gatehouse:v1.2.3 .
#   docker run --rm -p 8080:8080 -p 9090:9090 \
#     -v "$PWD/gatehouse.yaml:/etc/gatehouse/gatehouse.yaml:ro" gatehouse:v1.2.3
#
# The file must listen on 0.0.0.0 (server.listen: 0.0.0.0:8080, admin.listen:
# 0.0.0.0:9090) to be reached from outside the container, or the command can say so:
#   docker run ... gatehouse:v1.2.3 serve --config /etc/gatehouse/gatehouse.yaml \
#     --listen 0.0.0.0:8080 --admin 0.0.0.0:9090
# /var/cache/gatehouse is writable by the user, for cache.disk.path.
# deploy/dockerfile_test.go checks this file with buildkit's own parser and linter (no
# docker needed).

# GO_VERSION is the Go release that builds the binary: go.mod's go line.
ARG GO_VERSION=1.26.8

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# VERSION is what `gatehouse version` prints: --build-arg VERSION=v1.2.3.
ARG VERSION=dev
ARG TARGETOS=linux
ARG TARGETARCH=amd64
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/gatehouse-dev/gatehouse/internal/version.Version=${VERSION}" \
      -o /out/gatehouse ./cmd/gatehouse \
 && mkdir -p /out/cache

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gatehouse /usr/local/bin/gatehouse
COPY --from=build --chown=65532:65532 /out/cache /var/cache/gatehouse
USER 65532:65532
EXPOSE 8080 9090
ENTRYPOINT ["/usr/local/bin/gatehouse"]
CMD ["serve", "--config", "/etc/gatehouse/gatehouse.yaml"]
