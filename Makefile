# roster's two entry points are `make demo` (the main job, end to end) and
# `make test` (the whole suite). Both bring the directory lab up first.

GO ?= go
export PATH := $(PATH):/usr/local/go/bin

.PHONY: demo test lab lab-down build check release deb nfpm goinstall-check test-deb image

build:
	$(GO) build -o bin/roster ./cmd/roster

lab:
	lab/lab up

lab-down:
	lab/lab down

# The main job: a real sync from the lab's Samba AD over LDAPS into the
# embedded SQLite user base, configured exactly as the founding article
# does, as an ordinary account, with the certificate verified.
demo: lab build
	lab/demo

# gofmt and vet first: they are quick and their failures are plain.
check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test: lab check
	# -timeout: the several-nodes test waits for three scheduled minutes,
	# and the fault suite syncs every response boundary of the lab (about
	# 4 minutes on 2 cores): cmd/roster's tests take about 12 minutes.
	ROSTER_REQUIRE_LAB=1 $(GO) test -race -count=1 -timeout 45m ./...

# ---- Releases (the README's Install section) ----
#
# make release: static binaries of the commit HEAD (no cgo, paths
# trimmed, version and commit stamped) for PLATFORMS, into dist/, with
# dist/SHA256SUMS (packaging/release says how).
# make deb: the Debian package (nfpm) for DEB_ARCH, into dist/ too.
# Give COMMIT=... (and VERSION=v1.2.3) to build another commit.
DIST ?= dist
ifeq ($(origin COMMIT),undefined)
COMMIT := $(shell git rev-parse HEAD)
endif
ifeq ($(origin VERSION),undefined)
VERSION := $(shell packaging/version $(COMMIT))
endif
PLATFORMS ?= linux/amd64 linux/arm64 windows/amd64
DEB_ARCH ?= amd64
NFPM_VERSION ?= v2.45.2
NFPM ?= $(shell command -v nfpm 2>/dev/null || echo $$($(GO) env GOPATH)/bin/nfpm)
export DIST COMMIT VERSION GO

release:
	packaging/release $(PLATFORMS)

nfpm:
	@test -x "$(NFPM)" || $(GO) install github.com/goreleaser/nfpm/v2/cmd/nfpm@$(NFPM_VERSION)

deb: nfpm
	packaging/release linux/$(DEB_ARCH)
	ROSTER_VERSION=$(VERSION) ROSTER_ARCH=$(DEB_ARCH) ROSTER_BINARY=$(DIST)/roster_$(VERSION)_linux_$(DEB_ARCH) \
		$(NFPM) package --config packaging/nfpm.yaml --packager deb --target $(DIST)/
	packaging/sums $(DIST)

# Installs the package on this machine, runs it as the unit would, syncs
# from the lab, removes it: root only, and it changes the machine. Once
# more on the same machine: make test-deb TEST_DEB_FLAGS=-clean (deletes
# /var/lib/roster).
TEST_DEB_FLAGS ?=
test-deb: lab deb
	packaging/test-deb $(TEST_DEB_FLAGS) $$(ls -t $(DIST)/roster_*_$(DEB_ARCH).deb | head -1)

# go install github.com/rosterhq/roster/cmd/roster@latest, through a
# module proxy made of this repository's COMMIT.
goinstall-check:
	packaging/goinstall-check $(COMMIT)

# The container image (Dockerfile); needs a Docker daemon.
IMAGE ?= roster:$(VERSION)
image:
	docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) -t $(IMAGE) .
