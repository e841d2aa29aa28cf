# roster's two entry points are `make demo` (the main job, end to end) and
# `make test` (the whole suite). Both bring the directory lab up first.

GO ?= go
export PATH := $(PATH):/usr/local/go/bin

.PHONY: demo test lab lab-down build check

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
