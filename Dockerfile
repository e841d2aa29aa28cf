# syntax=docker/dockerfile:1
# roster's container image: roster serve, as a non-root user, with its data
# folder in a volume.
#
#   docker build --build-arg VERSION=$(packaging/version) --build-arg COMMIT=$(git rev-parse HEAD) -t roster .
#   docker run -d --name roster -p 127.0.0.1:8080:8080 -v roster-data:/var/lib/roster \
#       --env-file admin.env roster        # admin.env: ROSTER_ADMIN_PASSWORD=... (first start only)
#
# (make image does the build.) Arguments after the image name are added to
# roster serve's: -tls-cert /certs/cert.pem -tls-key /certs/key.pem, for
# instance, with the certificates mounted there.

ARG GO_VERSION=1.26.8

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build
ARG TARGETOS
ARG TARGETARCH
# The build context has no .git (.dockerignore): the version and commit
# come from here.
ARG VERSION=dev
ARG COMMIT=
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -buildvcs=false \
        -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
        -o /out/roster ./cmd/roster
# The data folder, made here because the final image has no shell: private
# to the nonroot user (65532), so that a new volume starts out that way.
# (COPY copies a folder's contents, not the folder: hence its parent.)
RUN install -d -m 0700 /out/var/lib/roster

# static-debian12: CA certificates, /etc/passwd with nonroot, tzdata; no
# shell, no package manager. roster needs nothing else (no cgo).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/roster /usr/bin/roster
COPY --from=build --chown=65532:65532 /out/var/lib/ /var/lib/
USER 65532:65532
ENV ROSTER_DATA=/var/lib/roster
# roster.db, secret.key and print-code.key: keep this volume, and back it
# up (the keys apart from the database).
VOLUME ["/var/lib/roster"]
EXPOSE 8080
ENTRYPOINT ["/usr/bin/roster", "serve", "-data", "/var/lib/roster", "-listen", "0.0.0.0:8080"]
